//! PackStream v1: the binary value syntax that every Bolt message is written in.
//!
//! Owns: the [`BoltValue`] tree and its byte layout. Each value starts with a marker
//! byte; integers and sizes that follow are big-endian.
//!
//! | type | markers |
//! |---|---|
//! | Null, Float, Boolean | `C0`; `C1` + f64; `C2` false, `C3` true |
//! | Integer | tiny `F0..=7F` (-16..=127); `C8`/`C9`/`CA`/`CB` + i8/i16/i32/i64 |
//! | Bytes | `CC`/`CD`/`CE` + u8/u16/u32 length |
//! | String (UTF-8) | tiny `80..=8F`; `D0`/`D1`/`D2` + u8/u16/u32 length |
//! | List | tiny `90..=9F`; `D4`/`D5`/`D6` + u8/u16/u32 length |
//! | Dictionary | tiny `A0..=AF`; `D8`/`D9`/`DA` + u8/u16/u32 entry count, string keys |
//! | Structure | `B0..=BF` (field count 0-15) + tag byte + fields |
//!
//! Promises: the encoder always writes the smallest form; [`decode`] never panics and
//! never allocates more than the input could fill (every element takes at least one byte,
//! so preallocation is capped by the bytes left), and rejects nesting deeper than
//! [`MAX_DEPTH`]. Dictionaries keep the wire order and duplicates (the caller decides).

use thiserror::Error;

/// Deepest nesting of lists, dictionaries and structures that [`decode`] accepts.
pub const MAX_DEPTH: usize = 64;

/// Most fields a structure can carry (the size lives in the marker's low nibble).
pub const MAX_STRUCT_FIELDS: usize = 15;

/// A PackStream value.
#[derive(Clone, Debug, PartialEq)]
pub enum BoltValue {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    List(Vec<BoltValue>),
    /// Entries in wire order.
    Dictionary(Vec<(String, BoltValue)>),
    Structure(Structure),
}

/// A tagged record of up to [`MAX_STRUCT_FIELDS`] values: messages and graph/temporal types.
#[derive(Clone, Debug, PartialEq)]
pub struct Structure {
    pub tag: u8,
    pub fields: Vec<BoltValue>,
}

/// Why bytes are not PackStream, or a value cannot be written as PackStream.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PackStreamError {
    #[error("PackStream input ends at byte {at} where {needed} more bytes are needed")]
    UnexpectedEnd { at: usize, needed: usize },
    #[error("unknown PackStream marker 0x{marker:02X} at byte {at}")]
    UnknownMarker { marker: u8, at: usize },
    #[error("PackStream string at byte {at} is not valid UTF-8")]
    InvalidUtf8 { at: usize },
    #[error("PackStream dictionary key at byte {at} is not a string")]
    NonStringKey { at: usize },
    #[error("PackStream value nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("{count} bytes follow the PackStream value; expected exactly one value")]
    TrailingBytes { count: usize },
    #[error("a structure has {count} fields; PackStream allows at most {MAX_STRUCT_FIELDS}")]
    TooManyFields { count: usize },
    #[error("a value of {len} elements or bytes is too long for PackStream (max 2^32-1)")]
    TooLong { len: usize },
}

impl BoltValue {
    /// The string inside, if this is a String.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            BoltValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside, if this is an Integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            BoltValue::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The entries, if this is a Dictionary.
    pub fn as_dict(&self) -> Option<&[(String, BoltValue)]> {
        match self {
            BoltValue::Dictionary(d) => Some(d),
            _ => None,
        }
    }

    /// The elements, if this is a List.
    pub fn as_list(&self) -> Option<&[BoltValue]> {
        match self {
            BoltValue::List(l) => Some(l),
            _ => None,
        }
    }
}

/// The value of `key` in dictionary entries; the last one wins, as in Neo4j.
pub fn dict_get<'a>(entries: &'a [(String, BoltValue)], key: &str) -> Option<&'a BoltValue> {
    entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/// Appends the PackStream form of `value` to `out`. On error `out` may hold a partial value.
