//! The [`Identity`] every message carries: which database it belongs to and the sender's
//! epoch, as the `Header` of `proto/`.
//!
//! Promises: a header that is missing or malformed is refused with `InvalidArgument`; one
//! from another database with `FailedPrecondition`, naming both ids. Epochs are carried,
//! not judged: what a newer or older epoch means is the receiving layer's decision.

use std::fmt;

use tonic::Status;

use crate::pb;

/// The 16 bytes of a database's UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DatabaseId(pub [u8; 16]);

/// Written as a UUID: `8-4-4-4-12` lower-case hex digits.
impl fmt::Display for DatabaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Who a node speaks for: its database and its current epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub database: DatabaseId,
    pub epoch: u64,
}

impl Identity {
    /// The header of a message this node sends; `sender` names it in the peer's logs.
    pub fn header(&self, sender: &str) -> pb::Header {
        pb::Header {
            database_id: self.database.0.to_vec(),
            epoch: self.epoch,
            sender: sender.to_string(),
        }
    }

    /// The sender's identity and name, read from a received message's header.
    pub fn read(header: Option<&pb::Header>) -> Result<(Identity, &str), Status> {
        let header = header.ok_or_else(|| Status::invalid_argument("the message has no header"))?;
        let bytes: [u8; 16] = header.database_id.as_slice().try_into().map_err(|_| {
            Status::invalid_argument(format!(
                "the header's database id has {} bytes; a database id has 16",
                header.database_id.len()
            ))
        })?;
        let identity = Identity {
            database: DatabaseId(bytes),
            epoch: header.epoch,
        };
        Ok((identity, header.sender.as_str()))
    }

    /// The sender of `header`, refused unless it speaks for this node's database.
    pub fn check<'h>(&self, header: Option<&'h pb::Header>) -> Result<(Identity, &'h str), Status> {
        let (remote, sender) = Identity::read(header)?;
        if remote.database != self.database {
            return Err(Status::failed_precondition(format!(
                "`{sender}` belongs to database {}, this node to database {}: they cannot exchange data",
                remote.database, self.database
            )));
        }
        Ok((remote, sender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: Identity = Identity {
        database: DatabaseId([1; 16]),
        epoch: 3,
    };

    #[test]
    fn headers_round_trip_and_other_databases_are_refused() {
        let header = ONE.header("main-1");
        assert_eq!(ONE.check(Some(&header)).unwrap(), (ONE, "main-1"));
        let other = Identity {
            database: DatabaseId([2; 16]),
            epoch: 3,
        };
        let refused = other.check(Some(&header)).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
        assert!(
            refused.message().contains("01010101-0101-0101-0101-010101010101"),
            "{}",
            refused.message()
        );
    }

    #[test]
    fn missing_or_malformed_headers_are_invalid_arguments() {
        assert_eq!(ONE.check(None).unwrap_err().code(), tonic::Code::InvalidArgument);
        let short = pb::Header {
            database_id: vec![1; 3],
            ..ONE.header("x")
        };
        let refused = ONE.check(Some(&short)).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("3 bytes"));
    }
}
