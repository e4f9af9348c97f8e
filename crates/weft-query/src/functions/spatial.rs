//! Spatial functions and point properties: `point()`, `point.distance()`,
//! `point.withinBBox()` and `p.x`, `p.latitude`, `p.crs`, ... (the geometry itself lives
//! in `weft_common::spatial`).
//!
//! `point(map)` reads, ignoring key case and keys it does not know:
//! - `x`, `y` and optionally `z`: a cartesian point, or a WGS-84 one when `crs`/`srid`
//!   says so (then x is the longitude, y the latitude, z the height);
//! - `longitude`, `latitude` and optionally `height`: always WGS-84;
//! - `crs` (a name, e.g. `'cartesian-3d'`) or `srid` (e.g. 4979), not both; by default
//!   the CRS of the coordinates' kind and count.
//!
//! Null as the map, or as any of those keys' values, gives null. A map that names no
//! complete coordinate set, mixes the two kinds, gives a CRS of the other dimension or
//! kind, or a non-finite or (for WGS-84) out-of-range coordinate is an `ArgumentError
//! InvalidArgumentValue`; a coordinate that is not a number, a `crs` that is not a
//! string or an `srid` that is not an integer is a `TypeError InvalidArgumentValue`.

use std::collections::BTreeMap;

use weft_common::spatial::{Crs, Point};

use super::{arg, bad_argument, invalid_value};
use crate::error::{ErrorKind, QueryError, Result};
use crate::value::QValue;

/// Dispatches the spatial functions; `None` if `name` is not one.
pub(super) fn call(name: &str, args: &[QValue]) -> Option<Result<QValue>> {
    Some(match name {
        "point" => point(arg(args, 0)),
        "point.distance" => distance(arg(args, 0), arg(args, 1)),
        "point.withinbbox" => within_bbox(arg(args, 0), arg(args, 1), arg(args, 2)),
        _ => return None,
    })
}

/// The keys `point()` reads.
const KEYS: [&str; 8] = ["x", "y", "z", "longitude", "latitude", "height", "crs", "srid"];

fn point(input: &QValue) -> Result<QValue> {
    let map = match input {
        QValue::Null => return Ok(QValue::Null),
        QValue::Map(map) => map,
        other => return Err(invalid_value("point", "a MAP", other)),
    };
    let fields = Fields::of(map);
    if KEYS.iter().any(|key| matches!(fields.get(key), Some(QValue::Null))) {
        return Ok(QValue::Null);
    }
    build(&fields).map(QValue::Point)
}

/// The entries of a `point()` map, looked up ignoring ASCII case.
struct Fields<'a> {
    entries: Vec<(String, &'a QValue)>,
}

impl<'a> Fields<'a> {
    fn of(map: &'a BTreeMap<String, QValue>) -> Fields<'a> {
        let entries = map.iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        Fields { entries }
    }

    fn get(&self, key: &str) -> Option<&'a QValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// A coordinate, if present.
    fn number(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(QValue::Int(i)) => Ok(Some(*i as f64)),
            Some(QValue::Float(f)) => Ok(Some(*f)),
            Some(other) => Err(invalid_value("point", &format!("a NUMBER for `{key}`"), other)),
        }
    }
}

fn build(fields: &Fields<'_>) -> Result<Point> {
    let cartesian = [fields.number("x")?, fields.number("y")?, fields.number("z")?];
    let geographic = [
        fields.number("longitude")?,
        fields.number("latitude")?,
        fields.number("height")?,
    ];
    let has_any = |set: &[Option<f64>; 3]| set.iter().any(Option::is_some);
    let (is_geographic, set) = match (has_any(&cartesian), has_any(&geographic)) {
        (true, true) => {
            let message = "give either x, y (and z) or longitude, latitude (and height), not both";
            return Err(bad_argument("point", message));
        }
        (_, true) => (true, geographic),
        _ => (false, cartesian),
    };
    let coords: Vec<f64> = match set {
        [Some(a), Some(b), None] => vec![a, b],
        [Some(a), Some(b), Some(c)] => vec![a, b, c],
        _ => {
            let message = "a point needs x and y (optionally z), or longitude and latitude (optionally height)";
            return Err(bad_argument("point", message));
        }
    };
    let crs = match requested_crs(fields)? {
        None => Crs::of(is_geographic, coords.len()),
        Some(crs) if is_geographic && !crs.is_geographic() => {
            let message = format!("longitude and latitude need a WGS-84 CRS, not '{}'", crs.name());
            return Err(bad_argument("point", message));
        }
        Some(crs) if crs.dimension() != coords.len() => {
            let message = format!(
                "CRS '{}' takes {} coordinates, got {}",
                crs.name(),
                crs.dimension(),
                coords.len()
            );
            return Err(bad_argument("point", message));
        }
        Some(crs) => crs,
    };
    check_coordinates(crs, &coords)?;
    Point::new(crs, &coords).ok_or_else(|| bad_argument("point", "coordinates must be finite numbers"))
}

