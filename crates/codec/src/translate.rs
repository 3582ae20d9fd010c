//! The translations as the `graphbridge.v1.Translator` RPCs define them: a request message in,
//! a response message out, within size and depth limits. The gRPC service and
//! `graphbridge convert` both run these, so the sidecar and the offline tool cannot disagree.

use prost::Message;

use crate::{
    Error, Policy, Violation,
    migrate::migrate,
    pb::{
        FromGraphRequest, FromGraphResponse, MigrateRuleRequest, MigrateRuleResponse, RuleFromGraphRequest,
        RuleFromGraphResponse, RuleToGraphRequest, RuleToGraphResponse, ToGraphRequest, ToGraphResponse, UnknownData,
        UnknownDataPolicy,
    },
};

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

/// ToGraph: actions to Graph JSON.
pub fn to_graph(limits: &Limits, request: &ToGraphRequest) -> Result<ToGraphResponse, TranslateError> {
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let written = crate::to_graph(&request.actions, policy, request.pretty, limits.max_json_depth)?;
    let response = ToGraphResponse { json: written.json, unknown_data: written.unknown_data };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// FromGraph: Graph JSON (an array of actions or one) to actions.
pub fn from_graph(limits: &Limits, request: &FromGraphRequest) -> Result<FromGraphResponse, TranslateError> {
    limits.check_size("json", request.json.len())?;
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let read = crate::from_graph(&request.json, policy, limits.max_json_depth)?;
    // The unknown-data report can outgrow its input (an entry per tiny unknown property).
    let response = FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// RuleToGraph: a detection rule to Graph JSON, a PATCH body when an update mask is given.
pub fn rule_to_graph(limits: &Limits, request: &RuleToGraphRequest) -> Result<RuleToGraphResponse, TranslateError> {
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let rule = request.rule.as_ref().ok_or(TranslateError::MissingRule)?;
    let mask = request.update_mask.as_ref().map(|mask| &mask.paths[..]);
    let written = crate::rule_to_graph(rule, mask, policy, request.pretty, limits.max_json_depth)?;
    let response = RuleToGraphResponse { json: written.json, unknown_data: written.unknown_data };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// RuleFromGraph: Graph JSON of one rule or an OData collection of rules to protobuf.
pub fn rule_from_graph(
    limits: &Limits,
    request: &RuleFromGraphRequest,
) -> Result<RuleFromGraphResponse, TranslateError> {
    limits.check_size("json", request.json.len())?;
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let read = crate::rules_from_graph(&request.json, policy, limits.max_json_depth)?;
    let is_collection = read.collection.is_some();
    let collection = read.collection.unwrap_or_default();
    let response = RuleFromGraphResponse {
        rules: read.rules,
        collection: is_collection,
        odata_context: collection.context,
        next_link: collection.next_link,
        collection_data: collection.other,
        unknown_data: read.unknown_data,
        update_mask: (!is_collection).then_some(prost_types::FieldMask { paths: read.present }),
    };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// MigrateRule: one rule in the retired shape to the current shape.
pub fn migrate_rule(limits: &Limits, request: &MigrateRuleRequest) -> Result<MigrateRuleResponse, TranslateError> {
    limits.check_size("json", request.json.len())?;
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
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
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

fn policy(field: &'static str, value: i32) -> Result<Policy, TranslateError> {
    UnknownDataPolicy::try_from(value).map(Policy::from).map_err(|_| TranslateError::BadPolicy { field, value })
}
