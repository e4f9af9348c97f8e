//! Bolt point structures and their conversion to `weft_common::spatial::Point`.
//!
//! | structure | tag | fields |
//! |---|---|---|
//! | Point2D | `58` ('X') | srid, x, y |
//! | Point3D | `59` ('Y') | srid, x, y, z |
//!
//! The SRID is an Integer and the coordinates are Floats, the same in every protocol
//! version. Promises: decoding checks the tag, the field count and types, that the SRID
//! is one Weft knows (7203, 9157, 4326, 4979) with the structure's dimension, and that
//! the coordinates are finite; anything else is an error, never a panic.

use weft_common::spatial::{Crs, Point};

use super::{structure, Fields, StructError};
use crate::packstream::BoltValue;

pub const TAG_POINT_2D: u8 = 0x58;
pub const TAG_POINT_3D: u8 = 0x59;

/// The Point2D or Point3D structure for `point`.
pub fn point_to_value(point: &Point) -> BoltValue {
    let tag = if point.z().is_some() {
        TAG_POINT_3D
    } else {
        TAG_POINT_2D
    };
    let mut fields = vec![BoltValue::Integer(point.srid())];
    fields.extend(point.coords().iter().map(|c| BoltValue::Float(*c)));
    structure(tag, fields)
}

/// The point a Point2D or Point3D structure holds.
pub fn point_from_value(value: &BoltValue) -> Result<Point, StructError> {
    let BoltValue::Structure(s) = value else {
        let got = super::type_name(value);
        return Err(StructError::NotStructure { name: "point", got });
    };
    let (name, dimension) = match s.tag {
        TAG_POINT_2D => ("Point2D", 2),
        TAG_POINT_3D => ("Point3D", 3),
        tag => {
            return Err(StructError::WrongTag {
                name: "point",
                expected: TAG_POINT_2D,
                tag,
            })
        }
    };
    let f = Fields::of(s, name, s.tag, 1 + dimension)?;
    let srid = f.int(0, "srid")?;
    let crs = Crs::from_srid(srid)
        .filter(|crs| crs.dimension() == dimension)
        .ok_or(StructError::UnknownSrid { name, srid })?;
    let mut coords = Vec::with_capacity(dimension);
    for (index, field) in [(1, "x"), (2, "y"), (3, "z")].into_iter().take(dimension) {
        coords.push(f.float(index, field)?);
    }
    Point::new(crs, &coords).ok_or(StructError::OutOfRange { name })
}
