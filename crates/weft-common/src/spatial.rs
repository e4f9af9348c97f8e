//! Spatial points: Neo4j's `POINT` type and its four coordinate reference systems.
//!
//! Owns: [`Crs`] (name, SRID, dimension), [`Point`] (a CRS and 2 or 3 finite coordinates),
//! the point's orderability, its `toString` form, and the geometry the Cypher functions
//! need: [`Point::distance`] and [`Point::within_bbox`].
//!
//! | CRS            | SRID | coordinates                              |
//! |----------------|------|------------------------------------------|
//! | `cartesian`    | 7203 | x, y                                     |
//! | `cartesian-3d` | 9157 | x, y, z                                  |
//! | `wgs-84`       | 4326 | x = longitude, y = latitude (degrees)    |
//! | `wgs-84-3d`    | 4979 | longitude, latitude, z = height (metres) |
//!
//! Promises: every [`Point`] has exactly as many coordinates as its CRS's dimension, all
//! finite (so coordinates are totally ordered and `-0.0` equals `0.0` as Cypher wants).
//! Range checks on latitude and longitude belong to the `point()` function, not here:
//! stored and Bolt-received points keep whatever finite numbers they carry.
//!
//! Geometry: cartesian distance is Euclidean. WGS-84 2D distance is the haversine
//! great-circle distance on a sphere of radius [`EARTH_RADIUS_METERS`]; 3D takes it on a
//! sphere raised by the two points' mean height, then combines it with the height
//! difference by Pythagoras.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The sphere radius of WGS-84 distances, in metres (as Neo4j uses).
pub const EARTH_RADIUS_METERS: f64 = 6_378_140.0;

/// A coordinate reference system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Crs {
    Cartesian,
    Cartesian3D,
    Wgs84,
    Wgs84_3D,
}

impl Crs {
    pub const ALL: [Crs; 4] = [Crs::Cartesian, Crs::Cartesian3D, Crs::Wgs84, Crs::Wgs84_3D];

    /// The EPSG-style code Neo4j and Bolt use.
    pub fn srid(self) -> i64 {
        match self {
            Crs::Cartesian => 7203,
            Crs::Cartesian3D => 9157,
            Crs::Wgs84 => 4326,
            Crs::Wgs84_3D => 4979,
        }
    }

    pub fn from_srid(srid: i64) -> Option<Crs> {
        Crs::ALL.into_iter().find(|crs| crs.srid() == srid)
    }

    /// The canonical name, as `p.crs` returns it.
    pub fn name(self) -> &'static str {
        match self {
            Crs::Cartesian => "cartesian",
            Crs::Cartesian3D => "cartesian-3d",
            Crs::Wgs84 => "wgs-84",
            Crs::Wgs84_3D => "wgs-84-3d",
        }
    }

    /// A CRS by name, ignoring ASCII case; `wgs-84-2d` is accepted for `wgs-84`.
    pub fn from_name(name: &str) -> Option<Crs> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "wgs-84-2d" => Some(Crs::Wgs84),
            _ => Crs::ALL.into_iter().find(|crs| crs.name() == lower),
        }
    }

    /// 2 or 3.
    pub fn dimension(self) -> usize {
        match self {
            Crs::Cartesian | Crs::Wgs84 => 2,
            Crs::Cartesian3D | Crs::Wgs84_3D => 3,
        }
    }

    /// Whether coordinates are longitude/latitude (WGS-84) rather than cartesian.
    pub fn is_geographic(self) -> bool {
        matches!(self, Crs::Wgs84 | Crs::Wgs84_3D)
    }

    /// The CRS of the given kind and dimension (2 or 3; anything else is 3).
    pub fn of(geographic: bool, dimension: usize) -> Crs {
        match (geographic, dimension == 2) {
            (false, true) => Crs::Cartesian,
            (false, false) => Crs::Cartesian3D,
            (true, true) => Crs::Wgs84,
            (true, false) => Crs::Wgs84_3D,
        }
    }
}

/// A point: a CRS and its coordinates (see the module docs for the invariants).
///
/// `PartialEq` is structural (floats by bits, like [`crate::Value`]'s); Cypher equality
/// and order are [`Point::order_cmp`], under which `-0.0` and `0.0` are the same.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    crs: Crs,
    /// Unused trailing coordinates are 0.0.
    coords: [f64; 3],
}

impl Point {
    /// A point, if `coords` has the CRS's dimension and every coordinate is finite.
    pub fn new(crs: Crs, coords: &[f64]) -> Option<Point> {
        if coords.len() != crs.dimension() || !coords.iter().all(|c| c.is_finite()) {
            return None;
        }
        let mut all = [0.0; 3];
        all[..coords.len()].copy_from_slice(coords);
        Some(Point { crs, coords: all })
    }

