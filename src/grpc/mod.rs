//! The gRPC edge: the services, the protobuf wire codec, and the mapping of every error type to
//! a `tonic::Status` (in [`status`], and nowhere else).

pub mod pb;
mod proto_codec;
pub mod status;
pub mod translator;

pub use proto_codec::ProtoCodec;
pub use translator::{Translator, TranslatorSettings};
