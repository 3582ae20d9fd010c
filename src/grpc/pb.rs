//! The `graphbridge.v1` messages (generated in graphbridge-codec) and the gRPC servers and
//! clients build.rs generates for them, in one namespace.

#![allow(clippy::wrong_self_convention)] // rpc FromGraph becomes `fn from_graph(&self, ..)`

pub use graphbridge_codec::pb::*;

/// The request of ToGraph, FromGraph, RuleToGraph and RuleFromGraph in the generated server: its
/// encoding, read in place.
pub use super::encoded::Encoded;

include!(concat!(env!("OUT_DIR"), "/server/graphbridge.v1.rs"));
include!(concat!(env!("OUT_DIR"), "/client/graphbridge.v1.rs"));
