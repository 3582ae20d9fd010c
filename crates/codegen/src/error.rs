//! Why the generator refuses `proto/`: each error names the offending proto element by its full
//! name, so the failed build says what to fix.

/// A rule of the Graph options that `proto/` breaks (or, for `Syntax`, a bug of the generator).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("custom option graphbridge.v1.{0} is not declared: the pool must hold proto/graphbridge/v1/graph.proto")]
    UndeclaredOption(&'static str),

    #[error("{file} sets no graph_namespace, and declares the Graph type {message}")]
    NoNamespace { file: String, message: String },

    #[error("{field} has no graph_property option")]
    NoProperty { field: String },

    #[error(
        "{field}: graph_required with {option}: a writer need not send such a property (graph.proto states the rule)"
    )]
    RequiredExempt { field: String, option: &'static str },

    #[error(
        "{field}: {field_type} has no Graph mapping yet (crates/codec/src/schema.rs lists what a \
         property can hold; a bool needs `optional`)"
    )]
    Unmapped { field: String, field_type: String },

    #[error("{field}: must be map<string, string>")]
    AdditionalDataType { field: String },

    #[error("{message}: no additional_data field (it keeps the unknown data of its oneof's cases)")]
    NoAdditionalData { message: String },

    #[error("{message}: a Graph object has its own additional_data; a oneof case does not (its wrapper has it)")]
    AdditionalDataPlacement { message: String },

    #[error("{case}: the cases of a oneof of Graph types must be messages")]
    CaseNotMessage { case: String },

    #[error(
        "graph_type {graph_type:?} must be held by case `{expected_case}` of message `{expected_message}`, \
         found {case} of `{message}`"
    )]
    CaseNaming { graph_type: String, expected_case: String, expected_message: String, case: String, message: String },

    #[error("{case}: the unknown case needs a string odata_type")]
    UnknownCaseOdataType { case: String },

    #[error("{case}: a second case without graph_type (only the `unknown` case has none)")]
    SecondUnknownCase { case: String },

    #[error("{oneof}: no `unknown` case (a case without graph_type, holding a string odata_type)")]
    NoUnknownCase { oneof: String },

    #[error("{name} has no graph_enum option")]
    NoGraphEnum { name: String },

    #[error("{name}: the first value (in number order) must be the zero …_UNSPECIFIED")]
    ZeroValue { name: String },

    #[error("{value} has no graph_member option")]
    NoMember { value: String },

    #[error("{value}: graph_column must be \"property=Column\", found {column:?}")]
    Column { value: String, column: String },

    #[error("{name}: flags sets are u64 bit masks; {count} members")]
    TooManyMembers { name: String, count: usize },

    #[error("{name}: no unknownFutureValue member (every Graph enum has it)")]
    NoSentinel { name: String },

    #[error("the generated code does not parse (a bug of graphbridge-codegen): {0}")]
    Syntax(#[from] syn::Error),
}
