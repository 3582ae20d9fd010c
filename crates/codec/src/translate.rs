//! The translations as the `graphbridge.v1.Translator` RPCs define them: a request message in,
//! a response message out, within size and depth limits. The gRPC service and
//! `graphbridge convert` both run these, so the sidecar and the offline tool cannot disagree.
//! All but MigrateRule also take the request's encoding (`*_encoded`, what the sidecar runs):
//! read in place where it can be, else decoded, with the same answer either way. FromGraph and
//! RuleFromGraph then also answer with the response's encoding, written as the JSON is read.

use prost::{Message, encoding::message};

use crate::{
    Error, Policy, Violation,
    encoder::{Encoder, write_field_mask},
    migrate::migrate,
    pb::{
        DetectionRule, FromGraphRequest, FromGraphResponse, MigrateRuleRequest, MigrateRuleResponse, ResponseAction,
        RuleFromGraphRequest, RuleFromGraphResponse, RuleToGraphRequest, RuleToGraphResponse, ToGraphRequest,
        ToGraphResponse, UnknownData, UnknownDataPolicy,
    },
    reader::{Rules, read_actions, read_rules},
    schema::{Complex, GraphType},
    target::Items,
    wire::{EncodedJson, EncodedRuleToGraph, EncodedToGraph},
};

/// Field numbers of FromGraphResponse (`translator.proto`); the property tests hold the
/// encoding written with them equal to prost's.
const FROM_GRAPH_ACTIONS: u32 = 1;
const FROM_GRAPH_UNKNOWN_DATA: u32 = 2;
/// Field numbers of RuleFromGraphResponse, likewise.
const RULE_FROM_GRAPH_RULES: u32 = 1;
const RULE_FROM_GRAPH_UNKNOWN_DATA: u32 = 6;
const RULE_FROM_GRAPH_UPDATE_MASK: u32 = 7;

/// Limits a translation must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request message, and largest JSON text accepted or produced, in bytes.
    pub max_message_bytes: usize,
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
}

impl Limits {
    /// No size limit (there is no memory to protect offline); nesting bounded as by default.
    pub const UNBOUNDED: Limits = Limits { max_message_bytes: usize::MAX, max_json_depth: crate::DEFAULT_MAX_DEPTH };

    /// `size` bytes of `field`, or TooLarge.
    pub fn check_size(&self, field: &'static str, size: usize) -> Result<(), TranslateError> {
        let limit = self.max_message_bytes;
        if size > limit { Err(TranslateError::TooLarge { field, size, limit }) } else { Ok(()) }
    }
}

