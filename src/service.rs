//! The `graphbridge.v1.Translator` gRPC service: limits, metrics and errors around the codec.

use std::{pin::Pin, sync::Arc, time::Duration};

use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Code, Request, Response, Status, Streaming};
use tracing::Level;

use crate::{
    admission::{Admission, Admit, Admitted},
    codec::{self, Policy},
    metrics::{Metrics, code_label},
    pb::{
        FromGraphRequest, FromGraphResponse, MigrateRuleRequest, MigrateRuleResponse, RuleFromGraphRequest,
        RuleFromGraphResponse, RuleToGraphRequest, RuleToGraphResponse, ToGraphRequest, ToGraphResponse,
        TranslateStreamRequest, TranslateStreamResponse, UnknownData, UnknownDataPolicy, translate_stream_request,
        translate_stream_response, translator_server,
    },
};

/// Requests up to this size are translated on the calling task: they take microseconds, and a
/// hop to the blocking pool would cost more than the work. Larger ones run on the blocking pool,
/// bounded by the request timeout.
const INLINE_REQUEST_BYTES: usize = 64 * 1024;

/// tonic's own message limits, as a multiple of --max-message-bytes: only a backstop, as the
/// admission refuses oversize requests from their length prefix and responses are checked before
/// they are sent (a stream item's answer adds its id to a response of up to the limit).
const TRANSPORT_LIMIT_FACTOR: usize = 2;

/// The Translator's methods, as metrics label them.
pub const METHODS: &[&str] =
    &["ToGraph", "FromGraph", "TranslateStream", "RuleToGraph", "RuleFromGraph", "MigrateRule"];