/// The CRS named by `crs` or `srid`, if either is given.
fn requested_crs(fields: &Fields<'_>) -> Result<Option<Crs>> {
    match (fields.get("crs"), fields.get("srid")) {
        (Some(_), Some(_)) => Err(bad_argument("point", "give `crs` or `srid`, not both")),
        (Some(QValue::String(name)), None) => Crs::from_name(name).map(Some).ok_or_else(|| {
            let message =
                format!("unknown CRS '{name}': expected 'cartesian', 'cartesian-3d', 'wgs-84' or 'wgs-84-3d'");
            bad_argument("point", message)
        }),
        (Some(other), None) => Err(invalid_value("point", "a STRING for `crs`", other)),
        (None, Some(QValue::Int(srid))) => Crs::from_srid(*srid).map(Some).ok_or_else(|| {
            let message = format!("unknown SRID {srid}: expected 7203, 9157, 4326 or 4979");
            bad_argument("point", message)
        }),
        (None, Some(other)) => Err(invalid_value("point", "an INTEGER for `srid`", other)),
        (None, None) => Ok(None),
    }
}

/// Finite coordinates; for WGS-84, longitude in [-180, 180] and latitude in [-90, 90].
fn check_coordinates(crs: Crs, coords: &[f64]) -> Result<()> {
    if let Some(c) = coords.iter().find(|c| !c.is_finite()) {
        return Err(bad_argument("point", format!("coordinate {c} is not a finite number")));
    }
    if crs.is_geographic() {
        let (lon, lat) = (coords[0], coords[1]);
        if !(-180.0..=180.0).contains(&lon) {
            return Err(bad_argument("point", format!("longitude {lon} is outside [-180, 180]")));
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(bad_argument("point", format!("latitude {lat} is outside [-90, 90]")));
        }
    }
    Ok(())
}

/// A point argument: `Ok(None)` for null, a `TypeError` for anything else.
fn point_arg(func: &str, value: &QValue) -> Result<Option<Point>> {
    match value {
        QValue::Null => Ok(None),
        QValue::Point(p) => Ok(Some(*p)),
        other => Err(invalid_value(func, "a POINT", other)),
    }
}

fn distance(a: &QValue, b: &QValue) -> Result<QValue> {
    let (a, b) = (point_arg("point.distance", a)?, point_arg("point.distance", b)?);
    let d = a.zip(b).and_then(|(a, b)| a.distance(&b));
    Ok(d.map_or(QValue::Null, QValue::Float))
}

fn within_bbox(p: &QValue, lower_left: &QValue, upper_right: &QValue) -> Result<QValue> {
    const NAME: &str = "point.withinBBox";
    let p = point_arg(NAME, p)?;
    let (lower_left, upper_right) = (point_arg(NAME, lower_left)?, point_arg(NAME, upper_right)?);
    let inside = match (p, lower_left, upper_right) {
        (Some(p), Some(ll), Some(ur)) => p.within_bbox(&ll, &ur),
        _ => None,
    };
    Ok(inside.map_or(QValue::Null, QValue::Bool))
}

/// `p.key` on a point: `x`, `y`, `crs`, `srid` always; `z` in 3D; `longitude`,
/// `latitude` on WGS-84 and `height` on WGS-84-3D. Other keys are an `ArgumentError`.
pub(crate) fn component(p: &Point, key: &str) -> Result<QValue> {
    let crs = p.crs();
    let found = match key {
        "x" => Some(QValue::Float(p.x())),
        "y" => Some(QValue::Float(p.y())),
        "z" => p.z().map(QValue::Float),
        "longitude" if crs.is_geographic() => Some(QValue::Float(p.x())),
        "latitude" if crs.is_geographic() => Some(QValue::Float(p.y())),
        "height" if crs.is_geographic() => p.z().map(QValue::Float),
        "crs" => Some(QValue::String(crs.name().to_string())),
        "srid" => Some(QValue::Int(p.srid())),
        _ => None,
    };
    found.ok_or_else(|| {
        let fields = match (crs.is_geographic(), crs.dimension()) {
            (false, 2) => "x, y, crs and srid",
            (false, _) => "x, y, z, crs and srid",
            (true, 2) => "x, y, longitude, latitude, crs and srid",
            (true, _) => "x, y, z, longitude, latitude, height, crs and srid",
        };
        let message = format!("a {} point has no field `{key}`; it has {fields}", crs.name());
        QueryError::runtime(ErrorKind::ArgumentError, "InvalidArgumentValue", message)
    })
}
