//! graphbridge: a gRPC sidecar translating protobuf <-> Microsoft Graph security OData JSON.
//! The translation itself is the `graphbridge-codec` crate; this crate is the process around it,
//! in four layers, each using only those below it:
//!
//! - [`cli`]: flags and environment ([`cli::config`]), logging, `graphbridge convert`, and
//!   [`cli::serve`], which builds the services and hands them to the server.
//! - `grpc`: the gRPC edge: the `graphbridge.v1.Translator` and `DetectionRuleService`
//!   services, the protobuf wire codec, and the one place where every error type becomes a
//!   `tonic::Status`.
//! - [`graph`]: the Graph client behind `DetectionRuleService` (HTTPS, Entra ID tokens, retries,
//!   throttling, page tokens); it knows nothing of gRPC.
//! - `server`: ports, TLS, admission (limits applied before a body is read), the connection
//!   guard, the admin port, metrics, and signal-then-drain shutdown.

// Only what a caller needs is public, so that the dead-code lint sees every unused item.
#![warn(unreachable_pub)]

pub mod cli;
pub mod graph;
mod grpc;
mod server;

/// The protobuf messages (graphbridge-codec's) and the gRPC stubs, in one namespace.
pub use grpc::pb;
/// Why the server could not start or stopped.
pub use server::ServerError;
