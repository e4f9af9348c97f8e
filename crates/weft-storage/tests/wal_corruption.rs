//! The WAL's promises under damage: truncation at any offset and flipped bytes never make
//! the reader panic or return a wrong record; the newest segment gives its longest valid
//! prefix after a torn tail, while damage with valid data after it, or in an older segment,
//! is an error naming the file and the damaged frame's offset; another database's file is
//! refused by name.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use weft_storage::durability::{
    list_segments, read_segments, DurabilityError, ReadOptions, SyncPolicy, Uuid, WalOptions, WalWriter,
};

const HEADER_LEN: usize = 64;
const RECORDS: u64 = 12;

/// A written WAL: its directory, its segment files' bytes, and each record's frame offset.
struct Written {
    _tmp: tempfile::TempDir,
    db: Uuid,
    files: Vec<(PathBuf, Vec<u8>)>,
    /// Per segment: `(ts, frame offset, frame end)` of each record.
    frames: Vec<Vec<(u64, usize, usize)>>,
}

fn payload(ts: u64) -> Vec<u8> {
    format!("tx{ts}:").repeat(1 + (ts % 4) as usize).into_bytes()
}

/// Writes `segments` segments of [`RECORDS`] records each (timestamps from 1).
fn write_wal(segments: u64) -> Written {
    let tmp = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let options = WalOptions {
        segment_size: 1,
        sync: SyncPolicy::Off,
        ..WalOptions::new(db)
    };
    let writer = WalWriter::open(tmp.path(), options).unwrap();
    let mut frames = Vec::new();
    for s in 0..segments {
        let mut offset = HEADER_LEN;
        let mut tickets = Vec::new();
        let mut segment = Vec::new();
        for ts in s * RECORDS + 1..=(s + 1) * RECORDS {
            tickets.push(writer.append(ts, &payload(ts)).unwrap());
            let end = offset + 16 + payload(ts).len();
            segment.push((ts, offset, end));
            offset = end;
        }
        // One batch per segment: segment_size 1 rotates before every batch.
        writer.wait_durable(*tickets.last().unwrap()).unwrap();
        frames.push(segment);
    }
    writer.close().unwrap();
    let files = list_segments(tmp.path(), db)
        .unwrap()
        .into_iter()
        .map(|s| (s.path.clone(), std::fs::read(&s.path).unwrap()))
        .collect();
    Written {
        _tmp: tmp,
        db,
        files,
        frames,
    }
}

fn read(dir: &Path, db: Uuid, skip_corrupt: bool) -> Result<Vec<u64>, DurabilityError> {
    let options = ReadOptions {
        skip_corrupt,
        ..ReadOptions::default()
    };
    read_with(dir, db, options)
}

fn read_with(dir: &Path, db: Uuid, options: ReadOptions) -> Result<Vec<u64>, DurabilityError> {
    let records = read_segments(dir, db, options)?;
    records
        .map(|r| {
            let (ts, record) = r?;
            assert_eq!(record, payload(ts), "a record came back altered");
            Ok(ts)
        })
        .collect()
}

fn timestamps(frames: &[(u64, usize, usize)]) -> Vec<u64> {
    frames.iter().map(|f| f.0).collect()
}

/// The frame a byte offset falls in, and whether it is the segment's last.
fn frame_at(frames: &[(u64, usize, usize)], at: usize) -> (usize, bool) {
    let k = frames.iter().position(|f| at < f.2).unwrap();
    (k, k + 1 == frames.len())
}

