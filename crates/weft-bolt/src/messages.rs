//! Bolt messages: requests the server decodes, responses it encodes.
//!
//! Each message is one PackStream structure whose tag names it. Requests (Bolt 4.1+):
//!
//! | message | tag | fields |
//! |---|---|---|
//! | HELLO | `01` | extra (user_agent, auth before 5.1, ...) |
//! | GOODBYE | `02` | — |
//! | RESET | `0F` | — |
//! | RUN | `10` | query, parameters, extra |
//! | BEGIN | `11` | extra |
//! | COMMIT / ROLLBACK | `12` / `13` | — |
//! | DISCARD / PULL | `2F` / `3F` | extra {n, qid} |
//! | TELEMETRY | `54` | api (5.4+) |
//! | ROUTE | `66` | routing, bookmarks, db (4.3) or extra {db, imp_user} (4.4+) |
//! | LOGON / LOGOFF | `6A` / `6B` | auth / — (5.1+) |
//!
//! Responses: SUCCESS `70` `{metadata}`, RECORD `71` `[values]`, IGNORED `7E`, FAILURE `7F`
//! {code, message}.
//!
//! Promises: an unknown tag, a wrong field count or a field of the wrong type is an
//! error, never a panic. Which messages are legal in which state or version is the
//! server's business, not this module's. DISCARD and PULL without `n` mean "all" (-1) and
//! without `qid` mean "the last query" (-1), as the protocol defines.

use thiserror::Error;

use crate::packstream::{self, dict_get, BoltValue, PackStreamError, Structure};
use crate::structs::{type_name, Fields, StructError};

/// Dictionary entries in wire order.
pub type Dict = Vec<(String, BoltValue)>;

pub const TAG_HELLO: u8 = 0x01;
pub const TAG_GOODBYE: u8 = 0x02;
pub const TAG_RESET: u8 = 0x0F;
pub const TAG_RUN: u8 = 0x10;
pub const TAG_BEGIN: u8 = 0x11;
pub const TAG_COMMIT: u8 = 0x12;
pub const TAG_ROLLBACK: u8 = 0x13;
pub const TAG_DISCARD: u8 = 0x2F;
pub const TAG_PULL: u8 = 0x3F;
pub const TAG_TELEMETRY: u8 = 0x54;
pub const TAG_ROUTE: u8 = 0x66;
pub const TAG_LOGON: u8 = 0x6A;
pub const TAG_LOGOFF: u8 = 0x6B;
pub const TAG_SUCCESS: u8 = 0x70;
pub const TAG_RECORD: u8 = 0x71;
pub const TAG_IGNORED: u8 = 0x7E;
pub const TAG_FAILURE: u8 = 0x7F;

/// Why bytes are not a Bolt message.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    #[error("malformed message: {0}")]
    PackStream(#[from] PackStreamError),
    #[error("a Bolt message must be a structure, got {0}")]
    NotStructure(&'static str),
    #[error("unknown Bolt message tag 0x{0:02X}")]
    UnknownTag(u8),
    #[error("malformed message: {0}")]
    Shape(#[from] StructError),
}

/// A message from the client.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Hello {
        extra: Dict,
    },
    Logon {
        auth: Dict,
    },
    Logoff,
    Goodbye,
    Reset,
    Run {
        query: String,
        parameters: Dict,
        extra: Dict,
    },
    Begin {
        extra: Dict,
    },
    Commit,
    Rollback,
    /// `n` records to drop (-1: all) from query `qid` (-1: the last one).
    Discard {
        n: i64,
        qid: i64,
    },
    /// `n` records to send (-1: all) from query `qid` (-1: the last one).
    Pull {
        n: i64,
        qid: i64,
    },
    Route {
        routing: Dict,
        bookmarks: Vec<String>,
        db: Option<String>,
        imp_user: Option<String>,
    },
    Telemetry {
        api: i64,
    },
}

/// A message to the client.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    Success {
        metadata: Dict,
    },
    Record {
        fields: Vec<BoltValue>,
    },
    Ignored,
    /// `code` is a Neo4j status code such as `Neo.ClientError.Statement.SyntaxError`.
    Failure {
        code: String,
        message: String,
    },
}

/// The structure a whole message decodes to.
fn message_structure(bytes: &[u8]) -> Result<Structure, MessageError> {
    match packstream::decode(bytes)? {
        BoltValue::Structure(s) => Ok(s),
        other => Err(MessageError::NotStructure(type_name(&other))),
    }
}

fn to_bytes(s: Structure) -> Result<Vec<u8>, PackStreamError> {
    packstream::to_bytes(&BoltValue::Structure(s))
}

impl Request {
    /// Decodes one dechunked message.
    pub fn decode(bytes: &[u8]) -> Result<Request, MessageError> {
        Request::from_structure(&message_structure(bytes)?)
    }

