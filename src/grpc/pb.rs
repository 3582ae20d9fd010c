//! The `graphbridge.v1` messages (generated in graphbridge-codec) and the gRPC servers and
//! clients build.rs generates for them, in one namespace.

#![allow(clippy::wrong_self_convention)] // rpc FromGraph becomes `fn from_graph(&self, ..)`

pub use graphbridge_codec::pb::*;

tonic::include_proto!("graphbridge.v1");