#[test]
fn truncating_the_newest_segment_anywhere_reads_the_longest_valid_prefix() {
    let wal = write_wal(1);
    let (path, bytes) = &wal.files[0];
    let dir = path.parent().unwrap();
    for cut in 0..=bytes.len() {
        // Act: the segment cut at `cut`.
        std::fs::write(path, &bytes[..cut]).unwrap();
        let result = read(dir, wal.db, false);

        // Check: a short header is named; otherwise the frames that fit, whole.
        if cut < HEADER_LEN {
            let err = result.unwrap_err();
            assert!(matches!(err, DurabilityError::Header { .. }), "cut {cut}: {err}");
            continue;
        }
        let whole: Vec<_> = wal.frames[0].iter().filter(|f| f.2 <= cut).copied().collect();
        assert_eq!(result.unwrap(), timestamps(&whole), "cut {cut}");
        if cut % 5 == 0 {
            // Reopening for writing truncates to the same prefix and keeps it readable.
            let writer = WalWriter::open(dir, WalOptions::new(wal.db)).unwrap();
            assert_eq!(writer.last_ts(), whole.last().map(|f| f.0), "cut {cut}");
            drop(writer);
            let kept = read(dir, wal.db, false).unwrap_or_default();
            assert_eq!(kept, timestamps(&whole), "cut {cut} after reopen");
        }
    }
}

