//! The compact per-object property store.
//!
//! An object's properties are one byte string: `(key varint, encoded value)` pairs sorted
//! by key, in the value encoding of `weft_common::encoding`. An object without properties
//! holds an empty `ThinVec` (one pointer, no heap block). Reads decode on the fly; a write
//! re-encodes the whole string, which is cheap for the handful of properties an object
//! typically has and keeps memory per object minimal.

use thin_vec::ThinVec;
use weft_common::encoding::{decode_value, encode_value, get_varint, put_varint, skip_value};
use weft_common::{PropertyId, Value};

/// Encoded properties of one vertex or edge.
#[derive(Clone, Default, Debug, PartialEq)]
pub struct PropertyStore {
    bytes: ThinVec<u8>,
}

impl PropertyStore {
    /// The value of `key`, if set.
    pub fn get(&self, key: PropertyId) -> Option<Value> {
        let mut pos = 0;
        while pos < self.bytes.len() {
            let k = get_varint(&self.bytes, &mut pos).ok()?;
            if k == u64::from(key.0) {
                return decode_value(&self.bytes, &mut pos).ok();
            }
            if k > u64::from(key.0) {
                return None;
            }
            skip_value(&self.bytes, &mut pos).ok()?;
        }
        None
    }

    /// The encoded string (for memory accounting).
    pub fn bytes(&self) -> &ThinVec<u8> {
        &self.bytes
    }

    /// True when `key` is set.
    pub fn contains(&self, key: PropertyId) -> bool {
        self.get(key).is_some()
    }

    /// All properties in key order.
    pub fn all(&self) -> Vec<(PropertyId, Value)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < self.bytes.len() {
            let Ok(k) = get_varint(&self.bytes, &mut pos) else {
                break;
            };
            let Ok(v) = decode_value(&self.bytes, &mut pos) else {
                break;
            };
            out.push((PropertyId(k as u32), v));
        }
        out
    }

    /// Sets `key` to `value` (`None` or `Value::Null` removes it); returns the old value.
    pub fn set(&mut self, key: PropertyId, value: Option<Value>) -> Option<Value> {
        let value = value.filter(|v| !v.is_null());
        let mut entries = self.all();
        let old = match entries.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(i) => match value {
                Some(v) => Some(std::mem::replace(&mut entries[i].1, v)),
                None => Some(entries.remove(i).1),
            },
            Err(i) => {
                if let Some(v) = value {
                    entries.insert(i, (key, v));
                }
                None
            }
        };
        self.bytes = encode_entries(&entries);
        old
    }
}

fn encode_entries(entries: &[(PropertyId, Value)]) -> ThinVec<u8> {
    if entries.is_empty() {
        return ThinVec::new();
    }
    let mut buf = Vec::new();
    for (k, v) in entries {
        put_varint(&mut buf, u64::from(k.0));
        encode_value(&mut buf, v);
    }
    let mut out = ThinVec::with_capacity(buf.len());
    out.extend_from_slice(&buf);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_remove_keeps_key_order() {
        // Set up: three properties set out of order.
        let mut p = PropertyStore::default();
        p.set(PropertyId(5), Some(Value::from("five")));
        p.set(PropertyId(1), Some(Value::Int(1)));
        p.set(PropertyId(3), Some(Value::Float(3.5)));

        // Check: reads and ordering.
        assert_eq!(p.get(PropertyId(1)), Some(Value::Int(1)));
        assert_eq!(p.get(PropertyId(2)), None);
        let keys: Vec<u32> = p.all().iter().map(|(k, _)| k.0).collect();
        assert_eq!(keys, vec![1, 3, 5]);

        // Act + check: overwrite returns the old value, null removes.
        assert_eq!(p.set(PropertyId(1), Some(Value::Int(2))), Some(Value::Int(1)));
        assert_eq!(p.set(PropertyId(5), Some(Value::Null)), Some(Value::from("five")));
        assert!(!p.contains(PropertyId(5)));
        p.set(PropertyId(1), None);
        p.set(PropertyId(3), None);
        assert_eq!(p, PropertyStore::default());
    }
}
