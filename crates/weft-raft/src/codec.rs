//! The byte layout of what Weft's Raft keeps on disk: log entries (one per WAL record of
//! the Raft log), log ids, votes and memberships (in the hard state and the snapshot
//! meta). Ours and versioned: a format byte leads every entry, and a reader refuses one
//! it does not know with a named error.
//!
//! Entry, format 1 (varint = LEB128, bytes = varint length then the bytes, str = UTF-8
//! bytes):
//! `format:u8=1 | term:varint | leader:varint | index:varint | kind:u8` then, by kind,
//! 0 blank: nothing; 1 normal: `count:varint` and each commit record as bytes;
//! 2 membership: a membership (below); 3 check: `present:u8`, then when 1 the leader's
//! fingerprint at its previous check: `index:varint | digest:16 bytes LE | vertices:varint
//! | edges:varint`.
//! Membership: `configs:varint`, each `voters:varint` and each voter id as varint; then
//! `nodes:varint`, each `id:varint | raft_address:str | bolt_address:str`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use openraft::{CommittedLeaderId, EntryPayload};
use weft_common::encoding::{
    get_bytes, get_str, get_u8, get_varint, put_bytes, put_str, put_u8, put_varint, DecodeError,
};

use crate::check::{Check, CheckedAt};
use crate::{Entry, LogId, Member, Membership, Proposal, Vote};

/// The entry format this version writes (and the only one it reads).
pub const ENTRY_FORMAT: u8 = 1;

const BLANK: u8 = 0;
const NORMAL: u8 = 1;
const MEMBERSHIP: u8 = 2;
const CHECK: u8 = 3;

/// Why bytes are not a Raft entry (or a part of the hard state).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("Raft entry format {0} is not one this version reads (it reads {ENTRY_FORMAT})")]
    UnknownFormat(u8),
    #[error("unknown Raft entry kind {0}")]
    UnknownKind(u8),
    #[error("malformed Raft data: {0}")]
    Malformed(#[from] DecodeError),
    #[error("{0} trailing bytes after a Raft entry")]
    Trailing(usize),
}

/// Encodes one log entry.
pub fn encode_entry(entry: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    put_u8(&mut out, ENTRY_FORMAT);
    put_log_id(&mut out, &entry.log_id);
    match &entry.payload {
        EntryPayload::Blank => put_u8(&mut out, BLANK),
        EntryPayload::Normal(Proposal { check: Some(check), .. }) => {
            put_u8(&mut out, CHECK);
            match &check.leader {
                Some(at) => {
                    put_u8(&mut out, 1);
                    put_varint(&mut out, at.index);
                    out.extend_from_slice(&at.digest.to_le_bytes());
                    put_varint(&mut out, at.vertices);
                    put_varint(&mut out, at.edges);
                }
                None => put_u8(&mut out, 0),
            }
        }
        EntryPayload::Normal(proposal) => {
            put_u8(&mut out, NORMAL);
            put_varint(&mut out, proposal.records.len() as u64);
            for record in &proposal.records {
                put_bytes(&mut out, record);
            }
        }
        EntryPayload::Membership(membership) => {
            put_u8(&mut out, MEMBERSHIP);
            put_membership(&mut out, membership);
        }
    }
    out
}

/// Decodes one log entry, all of `bytes`.
pub fn decode_entry(bytes: &[u8]) -> Result<Entry, CodecError> {
    let mut at = 0;
    let format = get_u8(bytes, &mut at)?;
    if format != ENTRY_FORMAT {
        return Err(CodecError::UnknownFormat(format));
    }
    let log_id = get_log_id(bytes, &mut at)?;
    let payload = match get_u8(bytes, &mut at)? {
        BLANK => EntryPayload::Blank,
        NORMAL => {
            let count = get_varint(bytes, &mut at)?;
            let mut records = Vec::new();
            for _ in 0..count {
                records.push(Arc::from(get_bytes(bytes, &mut at)?));
            }
            EntryPayload::Normal(Proposal { records, check: None })
        }
        CHECK => {
            let leader = match get_u8(bytes, &mut at)? {
                0 => None,
                _ => {
                    let index = get_varint(bytes, &mut at)?;
                    let digest = bytes
                        .get(at..at + 16)
                        .and_then(|d| <[u8; 16]>::try_from(d).ok())
                        .ok_or(DecodeError::Eof(at))?;
                    at += 16;
                    Some(CheckedAt {
                        index,
                        digest: u128::from_le_bytes(digest),
                        vertices: get_varint(bytes, &mut at)?,
                        edges: get_varint(bytes, &mut at)?,
                    })
                }
            };
            EntryPayload::Normal(Proposal {
                records: Vec::new(),
                check: Some(Check { leader }),
            })
        }
        MEMBERSHIP => EntryPayload::Membership(get_membership(bytes, &mut at)?),
        kind => return Err(CodecError::UnknownKind(kind)),
    };
    if at != bytes.len() {
        return Err(CodecError::Trailing(bytes.len() - at));
    }
    Ok(Entry { log_id, payload })
}

