//! The 64-byte header that starts every durability file: which kind of file it is, the
//! format version, the database (history) it belongs to, the epoch, and the commit
//! timestamp range it covers, protected by its own crc32c.
//!
//! Promises: [`FileHeader::decode`] never panics and names the first problem it finds, in
//! this order: too short, unknown magic, wrong kind, unsupported version, nonzero reserved
//! bytes, checksum. Checking the database id is the caller's, who knows the file name
//! ([`FileHeader::check_database`]).

use uuid::Uuid;

/// Length of the header in bytes.
pub const HEADER_LEN: usize = 64;
/// The oldest format version this code reads, of either kind of file.
pub const OLDEST_VERSION: u16 = 1;
/// `to_ts` value meaning "open / not known from the header".
const TS_OPEN: u64 = u64::MAX;
const CRC_AT: usize = 60;

/// Which kind of durability file a header starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    WalSegment,
    Snapshot,
}

impl FileKind {
    /// The 8 magic bytes a file of this kind starts with.
    pub fn magic(self) -> [u8; 8] {
        match self {
            FileKind::WalSegment => *b"WEFT-WAL",
            FileKind::Snapshot => *b"WEFT-SNP",
        }
    }

    /// The format version this build writes for files of this kind, and the newest it
    /// reads: WAL segments are at 1; snapshots are at 2 (vertices carry both adjacency
    /// lists, see [`crate::durability::snapshot`]), and version 1 snapshots still load.
    pub fn version(self) -> u16 {
        match self {
            FileKind::WalSegment => 1,
            FileKind::Snapshot => 2,
        }
    }

    fn from_magic(magic: &[u8]) -> Option<FileKind> {
        [FileKind::WalSegment, FileKind::Snapshot]
            .into_iter()
            .find(|k| k.magic() == magic)
    }
}

/// Why a header could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("file is {len} bytes, shorter than the {HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("not a Weft durability file (magic bytes {found:02x?})")]
    BadMagic { found: [u8; 8] },
    #[error("expected a {expected:?} file, found a {found:?} file")]
    WrongKind { expected: FileKind, found: FileKind },
    #[error("format version {found} is not supported (this build reads versions {OLDEST_VERSION} to {newest} of this kind of file)")]
    UnsupportedVersion { found: u16, newest: u16 },
    #[error("reserved header bytes are not zero")]
    ReservedNotZero,
    #[error("header checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    ChecksumMismatch { stored: u32, computed: u32 },
}

/// The decoded header of a durability file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    pub kind: FileKind,
    /// The format version the file is written in (see [`FileKind::version`]).
    pub version: u16,
    /// The database whose history this file holds.
    pub db_id: Uuid,
    /// The epoch (MAIN promotion generation) the file was written in.
    pub epoch: u64,
    /// No record in the file has a commit timestamp below this.
    pub from_ts: u64,
    /// No record in the file has a commit timestamp above this; `None` while open (always
    /// so for a WAL segment, whose end is derived; see [`crate::durability`]).
    pub to_ts: Option<u64>,
}