#[test]
fn truncating_an_older_segment_is_an_error_naming_file_and_offset() {
    let wal = write_wal(2);
    let (path, bytes) = &wal.files[0];
    let dir = path.parent().unwrap();
    for cut in HEADER_LEN..bytes.len() {
        // Act: the older segment cut at `cut`, the newest intact.
        std::fs::write(path, &bytes[..cut]).unwrap();
        let result = read(dir, wal.db, false);

        // Check: a cut at a frame boundary cannot be seen in the segment itself (the WAL
        // allows holes between timestamps), but a contiguous log names both segments;
        // inside a frame it is named.
        let whole: Vec<_> = wal.frames[0].iter().filter(|f| f.2 <= cut).copied().collect();
        if wal.frames[0].iter().any(|f| f.1 == cut) {
            let mut expected = timestamps(&whole);
            expected.extend(timestamps(&wal.frames[1]));
            assert_eq!(result.unwrap(), expected, "cut {cut}");
            let contiguous = ReadOptions {
                contiguous: true,
                ..ReadOptions::default()
            };
            match read_with(dir, wal.db, contiguous) {
                Err(DurabilityError::SegmentEndsEarly {
                    path: p,
                    missing_from,
                    next,
                    next_from,
                }) => {
                    assert_eq!((&p, &next), (path, &wal.files[1].0), "cut {cut}");
                    assert_eq!(
                        (missing_from, next_from),
                        (whole.len() as u64 + 1, RECORDS + 1),
                        "cut {cut}"
                    );
                }
                other => panic!("cut {cut}: expected a segment that ends early, got {other:?}"),
            }
            let skipping = ReadOptions {
                skip_corrupt: true,
                ..contiguous
            };
            assert_eq!(read_with(dir, wal.db, skipping).unwrap(), expected, "cut {cut}");
            continue;
        }
        match result {
            Err(DurabilityError::Corrupt { path: p, offset, .. }) => {
                assert_eq!(&p, path);
                assert_eq!(offset as usize, wal.frames[0][whole.len()].1, "cut {cut}");
            }
            other => panic!("cut {cut}: expected corruption, got {other:?}"),
        }
        let message = read(dir, wal.db, false).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
}

#[test]
fn flipped_bytes_are_caught_at_the_damaged_frame() {
    let wal = write_wal(2);
    for (segment, (path, bytes)) in wal.files.iter().enumerate() {
        let newest = segment + 1 == wal.files.len();
        let dir = path.parent().unwrap();
        for at in 0..bytes.len() {
            // Act: one byte of one segment flipped.
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            std::fs::write(path, &damaged).unwrap();
            let result = read(dir, wal.db, false);
            let skipped = read(dir, wal.db, true);
            std::fs::write(path, bytes).unwrap();

            // Check: a header flip names the header; a frame flip is a torn tail only in
            // the newest segment's last frame, else corruption at that frame's offset.
            if at < HEADER_LEN {
                assert!(matches!(result, Err(DurabilityError::Header { .. })), "byte {at}");
                continue;
            }
            let (k, last_frame) = frame_at(&wal.frames[segment], at);
            let mut prefix: Vec<u64> = wal.frames[..segment].iter().flat_map(|s| timestamps(s)).collect();
            prefix.extend(timestamps(&wal.frames[segment][..k]));
            if newest && last_frame {
                assert_eq!(result.unwrap(), prefix, "byte {at}");
                continue;
            }
            match result {
                Err(DurabilityError::Corrupt { path: p, offset, .. }) => {
                    assert_eq!((&p, offset as usize), (path, wal.frames[segment][k].1), "byte {at}");
                }
                other => panic!("segment {segment} byte {at}: expected corruption, got {other:?}"),
            }
            // With skip_corrupt the loss is accepted: the prefix, then the next segments.
            prefix.extend(wal.frames[segment + 1..].iter().flat_map(|s| timestamps(s)));
            assert_eq!(skipped.unwrap(), prefix, "byte {at} skip_corrupt");
        }
    }
}

#[test]
fn another_database_is_refused_by_file_name() {
    // Set up: a WAL of one database.
    let wal = write_wal(1);
    let (path, _) = &wal.files[0];
    let dir = path.parent().unwrap();
    let stranger = Uuid::new_v4();
    let name = path.file_name().unwrap().to_str().unwrap();

    // Act + check: reading, listing and opening as another database all name the file.
    let errors = [
        read(dir, stranger, true).unwrap_err(),
        list_segments(dir, stranger).unwrap_err(),
        WalWriter::open(dir, WalOptions::new(stranger)).err().unwrap(),
    ];
    for err in errors {
        assert!(matches!(err, DurabilityError::ForeignDatabase { .. }), "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes after a valid header: never a panic, never an altered record.
    #[test]
    fn garbage_never_panics(garbage in proptest::collection::vec(any::<u8>(), 0..600), keep in 0usize..400) {
        let wal = write_wal(1);
        let (path, bytes) = &wal.files[0];
        let mut damaged = bytes[..keep.clamp(HEADER_LEN, bytes.len())].to_vec();
        damaged.extend_from_slice(&garbage);
        std::fs::write(path, &damaged).unwrap();
        let dir = path.parent().unwrap();
        if let Ok(tss) = read(dir, wal.db, false) {
            prop_assert!(tss.windows(2).all(|w| w[0] < w[1]));
        }
        let _ = read(dir, wal.db, true);
        let _ = WalWriter::open(dir, WalOptions::new(wal.db));
    }
}

#[test]
fn opening_over_corruption_is_refused_unless_skip_corrupt() {
    // Set up: the newest segment damaged in its third frame.
    let wal = write_wal(1);
    let (path, bytes) = &wal.files[0];
    let dir = path.parent().unwrap();
    let mut damaged = bytes.clone();
    damaged[wal.frames[0][2].1 + 12] ^= 1;
    std::fs::write(path, &damaged).unwrap();

    // Act + check: refused by default, naming file and offset.
    let err = WalWriter::open(dir, WalOptions::new(wal.db)).err().unwrap();
    assert!(matches!(err, DurabilityError::Corrupt { offset, .. } if offset as usize == wal.frames[0][2].1));

    // With skip_corrupt the damaged file stays as it is and writing goes on after it.
    let options = WalOptions {
        skip_corrupt: true,
        ..WalOptions::new(wal.db)
    };
    let writer = WalWriter::open(dir, options).unwrap();
    assert_eq!(writer.last_ts(), Some(2));
    writer.append_durable(100, &payload(100)).unwrap();
    drop(writer);
    assert_eq!(std::fs::read(path).unwrap(), damaged);
    assert!(read(dir, wal.db, false).is_err());
    assert_eq!(read(dir, wal.db, true).unwrap(), vec![1, 2, 100]);
}
