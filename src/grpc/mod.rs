//! The gRPC edge: the services, the protobuf wire codec, and the mapping of every error type to
//! a `tonic::Status` (in [`status`], and nowhere else).

pub(crate) mod detection_rules;
mod encoded;
pub mod pb;
mod proto_codec;
pub(crate) mod status;
pub(crate) mod translator;

pub(crate) use detection_rules::DetectionRuleGateway;
pub(crate) use proto_codec::ProtoCodec;
pub(crate) use translator::{Translator, TranslatorSettings};