impl FileHeader {
    /// The header's bytes, checksum included.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&self.kind.magic());
        out[8..10].copy_from_slice(&self.version.to_le_bytes());
        out[12..28].copy_from_slice(self.db_id.as_bytes());
        out[28..36].copy_from_slice(&self.epoch.to_le_bytes());
        out[36..44].copy_from_slice(&self.from_ts.to_le_bytes());
        out[44..52].copy_from_slice(&self.to_ts.unwrap_or(TS_OPEN).to_le_bytes());
        let crc = crc32c::crc32c(&out[..CRC_AT]);
        out[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes the header at the start of `bytes` (which may hold more of the file),
    /// requiring a file of kind `expected`.
    pub fn decode(bytes: &[u8], expected: FileKind) -> Result<FileHeader, HeaderError> {
        let Some(h) = bytes.get(..HEADER_LEN) else {
            return Err(HeaderError::TooShort { len: bytes.len() });
        };
        let found = FileKind::from_magic(&h[0..8]).ok_or(HeaderError::BadMagic { found: array(&h[0..8]) })?;
        if found != expected {
            return Err(HeaderError::WrongKind { expected, found });
        }
        let version = u16::from_le_bytes(array(&h[8..10]));
        if !(OLDEST_VERSION..=found.version()).contains(&version) {
            return Err(HeaderError::UnsupportedVersion {
                found: version,
                newest: found.version(),
            });
        }
        if h[10..12] != [0, 0] || h[52..60] != [0; 8] {
            return Err(HeaderError::ReservedNotZero);
        }
        let stored = u32::from_le_bytes(array(&h[CRC_AT..]));
        let computed = crc32c::crc32c(&h[..CRC_AT]);
        if stored != computed {
            return Err(HeaderError::ChecksumMismatch { stored, computed });
        }
        let to_ts = u64::from_le_bytes(array(&h[44..52]));
        Ok(FileHeader {
            kind: found,
            version,
            db_id: Uuid::from_bytes(array(&h[12..28])),
            epoch: u64::from_le_bytes(array(&h[28..36])),
            from_ts: u64::from_le_bytes(array(&h[36..44])),
            to_ts: (to_ts != TS_OPEN).then_some(to_ts),
        })
    }

    /// Refuses a file of another database: `Err` carries the id found, for the caller to
    /// report with the file's name.
    pub fn check_database(&self, expected: Uuid) -> Result<(), Uuid> {
        if self.db_id == expected {
            Ok(())
        } else {
            Err(self.db_id)
        }
    }

    /// Decodes the header of the file at `path` (its first bytes) as `kind` and refuses
    /// it unless it belongs to database `db_id`; errors name the file.
    pub fn read_checked(
        path: &std::path::Path,
        bytes: &[u8],
        kind: FileKind,
        db_id: Uuid,
    ) -> Result<FileHeader, super::DurabilityError> {
        let header = FileHeader::decode(bytes, kind).map_err(|source| super::DurabilityError::Header {
            path: path.to_path_buf(),
            source,
        })?;
        header
            .check_database(db_id)
            .map_err(|found| super::DurabilityError::ForeignDatabase {
                path: path.to_path_buf(),
                expected: db_id,
                found,
            })?;
        Ok(header)
    }
}

/// Copies a slice whose length the caller has fixed into an array.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FileHeader {
        FileHeader {
            kind: FileKind::WalSegment,
            version: 1,
            db_id: Uuid::from_bytes([7; 16]),
            epoch: 3,
            from_ts: 10,
            to_ts: None,
        }
    }

    #[test]
    fn round_trip_and_named_errors() {
        // A header decodes to itself, open or closed range.
        let open = sample();
        assert_eq!(FileHeader::decode(&open.encode(), FileKind::WalSegment), Ok(open));
        let closed = FileHeader {
            kind: FileKind::Snapshot,
            version: 2,
            to_ts: Some(20),
            ..open
        };
        assert_eq!(FileHeader::decode(&closed.encode(), FileKind::Snapshot), Ok(closed));

        // Each kind of damage is named.
        let bytes = open.encode();
        assert_eq!(
            FileHeader::decode(&bytes[..10], FileKind::WalSegment),
            Err(HeaderError::TooShort { len: 10 })
        );
        assert!(matches!(
            FileHeader::decode(&bytes, FileKind::Snapshot),
            Err(HeaderError::WrongKind { .. })
        ));
        let mut flipped = bytes;
        flipped[30] ^= 1;
        assert!(matches!(
            FileHeader::decode(&flipped, FileKind::WalSegment),
            Err(HeaderError::ChecksumMismatch { .. })
        ));
        let mut version = bytes;
        version[8] = 2;
        assert_eq!(
            FileHeader::decode(&version, FileKind::WalSegment),
            Err(HeaderError::UnsupportedVersion { found: 2, newest: 1 })
        );
        let mut snapshot = closed.encode();
        snapshot[8] = 3;
        assert_eq!(
            FileHeader::decode(&snapshot, FileKind::Snapshot),
            Err(HeaderError::UnsupportedVersion { found: 3, newest: 2 })
        );
        let old = FileHeader { version: 1, ..closed };
        assert_eq!(FileHeader::decode(&old.encode(), FileKind::Snapshot), Ok(old));
        assert_eq!(open.check_database(Uuid::nil()), Err(open.db_id));
    }

    #[test]
    fn every_single_byte_flip_is_refused() {
        let bytes = sample().encode();
        for i in 0..HEADER_LEN {
            for bit in 0..8 {
                let mut damaged = bytes;
                damaged[i] ^= 1 << bit;
                assert!(
                    FileHeader::decode(&damaged, FileKind::WalSegment).is_err(),
                    "byte {i} bit {bit}"
                );
            }
        }
    }
}
