//! The Graph JSON codec: protobuf `ResponseAction`s <-> Graph OData JSON, driven by the schema
//! tables that build.rs generates from `proto/` (see `crate::schema`).

mod error;
pub mod json;
mod path;
mod property;
mod reader;
mod report;
mod time;
mod writer;

pub use error::{Error, Violation};
pub use reader::{Collection, FromGraph, RulesFromGraph, from_graph, rules_from_graph};
pub use report::Policy;
pub use writer::{ToGraph, object_to_graph, rule_to_graph, to_graph, value_to_graph};

/// Default bound on JSON nesting (arrays and objects); Graph's actions need 3.
pub const DEFAULT_MAX_DEPTH: usize = 64;