    pub fn from_structure(s: &Structure) -> Result<Request, MessageError> {
        let fields = |name, count| Fields::of(s, name, s.tag, count);
        let request = match s.tag {
            TAG_HELLO => Request::Hello {
                extra: fields("HELLO", 1)?.dict(0, "extra")?,
            },
            TAG_LOGON => Request::Logon {
                auth: fields("LOGON", 1)?.dict(0, "auth")?,
            },
            TAG_LOGOFF => fields("LOGOFF", 0).map(|_| Request::Logoff)?,
            TAG_GOODBYE => fields("GOODBYE", 0).map(|_| Request::Goodbye)?,
            TAG_RESET => fields("RESET", 0).map(|_| Request::Reset)?,
            TAG_RUN => {
                let f = fields("RUN", 3)?;
                Request::Run {
                    query: f.string(0, "query")?,
                    parameters: f.dict(1, "parameters")?,
                    extra: f.dict(2, "extra")?,
                }
            }
            TAG_BEGIN => Request::Begin {
                extra: fields("BEGIN", 1)?.dict(0, "extra")?,
            },
            TAG_COMMIT => fields("COMMIT", 0).map(|_| Request::Commit)?,
            TAG_ROLLBACK => fields("ROLLBACK", 0).map(|_| Request::Rollback)?,
            TAG_DISCARD => {
                let (n, qid) = n_and_qid(&fields("DISCARD", 1)?)?;
                Request::Discard { n, qid }
            }
            TAG_PULL => {
                let (n, qid) = n_and_qid(&fields("PULL", 1)?)?;
                Request::Pull { n, qid }
            }
            TAG_ROUTE => route(&fields("ROUTE", 3)?)?,
            TAG_TELEMETRY => Request::Telemetry {
                api: fields("TELEMETRY", 1)?.int(0, "api")?,
            },
            tag => return Err(MessageError::UnknownTag(tag)),
        };
        Ok(request)
    }

    /// The structure for this request (what a client sends).
    pub fn to_structure(&self) -> Structure {
        let dict = |d: &Dict| BoltValue::Dictionary(d.clone());
        let (tag, fields) = match self {
            Request::Hello { extra } => (TAG_HELLO, vec![dict(extra)]),
            Request::Logon { auth } => (TAG_LOGON, vec![dict(auth)]),
            Request::Logoff => (TAG_LOGOFF, vec![]),
            Request::Goodbye => (TAG_GOODBYE, vec![]),
            Request::Reset => (TAG_RESET, vec![]),
            Request::Run {
                query,
                parameters,
                extra,
            } => (
                TAG_RUN,
                vec![BoltValue::String(query.clone()), dict(parameters), dict(extra)],
            ),
            Request::Begin { extra } => (TAG_BEGIN, vec![dict(extra)]),
            Request::Commit => (TAG_COMMIT, vec![]),
            Request::Rollback => (TAG_ROLLBACK, vec![]),
            Request::Discard { n, qid } => (TAG_DISCARD, vec![n_qid_dict(*n, *qid)]),
            Request::Pull { n, qid } => (TAG_PULL, vec![n_qid_dict(*n, *qid)]),
            Request::Route {
                routing,
                bookmarks,
                db,
                imp_user,
            } => (TAG_ROUTE, route_fields(routing, bookmarks, db, imp_user)),
            Request::Telemetry { api } => (TAG_TELEMETRY, vec![BoltValue::Integer(*api)]),
        };
        Structure { tag, fields }
    }

    /// The PackStream bytes of this request (before chunking).
    pub fn encode(&self) -> Result<Vec<u8>, PackStreamError> {
        to_bytes(self.to_structure())
    }
}

/// `n` and `qid` from a DISCARD or PULL extra, defaulting to -1 each.
fn n_and_qid(f: &Fields<'_>) -> Result<(i64, i64), StructError> {
    let extra = f.dict(0, "extra")?;
    let int = |key: &'static str| match dict_get(&extra, key) {
        None => Ok(-1),
        Some(v) => v.as_int().ok_or(StructError::FieldType {
            name: "PULL/DISCARD extra",
            field: key,
            expected: "an integer",
        }),
    };
    Ok((int("n")?, int("qid")?))
}

fn n_qid_dict(n: i64, qid: i64) -> BoltValue {
    let mut entries = vec![("n".to_string(), BoltValue::Integer(n))];
    if qid != -1 {
        entries.push(("qid".to_string(), BoltValue::Integer(qid)));
    }
    BoltValue::Dictionary(entries)
}

/// ROUTE: the third field is a database name or null (4.3) or an extra map (4.4+).
fn route(f: &Fields<'_>) -> Result<Request, StructError> {
    let wrong = |field, expected| StructError::FieldType {
        name: "ROUTE",
        field,
        expected,
    };
    let optional_string = |v: Option<&BoltValue>, field| match v {
        None | Some(BoltValue::Null) => Ok(None),
        Some(BoltValue::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong(field, "a string or null")),
    };
    let (db, imp_user) = match f.get(2) {
        BoltValue::Dictionary(extra) => (
            optional_string(dict_get(extra, "db"), "db")?,
            optional_string(dict_get(extra, "imp_user"), "imp_user")?,
        ),
        other => (optional_string(Some(other), "db")?, None),
    };
    Ok(Request::Route {
        routing: f.dict(0, "routing")?,
        bookmarks: f.strings(1, "bookmarks")?,
        db,
        imp_user,
    })
}

