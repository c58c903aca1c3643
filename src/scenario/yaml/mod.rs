//! The scenario loader's own YAML layer: a tree that keeps the position of
//! every key and value (built from saphyr-parser's events), YAML merge keys,
//! aliases under a budget, and a serde `Deserializer` over that tree that
//! records every type, unknown-field and missing-field problem with its
//! position and keeps going, so `stampede validate` reports them all at once.

pub mod de;
mod de_access;
mod de_struct;
pub mod scalar;
pub mod tree;

pub use de::{ParseProblem, deserialize};
pub use tree::{Document, Entry, Mark, Node, NodeValue, parse_document};
