//! graphbridge: a gRPC sidecar translating protobuf <-> Microsoft Graph security OData JSON.
//!
//! - [`schema`]: the Graph schema tables generated from `proto/` (the single source of truth).
//! - [`codec`]: Graph JSON writer and reader, the unknown-data policy and report.
//! - [`migrate`]: a detection rule in Graph's retired shape to the current one.
//! - [`service`]: the `graphbridge.v1.Translator` gRPC service; [`admission`]: its limits on work
//!   at once, applied before a request's body is read.
//! - [`server`]: ports, health, reflection and shutdown; [`incoming`]: the guard on accepted
//!   connections; [`config`]: flags and environment; [`malloc`]: the binary's allocator, tuned.

pub mod admin;
pub mod admission;
pub mod codec;
pub mod config;
pub mod convert;
pub mod incoming;
pub mod logging;
pub mod malloc;
pub mod metrics;
pub mod migrate;
pub mod pb;
pub mod schema;
pub mod server;
pub mod service;
pub mod wire;
