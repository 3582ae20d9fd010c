//! The `graphbridge.v1.Translator` gRPC service: limits, metrics and errors around the codec.

use std::{pin::Pin, sync::Arc, time::Duration};

use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Code, Request, Response, Status, Streaming};
use tracing::Level;

use crate::{
    codec::{self, Policy},
    metrics::{Metrics, code_label},
    pb::{
        FromGraphRequest, FromGraphResponse, ToGraphRequest, ToGraphResponse, TranslateStreamRequest,
        TranslateStreamResponse, UnknownDataPolicy, translate_stream_request, translate_stream_response,
        translator_server,
    },
};

/// Requests up to this size are translated on the calling task: they take microseconds, and a
/// hop to the blocking pool would cost more than the work. Larger ones run on the blocking pool,
/// bounded by the request timeout.
const INLINE_REQUEST_BYTES: usize = 64 * 1024;

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

/// Permits of the in-flight byte budget are KiB: a u32 count covers any sane budget.
const BUDGET_UNIT: usize = 1024;

/// The Translator service. Cheap to clone: clones share limits, metrics and permits.
#[derive(Clone)]
pub struct Translator {
    limits: Limits,
    metrics: Arc<Metrics>,
    /// One per request (or open stream) being served.
    requests: Arc<Semaphore>,
    /// The in-flight byte budget, in BUDGET_UNITs.
    bytes: Arc<Semaphore>,
    /// Becomes true when the server shuts down: open streams stop reading.
    shutdown: watch::Receiver<bool>,
}

impl Translator {
    pub fn new(limits: Limits, metrics: Arc<Metrics>, shutdown: watch::Receiver<bool>) -> Self {
        let requests = Arc::new(Semaphore::new(limits.max_concurrent_requests));
        let bytes = Arc::new(Semaphore::new(limits.max_in_flight_bytes / BUDGET_UNIT));
        Self { limits, metrics, requests, bytes, shutdown }
    }

    fn write_graph(&self, request: &ToGraphRequest) -> Result<ToGraphResponse, RequestError> {
        let response = to_graph(&self.limits, request)?;
        self.metrics.unknown_data(&response.unknown_data);
        Ok(response)
    }

    fn read_graph(&self, request: &FromGraphRequest) -> Result<FromGraphResponse, RequestError> {
        let response = from_graph(&self.limits, request)?;
        self.metrics.unknown_data(&response.unknown_data);
        Ok(response)
    }

    /// Answers one stream item; a failure becomes the item's in-band error.
    fn stream_item(&self, item: TranslateStreamRequest) -> TranslateStreamResponse {
        use translate_stream_request::Request as In;
        use translate_stream_response::Result as Out;
        let item_bytes = item.encoded_len();
        let call = self.metrics.start("TranslateStream", item_bytes);
        let result = self.admit_bytes("TranslateStream", item_bytes).and_then(|_bytes| match &item.request {
            Some(In::ToGraph(request)) => self.write_graph(request).map(Out::ToGraph),
            Some(In::FromGraph(request)) => self.read_graph(request).map(Out::FromGraph),
            None => Err(RequestError::MissingRequest),
        });
        let result = result.unwrap_or_else(|error| Out::Error(rpc_status(&Status::from(error))));
        let response = TranslateStreamResponse { id: item.id, result: Some(result) };
        let code = match &response.result {
            Some(Out::Error(status)) => Code::from(status.code),
            _ => Code::Ok,
        };
        call.finish(code, response.encoded_len());
        response
    }

    /// A place among the requests served at once, or RESOURCE_EXHAUSTED at once.
    fn admit_request(&self, method: &'static str) -> Result<OwnedSemaphorePermit, RequestError> {
        self.requests.clone().try_acquire_owned().map_err(|_| {
            self.metrics.shed(method);
            RequestError::Overloaded { limit: self.limits.max_concurrent_requests }
        })
    }

    /// A share of the in-flight byte budget for a request of `bytes`, or RESOURCE_EXHAUSTED at once.
    fn admit_bytes(&self, method: &'static str, bytes: usize) -> Result<OwnedSemaphorePermit, RequestError> {
        let units = u32::try_from(bytes.div_ceil(BUDGET_UNIT)).unwrap_or(u32::MAX);
        self.bytes.clone().try_acquire_many_owned(units).map_err(|_| {
            self.metrics.shed(method);
            RequestError::OverBudget { limit: self.limits.max_in_flight_bytes }
        })
    }

