//! Durability's admin commands: `SHOW STORAGE INFO`, `CREATE SNAPSHOT` and
//! `SHOW SNAPSHOTS`.
//!
//! Owns: turning storage and durability figures into result rows. Promises: without a
//! data directory, `SHOW STORAGE INFO` reports the in-memory figures only and the snapshot
//! statements fail with an error that says durability is off.

use weft_query::error::Result;
use weft_query::{ErrorKind, QueryError, QueryResult, ResultValue};
use weft_storage::durability::{Durability, SnapshotInfo};
use weft_storage::{Direction, IsolationLevel, Storage};

/// `SHOW STORAGE INFO`: one row per figure, as `(storage info, value)`.
pub fn storage_info(storage: &Storage, durability: Option<&Durability>) -> Result<QueryResult> {
    let int = |v: u64| ResultValue::Int(i64::try_from(v).unwrap_or(i64::MAX));
    let resident = resident_bytes();
    let memory = storage.memory_breakdown();
    let mut rows = vec![
        ("vertex_count", int(storage.approx_vertex_count())),
        ("edge_count", int(edge_count(storage)?)),
        ("memory_res", int(resident)),
        // Resident memory by owner, estimated from the objects' sizes; "other" is the
        // rest: the allocator's rounding and kept free memory, buffers, code, stacks.
        ("memory_vertices", int(memory.vertices)),
        ("memory_edges", int(memory.edges)),
        ("memory_properties", int(memory.properties)),
        ("memory_indexes", int(memory.indexes)),
        ("memory_version_chains", int(memory.version_chains)),
        ("memory_columns", int(memory.columns)),
        ("memory_other", int(resident.saturating_sub(memory.total()))),
        ("last_commit_timestamp", int(storage.last_committed())),
        ("active_transactions", int(storage.active_transactions() as u64)),
        // Labels a writer changed that garbage collection has not settled: their checks
        // visit the vertex. Staying above zero points at a transaction left open.
        ("labels_unsettled", int(storage.unsettled_labels() as u64)),
        // The same for property keys: label scans reading them visit every node instead
        // of the columns kept from an earlier scan.
        ("properties_unsettled", int(storage.unsettled_properties() as u64)),
        ("scans_from_kept_columns", int(storage.kept_column_reads())),
        (
            "commit_pipeline",
            ResultValue::String(storage.commit_sinks().join(" -> ")),
        ),
    ];
    if let Some(reason) = crate::node::writes_refused(storage, durability) {
        rows.push(("writes_refused", ResultValue::String(reason)));
    }
    match durability {
        Some(d) => {
            let info = d.info().map_err(durability_error)?;
            rows.extend([
                ("durability", ResultValue::String("on".to_string())),
                (
                    "data_directory",
                    ResultValue::String(d.data_dir().display().to_string()),
                ),
                ("database_id", ResultValue::String(info.db_id.to_string())),
                ("epoch", int(info.epoch)),
                ("disk_usage", int(info.wal_bytes + info.snapshot_bytes)),
                ("wal_segments", int(info.wal_segments as u64)),
                ("wal_bytes", int(info.wal_bytes)),
                ("wal_fsyncs", int(info.wal.fsyncs)),
                ("snapshot_count", int(info.snapshots as u64)),
                ("snapshot_bytes", int(info.snapshot_bytes)),
            ]);
        }
        None => rows.push(("durability", ResultValue::String("off (in memory only)".to_string()))),
    }
    Ok(QueryResult {
        columns: vec!["storage info".into(), "value".into()],
        rows: rows
            .into_iter()
            .map(|(name, value)| vec![ResultValue::String(name.to_string()), value])
            .collect(),
        ..Default::default()
    })
}

/// `CREATE SNAPSHOT`: writes one now and returns it as a row.
pub fn create_snapshot(durability: Option<&Durability>) -> Result<QueryResult> {
    let info = needs_durability(durability)?
        .create_snapshot()
        .map_err(durability_error)?;
    Ok(snapshot_rows(vec![info]))
}

/// `SHOW SNAPSHOTS`: the snapshots on disk, newest first.
pub fn show_snapshots(durability: Option<&Durability>) -> Result<QueryResult> {
    let mut snapshots = needs_durability(durability)?.snapshots().map_err(durability_error)?;
    snapshots.reverse();
    Ok(snapshot_rows(snapshots))
}

fn snapshot_rows(snapshots: Vec<SnapshotInfo>) -> QueryResult {
    let int = |v: u64| ResultValue::Int(i64::try_from(v).unwrap_or(i64::MAX));
    let rows = snapshots
        .into_iter()
        .map(|s| {
            vec![
                ResultValue::String(s.path.display().to_string()),
                int(s.ts),
                int(s.epoch),
                int(s.vertices),
                int(s.edges),
                int(s.bytes),
            ]
        })
        .collect();
    QueryResult {
        columns: ["path", "timestamp", "epoch", "vertices", "edges", "size_bytes"]
            .map(String::from)
            .to_vec(),
        rows,
        ..Default::default()
    }
}

fn needs_durability(durability: Option<&Durability>) -> Result<&Durability> {
    durability.ok_or_else(|| {
        QueryError::runtime(
            ErrorKind::SemanticError,
            "DurabilityOff",
            "this server keeps data in memory only (no data directory), so it has no snapshots",
        )
    })
}

fn durability_error(error: weft_storage::durability::DurabilityError) -> QueryError {
    QueryError::runtime(ErrorKind::DatabaseError, "Durability", error.to_string())
}

/// Edges visible now, counted from each vertex's outgoing adjacency.
fn edge_count(storage: &Storage) -> Result<u64> {
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let mut count = 0u64;
    for v in txn.vertices() {
        count += txn.edges(v, Direction::Out, &[])?.len() as u64;
    }
    Ok(count)
}

/// The process's resident memory in bytes (Linux); 0 where the OS does not tell.
fn resident_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