/// Starts a small state file (`raft-state`, `snapshot.meta`): its magic and format byte.
pub fn begin_sealed(magic: &[u8; 8], format: u8) -> Vec<u8> {
    let mut out = magic.to_vec();
    put_u8(&mut out, format);
    out
}

/// Ends a file begun with [`begin_sealed`]: a CRC-32C of everything before it.
pub fn seal(out: &mut Vec<u8>) {
    let crc = crc32c::crc32c(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// What follows the magic and format byte of a sealed file, once its checksum, magic
/// (`what` names the kind of file) and format are checked; why not otherwise.
pub fn open_sealed<'a>(bytes: &'a [u8], magic: &[u8; 8], format: u8, what: &str) -> Result<&'a [u8], String> {
    let (body, crc) = bytes
        .split_last_chunk::<4>()
        .ok_or_else(|| "shorter than its checksum".to_string())?;
    if crc32c::crc32c(body) != u32::from_le_bytes(*crc) {
        return Err("checksum mismatch".into());
    }
    let rest = body.strip_prefix(magic).ok_or_else(|| format!("not a {what}"))?;
    match rest.split_first() {
        Some((&found, rest)) if found == format => Ok(rest),
        Some((found, _)) => Err(format!("format {found} is not one this version reads")),
        None => Err(format!("a {what} without its format")),
    }
}

pub fn put_log_id(out: &mut Vec<u8>, id: &LogId) {
    put_varint(out, id.leader_id.term);
    put_varint(out, id.leader_id.node_id);
    put_varint(out, id.index);
}

pub fn get_log_id(bytes: &[u8], at: &mut usize) -> Result<LogId, DecodeError> {
    let term = get_varint(bytes, at)?;
    let node = get_varint(bytes, at)?;
    let index = get_varint(bytes, at)?;
    Ok(LogId::new(CommittedLeaderId::new(term, node), index))
}

/// An optional log id: a presence byte, then the id.
pub fn put_opt_log_id(out: &mut Vec<u8>, id: &Option<LogId>) {
    match id {
        Some(id) => {
            put_u8(out, 1);
            put_log_id(out, id);
        }
        None => put_u8(out, 0),
    }
}

pub fn get_opt_log_id(bytes: &[u8], at: &mut usize) -> Result<Option<LogId>, DecodeError> {
    match get_u8(bytes, at)? {
        0 => Ok(None),
        _ => get_log_id(bytes, at).map(Some),
    }
}

pub fn put_vote(out: &mut Vec<u8>, vote: &Vote) {
    put_varint(out, vote.leader_id.term);
    put_varint(out, vote.leader_id.node_id);
    put_u8(out, vote.committed as u8);
}

pub fn get_vote(bytes: &[u8], at: &mut usize) -> Result<Vote, DecodeError> {
    let term = get_varint(bytes, at)?;
    let node = get_varint(bytes, at)?;
    Ok(match get_u8(bytes, at)? {
        0 => Vote::new(term, node),
        _ => Vote::new_committed(term, node),
    })
}

pub fn put_membership(out: &mut Vec<u8>, membership: &Membership) {
    let configs = membership.get_joint_config();
    put_varint(out, configs.len() as u64);
    for config in configs {
        put_varint(out, config.len() as u64);
        for id in config {
            put_varint(out, *id);
        }
    }
    let nodes: Vec<_> = membership.nodes().collect();
    put_varint(out, nodes.len() as u64);
    for (id, member) in nodes {
        put_varint(out, *id);
        put_str(out, &member.raft_address);
        put_str(out, &member.bolt_address);
    }
}

