//! The baselines the codec benches compare with (BENCHMARKS.md): the generic peer, descriptor-
//! driven transcoding with prost-reflect as a gRPC-JSON transcoder does it, and the floor, Graph
//! JSON through a `serde_json::Value`.

use graphbridge_codec::{self as codec, Policy, pb::FromGraphResponse};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};

use crate::{DEPTH, payloads::Payload};

/// The descriptor of `name` from the service's own descriptor set, decoded once.
pub fn reflect_message(name: &str) -> MessageDescriptor {
    let pool = DescriptorPool::decode(graphbridge_codec::FILE_DESCRIPTOR_SET).expect("descriptor set");
    pool.get_message_by_name(name).expect("message in the descriptor set")
}

/// The generic peer of ToGraph: protobuf bytes -> `DynamicMessage` -> proto3 JSON.
pub fn to_proto_json(descriptor: &MessageDescriptor, bytes: &[u8]) -> String {
    let message = DynamicMessage::decode(descriptor.clone(), bytes).expect("valid protobuf");
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let mut serializer = serde_json::Serializer::new(&mut out);
    message.serialize_with_options(&mut serializer, &SerializeOptions::new()).expect("serializable");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// The generic peer of FromGraph: proto3 JSON -> `DynamicMessage` -> protobuf bytes.
pub fn from_proto_json(descriptor: &MessageDescriptor, json: &str) -> Vec<u8> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(descriptor.clone(), &mut deserializer).expect("valid proto JSON");
    deserializer.end().expect("nothing after the value");
    message.encode_to_vec()
}

/// The proto3 JSON of the `FromGraphResponse` for the payload's Graph JSON: what a generic
/// gRPC-JSON transcoder reads to produce the same protobuf message.
pub fn from_graph_proto_json(payload: &Payload) -> String {
    let read = codec::from_graph(&payload.graph_json, Policy::Preserve, DEPTH).expect("valid Graph JSON");
    let response = FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data };
    to_proto_json(&reflect_message("graphbridge.v1.FromGraphResponse"), &response.encode_to_vec())
}

/// The floor: Graph JSON through a `serde_json::Value` tree and back to text.
pub fn serde_value_roundtrip(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    serde_json::to_string(&value).expect("serializable")
}
