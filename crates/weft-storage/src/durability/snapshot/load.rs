//! Loading a snapshot into a fresh storage: check the whole file first (header, every
//! frame's checksum, the footer), then build objects directly in the object tables, in
//! parallel; then the schema, whose creation fills the indexes and checks the constraints
//! over the loaded graph. A version 2 file's vertices come with their adjacency lists and
//! load in one pass ([`super::graph`]); a version 1 file's vertex frames load first, then
//! its edge frames, each edge added to both its ends (here).
//!
//! Objects are written as newest states without undo deltas, so to every reader they are
//! committed at or before the snapshot's timestamp, and the garbage collector has nothing
//! to do for them. Index and constraint changes are replayed at timestamps `1..=k` (k
//! DDL changes, each of which took its own timestamp at or below the snapshot's), and the
//! storage's newest commit is then set to the snapshot's timestamp.

use super::codec::{self, kind, Footer, RawEdge, RawVertex};
use super::graph::Tally;
use super::{check_header, SnapshotInfo};
use crate::delta::Adjacent;
use crate::durability::error::DurabilityError;
use crate::durability::frame::{FrameProblem, FrameRead, FrameReader};
use crate::durability::header::HEADER_LEN;
use crate::durability::progress::RecoveryProgress;
use crate::props::PropertyStore;
use crate::record::{CommitRecord, DdlOp};
use crate::storage::{Inner, Storage};
use crate::vertex::{EdgeData, Life, VertexData};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use uuid::Uuid;
use weft_common::encoding::{get_bytes, get_str, get_varint};
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId};

/// Loads the snapshot at `path` (which must belong to `db_id`) into a new storage.
pub fn load_snapshot(path: &Path, db_id: Uuid) -> Result<(Storage, SnapshotInfo), DurabilityError> {
    load_snapshot_with(crate::durability::io::real().as_ref(), path, db_id)
}

/// [`load_snapshot`] on the file system `fs`.
pub fn load_snapshot_with(
    fs: &dyn crate::durability::io::FileSystem,
    path: &Path,
    db_id: Uuid,
) -> Result<(Storage, SnapshotInfo), DurabilityError> {
    load_snapshot_watched(fs, path, db_id, None)
}

/// [`load_snapshot_with`], counting the objects loaded into `progress` as it goes.
pub(crate) fn load_snapshot_watched(
    fs: &dyn crate::durability::io::FileSystem,
    path: &Path,
    db_id: Uuid,
    progress: Option<&RecoveryProgress>,
) -> Result<(Storage, SnapshotInfo), DurabilityError> {
    let bytes = fs.read(path).map_err(|e| DurabilityError::io(path, "read", e))?;
    let (header, ts) = check_header(path, &bytes, db_id)?;
    let file = Parsed::scan(path, &bytes, header.version)?;
    let storage = Storage::new();
    let names = file.names(&storage)?;
    let [high_water, next_edge] = file.counters()?;
    let ctx = Ctx {
        path,
        inner: &storage.inner,
        names: &names,
        high_water,
        next_edge,
    };
    // Reserve every id the writer had handed out, so new ones never repeat them.
    if let Some(last) = high_water.checked_sub(1) {
        storage
            .inner
            .vertices
            .ensure(last)
            .ok_or_else(|| ctx.bad(file.counters_at, "vertex id counter out of range"))?;
    }
    if next_edge > crate::txn::MAX_EDGE_ID {
        return Err(ctx.bad(file.counters_at, "edge id counter out of range"));
    }
    storage.inner.next_edge.fetch_max(next_edge, Ordering::AcqRel);
    let progress = Loading::new(
        path,
        file.footer.vertices.saturating_add(file.footer.edges),
        bytes.len() as u64,
        progress,
    );
    let frame = |n: u64, payload: &[u8]| progress.frame(n, payload.len());
    let (vertices, edges) = if header.version == 1 {
        let vertices = parallel(&file.vertex_frames, |at, payload| {
            ctx.load_vertices(at, payload).inspect(|n| frame(*n, payload))
        })?;
        let edges = parallel(&file.edge_frames, |at, payload| {
            ctx.load_edges(at, payload).inspect(|n| frame(*n, payload))
        })?;
        (vertices, edges)
    } else {
        let tally = Tally::default();
        let vertices = parallel(&file.vertex_frames, |at, payload| {
            ctx.load_graph(at, payload, &tally, &|objects| frame(objects, payload))
        })?;
        // Their edges are counted with the graph frames; their bytes here.
        parallel(&file.edge_frames, |at, payload| {
            ctx.load_edge_props(at, payload, &tally).inspect(|_| frame(0, payload))
        })?;
        parallel(&file.adjacency_frames, |at, payload| {
            ctx.load_adjacency(at, payload, &tally, &|objects| frame(objects, payload))
        })?;
        let edges = tally.edges().map_err(|what| ctx.bad(file.footer_at, what))?;
        (vertices, edges)
    };
    if vertices != file.footer.vertices || edges != file.footer.edges {
        return Err(ctx.bad(file.footer_at, "footer counts do not match the snapshot's objects"));
    }
    file.replay_schema(&storage, ts)?;
    storage.inner.publish(ts, None, None);
    let info = SnapshotInfo {
        path: path.to_path_buf(),
        ts,
        epoch: header.epoch,
        vertices,
        edges,
        bytes: bytes.len() as u64,
    };
    tracing::info!(path = %path.display(), ts, vertices, edges, "snapshot loaded");
    Ok((storage, info))
}

