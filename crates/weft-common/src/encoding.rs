//! Compact binary encoding shared by the property store, the commit record and the
//! durability files.
//!
//! Owns: primitive codecs (bytes, little-endian integers, LEB128 varints, zigzag, length-
//! prefixed bytes and strings) and the encoding of a [`Value`]. Promises: decoders never
//! panic and never allocate more than the input could describe, whatever the bytes; on
//! error the position is unspecified. Does not own framing, checksums or file headers:
//! callers wrap these encodings in their own records.
//!
//! # Byte layout (a contract: it is written to disk)
//!
//! Primitives:
//!
//! | name     | layout                                                                    |
//! |----------|---------------------------------------------------------------------------|
//! | `u8`     | one byte                                                                  |
//! | `u32_le` | four bytes, little-endian                                                 |
//! | `u64_le` | eight bytes, little-endian                                                |
//! | `varint` | unsigned LEB128: 7 bits a byte, low group first, high bit set when more bytes follow; at most 10 bytes, shortest form only (no final `0x00` group after the first byte, a 10th byte of at most `0x01`) |
//! | `zigzag` | an `i64` mapped to `u64` (0→0, -1→1, 1→2, -2→3, ...) then `varint`       |
//! | `bytes`  | `varint` length, then that many bytes                                     |
//! | `str`    | `bytes` holding valid UTF-8                                               |
//!
//! A value is one tag byte, then its payload:
//!
//! | tag    | type            | payload                                                    |
//! |--------|-----------------|------------------------------------------------------------|
//! | `0x00` | null            | none                                                       |
//! | `0x01` | false           | none                                                       |
//! | `0x02` | true            | none                                                       |
//! | `0x03` | integer         | `zigzag`                                                   |
//! | `0x04` | float           | `u64_le` of the IEEE-754 bits (NaN payloads kept)          |
//! | `0x05` | string          | `str`                                                      |
//! | `0x06` | list            | `varint` count, then that many values                      |
//! | `0x07` | map             | `varint` count, then that many (`str` key, value) pairs, keys strictly ascending by bytes |
//! | `0x08` | date            | `zigzag` days since 1970-01-01, within the supported years |
//! | `0x09` | local time      | `zigzag` nanoseconds since midnight, `0..86_400 * 10^9`    |
//! | `0x0A` | local datetime  | date payload, then local time payload                      |
//! | `0x0B` | zoned datetime  | local datetime payload (wall time), `zigzag` UTC offset in seconds (at most ±64,800), `u8` 0 or 1 for "has zone name", then the name as `str` if 1 |
//! | `0x0C` | duration        | `zigzag` months, days, seconds, then nanos (`0..10^9`)     |
//! | `0x0D` | zoned time      | local time payload (wall time), then `zigzag` UTC offset in seconds (at most ±64,800) |
//! | `0x0E` | point           | `varint` SRID (7203, 9157, 4326 or 4979), then one `u64_le` of IEEE-754 bits per coordinate (2 or 3, as the SRID's dimension), each finite |
//!
//! Invariants:
//! - **Canonical**: every value has exactly one encoding, and [`decode_value`] rejects
//!   every other byte string, so equal bytes mean structurally equal values (floats by
//!   bits). Byte order is *not* value order.
//! - **Bounded nesting**: lists and maps nest at most [`MAX_DEPTH`] deep
//!   (see [`Value::nesting_depth`]); deeper input is rejected with [`DecodeError::TooDeep`].
//!   [`encode_value`] does not check; writers must.
//! - **Versioning**: tags `0x0F..=0xFF` are unassigned (`0x0D` was added after the
//!   first twelve, `0x0E` after that; older readers reject them as unknown tags, and
//!   data written before them never holds them, so it stays readable). A new type takes a new tag; the
//!   payload of an existing tag never changes. Unknown tags fail with
//!   [`DecodeError::UnknownTag`]. Containers that embed values record
//!   [`VALUE_FORMAT_VERSION`] so that a later reader knows which tag table applies.

use std::collections::BTreeMap;

use crate::spatial::{Crs, Point};
use crate::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};
use crate::Value;

/// Version of the value encoding documented above.
pub const VALUE_FORMAT_VERSION: u32 = 1;

/// Deepest list/map nesting the decoders accept.
pub const MAX_DEPTH: usize = 64;

