//! graphbridge-codec: protobuf <-> Microsoft Graph security OData JSON, in process.
//!
//! A pure library: the protobuf types generated from `proto/graphbridge/v1/`, the Graph schema
//! tables generated from the Graph names written there as custom options ([`schema`]), the Graph
//! JSON codec (a writer and a streaming reader, with the unknown-data policy and report), and
//! [`migrate`] for detection rules in Graph's retired shape. No network, no async runtime: the
//! `graphbridge` sidecar serves exactly this over gRPC, and a Rust service can link it instead.
//!
//! ```
//! use graphbridge_codec::{DEFAULT_MAX_DEPTH, Policy, pb::{self, response_action::Action}};
//!
//! let isolate = pb::IsolateDeviceResponseAction {
//!     identifier: vec![pb::DeviceIdEntityIdentifier::DeviceId as i32],
//!     isolation_type: pb::IsolationType::Full as i32,
//! };
//! let actions = [pb::ResponseAction { action: Some(Action::IsolateDevice(isolate)), ..Default::default() }];
//! let written = graphbridge_codec::to_graph(&actions, Policy::Preserve, false, DEFAULT_MAX_DEPTH).unwrap();
//! assert_eq!(
//!     written.json,
//!     r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full"}]"##
//! );
//! let read = graphbridge_codec::from_graph(&written.json, Policy::Preserve, DEFAULT_MAX_DEPTH).unwrap();
//! assert_eq!(read.actions, actions);
//! ```
//!
//! The same translations as request and response messages, with size limits, are in
//! [`translate`]. docs/graph-model.md in the repository says what the schema models and why.

#![forbid(unsafe_code)]

mod encoder;
mod error;
pub mod json;
mod mask;
pub mod migrate;
mod odata;
mod path;
mod property;
mod reader;
mod report;
pub mod schema;
mod source;
mod target;
mod time;
pub mod translate;
mod wire;
mod writer;

pub use error::{Error, Violation};
pub use odata::Collection;
pub use reader::{FromGraph, RulesFromGraph, from_graph, rules_from_graph};
pub use report::Policy;
pub use writer::{ToGraph, object_to_graph, rule_to_graph, to_graph, value_to_graph};

/// Default bound on JSON nesting (arrays and objects); Graph's actions need 3.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// The protobuf types of `proto/`, in their package hierarchy (generated code refers to other
/// packages by relative paths).
pub mod proto {
    pub mod graphbridge {
        // A stream item's oneof holds requests of very different sizes; boxing the large ones
        // would cost an allocation per item for no gain.
        #[allow(clippy::large_enum_variant)]
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/graphbridge.v1.rs"));
        }
    }
    pub mod google {
        pub mod rpc {
            include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
        }
    }
}

/// The `graphbridge.v1` messages and enums.
pub use proto::graphbridge::v1 as pb;

/// The encoded descriptor set of `proto/` and its imports, custom options and comments included
/// (what gRPC reflection serves, and what prost-reflect needs for proto-JSON).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/graphbridge_descriptor.bin"));