/// Why a translation request failed: always the caller's request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    #[error("{field} is {size} bytes, over the limit of {limit} bytes (--max-message-bytes)")]
    TooLarge { field: &'static str, size: usize, limit: usize },
    #[error("{field}: {value} is not a graphbridge.v1.UnknownDataPolicy value")]
    BadPolicy { field: &'static str, value: i32 },
    #[error("rule: required: the detection rule to write")]
    MissingRule,
    #[error("the message is not valid protobuf: {0}")]
    NotProtobuf(#[from] prost::DecodeError),
    #[error(transparent)]
    Codec(#[from] Error),
}

/// A translation's answer, with the unknown-data report it carries.
pub trait Reported {
    fn unknown_data(&self) -> &[UnknownData];
}

macro_rules! reported {
    ($($response:ty),*) => {$(
        impl Reported for $response {
            fn unknown_data(&self) -> &[UnknownData] {
                &self.unknown_data
            }
        }
    )*};
}
reported!(ToGraphResponse, FromGraphResponse, RuleToGraphResponse, RuleFromGraphResponse, MigrateRuleResponse);

/// A response as its protobuf encoding, with the unknown-data report it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedResponse {
    pub bytes: Vec<u8>,
    pub unknown_data: Vec<UnknownData>,
}

impl EncodedResponse {
    /// The encoding of `response`.
    pub fn of<R: Message + Reported>(response: R) -> Self {
        let bytes = response.encode_to_vec();
        EncodedResponse { bytes, unknown_data: response.unknown_data().to_vec() }
    }
}

impl Reported for EncodedResponse {
    fn unknown_data(&self) -> &[UnknownData] {
        &self.unknown_data
    }
}

/// ToGraph: actions to Graph JSON.
pub fn to_graph(limits: &Limits, request: &ToGraphRequest) -> Result<ToGraphResponse, TranslateError> {
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let written = crate::to_graph(&request.actions, policy, request.pretty, limits.max_json_depth)?;
    within_limit(limits, ToGraphResponse { json: written.json, unknown_data: written.unknown_data })
}

/// ToGraph from the request's protobuf encoding: the same answer as `to_graph` gives the
/// decoded request, without decoding the actions into messages when they are as a caller's
/// protobuf library writes them.
pub fn to_graph_encoded(limits: &Limits, request: &[u8]) -> Result<ToGraphResponse, TranslateError> {
    let Some(encoded) = EncodedToGraph::read(request) else {
        return to_graph(limits, &ToGraphRequest::decode(request)?);
    };
    let policy = policy("unknown_data_policy", encoded.unknown_data_policy)?;
    let written = encoded.write(policy, limits.max_json_depth)?;
    within_limit(limits, ToGraphResponse { json: written.json, unknown_data: written.unknown_data })
}

/// FromGraph: Graph JSON (an array of actions or one) to actions.
pub fn from_graph(limits: &Limits, request: &FromGraphRequest) -> Result<FromGraphResponse, TranslateError> {
    from_graph_json(limits, &request.json, request.unknown_data_policy)
}

/// FromGraph from the request's protobuf encoding, its JSON read where it lies, to the response's
/// encoding: the encoding of the answer `from_graph` gives the decoded request.
pub fn from_graph_encoded(limits: &Limits, request: &[u8]) -> Result<EncodedResponse, TranslateError> {
    json_encoded(limits, request, |r: &FromGraphRequest| (&r.json, r.unknown_data_policy), from_graph_written)
}

fn from_graph_written(limits: &Limits, json: &str, policy_value: i32) -> Result<EncodedResponse, TranslateError> {
    let policy = json_input(limits, json, policy_value)?;
    let mut encoder = Encoder::new(FROM_GRAPH_ACTIONS, Complex::Polymorphic(&ResponseAction::HIERARCHY), json.len());
    let unknown_data = read_actions(json, policy, limits.max_json_depth, &mut encoder)?;
    let mut bytes = encoder.into_bytes();
    message::encode_repeated(FROM_GRAPH_UNKNOWN_DATA, &unknown_data, &mut bytes);
    limits.check_size("the response", bytes.len())?;
    Ok(EncodedResponse { bytes, unknown_data })
}

fn from_graph_json(limits: &Limits, json: &str, policy_value: i32) -> Result<FromGraphResponse, TranslateError> {
    let policy = json_input(limits, json, policy_value)?;
    let read = crate::from_graph(json, policy, limits.max_json_depth)?;
    // The unknown-data report can outgrow its input (an entry per tiny unknown property).
    within_limit(limits, FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data })
}

/// Runs `translate` on the JSON and policy of an encoded request read in place, or of the
/// request decoded as `R` when it cannot be.
fn json_encoded<R: Message + Default, T>(
    limits: &Limits,
    request: &[u8],
    fields: fn(&R) -> (&str, i32),
    translate: fn(&Limits, &str, i32) -> Result<T, TranslateError>,
) -> Result<T, TranslateError> {
    match EncodedJson::read(request) {
        Some(encoded) => translate(limits, encoded.json, encoded.unknown_data_policy),
        None => {
            let decoded = R::decode(request)?;
            let (json, policy) = fields(&decoded);
            translate(limits, json, policy)
        }
    }
}

/// RuleToGraph: a detection rule to Graph JSON, a PATCH body when an update mask is given.
pub fn rule_to_graph(limits: &Limits, request: &RuleToGraphRequest) -> Result<RuleToGraphResponse, TranslateError> {
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let rule = request.rule.as_ref().ok_or(TranslateError::MissingRule)?;
    let mask = request.update_mask.as_ref().map(|mask| &mask.paths[..]);
    let written = crate::rule_to_graph(rule, mask, policy, request.pretty, limits.max_json_depth)?;
    within_limit(limits, RuleToGraphResponse { json: written.json, unknown_data: written.unknown_data })
}

/// RuleToGraph from the request's protobuf encoding: the same answer as `rule_to_graph` gives
/// the decoded request, without decoding the rule into messages when it is as a caller's
/// protobuf library writes it.
pub fn rule_to_graph_encoded(limits: &Limits, request: &[u8]) -> Result<RuleToGraphResponse, TranslateError> {
    let Some(encoded) = EncodedRuleToGraph::read(request) else {
        return rule_to_graph(limits, &RuleToGraphRequest::decode(request)?);
    };
    let policy = policy("unknown_data_policy", encoded.unknown_data_policy)?;
    let written = encoded.write(policy, limits.max_json_depth).ok_or(TranslateError::MissingRule)??;
    within_limit(limits, RuleToGraphResponse { json: written.json, unknown_data: written.unknown_data })
}

/// RuleFromGraph: Graph JSON of one rule or an OData collection of rules to protobuf.
pub fn rule_from_graph(
    limits: &Limits,
    request: &RuleFromGraphRequest,
) -> Result<RuleFromGraphResponse, TranslateError> {
    rule_from_graph_json(limits, &request.json, request.unknown_data_policy)
}

/// RuleFromGraph from the request's protobuf encoding, its JSON read where it lies, to the
/// response's encoding: the encoding of the answer `rule_from_graph` gives the decoded request.
pub fn rule_from_graph_encoded(limits: &Limits, request: &[u8]) -> Result<EncodedResponse, TranslateError> {
    json_encoded(limits, request, |r: &RuleFromGraphRequest| (&r.json, r.unknown_data_policy), rule_from_graph_written)
}

fn rule_from_graph_written(limits: &Limits, json: &str, policy_value: i32) -> Result<EncodedResponse, TranslateError> {
    let policy = json_input(limits, json, policy_value)?;
    let mut encoder = Encoder::new(RULE_FROM_GRAPH_RULES, Complex::Type(&DetectionRule::INFO), json.len());
    let read = read_rules(json, policy, limits.max_json_depth, encoder.push())?;
    let encoded = match read.found {
        Rules::One { present } => {
            encoder.end(true);
            let mut bytes = encoder.into_bytes();
            message::encode_repeated(RULE_FROM_GRAPH_UNKNOWN_DATA, &read.unknown_data, &mut bytes);
            write_field_mask(RULE_FROM_GRAPH_UPDATE_MASK, present.paths(), &mut bytes);
            EncodedResponse { bytes, unknown_data: read.unknown_data }
        }
        // A collection's rules were read into messages (see `Envelope`).
        Rules::Collection { rules, collection } => {
            EncodedResponse::of(collection_response(rules, collection, read.unknown_data))
        }
    };
    limits.check_size("the response", encoded.bytes.len())?;
    Ok(encoded)
}

fn rule_from_graph_json(
    limits: &Limits,
    json: &str,
    policy_value: i32,
) -> Result<RuleFromGraphResponse, TranslateError> {
    let policy = json_input(limits, json, policy_value)?;
    let read = crate::rules_from_graph(json, policy, limits.max_json_depth)?;
    let response = match read.collection {
        Some(collection) => collection_response(read.rules, collection, read.unknown_data),
        None => RuleFromGraphResponse {
            rules: read.rules,
            unknown_data: read.unknown_data,
            update_mask: Some(prost_types::FieldMask { paths: read.present }),
            ..Default::default()
        },
    };
    within_limit(limits, response)
}

fn collection_response(
    rules: Vec<DetectionRule>,
    collection: crate::Collection,
    unknown_data: Vec<UnknownData>,
) -> RuleFromGraphResponse {
    RuleFromGraphResponse {
        rules,
        collection: true,
        odata_context: collection.context,
        next_link: collection.next_link,
        collection_data: collection.other,
        unknown_data,
        update_mask: None,
    }
}

/// MigrateRule: one rule in the retired shape to the current shape.
pub fn migrate_rule(limits: &Limits, request: &MigrateRuleRequest) -> Result<MigrateRuleResponse, TranslateError> {
    let policy = json_input(limits, &request.json, request.unknown_data_policy)?;
    let read = crate::rules_from_graph(&request.json, policy, limits.max_json_depth)?;
    let (Some(rule), None) = (read.rules.into_iter().next(), read.collection) else {
        let description = "expected one detectionRule object: RuleFromGraph reads collections";
        return Err(Error::Invalid(vec![Violation::new("json", description)]).into());
    };
    let migrated = migrate(rule, read.present, limits.max_json_depth);
    // Unknown data was judged when read; written back as it is.
    let written = crate::rule_to_graph(
        &migrated.rule,
        Some(&migrated.present),
        Policy::Preserve,
        request.pretty,
        limits.max_json_depth,
    )?;
    let response = MigrateRuleResponse {
        json: written.json,
        rule: Some(migrated.rule),
        not_migrated: migrated.notes,
        unknown_data: read.unknown_data,
    };
    within_limit(limits, response)
}

/// `response`, if its encoding is within the size limit.
fn within_limit<R: Message>(limits: &Limits, response: R) -> Result<R, TranslateError> {
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// The policy of a request holding Graph JSON, once its JSON is within the size limit.
fn json_input(limits: &Limits, json: &str, policy_value: i32) -> Result<Policy, TranslateError> {
    limits.check_size("json", json.len())?;
    policy("unknown_data_policy", policy_value)
}

fn policy(field: &'static str, value: i32) -> Result<Policy, TranslateError> {
    UnknownDataPolicy::try_from(value).map(Policy::from).map_err(|_| TranslateError::BadPolicy { field, value })
}