/// Longest `varint`: ten 7-bit groups cover 64 bits.
const MAX_VARINT_LEN: usize = 10;

/// Value tags (see the module docs).
pub mod tag {
    pub const NULL: u8 = 0x00;
    pub const FALSE: u8 = 0x01;
    pub const TRUE: u8 = 0x02;
    pub const INT: u8 = 0x03;
    pub const FLOAT: u8 = 0x04;
    pub const STRING: u8 = 0x05;
    pub const LIST: u8 = 0x06;
    pub const MAP: u8 = 0x07;
    pub const DATE: u8 = 0x08;
    pub const LOCAL_TIME: u8 = 0x09;
    pub const LOCAL_DATETIME: u8 = 0x0A;
    pub const ZONED_DATETIME: u8 = 0x0B;
    pub const DURATION: u8 = 0x0C;
    pub const ZONED_TIME: u8 = 0x0D;
    pub const POINT: u8 = 0x0E;
}

/// Why bytes could not be decoded. Always a sign of truncated or corrupt input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside the item that starts at this byte.
    #[error("unexpected end of input at byte {0}")]
    Eof(usize),
    /// The item at this byte breaks the layout's rules.
    #[error("invalid {what} at byte {at}")]
    Invalid { what: &'static str, at: usize },
    /// A value tag this version does not know (perhaps written by a newer version).
    #[error("unknown value tag {tag:#04x} at byte {at}")]
    UnknownTag { tag: u8, at: usize },
    /// Lists or maps nested deeper than [`MAX_DEPTH`].
    #[error("value nested deeper than {MAX_DEPTH} levels at byte {at}")]
    TooDeep { at: usize },
}

fn invalid(what: &'static str, at: usize) -> DecodeError {
    DecodeError::Invalid { what, at }
}

/// Takes the next `len` bytes.
fn take<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], DecodeError> {
    let start = *pos;
    let bytes = buf
        .get(start..)
        .and_then(|rest| rest.get(..len))
        .ok_or(DecodeError::Eof(start))?;
    *pos = start + len;
    Ok(bytes)
}

fn take_array<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N], DecodeError> {
    let start = *pos;
    take(buf, pos, N)?.try_into().map_err(|_| DecodeError::Eof(start))
}

pub fn put_u8(buf: &mut Vec<u8>, v: u8) {
    buf.push(v);
}

pub fn get_u8(buf: &[u8], pos: &mut usize) -> Result<u8, DecodeError> {
    Ok(take_array::<1>(buf, pos)?[0])
}

pub fn put_u32_le(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

pub fn get_u32_le(buf: &[u8], pos: &mut usize) -> Result<u32, DecodeError> {
    take_array(buf, pos).map(u32::from_le_bytes)
}

pub fn put_u64_le(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

pub fn get_u64_le(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    take_array(buf, pos).map(u64::from_le_bytes)
}

/// Writes `v` as an unsigned LEB128 varint (1 to 10 bytes).
pub fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a canonical LEB128 varint.
#[inline]
pub fn get_varint(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let start = *pos;
    // Most varints (keys, tags, short lengths) are one byte.
    if let Some(&byte) = buf.get(start) {
        if byte < 0x80 {
            *pos = start + 1;
            return Ok(u64::from(byte));
        }
    }
    let rest = buf.get(start..).unwrap_or_default();
    let mut value = 0u64;
    for (i, &byte) in rest.iter().take(MAX_VARINT_LEN).enumerate() {
        // The 10th group holds only bit 63.
        if i == MAX_VARINT_LEN - 1 && byte > 1 {
            return Err(invalid("varint (over 64 bits)", start));
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(invalid("varint (not in shortest form)", start));
            }
            *pos = start + i + 1;
            return Ok(value);
        }
    }
    Err(DecodeError::Eof(start))
}

/// Writes a signed integer as zigzag then varint, so small magnitudes stay short.
pub fn put_zigzag(buf: &mut Vec<u8>, v: i64) {
    put_varint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

pub fn get_zigzag(buf: &[u8], pos: &mut usize) -> Result<i64, DecodeError> {
    let raw = get_varint(buf, pos)?;
    Ok((raw >> 1) as i64 ^ -((raw & 1) as i64))
}

/// Writes a varint length, then the bytes.
pub fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Reads what [`put_bytes`] wrote, borrowing from `buf`.
pub fn get_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], DecodeError> {
    let start = *pos;
    let len = get_varint(buf, pos)?;
    let len = usize::try_from(len).map_err(|_| DecodeError::Eof(start))?;
    take(buf, pos, len).map_err(|_| DecodeError::Eof(start))
}

pub fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_bytes(buf, s.as_bytes());
}

