//! What graphbridge's tests, benches and fuzz targets share, so that none rebuilds its own:
//!
//! - [`schema`]: walks of the schema tables (every type reachable from a polymorphic value or
//!   from `DetectionRule`, what each property holds, the members Graph accepts in a request);
//! - [`facts`]: the Graph facts of `tests/fixtures/graph-facts.json`, which the golden tests hold
//!   the walked schema to;
//! - [`fixtures`]: the detection-rule fixtures of `tests/fixtures/rules/`;
//! - [`hostile`]: malformed and deeply nested Graph JSON;
//! - [`entropy`] and [`rule_gen`]: input generators driven by the schema (property tests, seeds);
//! - [`json`]: JSON compared by exact text, and minified;
//! - [`refusals`]: what every refusal must carry (the fuzz targets' oracle);
//! - [`payloads`]: the payloads of the benches (BENCHMARKS.md); with feature `baselines`, the
//!   generic transcoder they are compared with ([`baselines`]);
//! - with feature `server`: a test server on 127.0.0.1 port 0, the real binary as a child
//!   process, and raw gRPC and HTTP/2 clients ([`server`], [`child`], [`raw_grpc`], [`h2`]).

pub mod entropy;
pub mod facts;
pub mod fixtures;
pub mod hostile;
pub mod json;
pub mod payloads;
pub mod refusals;
pub mod rule_gen;
pub mod schema;

#[cfg(feature = "baselines")]
pub mod baselines;

#[cfg(feature = "server")]
pub mod child;
#[cfg(feature = "server")]
pub mod h2;
#[cfg(feature = "server")]
pub mod raw_grpc;
#[cfg(feature = "server")]
pub mod server;

/// The JSON nesting limit of every test: the codec's default, and so the server's default
/// `--max-json-depth`.
pub const DEPTH: usize = graphbridge_codec::DEFAULT_MAX_DEPTH;

/// The qualified type name of the isolateDevice action, with its '#'.
pub const ISOLATE_TYPE: &str = "#microsoft.graph.security.isolateDeviceResponseAction";

/// A Graph isolateDevice action, the smallest valid request of many tests.
pub const ISOLATE: &str = r##"{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full"}"##;

/// `ISOLATE` as protobuf: what ToGraph writes as `[ISOLATE]`.
pub fn isolate_action() -> graphbridge_codec::pb::ResponseAction {
    use graphbridge_codec::pb::{
        DeviceIdEntityIdentifier, IsolateDeviceResponseAction, IsolationType, ResponseAction, response_action::Action,
    };
    let action = IsolateDeviceResponseAction {
        identifier: vec![DeviceIdEntityIdentifier::DeviceId.into()],
        isolation_type: IsolationType::Full.into(),
    };
    ResponseAction { action: Some(Action::IsolateDevice(action)), additional_data: Default::default() }
}
