//! Interning of label, edge type and property key names to small integer ids.
//!
//! Ids are dense and never reused within one storage instance; they are *not* stable
//! across instances, which is why commit records carry names, not ids.

use parking_lot::RwLock;
use std::collections::HashMap;

/// A bidirectional name ↔ id map. Reads take a shared lock; a new name takes it once
/// exclusively.
#[derive(Default)]
pub struct NameMapper {
    inner: RwLock<Names>,
}

#[derive(Default)]
struct Names {
    by_name: HashMap<String, u32>,
    by_id: Vec<String>,
}

impl NameMapper {
    /// The id of `name`, creating one if the name is new.
    pub fn intern(&self, name: &str) -> u32 {
        if let Some(id) = self.inner.read().by_name.get(name) {
            return *id;
        }
        let mut names = self.inner.write();
        if let Some(id) = names.by_name.get(name) {
            return *id;
        }
        let id = u32::try_from(names.by_id.len()).expect("more than 2^32 distinct names");
        names.by_id.push(name.to_owned());
        names.by_name.insert(name.to_owned(), id);
        id
    }

    /// The id of `name` if it was ever interned.
    pub fn lookup(&self, name: &str) -> Option<u32> {
        self.inner.read().by_name.get(name).copied()
    }

    /// The name of `id`; ids come only from [`NameMapper::intern`], so an unknown id is a
    /// caller bug and yields a placeholder rather than a panic.
    pub fn name(&self, id: u32) -> String {
        self.inner
            .read()
            .by_id
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| format!("<unknown name #{id}>"))
    }
}
