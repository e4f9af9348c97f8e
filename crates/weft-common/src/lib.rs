//! Weft's shared vocabulary, used by every other crate.
//!
//! Owns: the Cypher property value types and their ordering/equality rules ([`value`],
//! [`temporal`], [`spatial`]), object and name ids ([`ids`]), and the binary encoding
//! helpers that the property store, the commit record and the durability files share
//! ([`encoding`]).
//! Must not know: storage, transactions, queries or the network.

pub mod encoding;
pub mod ids;
pub mod spatial;
pub mod temporal;
pub mod value;

pub use ids::{EdgeRef, EdgeTypeId, Gid, LabelId, PropertyId};
pub use value::{OrderedValue, Value};