pub fn encode(value: &BoltValue, out: &mut Vec<u8>) -> Result<(), PackStreamError> {
    match value {
        BoltValue::Null => out.push(0xC0),
        BoltValue::Boolean(b) => out.push(if *b { 0xC3 } else { 0xC2 }),
        BoltValue::Integer(i) => encode_int(*i, out),
        BoltValue::Float(f) => {
            out.push(0xC1);
            out.extend_from_slice(&f.to_be_bytes());
        }
        BoltValue::String(s) => {
            write_header(out, s.len(), Some(0x80), [0xD0, 0xD1, 0xD2])?;
            out.extend_from_slice(s.as_bytes());
        }
        BoltValue::Bytes(b) => {
            write_header(out, b.len(), None, [0xCC, 0xCD, 0xCE])?;
            out.extend_from_slice(b);
        }
        BoltValue::List(items) => {
            write_header(out, items.len(), Some(0x90), [0xD4, 0xD5, 0xD6])?;
            items.iter().try_for_each(|item| encode(item, out))?;
        }
        BoltValue::Dictionary(entries) => {
            write_header(out, entries.len(), Some(0xA0), [0xD8, 0xD9, 0xDA])?;
            for (key, item) in entries {
                encode(&BoltValue::String(key.clone()), out)?;
                encode(item, out)?;
            }
        }
        BoltValue::Structure(s) => encode_structure(s, out)?,
    }
    Ok(())
}

/// Appends the PackStream form of a structure to `out`.
pub fn encode_structure(s: &Structure, out: &mut Vec<u8>) -> Result<(), PackStreamError> {
    if s.fields.len() > MAX_STRUCT_FIELDS {
        return Err(PackStreamError::TooManyFields { count: s.fields.len() });
    }
    out.push(0xB0 | s.fields.len() as u8);
    out.push(s.tag);
    s.fields.iter().try_for_each(|field| encode(field, out))
}

/// The PackStream bytes of `value`.
pub fn to_bytes(value: &BoltValue) -> Result<Vec<u8>, PackStreamError> {
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}