    /// Runs a unary call: concurrency limit, timeout for large inputs, metrics, status.
    async fn unary<Req, Resp>(
        &self,
        method: &'static str,
        request: Req,
        translate: fn(&Translator, &Req) -> Result<Resp, RequestError>,
    ) -> Result<Response<Resp>, Status>
    where
        Req: Message + Send + 'static,
        Resp: Message + Send + 'static,
    {
        let request_bytes = request.encoded_len();
        let call = self.metrics.start(method, request_bytes);
        let limit = self.limits.max_message_bytes;
        let result = if request_bytes > limit {
            Err(RequestError::TooLarge { field: "request", size: request_bytes, limit })
        } else {
            let admitted = self
                .admit_request(method)
                .and_then(|request| self.admit_bytes(method, request_bytes).map(|bytes| (request, bytes)));
            match admitted {
                Err(error) => Err(error),
                Ok(_admitted) if request_bytes <= INLINE_REQUEST_BYTES => translate(self, &request),
                Ok(admitted) => {
                    let this = self.clone();
                    // The permits go with the work, which may outlive a timed-out call.
                    let work = tokio::task::spawn_blocking(move || {
                        let _admitted = admitted;
                        translate(&this, &request)
                    });
                    match tokio::time::timeout(self.limits.request_timeout, work).await {
                        Ok(Ok(result)) => result,
                        Ok(Err(join_error)) => Err(RequestError::Bug(join_error.to_string())),
                        Err(_) => Err(RequestError::Timeout { after: self.limits.request_timeout }),
                    }
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
        self.unary("ToGraph", request.into_inner(), Translator::write_graph).await
    }

    async fn from_graph(&self, request: Request<FromGraphRequest>) -> Result<Response<FromGraphResponse>, Status> {
        self.unary("FromGraph", request.into_inner(), Translator::read_graph).await
    }

    type TranslateStreamStream = ResponseStream;

    async fn translate_stream(
        &self,
        request: Request<Streaming<TranslateStreamRequest>>,
    ) -> Result<Response<ResponseStream>, Status> {
        let permit = self.admit_request("TranslateStream")?;
        let mut inbound = request.into_inner();
        let (responses, outbound) = mpsc::channel(32);
        let translator = self.clone();
        let mut shutdown = self.shutdown.clone();
        let open = self.metrics.stream_opened();
        tokio::spawn(async move {
            let _held = (permit, open);
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
                    Ok(Some(item)) => Ok(translator.stream_item(item)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn translator(max_in_flight_bytes: usize, max_concurrent_requests: usize) -> Translator {
        let limits = Limits {
            max_message_bytes: 4096,
            max_json_depth: codec::DEFAULT_MAX_DEPTH,
            max_concurrent_requests,
            max_in_flight_bytes,
            request_timeout: Duration::from_secs(1),
        };
        Translator::new(limits, Arc::new(Metrics::default()), watch::channel(false).1)
    }

    #[test]
    fn the_byte_budget_refuses_what_would_go_over_and_frees_on_drop() {
        let translator = translator(10 * 1024, 8);
        let held = translator.admit_bytes("FromGraph", 6 * 1024).unwrap();
        let refused = translator.admit_bytes("FromGraph", 5 * 1024).unwrap_err();
        assert!(matches!(refused, RequestError::OverBudget { limit: 10240 }), "{refused:?}");
        assert_eq!(Status::from(refused).code(), Code::ResourceExhausted);
        let _small = translator.admit_bytes("FromGraph", 4 * 1024).unwrap();
        drop(held);
        let _again = translator.admit_bytes("FromGraph", 6 * 1024).expect("freed when the request ended");
    }

    #[test]
    fn the_request_limit_counts_requests_whatever_their_size() {
        let translator = translator(1024 * 1024, 2);
        let _first = translator.admit_request("ToGraph").unwrap();
        let _second = translator.admit_request("ToGraph").unwrap();
        assert!(matches!(translator.admit_request("ToGraph"), Err(RequestError::Overloaded { limit: 2 })));
    }
}