/// ROUTE fields in the 4.4+ form (an extra map with `db` and `imp_user`).
fn route_fields(
    routing: &Dict,
    bookmarks: &[String],
    db: &Option<String>,
    imp_user: &Option<String>,
) -> Vec<BoltValue> {
    let bookmarks = bookmarks.iter().map(|b| BoltValue::String(b.clone())).collect();
    let mut extra = Vec::new();
    for (key, value) in [("db", db), ("imp_user", imp_user)] {
        if let Some(value) = value {
            extra.push((key.to_string(), BoltValue::String(value.clone())));
        }
    }
    vec![
        BoltValue::Dictionary(routing.clone()),
        BoltValue::List(bookmarks),
        BoltValue::Dictionary(extra),
    ]
}

/// The GQLSTATUS class that fits a Neo4j status code, for the 5.7+ FAILURE fields.
pub fn gql_status(neo4j_code: &str) -> &'static str {
    let mut parts = neo4j_code.split('.').skip(1);
    let (class, category, title) = (parts.next(), parts.next(), parts.next());
    match (class, category, title) {
        (Some("ClientError"), Some("Statement"), Some("SyntaxError")) => "42001",
        (Some("ClientError"), Some("Statement"), Some("SemanticError")) => "42000",
        (Some("ClientError"), Some("Statement" | "Schema"), _) => "22000",
        (Some("ClientError"), Some("Security"), _) => "42NFF",
        (Some("ClientError"), Some("Transaction"), _) => "25000",
        (Some("TransientError"), _, _) => "40000",
        _ => "50N42",
    }
}

impl Response {
    /// A FAILURE with a Neo4j status code and a message for the user.
    pub fn failure(code: impl Into<String>, message: impl Into<String>) -> Response {
        Response::Failure {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn to_structure(&self) -> Structure {
        let (tag, fields) = match self {
            Response::Success { metadata } => (TAG_SUCCESS, vec![BoltValue::Dictionary(metadata.clone())]),
            Response::Record { fields } => (TAG_RECORD, vec![BoltValue::List(fields.clone())]),
            Response::Ignored => (TAG_IGNORED, vec![]),
            Response::Failure { code, message } => {
                // `code` and `message` are what Bolt up to 5.6 reads; 5.7+ drivers read
                // `neo4j_code`, `message`, `gql_status` and `description`, and show none
                // of them unless all are present.
                let metadata = vec![
                    ("code".to_string(), BoltValue::String(code.clone())),
                    ("neo4j_code".to_string(), BoltValue::String(code.clone())),
                    ("message".to_string(), BoltValue::String(message.clone())),
                    (
                        "gql_status".to_string(),
                        BoltValue::String(gql_status(code).to_string()),
                    ),
                    (
                        "description".to_string(),
                        BoltValue::String(format!("error: {message}")),
                    ),
                ];
                (TAG_FAILURE, vec![BoltValue::Dictionary(metadata)])
            }
        };
        Structure { tag, fields }
    }

    /// The PackStream bytes of this response (before chunking).
    pub fn encode(&self) -> Result<Vec<u8>, PackStreamError> {
        to_bytes(self.to_structure())
    }

    /// Decodes one dechunked response (what a client receives).
    pub fn decode(bytes: &[u8]) -> Result<Response, MessageError> {
        Response::from_structure(&message_structure(bytes)?)
    }

    pub fn from_structure(s: &Structure) -> Result<Response, MessageError> {
        let fields = |name, count| Fields::of(s, name, s.tag, count);
        let response = match s.tag {
            TAG_SUCCESS => Response::Success {
                metadata: fields("SUCCESS", 1)?.dict(0, "metadata")?,
            },
            TAG_RECORD => Response::Record {
                fields: fields("RECORD", 1)?.list(0, "fields")?.to_vec(),
            },
            TAG_IGNORED => fields("IGNORED", 0).map(|_| Response::Ignored)?,
            TAG_FAILURE => {
                let metadata = fields("FAILURE", 1)?.dict(0, "metadata")?;
                let text = |key: &'static str| {
                    let value = dict_get(&metadata, key).and_then(BoltValue::as_str);
                    value.map(str::to_owned).ok_or(StructError::FieldType {
                        name: "FAILURE",
                        field: key,
                        expected: "a string",
                    })
                };
                Response::Failure {
                    code: text("code")?,
                    message: text("message")?,
                }
            }
            tag => return Err(MessageError::UnknownTag(tag)),
        };
        Ok(response)
    }
}

#[cfg(test)]
mod tests;