/// Reads what [`put_str`] wrote, checking that it is UTF-8.
pub fn get_str<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a str, DecodeError> {
    let start = *pos;
    let bytes = get_bytes(buf, pos)?;
    std::str::from_utf8(bytes).map_err(|_| invalid("UTF-8 string", start))
}

/// Appends the encoding of `value` (layout in the module docs). Values must be valid
/// (as the temporal constructors make them) and at most [`MAX_DEPTH`] deep, or the
/// bytes will not decode.
pub fn encode_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => put_u8(buf, tag::NULL),
        Value::Bool(false) => put_u8(buf, tag::FALSE),
        Value::Bool(true) => put_u8(buf, tag::TRUE),
        Value::Int(i) => {
            put_u8(buf, tag::INT);
            put_zigzag(buf, *i);
        }
        Value::Float(f) => {
            put_u8(buf, tag::FLOAT);
            put_u64_le(buf, f.to_bits());
        }
        Value::String(s) => {
            put_u8(buf, tag::STRING);
            put_str(buf, s);
        }
        Value::List(items) => {
            put_u8(buf, tag::LIST);
            put_varint(buf, items.len() as u64);
            items.iter().for_each(|item| encode_value(buf, item));
        }
        Value::Map(map) => {
            put_u8(buf, tag::MAP);
            put_varint(buf, map.len() as u64);
            for (key, item) in map {
                put_str(buf, key);
                encode_value(buf, item);
            }
        }
        Value::Point(point) => {
            put_u8(buf, tag::POINT);
            put_varint(buf, point.srid() as u64);
            point.coords().iter().for_each(|c| put_u64_le(buf, c.to_bits()));
        }
        temporal => encode_temporal(buf, temporal),
    }
}

/// The temporal arms of [`encode_value`].
fn encode_temporal(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Date(date) => {
            put_u8(buf, tag::DATE);
            put_zigzag(buf, date.days);
        }
        Value::LocalTime(time) => {
            put_u8(buf, tag::LOCAL_TIME);
            put_zigzag(buf, time.nanos);
        }
        Value::ZonedTime(zoned) => {
            put_u8(buf, tag::ZONED_TIME);
            put_zigzag(buf, zoned.time.nanos);
            put_zigzag(buf, i64::from(zoned.offset_seconds));
        }
        Value::LocalDateTime(local) => {
            put_u8(buf, tag::LOCAL_DATETIME);
            put_local_datetime(buf, local);
        }
        Value::ZonedDateTime(zoned) => {
            put_u8(buf, tag::ZONED_DATETIME);
            put_local_datetime(buf, &zoned.local);
            put_zigzag(buf, i64::from(zoned.offset_seconds));
            match &zoned.zone {
                None => put_u8(buf, 0),
                Some(zone) => {
                    put_u8(buf, 1);
                    put_str(buf, zone);
                }
            }
        }
        Value::Duration(d) => {
            put_u8(buf, tag::DURATION);
            for field in [d.months, d.days, d.seconds, i64::from(d.nanos)] {
                put_zigzag(buf, field);
            }
        }
        _ => {}
    }
}

fn put_local_datetime(buf: &mut Vec<u8>, local: &LocalDateTime) {
    put_zigzag(buf, local.date.days);
    put_zigzag(buf, local.time.nanos);
}

/// Decodes one value written by [`encode_value`], validating everything: tags, lengths,
/// UTF-8, map key order, temporal ranges and nesting depth.
pub fn decode_value(buf: &[u8], pos: &mut usize) -> Result<Value, DecodeError> {
    decode_nested(buf, pos, 0)
}