pub fn get_membership(bytes: &[u8], at: &mut usize) -> Result<Membership, DecodeError> {
    let mut configs = Vec::new();
    for _ in 0..get_varint(bytes, at)? {
        let mut voters = BTreeSet::new();
        for _ in 0..get_varint(bytes, at)? {
            voters.insert(get_varint(bytes, at)?);
        }
        configs.push(voters);
    }
    let mut nodes = BTreeMap::new();
    for _ in 0..get_varint(bytes, at)? {
        let id = get_varint(bytes, at)?;
        let raft_address = get_str(bytes, at)?.to_string();
        let bolt_address = get_str(bytes, at)?.to_string();
        nodes.insert(
            id,
            Member {
                raft_address,
                bolt_address,
            },
        );
    }
    Ok(Membership::new(configs, nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_id(term: u64, node: u64, index: u64) -> LogId {
        LogId::new(CommittedLeaderId::new(term, node), index)
    }

    fn member(n: u64) -> Member {
        Member {
            raft_address: format!("10.0.0.{n}:7000"),
            bolt_address: format!("10.0.0.{n}:7687"),
        }
    }

    #[test]
    fn every_kind_of_entry_round_trips() {
        let nodes: BTreeMap<u64, Member> = (1..=3).map(|n| (n, member(n))).collect();
        let joint = Membership::new(vec![BTreeSet::from([1, 2]), BTreeSet::from([1, 2, 3])], nodes);
        let entries = [
            Entry {
                log_id: log_id(1, 1, 1),
                payload: EntryPayload::Blank,
            },
            Entry {
                log_id: log_id(2, 3, 7),
                payload: EntryPayload::Normal(Proposal {
                    records: vec![
                        Arc::from(&b"first"[..]),
                        Arc::from(&b""[..]),
                        Arc::from(&[0xff; 300][..]),
                    ],
                    check: None,
                }),
            },
            Entry {
                log_id: log_id(2, 3, 8),
                payload: EntryPayload::Normal(Proposal {
                    records: Vec::new(),
                    check: Some(Check {
                        leader: Some(CheckedAt {
                            index: 5,
                            digest: u128::MAX - 3,
                            vertices: 10,
                            edges: 200,
                        }),
                    }),
                }),
            },
            Entry {
                log_id: log_id(2, 3, 9),
                payload: EntryPayload::Normal(Proposal {
                    records: Vec::new(),
                    check: Some(Check { leader: None }),
                }),
            },
            Entry {
                log_id: log_id(u64::MAX, 2, u64::MAX),
                payload: EntryPayload::Membership(joint),
            },
        ];
        for entry in entries {
            let decoded = decode_entry(&encode_entry(&entry)).unwrap();
            assert_eq!(decoded.log_id, entry.log_id);
            assert_eq!(format!("{:?}", decoded.payload), format!("{:?}", entry.payload));
        }
    }

    #[test]
    fn damaged_entries_are_refused_by_name_never_with_a_panic() {
        let entry = Entry {
            log_id: log_id(4, 1, 9),
            payload: EntryPayload::Normal(Proposal {
                records: vec![Arc::from(&b"record"[..])],
                check: None,
            }),
        };
        let bytes = encode_entry(&entry);
        let mut newer = bytes.clone();
        newer[0] = 2;
        assert!(matches!(decode_entry(&newer), Err(CodecError::UnknownFormat(2))));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(decode_entry(&longer), Err(CodecError::Trailing(1))));
        for cut in 0..bytes.len() {
            assert!(decode_entry(&bytes[..cut]).is_err(), "a cut at {cut} decoded");
        }
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5a;
            let _ = decode_entry(&flipped);
        }
    }

    #[test]
    fn votes_and_optional_log_ids_round_trip() {
        let mut out = Vec::new();
        put_vote(&mut out, &Vote::new(3, 2));
        put_vote(&mut out, &Vote::new_committed(5, 1));
        put_opt_log_id(&mut out, &None);
        put_opt_log_id(&mut out, &Some(log_id(5, 1, 40)));
        let mut at = 0;
        assert_eq!(get_vote(&out, &mut at).unwrap(), Vote::new(3, 2));
        assert_eq!(get_vote(&out, &mut at).unwrap(), Vote::new_committed(5, 1));
        assert_eq!(get_opt_log_id(&out, &mut at).unwrap(), None);
        assert_eq!(get_opt_log_id(&out, &mut at).unwrap(), Some(log_id(5, 1, 40)));
        assert_eq!(at, out.len());
    }
}