    pub fn crs(&self) -> Crs {
        self.crs
    }

    pub fn srid(&self) -> i64 {
        self.crs.srid()
    }

    /// The coordinates, 2 or 3 of them.
    pub fn coords(&self) -> &[f64] {
        &self.coords[..self.crs.dimension()]
    }

    /// x, or longitude.
    pub fn x(&self) -> f64 {
        self.coords[0]
    }

    /// y, or latitude.
    pub fn y(&self) -> f64 {
        self.coords[1]
    }

    /// z, or height; `None` in 2D.
    pub fn z(&self) -> Option<f64> {
        (self.crs.dimension() == 3).then_some(self.coords[2])
    }

    /// The total order: by SRID, then coordinate by coordinate. Equal exactly when the
    /// CRS and every coordinate are equal (Cypher `=`).
    pub fn order_cmp(&self, other: &Point) -> Ordering {
        let by_coords = || {
            let pairs = self.coords().iter().zip(other.coords());
            let mut orders = pairs.map(|(a, b)| a.partial_cmp(b).unwrap_or(Ordering::Equal));
            orders.find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
        };
        self.srid().cmp(&other.srid()).then_with(by_coords)
    }

    /// Hashes so that points equal under [`Point::order_cmp`] hash alike.
    pub fn hash_equivalent<H: Hasher>(&self, state: &mut H) {
        self.srid().hash(state);
        for c in self.coords() {
            // Fold -0.0 into 0.0; coordinates are never NaN.
            let c = if *c == 0.0 { 0.0 } else { *c };
            state.write_u64(c.to_bits());
        }
    }

    /// The distance to `other`, or `None` if their CRSs differ (module docs for how).
    pub fn distance(&self, other: &Point) -> Option<f64> {
        if self.crs != other.crs {
            return None;
        }
        if !self.crs.is_geographic() {
            let squares = self.coords().iter().zip(other.coords()).map(|(a, b)| (a - b) * (a - b));
            return Some(squares.sum::<f64>().sqrt());
        }
        let (h1, h2) = (self.z().unwrap_or(0.0), other.z().unwrap_or(0.0));
        let radius = EARTH_RADIUS_METERS + (h1 + h2) / 2.0;
        let surface = radius * central_angle(self, other);
        Some((surface * surface + (h2 - h1) * (h2 - h1)).sqrt())
    }

    /// Whether this point lies in the box from `lower_left` to `upper_right` (bounds
    /// included), or `None` if the three CRSs are not all the same. For WGS-84, a
    /// `lower_left` longitude east of `upper_right`'s means the box crosses the 180th
    /// meridian.
    pub fn within_bbox(&self, lower_left: &Point, upper_right: &Point) -> Option<bool> {
        if self.crs != lower_left.crs || self.crs != upper_right.crs {
            return None;
        }
        let within = |i: usize| (lower_left.coords[i]..=upper_right.coords[i]).contains(&self.coords[i]);
        let x_within = if self.crs.is_geographic() && lower_left.x() > upper_right.x() {
            self.x() >= lower_left.x() || self.x() <= upper_right.x()
        } else {
            within(0)
        };
        Some(x_within && (1..self.crs.dimension()).all(within))
    }
}

/// The angle between two WGS-84 points seen from the earth's centre, in radians
/// (haversine formula).
fn central_angle(a: &Point, b: &Point) -> f64 {
    let (lat1, lat2) = (a.y().to_radians(), b.y().to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.x() - a.x()).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * h.sqrt().min(1.0).asin()
}

/// Structural identity: same CRS and coordinates bit for bit.
impl PartialEq for Point {
    fn eq(&self, other: &Point) -> bool {
        self.crs == other.crs
            && self
                .coords
                .iter()
                .zip(&other.coords)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for Point {}

/// Structural hash, agreeing with `PartialEq`.
impl Hash for Point {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.crs.hash(state);
        self.coords.iter().for_each(|c| state.write_u64(c.to_bits()));
    }
}

/// Neo4j's `toString` form: `point({x: 1.5, y: 2.5, crs: 'cartesian'})`, with `z` in 3D;
/// WGS-84 points too are written with x (longitude) and y (latitude).
impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "point({{x: {:?}, y: {:?}", self.x(), self.y())?;
        if let Some(z) = self.z() {
            write!(f, ", z: {z:?}")?;
        }
        write!(f, ", crs: '{}'}})", self.crs.name())
    }
}

#[cfg(test)]
mod tests;
