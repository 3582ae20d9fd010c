//! Why a gateway call failed. The gRPC edge maps each case to a status (`grpc/status.rs`).

use std::time::Duration;

use graphbridge_codec::translate::TranslateError;

use super::{credentials::CredentialError, http::TransportError, page_token::PageTokenError};

/// Graph's error body, `{"error": {"code", "message", "innerError": {"request-id", ...}}}`, with
/// what the HTTP answer said around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphFailure {
    pub status: u16,
    /// Graph's `error.code`, e.g. `badRequest`; empty when the body had none.
    pub code: String,
    /// Graph's `error.message`, or the HTTP reason when the body had none.
    pub message: String,
    /// Graph's `request-id` (body or header): what Microsoft support asks for.
    pub request_id: String,
    /// The `client-request-id` graphbridge sent.
    pub client_request_id: String,
    /// From `Retry-After`, when Graph throttled.
    pub retry_after: Option<Duration>,
}

/// Which operation failed: a conflict means "exists" only on create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Get,
    List,
    Update,
    Delete,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "no Graph credentials: set --graph-tenant-id, --graph-client-id and one of \
         --graph-client-secret-file, --graph-client-certificate-file, --graph-federated-token-file \
         (or the AZURE_* variables of Azure Workload Identity)"
    )]
    NotConfigured,
    #[error("{method} writes to Graph, and graphbridge runs with --graph-read-only")]
    ReadOnly { method: &'static str },
    /// The caller's request cannot be sent: field and description.
    #[error("{field}: {description}")]
    BadRequest { field: &'static str, description: String },
    #[error("page_token: {0}")]
    PageToken(#[from] PageTokenError),
    /// The rule could not be written as a Graph body.
    #[error(transparent)]
    Write(TranslateError),
    #[error("Graph: {}", .failure.message)]
    Graph { operation: Operation, host: String, failure: Box<GraphFailure> },
    #[error("Graph is throttling graphbridge for {wait:?} more: {}", .limit.reason())]
    Throttled { wait: Duration, limit: WaitLimit, failure: Option<Box<GraphFailure>>, host: String },
    #[error("the call's deadline passed before Graph answered")]
    DeadlineExceeded,
    #[error("Graph at {host}: {error}")]
    Transport { host: String, error: TransportError },
    /// Entra ID refused graphbridge's token request, or could not be reached.
    #[error("cannot get a token from Entra ID: {0}")]
    Token(#[from] TokenError),
    /// Graph answered with something graphbridge cannot read: never passed on as OK.
    #[error("Graph's answer could not be read: {reason} (request-id {request_id:?})")]
    UnreadableAnswer { reason: String, request_id: String },
    #[error("Graph's @odata.nextLink points outside --graph-url: not followed")]
    ForeignNextLink,
}

/// Why a throttled call gave up instead of waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitLimit {
    /// The wait would outlast the caller's deadline.
    Deadline,
    /// The call has no deadline and the wait is over the longest graphbridge waits.
    MaxWait,
}

impl WaitLimit {
    fn reason(self) -> &'static str {
        match self {
            WaitLimit::Deadline => "past the call's deadline",
            WaitLimit::MaxWait => "longer than graphbridge waits for a call without a deadline (60s)",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("{0}")]
    Transport(TransportError),
    /// Entra ID's `error` and `error_description` (AADSTS codes; never the request's secret).
    #[error("Entra ID answered HTTP {status}: {error}: {description}")]
    Refused { status: u16, error: String, description: String },
    #[error("Entra ID's answer has no usable access_token")]
    Unreadable,
}
