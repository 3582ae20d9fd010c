//! `graphbridge convert to-graph|from-graph|rule-to-graph|rule-from-graph|migrate-rule`: the
//! server's translation, offline, stdin to stdout.
//! Proto-JSON (the protobuf JSON mapping, as grpcurl speaks it) is read and written with
//! prost-reflect over the same descriptors the server serves by reflection.

use std::io::{self, Read, Write};

use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

use graphbridge_codec::{
    FILE_DESCRIPTOR_SET, Violation,
    pb::{
        FromGraphRequest, MigrateRuleRequest, RuleFromGraphRequest, RuleToGraphRequest, ToGraphRequest, UnknownData,
        UnknownDataPolicy,
    },
    translate::{self, Limits, TranslateError},
};

use super::config::{ConvertDirection, PolicyArg};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("cannot read stdin: {0}")]
    Stdin(io::Error),
    #[error("cannot write stdout: {0}")]
    Stdout(io::Error),
    #[error("stdin is not proto-JSON of graphbridge.v1.{message}: {reason}")]
    ProtoJson { message: &'static str, reason: String },
    #[error(transparent)]
    Translate(#[from] TranslateError),
}

impl ConvertError {
    /// The located problems to print under the message.
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            ConvertError::Translate(TranslateError::Codec(error)) => error.violations(),
            ConvertError::Stdin(_)
            | ConvertError::Stdout(_)
            | ConvertError::ProtoJson { .. }
            | ConvertError::Translate(_) => Vec::new(),
        }
    }
}

/// Offline there is no memory to protect from other callers; nesting is bounded as in the server.
const OFFLINE: Limits = Limits::UNBOUNDED;

/// Translates `input` and writes the result to `output`; unknown-data notes go to `notes`.
pub fn convert(
    direction: &ConvertDirection,
    input: &str,
    output: &mut impl Write,
    notes: &mut impl Write,
) -> Result<(), ConvertError> {
    match direction {
        ConvertDirection::ToGraph => {
            let request: ToGraphRequest = from_proto_json(input, "ToGraphRequest")?;
            let response = translate::to_graph(&OFFLINE, &request)?;
            note_kept(notes, &response.unknown_data);
            writeln!(output, "{}", response.json).map_err(ConvertError::Stdout)
        }
        ConvertDirection::FromGraph { unknown_data_policy } => {
            let request =
                FromGraphRequest { json: input.to_owned(), unknown_data_policy: policy(*unknown_data_policy) };
            let response = translate::from_graph(&OFFLINE, &request)?;
            writeln!(output, "{}", to_proto_json(&response, "FromGraphResponse")).map_err(ConvertError::Stdout)
        }
        ConvertDirection::RuleToGraph => {
            let request: RuleToGraphRequest = from_proto_json(input, "RuleToGraphRequest")?;
            let response = translate::rule_to_graph(&OFFLINE, &request)?;
            note_kept(notes, &response.unknown_data);
            writeln!(output, "{}", response.json).map_err(ConvertError::Stdout)
        }
        ConvertDirection::RuleFromGraph { unknown_data_policy } => {
            let request =
                RuleFromGraphRequest { json: input.to_owned(), unknown_data_policy: policy(*unknown_data_policy) };
            let response = translate::rule_from_graph(&OFFLINE, &request)?;
            writeln!(output, "{}", to_proto_json(&response, "RuleFromGraphResponse")).map_err(ConvertError::Stdout)
        }
        ConvertDirection::MigrateRule => {
            let request = MigrateRuleRequest { json: input.to_owned(), pretty: true, ..Default::default() };
            let response = translate::migrate_rule(&OFFLINE, &request)?;
            for note in &response.not_migrated {
                let _ =
                    writeln!(notes, "graphbridge: not migrated {}: {}: {}", note.pointer, note.detail, note.original);
            }
            writeln!(output, "{}", response.json).map_err(ConvertError::Stdout)
        }
    }
}

fn note_kept(notes: &mut impl Write, unknown_data: &[UnknownData]) {
    for entry in unknown_data {
        let _ = writeln!(notes, "graphbridge: kept {}: {}", entry.pointer, entry.detail);
    }
}

fn policy(arg: PolicyArg) -> i32 {
    match arg {
        PolicyArg::Preserve => UnknownDataPolicy::Preserve,
        PolicyArg::Reject => UnknownDataPolicy::Reject,
        PolicyArg::Drop => UnknownDataPolicy::Drop,
    }
    .into()
}

/// Reads all of stdin as UTF-8.
pub fn read_stdin() -> Result<String, ConvertError> {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).map_err(ConvertError::Stdin)?;
    Ok(input)
}

fn descriptor(message: &'static str) -> prost_reflect::MessageDescriptor {
    let pool = DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("build.rs wrote a valid descriptor set");
    pool.get_message_by_name(&format!("graphbridge.v1.{message}")).expect("declared in proto/")
}

fn from_proto_json<T: prost::Message + Default>(input: &str, message: &'static str) -> Result<T, ConvertError> {
    let error = |reason: String| ConvertError::ProtoJson { message, reason };
    let mut deserializer = serde_json::Deserializer::from_str(input);
    let dynamic =
        DynamicMessage::deserialize(descriptor(message), &mut deserializer).map_err(|e| error(e.to_string()))?;
    deserializer.end().map_err(|e| error(e.to_string()))?;
    dynamic.transcode_to().map_err(|e| error(e.to_string()))
}

fn to_proto_json(message: &impl prost::Message, name: &'static str) -> String {
    let mut dynamic = DynamicMessage::new(descriptor(name));
    dynamic.transcode_from(message).expect("the generated type matches its descriptor");
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    dynamic
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .expect("a DynamicMessage always serializes");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}