fn encode_int(i: i64, out: &mut Vec<u8>) {
    if (-16..=127).contains(&i) {
        out.push(i as u8);
    } else if let Ok(v) = i8::try_from(i) {
        out.push(0xC8);
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(i) {
        out.push(0xC9);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i32::try_from(i) {
        out.push(0xCA);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xCB);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// Writes a size header: the tiny form (`tiny | len`, len < 16) if the type has one,
/// else the 8-, 16- or 32-bit form.
fn write_header(out: &mut Vec<u8>, len: usize, tiny: Option<u8>, sized: [u8; 3]) -> Result<(), PackStreamError> {
    match (tiny, len) {
        (Some(tiny), 0..=15) => out.push(tiny | len as u8),
        (_, 0..=0xFF) => out.extend_from_slice(&[sized[0], len as u8]),
        (_, 0x100..=0xFFFF) => {
            out.push(sized[1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            let len32 = u32::try_from(len).map_err(|_| PackStreamError::TooLong { len })?;
            out.push(sized[2]);
            out.extend_from_slice(&len32.to_be_bytes());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/// Decodes `bytes` as exactly one value.
pub fn decode(bytes: &[u8]) -> Result<BoltValue, PackStreamError> {
    let (value, used) = decode_prefix(bytes)?;
    match bytes.len() - used {
        0 => Ok(value),
        count => Err(PackStreamError::TrailingBytes { count }),
    }
}

/// Decodes the value at the start of `bytes`; returns it and the number of bytes it took.
pub fn decode_prefix(bytes: &[u8]) -> Result<(BoltValue, usize), PackStreamError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.value(0)?;
    Ok((value, reader.pos))
}

/// A cursor over the input. Every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PackStreamError> {
        if self.remaining() < n {
            return Err(PackStreamError::UnexpectedEnd {
                at: self.pos,
                needed: n - self.remaining(),
            });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PackStreamError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, PackStreamError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian unsigned size of `width` bytes (1, 2 or 4).
    fn size(&mut self, width: u8) -> Result<usize, PackStreamError> {
        Ok(match width {
            1 => usize::from(self.u8()?),
            2 => usize::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?) as usize,
        })
    }

    fn value(&mut self, depth: usize) -> Result<BoltValue, PackStreamError> {
        let at = self.pos;
        let marker = self.u8()?;
        let value = match marker {
            0x00..=0x7F | 0xF0..=0xFF => BoltValue::Integer(i64::from(marker as i8)),
            0xC0 => BoltValue::Null,
            0xC1 => BoltValue::Float(f64::from_be_bytes(self.array()?)),
            0xC2 => BoltValue::Boolean(false),
            0xC3 => BoltValue::Boolean(true),
            0xC8 => BoltValue::Integer(i64::from(i8::from_be_bytes(self.array()?))),
            0xC9 => BoltValue::Integer(i64::from(i16::from_be_bytes(self.array()?))),
            0xCA => BoltValue::Integer(i64::from(i32::from_be_bytes(self.array()?))),
            0xCB => BoltValue::Integer(i64::from_be_bytes(self.array()?)),
            0xCC..=0xCE => {
                let len = self.size(1 << (marker - 0xCC))?;
                BoltValue::Bytes(self.take(len)?.to_vec())
            }
            0x80..=0x8F => self.string(usize::from(marker & 0x0F))?,
            0xD0..=0xD2 => {
                let len = self.size(1 << (marker - 0xD0))?;
                self.string(len)?
            }
            0x90..=0x9F => self.list(usize::from(marker & 0x0F), depth)?,
            0xD4..=0xD6 => {
                let len = self.size(1 << (marker - 0xD4))?;
                self.list(len, depth)?
            }
            0xA0..=0xAF => self.dict(usize::from(marker & 0x0F), depth)?,
            0xD8..=0xDA => {
                let len = self.size(1 << (marker - 0xD8))?;
                self.dict(len, depth)?
            }
            0xB0..=0xBF => self.structure(usize::from(marker & 0x0F), depth)?,
            _ => return Err(PackStreamError::UnknownMarker { marker, at }),
        };
        Ok(value)
    }

    fn string(&mut self, len: usize) -> Result<BoltValue, PackStreamError> {
        let at = self.pos;
        let raw = self.take(len)?;
        let s = std::str::from_utf8(raw).map_err(|_| PackStreamError::InvalidUtf8 { at })?;
        Ok(BoltValue::String(s.to_owned()))
    }

    /// Room for `len` elements, but never more than the bytes left could encode.
    fn capacity(&self, len: usize) -> usize {
        len.min(self.remaining())
    }

    fn nested(depth: usize) -> Result<usize, PackStreamError> {
        if depth >= MAX_DEPTH {
            return Err(PackStreamError::TooDeep);
        }
        Ok(depth + 1)
    }

    fn list(&mut self, len: usize, depth: usize) -> Result<BoltValue, PackStreamError> {
        let depth = Self::nested(depth)?;
        let mut items = Vec::with_capacity(self.capacity(len));
        for _ in 0..len {
            items.push(self.value(depth)?);
        }
        Ok(BoltValue::List(items))
    }

    fn dict(&mut self, len: usize, depth: usize) -> Result<BoltValue, PackStreamError> {
        let depth = Self::nested(depth)?;
        let mut entries = Vec::with_capacity(len.min(self.remaining() / 2));
        for _ in 0..len {
            let at = self.pos;
            let BoltValue::String(key) = self.value(depth)? else {
                return Err(PackStreamError::NonStringKey { at });
            };
            entries.push((key, self.value(depth)?));
        }
        Ok(BoltValue::Dictionary(entries))
    }

    fn structure(&mut self, len: usize, depth: usize) -> Result<BoltValue, PackStreamError> {
        let depth = Self::nested(depth)?;
        let tag = self.u8()?;
        let mut fields = Vec::with_capacity(len);
        for _ in 0..len {
            fields.push(self.value(depth)?);
        }
        Ok(BoltValue::Structure(Structure { tag, fields }))
    }
}

#[cfg(test)]
mod tests;
