//! The Bolt handshake: how client and server agree on a protocol version.
//!
//! The client opens with 20 bytes: the magic `60 60 B0 17`, then four 4-byte proposals
//! `[reserved, range, minor, major]`. A proposal names `major.minor` and, when `range`
//! is r > 0, also `major.(minor-1)` down to `major.(minor-r)`; all zeros is an empty slot.
//! The server answers 4 bytes `00 00 minor major`, or `00 00 00 00` if it speaks none.
//!
//! Promises: [`negotiate`] picks the highest version in [`SUPPORTED`] that any proposal
//! covers. The manifest-v1 proposal (`00 00 01 FF`, used by the neo4j 6.x drivers) is
//! recognised and treated as unsupported: those drivers also propose plain versions, and
//! answering one of them is a valid reply.

use thiserror::Error;

/// The magic preamble that identifies a Bolt connection.
pub const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];

/// Bytes the client sends before any message: magic plus four proposals.
pub const HANDSHAKE_LEN: usize = 20;

/// The reply meaning "no common version"; the server closes the connection after it.
pub const NO_VERSION: [u8; 4] = [0, 0, 0, 0];

/// The proposal that asks for the manifest-style handshake, version 1.
pub const MANIFEST_V1: [u8; 4] = [0x00, 0x00, 0x01, 0xFF];

/// A Bolt protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const V4_1: Version = Version::new(4, 1);
    pub const V4_3: Version = Version::new(4, 3);
    pub const V4_4: Version = Version::new(4, 4);
    pub const V5_0: Version = Version::new(5, 0);
    pub const V5_8: Version = Version::new(5, 8);

    pub const fn new(major: u8, minor: u8) -> Version {
        Version { major, minor }
    }

    /// The server's 4-byte answer naming this version.
    pub const fn to_bytes(self) -> [u8; 4] {
        [0, 0, self.minor, self.major]
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The versions this server speaks, highest first.
pub const SUPPORTED: [Version; 12] = [
    Version::new(5, 8),
    Version::new(5, 7),
    Version::new(5, 6),
    Version::new(5, 5),
    Version::new(5, 4),
    Version::new(5, 3),
    Version::new(5, 2),
    Version::new(5, 1),
    Version::new(5, 0),
    Version::V4_4,
    Version::V4_3,
    Version::V4_1,
];

/// Why a handshake cannot be answered at all (the connection is not Bolt).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    #[error("the Bolt handshake needs {HANDSHAKE_LEN} bytes, got {0}")]
    WrongLength(usize),
    #[error("not a Bolt client: expected magic 60 60 B0 17, got {0:02X?}")]
    BadMagic([u8; 4]),
}

/// The outcome of a handshake: the chosen version, if any, and the bytes to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub version: Option<Version>,
    pub reply: [u8; 4],
}

/// Reads the client's 20 handshake bytes and chooses a version.
pub fn negotiate(request: &[u8]) -> Result<Negotiated, HandshakeError> {
    if request.len() != HANDSHAKE_LEN {
        return Err(HandshakeError::WrongLength(request.len()));
    }
    let magic = [request[0], request[1], request[2], request[3]];
    if magic != MAGIC {
        return Err(HandshakeError::BadMagic(magic));
    }
    let proposals: Vec<[u8; 4]> = request[4..].chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
    let version = SUPPORTED.into_iter().find(|v| proposals.iter().any(|p| covers(*p, *v)));
    Ok(Negotiated {
        version,
        reply: version.map_or(NO_VERSION, Version::to_bytes),
    })
}

/// Whether `proposal` offers `version`. Empty slots and manifest requests offer nothing.
pub fn covers(proposal: [u8; 4], version: Version) -> bool {
    let [_reserved, range, minor, major] = proposal;
    if proposal == MANIFEST_V1 || major == 0 || major != version.major {
        return false;
    }
    version.minor <= minor && version.minor >= minor.saturating_sub(range)
}

#[cfg(test)]
mod tests;