/// Decodes a value found inside `depth` enclosing lists or maps.
fn decode_nested(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Value, DecodeError> {
    let at = *pos;
    let value = match get_u8(buf, pos)? {
        tag::NULL => Value::Null,
        tag::FALSE => Value::Bool(false),
        tag::TRUE => Value::Bool(true),
        tag::INT => Value::Int(get_zigzag(buf, pos)?),
        tag::FLOAT => Value::Float(f64::from_bits(get_u64_le(buf, pos)?)),
        tag::STRING => Value::String(get_str(buf, pos)?.to_owned()),
        tag::LIST => Value::List(decode_list(buf, pos, enter(depth, at)?)?),
        tag::MAP => Value::Map(decode_map(buf, pos, enter(depth, at)?)?),
        tag::DATE => Value::Date(get_date(buf, pos)?),
        tag::LOCAL_TIME => Value::LocalTime(get_local_time(buf, pos)?),
        tag::LOCAL_DATETIME => Value::LocalDateTime(get_local_datetime(buf, pos)?),
        tag::ZONED_DATETIME => Value::ZonedDateTime(get_zoned_datetime(buf, pos)?),
        tag::DURATION => Value::Duration(get_duration(buf, pos)?),
        tag::ZONED_TIME => Value::ZonedTime(get_zoned_time(buf, pos)?),
        tag::POINT => Value::Point(get_point(buf, pos)?),
        tag => return Err(DecodeError::UnknownTag { tag, at }),
    };
    Ok(value)
}

/// The depth inside a list or map that starts at `at`, if allowed.
fn enter(depth: usize, at: usize) -> Result<usize, DecodeError> {
    let inner = depth + 1;
    if inner > MAX_DEPTH {
        return Err(DecodeError::TooDeep { at });
    }
    Ok(inner)
}

/// An element count. Every element takes at least one byte, so a count beyond the
/// remaining input is corrupt; this also bounds preallocation.
fn get_count(buf: &[u8], pos: &mut usize) -> Result<usize, DecodeError> {
    let at = *pos;
    let count = get_varint(buf, pos)?;
    let remaining = buf.len().saturating_sub(*pos);
    match usize::try_from(count) {
        Ok(count) if count <= remaining => Ok(count),
        _ => Err(DecodeError::Eof(at)),
    }
}

fn decode_list(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Vec<Value>, DecodeError> {
    let count = get_count(buf, pos)?;
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        items.push(decode_nested(buf, pos, depth)?);
    }
    Ok(items)
}

fn decode_map(buf: &[u8], pos: &mut usize, depth: usize) -> Result<BTreeMap<String, Value>, DecodeError> {
    let count = get_count(buf, pos)?;
    let mut map = BTreeMap::new();
    for _ in 0..count {
        let at = *pos;
        let key = get_str(buf, pos)?;
        if map
            .last_key_value()
            .is_some_and(|(last, _): (&String, _)| key <= last.as_str())
        {
            return Err(invalid("map key order", at));
        }
        let item = decode_nested(buf, pos, depth)?;
        map.insert(key.to_owned(), item);
    }
    Ok(map)
}

fn get_date(buf: &[u8], pos: &mut usize) -> Result<Date, DecodeError> {
    let at = *pos;
    Date::from_days(get_zigzag(buf, pos)?).ok_or(invalid("date", at))
}

fn get_local_time(buf: &[u8], pos: &mut usize) -> Result<LocalTime, DecodeError> {
    let at = *pos;
    LocalTime::from_nanos(get_zigzag(buf, pos)?).ok_or(invalid("local time", at))
}

fn get_local_datetime(buf: &[u8], pos: &mut usize) -> Result<LocalDateTime, DecodeError> {
    Ok(LocalDateTime::new(get_date(buf, pos)?, get_local_time(buf, pos)?))
}

fn get_zoned_datetime(buf: &[u8], pos: &mut usize) -> Result<ZonedDateTime, DecodeError> {
    let local = get_local_datetime(buf, pos)?;
    let at = *pos;
    let offset = i32::try_from(get_zigzag(buf, pos)?).map_err(|_| invalid("UTC offset", at))?;
    let flag_at = *pos;
    let zone = match get_u8(buf, pos)? {
        0 => None,
        1 => Some(get_str(buf, pos)?.to_owned()),
        _ => return Err(invalid("zone flag", flag_at)),
    };
    ZonedDateTime::new(local, offset, zone).ok_or(invalid("UTC offset", at))
}

fn get_zoned_time(buf: &[u8], pos: &mut usize) -> Result<ZonedTime, DecodeError> {
    let time = get_local_time(buf, pos)?;
    let at = *pos;
    let offset = i32::try_from(get_zigzag(buf, pos)?).map_err(|_| invalid("UTC offset", at))?;
    ZonedTime::new(time, offset).ok_or(invalid("UTC offset", at))
}

/// The CRS of a point payload, from its SRID.
fn get_crs(buf: &[u8], pos: &mut usize) -> Result<Crs, DecodeError> {
    let at = *pos;
    let srid = get_varint(buf, pos)?;
    i64::try_from(srid)
        .ok()
        .and_then(Crs::from_srid)
        .ok_or(invalid("point SRID", at))
}

fn get_point(buf: &[u8], pos: &mut usize) -> Result<Point, DecodeError> {
    let crs = get_crs(buf, pos)?;
    let at = *pos;
    let mut coords = [0.0; 3];
    for c in coords.iter_mut().take(crs.dimension()) {
        *c = f64::from_bits(get_u64_le(buf, pos)?);
    }
    Point::new(crs, &coords[..crs.dimension()]).ok_or(invalid("point coordinate", at))
}

fn get_duration(buf: &[u8], pos: &mut usize) -> Result<Duration, DecodeError> {
    let months = get_zigzag(buf, pos)?;
    let days = get_zigzag(buf, pos)?;
    let seconds = get_zigzag(buf, pos)?;
    let at = *pos;
    let nanos = get_zigzag(buf, pos)?;
    match i32::try_from(nanos) {
        Ok(nanos) if (0..1_000_000_000).contains(&nanos) => Ok(Duration {
            months,
            days,
            seconds,
            nanos,
        }),
        _ => Err(invalid("duration nanoseconds", at)),
    }
}

/// Advances past one encoded value without building it. Checks the framing (tags,
/// lengths, varints, nesting depth) but not the content (UTF-8, map key order, temporal
/// ranges): wherever [`decode_value`] succeeds, this succeeds and stops at the same byte.
pub fn skip_value(buf: &[u8], pos: &mut usize) -> Result<(), DecodeError> {
    skip_nested(buf, pos, 0)
}

fn skip_nested(buf: &[u8], pos: &mut usize, depth: usize) -> Result<(), DecodeError> {
    let at = *pos;
    let (varints, then_bytes) = match get_u8(buf, pos)? {
        tag::NULL | tag::FALSE | tag::TRUE => (0, false),
        tag::INT | tag::DATE | tag::LOCAL_TIME => (1, false),
        tag::FLOAT => return take(buf, pos, 8).map(drop),
        tag::STRING => (0, true),
        tag::LIST | tag::MAP => return skip_container(buf, pos, depth, at),
        tag::LOCAL_DATETIME | tag::ZONED_TIME => (2, false),
        tag::ZONED_DATETIME => return skip_zoned(buf, pos),
        tag::DURATION => (4, false),
        tag::POINT => {
            let crs = get_crs(buf, pos)?;
            return take(buf, pos, 8 * crs.dimension()).map(drop);
        }
        tag => return Err(DecodeError::UnknownTag { tag, at }),
    };
    for _ in 0..varints {
        get_varint(buf, pos)?;
    }
    if then_bytes {
        get_bytes(buf, pos)?;
    }
    Ok(())
}

/// Skips a list or map whose tag, at byte `at`, was just read.
fn skip_container(buf: &[u8], pos: &mut usize, depth: usize, at: usize) -> Result<(), DecodeError> {
    let is_map = buf.get(at) == Some(&tag::MAP);
    let depth = enter(depth, at)?;
    for _ in 0..get_count(buf, pos)? {
        if is_map {
            get_bytes(buf, pos)?;
        }
        skip_nested(buf, pos, depth)?;
    }
    Ok(())
}

fn skip_zoned(buf: &[u8], pos: &mut usize) -> Result<(), DecodeError> {
    for _ in 0..3 {
        get_varint(buf, pos)?;
    }
    let flag_at = *pos;
    match get_u8(buf, pos)? {
        0 => Ok(()),
        1 => get_bytes(buf, pos).map(drop),
        _ => Err(invalid("zone flag", flag_at)),
    }
}

#[cfg(test)]
mod tests;