/// Limits a request must respect.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request message, and largest JSON text accepted or produced, in bytes.
    pub max_message_bytes: usize,
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
    /// Translator requests and streams served at once.
    pub max_concurrent_requests: usize,
    /// Request bytes being translated at once (a translation holds about 4x its request).
    pub max_in_flight_bytes: usize,
    /// Longest a unary call may take.
    pub request_timeout: Duration,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{field} is {size} bytes, over the limit of {limit} bytes (--max-message-bytes)")]
    TooLarge { field: &'static str, size: usize, limit: usize },
    #[error(
        "graphbridge is at its limit of {limit} concurrent requests (--max-concurrent-requests); retry with backoff"
    )]
    Overloaded { limit: usize },
    #[error(
        "graphbridge is translating its limit of {limit} request bytes at once (--max-in-flight-bytes); retry with backoff"
    )]
    OverBudget { limit: usize },
    #[error("translation took longer than {after:?} (--request-timeout)")]
    Timeout { after: Duration },
    #[error("{field}: {value} is not a graphbridge.v1.UnknownDataPolicy value")]
    BadPolicy { field: &'static str, value: i32 },
    #[error("request: exactly one of to_graph, from_graph must be set")]
    MissingRequest,
    #[error("rule: required: the detection rule to write")]
    MissingRule,
    #[error(transparent)]
    Codec(#[from] codec::Error),
    #[error("translation failed unexpectedly: {0}")]
    Bug(String),
}

/// The one place that decides each error's status code and how loudly it is logged.
impl From<RequestError> for Status {
    fn from(error: RequestError) -> Self {
        let message = error.to_string();
        let (status, level) = match error {
            RequestError::TooLarge { .. } => (Status::resource_exhausted(message), Level::DEBUG),
            RequestError::Overloaded { .. } | RequestError::OverBudget { .. } => {
                (Status::resource_exhausted(message), Level::DEBUG)
            }
            RequestError::Timeout { .. } => (Status::deadline_exceeded(message), Level::WARN),
            RequestError::BadPolicy { field, .. } => (invalid_field(field, message), Level::DEBUG),
            RequestError::MissingRequest => (invalid_field("request", message), Level::DEBUG),
            RequestError::MissingRule => (invalid_field("rule", message), Level::DEBUG),
            RequestError::Codec(error) => (error.into(), Level::DEBUG),
            RequestError::Bug(_) => (Status::internal(message), Level::ERROR),
        };
        // Debug only: the message may quote the caller's data (an unknown member, a key).
        let (code, error) = (code_label(status.code()), status.message());
        match level {
            Level::ERROR => tracing::error!(code, error, "request failed"),
            Level::WARN => tracing::warn!(code, error, "request failed"),
            _ => tracing::debug!(code, error, "request refused"),
        }
        status
    }
}

fn invalid_field(field: &str, message: String) -> Status {
    codec::Error::Invalid(vec![codec::Violation::new(field, message)]).into()
}

/// The Translator service. Cheap to clone: clones share limits and metrics.
#[derive(Clone)]
pub struct Translator {
    limits: Limits,
    metrics: Arc<Metrics>,
    /// Becomes true when the server shuts down: open streams stop reading.
    shutdown: watch::Receiver<bool>,
}

impl Translator {
    pub fn new(limits: Limits, metrics: Arc<Metrics>, shutdown: watch::Receiver<bool>) -> Self {
        Self { limits, metrics, shutdown }
    }

    /// The gRPC service, behind the admission that runs before a request's body is read.
    pub fn into_server(self) -> Admit<translator_server::TranslatorServer<Self>> {
        let max_decoded = self.limits.max_message_bytes * TRANSPORT_LIMIT_FACTOR;
        Admission::new(&self.limits, self.metrics.clone()).in_front_of(
            translator_server::TranslatorServer::new(self)
                .max_decoding_message_size(max_decoded)
                .max_encoding_message_size(max_decoded),
        )
    }

    /// Runs one translation and counts the unknown data its answer reports.
    fn answer<Req, Resp: Reports>(&self, translate: Translate<Req, Resp>, request: &Req) -> Result<Resp, RequestError> {
        let response = translate(&self.limits, request)?;
        self.metrics.unknown_data(response.unknown_data());
        Ok(response)
    }

    /// Answers one stream item; a failure becomes the item's in-band error.
    fn stream_item(&self, item: TranslateStreamRequest) -> TranslateStreamResponse {
        use translate_stream_request::Request as In;
        use translate_stream_response::Result as Out;
        let item_bytes = item.encoded_len();
        let call = self.metrics.start("TranslateStream", item_bytes);
        let result = match &item.request {
            Some(In::ToGraph(request)) => self.answer(to_graph, request).map(Out::ToGraph),
            Some(In::FromGraph(request)) => self.answer(from_graph, request).map(Out::FromGraph),
            None => Err(RequestError::MissingRequest),
        };
        let result = result.unwrap_or_else(|error| Out::Error(rpc_status(&Status::from(error))));
        let response = TranslateStreamResponse { id: item.id, result: Some(result) };
        let code = match &response.result {
            Some(Out::Error(status)) => Code::from(status.code),
            _ => Code::Ok,
        };
        call.finish(code, response.encoded_len());
        response
    }

    /// Runs a unary call: size check, timeout for large inputs, metrics, status. `admitted`
    /// is held until the answer is ready.
    async fn unary<Req, Resp>(
        &self,
        method: &'static str,
        request: Request<Req>,
        translate: Translate<Req, Resp>,
    ) -> Result<Response<Resp>, Status>
    where
        Req: Message + Send + 'static,
        Resp: Message + Reports + Send + 'static,
    {
        let admitted = admitted(&request);
        let request = request.into_inner();
        let request_bytes = request.encoded_len();
        let call = self.metrics.start(method, request_bytes);
        let limit = self.limits.max_message_bytes;
        let result = match admitted {
            Err(error) => Err(error),
            Ok(_) if request_bytes > limit => {
                Err(RequestError::TooLarge { field: "request", size: request_bytes, limit })
            }
            Ok(_admitted) if request_bytes <= INLINE_REQUEST_BYTES => self.answer(translate, &request),
            Ok(admitted) => {
                let this = self.clone();
                // The admission goes with the work, which may outlive a timed-out call.
                let work = tokio::task::spawn_blocking(move || {
                    let _admitted = admitted;
                    this.answer(translate, &request)
                });
                match tokio::time::timeout(self.limits.request_timeout, work).await {
                    Ok(Ok(result)) => result,
                    Ok(Err(join_error)) => Err(RequestError::Bug(join_error.to_string())),
                    Err(_) => Err(RequestError::Timeout { after: self.limits.request_timeout }),
                }
            }
        };
        match result {
            Ok(response) => {
                call.finish(Code::Ok, response.encoded_len());
                Ok(Response::new(response))
            }
            Err(error) => {
                let status = Status::from(error);
                call.finish(status.code(), 0);
                Err(status)
            }
        }
    }
}

/// One of the translations, as `unary` and stream items run it.
type Translate<Req, Resp> = fn(&Limits, &Req) -> Result<Resp, RequestError>;

/// A translation's answer: the unknown data it reports, for the metrics.
trait Reports {
    fn unknown_data(&self) -> &[UnknownData];
}

macro_rules! reports {
    ($($response:ty),*) => {$(
        impl Reports for $response {
            fn unknown_data(&self) -> &[UnknownData] {
                &self.unknown_data
            }
        }
    )*};
}
reports!(ToGraphResponse, FromGraphResponse, RuleToGraphResponse, RuleFromGraphResponse, MigrateRuleResponse);

/// The admission the layer in front of the service gave this request.
fn admitted<T>(request: &Request<T>) -> Result<Arc<Admitted>, RequestError> {
    request
        .extensions()
        .get::<Arc<Admitted>>()
        .cloned()
        .ok_or_else(|| RequestError::Bug("a request reached the Translator without admission".into()))
}

/// ToGraph, checked against `limits`.
pub fn to_graph(limits: &Limits, request: &ToGraphRequest) -> Result<ToGraphResponse, RequestError> {
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let written = codec::to_graph(&request.actions, policy, request.pretty, limits.max_json_depth)?;
    let response = ToGraphResponse { json: written.json, unknown_data: written.unknown_data };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// FromGraph, checked against `limits`.
pub fn from_graph(limits: &Limits, request: &FromGraphRequest) -> Result<FromGraphResponse, RequestError> {
    limits.check_size("json", request.json.len())?;
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let read = codec::from_graph(&request.json, policy, limits.max_json_depth)?;
    // The unknown-data report can outgrow its input (an entry per tiny unknown property).
    let response = FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// RuleToGraph, checked against `limits`.
pub fn rule_to_graph(limits: &Limits, request: &RuleToGraphRequest) -> Result<RuleToGraphResponse, RequestError> {
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let rule = request.rule.as_ref().ok_or(RequestError::MissingRule)?;
    let mask = request.update_mask.as_ref().map(|mask| &mask.paths[..]);
    let written = codec::rule_to_graph(rule, mask, policy, request.pretty, limits.max_json_depth)?;
    let response = RuleToGraphResponse { json: written.json, unknown_data: written.unknown_data };
    limits.check_size("the response", response.encoded_len())?;
    Ok(response)
}

/// RuleFromGraph, checked against `limits`.
pub fn rule_from_graph(limits: &Limits, request: &RuleFromGraphRequest) -> Result<RuleFromGraphResponse, RequestError> {
    limits.check_size("json", request.json.len())?;
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let read = codec::rules_from_graph(&request.json, policy, limits.max_json_depth)?;
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

/// MigrateRule, checked against `limits`.
pub fn migrate_rule(limits: &Limits, request: &MigrateRuleRequest) -> Result<MigrateRuleResponse, RequestError> {
    limits.check_size("json", request.json.len())?;
    let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
    let read = codec::rules_from_graph(&request.json, policy, limits.max_json_depth)?;
    let (Some(rule), None) = (read.rules.into_iter().next(), read.collection) else {
        let description = "expected one detectionRule object: RuleFromGraph reads collections";
        return Err(codec::Error::Invalid(vec![codec::Violation::new("json", description)]).into());
    };
    let migrated = crate::migrate::migrate(rule, read.present, limits.max_json_depth);
    // Unknown data was judged when read; written back as it is.
    let written = codec::rule_to_graph(
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

impl Limits {
    fn check_size(&self, field: &'static str, size: usize) -> Result<(), RequestError> {
        let limit = self.max_message_bytes;
        if size > limit { Err(RequestError::TooLarge { field, size, limit }) } else { Ok(()) }
    }
}

fn policy(field: &'static str, value: i32) -> Result<Policy, RequestError> {
    UnknownDataPolicy::try_from(value).map(Policy::from).map_err(|_| RequestError::BadPolicy { field, value })
}

/// The `google.rpc.Status` a unary call would have sent, details included.
fn rpc_status(status: &Status) -> tonic_types::pb::Status {
    tonic_types::pb::Status::decode(status.details())
        .ok()
        .filter(|decoded| decoded.code == status.code() as i32)
        .unwrap_or_else(|| tonic_types::pb::Status {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: Vec::new(),
        })
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<TranslateStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl translator_server::Translator for Translator {
    async fn to_graph(&self, request: Request<ToGraphRequest>) -> Result<Response<ToGraphResponse>, Status> {
        self.unary("ToGraph", request, to_graph).await
    }

    async fn from_graph(&self, request: Request<FromGraphRequest>) -> Result<Response<FromGraphResponse>, Status> {
        self.unary("FromGraph", request, from_graph).await
    }

    async fn rule_to_graph(
        &self,
        request: Request<RuleToGraphRequest>,
    ) -> Result<Response<RuleToGraphResponse>, Status> {
        self.unary("RuleToGraph", request, rule_to_graph).await
    }

    async fn rule_from_graph(
        &self,
        request: Request<RuleFromGraphRequest>,
    ) -> Result<Response<RuleFromGraphResponse>, Status> {
        self.unary("RuleFromGraph", request, rule_from_graph).await
    }

    async fn migrate_rule(
        &self,
        request: Request<MigrateRuleRequest>,
    ) -> Result<Response<MigrateRuleResponse>, Status> {
        self.unary("MigrateRule", request, migrate_rule).await
    }

    type TranslateStreamStream = ResponseStream;

    async fn translate_stream(
        &self,
        request: Request<Streaming<TranslateStreamRequest>>,
    ) -> Result<Response<ResponseStream>, Status> {
        let admitted = admitted(&request)?;
        let mut inbound = request.into_inner();
        let (responses, outbound) = mpsc::channel(32);
        let translator = self.clone();
        let mut shutdown = self.shutdown.clone();
        let open = self.metrics.stream_opened();
        tokio::spawn(async move {
            let _open = open;
            loop {
                let stopping = async { shutdown.wait_for(|stop| *stop).await.is_ok() };
                let next = tokio::select! {
                    biased;
                    // At shutdown, stop reading: items not yet read were never accepted, and the
                    // caller learns which by the ids answered before this status.
                    _ = stopping => {
                        Err(Status::unavailable("graphbridge is shutting down: items not answered were not read; retry them"))
                    }
                    next = inbound.message() => next,
                };
                let response = match next {
                    Ok(Some(item)) => {
                        let answer = translator.stream_item(item);
                        admitted.release_bytes();
                        Ok(answer)
                    }
                    Ok(None) => break,
                    Err(status) => Err(status),
                };
                let failed = response.is_err();
                if responses.send(response).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(outbound))))
    }
}
