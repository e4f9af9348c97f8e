//! Existence and uniqueness constraints: checked against the data when created, and
//! against every vertex a transaction touched when it commits.
//!
//! Commits are serialised, so at commit time "the database" is the newest committed
//! state plus this transaction's writes; other transactions' uncommitted writes are not
//! counted (they are checked when they commit). Uniqueness uses the constraint's own
//! tuple index to find candidate duplicates.

use crate::delta::{IsolationLevel, Viewer};
use crate::error::{Result, StorageError};
use crate::storage::{Inner, Storage};
use crate::vertex::{self, Life};
use std::collections::{BTreeMap, HashSet};
use weft_common::value::OrderedValue;
use weft_common::{Gid, LabelId, PropertyId};

/// Checks the constraints in force for every vertex a committing transaction touched.
pub(crate) fn validate_commit(inner: &Inner, viewer: &Viewer, touched: &[Gid]) -> Result<()> {
    let schema = inner.schema();
    if schema.existence.is_empty() && schema.unique.is_empty() {
        return Ok(());
    }
    let now = Viewer {
        isolation: IsolationLevel::ReadCommitted,
        ..*viewer
    };
    let mut seen = HashSet::new();
    for gid in touched.iter().filter(|g| seen.insert(**g)) {
        let Some(slot) = inner.vertices.get(gid.0) else {
            continue;
        };
        let (labels, props) = {
            let v = slot.lock();
            if v.life != Life::Live {
                continue;
            }
            (v.label_vec(), v.props.clone())
        };
        for (label, prop) in schema.existence.iter().filter(|(l, _)| labels.contains(l)) {
            if !props.contains(*prop) {
                return Err(StorageError::ConstraintViolation(format!(
                    "vertex {gid} has label :{} but no property {} (existence constraint on :{}({}))",
                    inner.labels.name(label.0),
                    inner.properties.name(prop.0),
                    inner.labels.name(label.0),
                    inner.properties.name(prop.0),
                )));
            }
        }
        for unique in schema.unique.iter().filter(|u| labels.contains(&u.index.label)) {
            let Some(key) = unique.index.key_of(*gid, |p| props.get(p)) else {
                continue;
            };
            for other in unique.index.lookup(&key.values).into_iter().filter(|o| o != gid) {
                if same_tuple(inner, &now, other, unique.index.label, &unique.index.props, &key.values) {
                    return Err(unique_violation(
                        inner,
                        unique.index.label,
                        &unique.index.props,
                        &key.values,
                        *gid,
                        other,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Whether `viewer` sees vertex `gid` with `label` and exactly the tuple `values`.
fn same_tuple(
    inner: &Inner,
    viewer: &Viewer,
    gid: Gid,
    label: LabelId,
    props: &[PropertyId],
    values: &[OrderedValue],
) -> bool {
    inner
        .with_vertex(gid, |v| {
            if !vertex::visible_has_label(v, viewer, label) {
                return false;
            }
            let (_, now) = vertex::visible_properties(v.life == Life::Live, &v.props, &v.delta, viewer);
            props.iter().zip(values).all(|(p, want)| {
                now.iter()
                    .find(|(k, _)| k == p)
                    .is_some_and(|(_, have)| OrderedValue(have.clone()) == *want)
            })
        })
        .unwrap_or(false)
}

fn describe(inner: &Inner, label: LabelId, props: &[PropertyId], values: &[OrderedValue]) -> (String, String) {
    let names: Vec<String> = props.iter().map(|p| inner.properties.name(p.0)).collect();
    let pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n} = {}", v.0))
        .collect();
    (
        format!(":{}({})", inner.labels.name(label.0), names.join(", ")),
        pairs.join(", "),
    )
}

fn unique_violation(
    inner: &Inner,
    label: LabelId,
    props: &[PropertyId],
    values: &[OrderedValue],
    a: Gid,
    b: Gid,
) -> StorageError {
    let (what, pairs) = describe(inner, label, props, values);
    StorageError::ConstraintViolation(format!(
        "unique constraint on {what} violated: vertices {b} and {a} both have {pairs}"
    ))
}

/// Refuses an existence constraint that committed data already breaks.
pub(crate) fn check_existing_existence(storage: &Storage, label: LabelId, prop: PropertyId) -> Result<()> {
    let viewer = crate::ddl::latest_committed(&storage.inner);
    for gid in scan(storage, &viewer) {
        let seen = storage.inner.with_vertex(gid, |v| {
            let has_label = vertex::visible_has_label(v, &viewer, label);
            let value = vertex::visible_property(true, &v.props, &v.delta, &viewer, prop).1;
            has_label && value.is_none()
        });
        if seen == Some(true) {
            let (l, p) = (storage.label_name(label), storage.property_name(prop));
            return Err(StorageError::ConstraintViolation(format!(
                "cannot create existence constraint on :{l}({p}): vertex {gid} has label :{l} but no property {p}"
            )));
        }
    }
    Ok(())
}

/// Refuses a uniqueness constraint that committed data already breaks.
pub(crate) fn check_existing_unique(storage: &Storage, label: LabelId, props: &[PropertyId]) -> Result<()> {
    let viewer = crate::ddl::latest_committed(&storage.inner);
    let mut seen: BTreeMap<Vec<OrderedValue>, Gid> = BTreeMap::new();
    for gid in scan(storage, &viewer) {
        let tuple = storage.inner.with_vertex(gid, |v| {
            if !vertex::visible_has_label(v, &viewer, label) {
                return None;
            }
            let (_, all) = vertex::visible_properties(true, &v.props, &v.delta, &viewer);
            let get = |p: &PropertyId| all.iter().find(|(k, _)| k == p).map(|(_, v)| OrderedValue(v.clone()));
            props.iter().map(get).collect::<Option<Vec<_>>>()
        });
        let Some(Some(tuple)) = tuple else { continue };
        if let Some(first) = seen.get(&tuple) {
            let (what, pairs) = describe(&storage.inner, label, props, &tuple);
            return Err(StorageError::ConstraintViolation(format!(
                "cannot create unique constraint on {what}: vertices {first} and {gid} both have {pairs}"
            )));
        }
        seen.insert(tuple, gid);
    }
    Ok(())
}

fn scan<'a>(storage: &'a Storage, viewer: &'a Viewer) -> impl Iterator<Item = Gid> + 'a {
    let inner = &storage.inner;
    (0..inner.vertices.high_water()).map(Gid).filter(move |gid| {
        inner
            .with_vertex(*gid, |v| vertex::visible_exists(v, viewer))
            .unwrap_or(false)
    })
}