/// The frames of a checked file, by kind, each with its offset.
struct Parsed<'a> {
    path: &'a Path,
    schema: (u64, &'a [u8]),
    counters: &'a [u8],
    counters_at: u64,
    names: (u64, &'a [u8]),
    /// Version 1 vertex frames, or version 2 graph frames.
    vertex_frames: Vec<(u64, &'a [u8])>,
    /// Version 1 edge frames, or version 2 edge property frames.
    edge_frames: Vec<(u64, &'a [u8])>,
    /// Version 2 adjacency frames.
    adjacency_frames: Vec<(u64, &'a [u8])>,
    footer: Footer,
    footer_at: u64,
}

impl<'a> Parsed<'a> {
    /// Checks every frame and the footer, and sorts the frames by kind; a frame of a
    /// kind that `version` does not have is refused.
    fn scan(path: &'a Path, bytes: &'a [u8], version: u16) -> Result<Self, DurabilityError> {
        let bad = |offset, what| codec::malformed(path, offset, what);
        let mut reader = FrameReader::new(bytes, HEADER_LEN);
        let (mut schema, mut counters, mut names) = (None, None, None);
        let (mut vertex_frames, mut edge_frames, mut adjacency_frames) = (Vec::new(), Vec::new(), Vec::new());
        let v1 = version == 1;
        let mut frames = 0u64;
        loop {
            let (offset, payload) = match reader.next_frame() {
                FrameRead::Frame { offset, payload } => (offset, payload),
                FrameRead::End => return Err(bad(bytes.len() as u64, "snapshot ends without its footer")),
                FrameRead::TornTail { offset, problem } | FrameRead::Corrupt { offset, problem } => {
                    return Err(corrupt(path, offset, problem))
                }
            };
            let once = |slot: &mut Option<(u64, &'a [u8])>| match slot.replace((offset, payload)) {
                None => Ok(()),
                Some(_) => Err(bad(offset, "snapshot repeats a frame that must appear once")),
            };
            match codec::kind_of(payload) {
                Some(kind::SCHEMA) => once(&mut schema)?,
                Some(kind::COUNTERS) => once(&mut counters)?,
                Some(kind::NAMES) => once(&mut names)?,
                Some(kind::VERTICES) if v1 => vertex_frames.push((offset, payload)),
                Some(kind::EDGES) if v1 => edge_frames.push((offset, payload)),
                Some(kind::GRAPH) if !v1 => vertex_frames.push((offset, payload)),
                Some(kind::EDGE_PROPS) if !v1 => edge_frames.push((offset, payload)),
                Some(kind::ADJACENCY) if !v1 => adjacency_frames.push((offset, payload)),
                Some(kind::FOOTER) => {
                    let footer = codec::decode_footer(payload).ok_or_else(|| bad(offset, "malformed footer"))?;
                    if reader.position() != bytes.len() as u64 {
                        return Err(bad(reader.position(), "bytes after the snapshot footer"));
                    }
                    if footer.frames != frames {
                        return Err(bad(offset, "footer frame count does not match the snapshot"));
                    }
                    let missing = |what| bad(offset, what);
                    let (counters_at, counters) = counters.ok_or_else(|| missing("snapshot has no counters frame"))?;
                    return Ok(Parsed {
                        path,
                        schema: schema.ok_or_else(|| missing("snapshot has no schema frame"))?,
                        counters,
                        counters_at,
                        names: names.ok_or_else(|| missing("snapshot has no names frame"))?,
                        vertex_frames,
                        edge_frames,
                        adjacency_frames,
                        footer,
                        footer_at: offset,
                    });
                }
                _ => return Err(bad(offset, "frame kind unknown to this snapshot's version")),
            }
            frames += 1;
        }
    }

    /// Interns the name tables into `storage`; returns the new ids of the old ones.
    fn names(&self, storage: &Storage) -> Result<Names, DurabilityError> {
        let (at, payload) = self.names;
        let bad = || codec::malformed(self.path, at, "malformed names frame");
        let pos = &mut 1;
        let mut table = |intern: &dyn Fn(&str) -> u32| -> Result<Vec<u32>, DurabilityError> {
            let n = get_varint(payload, pos).map_err(|_| bad())?;
            let mut ids = Vec::with_capacity(codec::bounded(n, payload, *pos));
            for _ in 0..n {
                ids.push(intern(get_str(payload, pos).map_err(|_| bad())?));
            }
            Ok(ids)
        };
        let names = Names {
            labels: table(&|n| storage.label(n).0)?,
            edge_types: table(&|n| storage.edge_type(n).0)?,
            properties: table(&|n| storage.property(n).0)?,
        };
        if *pos != payload.len() {
            return Err(bad());
        }
        Ok(names)
    }

    fn counters(&self) -> Result<[u64; 2], DurabilityError> {
        match codec::get_varints(self.counters, 2).as_deref() {
            Some(&[high_water, next_edge]) => Ok([high_water, next_edge]),
            _ => Err(codec::malformed(
                self.path,
                self.counters_at,
                "malformed counters frame",
            )),
        }
    }

    /// Recreates the indexes and constraints (filling and checking them over the loaded
    /// graph) at timestamps `1..=k`, which must not pass the snapshot's `ts`.
    fn replay_schema(&self, storage: &Storage, ts: u64) -> Result<(), DurabilityError> {
        let (at, payload) = self.schema;
        let bad = |what| codec::malformed(self.path, at, what);
        let ops = codec::decode_batch(payload, |buf, pos| {
            let record = CommitRecord::decode(get_bytes(buf, pos).ok()?).ok()?;
            match record {
                CommitRecord::Ddl { op, .. } => Some(op),
                CommitRecord::Transaction { .. } => None,
            }
        })
        .ok_or_else(|| bad("malformed schema frame"))?;
        if ops.len() as u64 > ts {
            return Err(bad("more schema entries than commits before the snapshot"));
        }
        for op in &ops {
            if !matches!(
                op,
                DdlOp::CreateLabelIndex(_)
                    | DdlOp::CreateLabelPropertyIndex(..)
                    | DdlOp::CreateEdgeTypeIndex(_)
                    | DdlOp::CreateExistenceConstraint(..)
                    | DdlOp::CreateUniqueConstraint(..)
            ) {
                return Err(bad("schema entry is not a creation"));
            }
        }
        storage.load_schema(&ops).map_err(|(i, e)| {
            tracing::error!(path = %self.path.display(), entry = i, error = %e, "snapshot schema does not apply to its graph");
            bad("schema entry does not apply to the snapshot's graph")
        })
    }
}

fn corrupt(path: &Path, offset: u64, problem: FrameProblem) -> DurabilityError {
    DurabilityError::Corrupt {
        path: path.to_path_buf(),
        offset,
        problem,
    }
}

/// New ids of the writer's name ids.
pub(super) struct Names {
    labels: Vec<u32>,
    pub(super) edge_types: Vec<u32>,
    properties: Vec<u32>,
}

/// The labels given to one frame's vertices, published once per frame.
#[derive(Default)]
pub(super) struct FrameLabels {
    members: Vec<(LabelId, Gid)>,
    counted: HashMap<LabelId, i64>,
}

impl FrameLabels {
    /// Sets the member bits and label counts. Loaded before anyone reads: every snapshot
    /// taken later sees them.
    pub(super) fn publish(self, inner: &Inner) {
        inner.members.insert_many(self.members);
        inner.count_labels(0, self.counted);
    }
}

/// What loading object frames needs.
pub(super) struct Ctx<'a> {
    path: &'a Path,
    pub(super) inner: &'a Inner,
    pub(super) names: &'a Names,
    pub(super) high_water: u64,
    pub(super) next_edge: u64,
}

impl<'a> Ctx<'a> {
    /// Makes the empty slot of vertex `gid` (below the vertex counter) a live vertex with
    /// `props` and `labels`, gathering its labels into `frame`; returns it locked, for
    /// the caller to finish. The caller counts it in `vertex_count`.
    pub(super) fn create_vertex(
        &self,
        at: u64,
        gid: u64,
        props: PropertyStore,
        labels: &[LabelId],
        frame: &mut FrameLabels,
    ) -> Result<parking_lot::MutexGuard<'a, VertexData>, DurabilityError> {
        let slot = (gid < self.high_water)
            .then(|| self.inner.vertices.ensure(gid))
            .flatten()
            .ok_or_else(|| self.bad(at, "vertex id above the vertex counter"))?;
        let mut v = slot.lock();
        if v.life != Life::Empty {
            return Err(self.bad(at, "vertex id appears twice"));
        }
        v.life = Life::Live;
        v.props = props;
        for label in labels {
            if !v.has_label(*label) {
                v.push_label(*label);
                frame.members.push((*label, Gid(gid)));
                *frame.counted.entry(*label).or_default() += 1;
            }
        }
        Ok(v)
    }

    pub(super) fn bad(&self, offset: u64, what: &'static str) -> DurabilityError {
        codec::malformed(self.path, offset, what)
    }

    /// The loaded id of the writer's label id `label`.
    pub(super) fn label(&self, at: u64, label: u64) -> Result<LabelId, DurabilityError> {
        usize::try_from(label)
            .ok()
            .and_then(|l| self.names.labels.get(l))
            .map(|l| LabelId(*l))
            .ok_or_else(|| self.bad(at, "label id without a name"))
    }

    pub(super) fn props(&self, at: u64, raw: Vec<(u64, weft_common::Value)>) -> Result<PropertyStore, DurabilityError> {
        let mut props = PropertyStore::default();
        for (key, value) in raw {
            let key = usize::try_from(key).ok().and_then(|k| self.names.properties.get(k));
            let key = key.ok_or_else(|| self.bad(at, "property id without a name"))?;
            props.set(PropertyId(*key), Some(value));
        }
        Ok(props)
    }

    /// Creates the vertices of one frame; returns how many.
    fn load_vertices(&self, at: u64, payload: &[u8]) -> Result<u64, DurabilityError> {
        let batch =
            codec::decode_batch(payload, codec::get_vertex).ok_or_else(|| self.bad(at, "malformed vertex frame"))?;
        let count = batch.len() as u64;
        let mut frame = FrameLabels::default();
        for RawVertex { gid, labels, props } in batch {
            let labels = labels
                .iter()
                .map(|l| self.label(at, *l))
                .collect::<Result<Vec<LabelId>, _>>()?;
            let props = self.props(at, props)?;
            drop(self.create_vertex(at, gid, props, &labels, &mut frame)?);
        }
        self.inner.vertex_count.fetch_add(count as i64, Ordering::Relaxed);
        frame.publish(self.inner);
        Ok(count)
    }

    /// Creates the edges of one frame (their endpoints must be loaded); returns how many.
    fn load_edges(&self, at: u64, payload: &[u8]) -> Result<u64, DurabilityError> {
        let batch =
            codec::decode_batch(payload, codec::get_edge).ok_or_else(|| self.bad(at, "malformed edge frame"))?;
        let count = batch.len() as u64;
        let ends: Vec<(u64, u64)> = batch.iter().map(|e| (e.from, e.to)).collect();
        let mut sources = Vec::with_capacity(batch.len());
        for (
            i,
            RawEdge {
                gid,
                from,
                to,
                edge_type,
                props,
            },
        ) in batch.into_iter().enumerate()
        {
            crate::prefetch::ahead(&self.inner.vertices, &ends, i);
            let edge_type = usize::try_from(edge_type)
                .ok()
                .and_then(|t| self.names.edge_types.get(t));
            let edge_type = EdgeTypeId(*edge_type.ok_or_else(|| self.bad(at, "edge type id without a name"))?);
            if gid >= self.next_edge {
                return Err(self.bad(at, "edge id above the edge counter"));
            }
            let props = self.props(at, props)?;
            if props != PropertyStore::default() {
                let data = EdgeData {
                    deleted: false,
                    props,
                    delta: None,
                };
                let slot = self
                    .inner
                    .edges
                    .ensure(gid)
                    .ok_or_else(|| self.bad(at, "edge id out of range"))?;
                let mut stored = slot.lock();
                if !stored.is_vacant() {
                    return Err(self.bad(at, "edge id appears twice"));
                }
                *stored = data;
            }
            let (gid, from, to) = (Gid(gid), Gid(from), Gid(to));
            self.link(at, from, |v| v.out_edges.push(Adjacent::new(edge_type, to, gid)))?;
            self.link(at, to, |v| v.in_edges.push(Adjacent::new(edge_type, from, gid)))?;
            sources.push((edge_type, from));
        }
        // Loaded before anyone reads, so the sources may follow their edges.
        self.inner.sources.insert_many(sources);
        Ok(count)
    }

    /// Changes a loaded vertex under its lock.
    fn link(&self, at: u64, gid: Gid, f: impl FnOnce(&mut crate::vertex::VertexData)) -> Result<(), DurabilityError> {
        let slot = self
            .inner
            .vertices
            .get(gid.0)
            .ok_or_else(|| self.bad(at, "edge endpoint is not a vertex"))?;
        let mut v = slot.lock();
        if v.life != Life::Live {
            return Err(self.bad(at, "edge endpoint is not a vertex"));
        }
        f(&mut v);
        Ok(())
    }
}

/// How often a long load says how far it is.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A snapshot load's progress, logged every [`PROGRESS_EVERY`] by whichever loading
/// thread finishes a frame after that time.
struct Loading<'a> {
    path: &'a Path,
    started: std::time::Instant,
    last: parking_lot::Mutex<std::time::Instant>,
    objects: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
    total_objects: u64,
    total_bytes: u64,
    watcher: Option<&'a RecoveryProgress>,
}

impl<'a> Loading<'a> {
    fn new(path: &'a Path, total_objects: u64, total_bytes: u64, watcher: Option<&'a RecoveryProgress>) -> Loading<'a> {
        if let Some(watcher) = watcher {
            watcher.snapshot_started(total_objects);
        }
        let now = std::time::Instant::now();
        Loading {
            watcher,
            path,
            started: now,
            last: parking_lot::Mutex::new(now),
            objects: Default::default(),
            bytes: Default::default(),
            total_objects,
            total_bytes,
        }
    }

    /// A frame of `objects` objects and `bytes` bytes is loaded.
    fn frame(&self, objects: u64, bytes: usize) {
        if let Some(watcher) = self.watcher {
            watcher.snapshot_loaded(objects);
        }
        let objects = self.objects.fetch_add(objects, Ordering::Relaxed) + objects;
        let bytes = self.bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        let Some(mut last) = self.last.try_lock() else { return };
        if last.elapsed() < PROGRESS_EVERY {
            return;
        }
        *last = std::time::Instant::now();
        let seconds = self.started.elapsed().as_secs_f64().max(1e-9);
        tracing::info!(
            path = %self.path.display(),
            objects,
            of = self.total_objects,
            mb = bytes as f64 / 1e6,
            of_mb = self.total_bytes as f64 / 1e6,
            mb_per_s = bytes as f64 / 1e6 / seconds,
            objects_per_s = objects as f64 / seconds,
            "loading the snapshot"
        );
    }
}

/// Runs `load` on every frame, on several threads when there are several frames; returns
/// the sum of the counts, or the error of the earliest failing frame.
fn parallel(
    frames: &[(u64, &[u8])],
    load: impl Fn(u64, &[u8]) -> Result<u64, DurabilityError> + Sync,
) -> Result<u64, DurabilityError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(frames.len());
    if workers <= 1 {
        return frames.iter().map(|(at, p)| load(*at, p)).sum();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Vec<(usize, Result<u64, DurabilityError>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((at, payload)) = frames.get(i) else { break done };
                        done.push((i, load(*at, payload)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut all: Vec<(usize, Result<u64, DurabilityError>)> = results.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).sum()
}
