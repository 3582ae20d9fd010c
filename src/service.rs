//! The `graphbridge.v1.Translator` gRPC service: request checks around the codec.

use std::pin::Pin;

use prost::Message as _;
use tokio_stream::{Stream, StreamExt as _};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    codec::{self, Policy},
    pb::{
        FromGraphRequest, FromGraphResponse, ToGraphRequest, ToGraphResponse, TranslateStreamRequest,
        TranslateStreamResponse, UnknownDataPolicy, translate_stream_request, translate_stream_response,
        translator_server,
    },
};

/// Limits a request must respect.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest JSON text accepted by FromGraph or produced by ToGraph, in bytes.
    pub max_json_bytes: usize,
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
}

/// Why a request was refused before or after the codec ran.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{field} is {size} bytes, over the limit of {limit} bytes (--max-message-bytes)")]
    TooLarge { field: &'static str, size: usize, limit: usize },
    #[error("{field}: {value} is not a graphbridge.v1.UnknownDataPolicy value")]
    BadPolicy { field: &'static str, value: i32 },
    #[error("request: exactly one of to_graph, from_graph must be set")]
    MissingRequest,
    #[error(transparent)]
    Codec(#[from] codec::Error),
}

impl From<RequestError> for Status {
    fn from(error: RequestError) -> Self {
        let message = error.to_string();
        match error {
            RequestError::TooLarge { .. } => Status::resource_exhausted(message),
            RequestError::BadPolicy { field, .. } => invalid_field(field, message),
            RequestError::MissingRequest => invalid_field("request", message),
            RequestError::Codec(error) => error.into(),
        }
    }
}

fn invalid_field(field: &str, message: String) -> Status {
    codec::Error::Invalid(vec![codec::Violation::new(field, message)]).into()
}

/// The Translator service.
#[derive(Debug, Clone)]
pub struct Translator {
    limits: Limits,
}

impl Translator {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    pub fn to_graph(&self, request: &ToGraphRequest) -> Result<ToGraphResponse, RequestError> {
        let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
        let written = codec::to_graph(&request.actions, policy, request.pretty, self.limits.max_json_depth)?;
        self.check_size("json (the output)", written.json.len())?;
        Ok(ToGraphResponse { json: written.json, unknown_data: written.unknown_data })
    }

    pub fn from_graph(&self, request: &FromGraphRequest) -> Result<FromGraphResponse, RequestError> {
        self.check_size("json", request.json.len())?;
        let policy = policy("unknown_data_policy", request.unknown_data_policy)?;
        let read = codec::from_graph(&request.json, policy, self.limits.max_json_depth)?;
        Ok(FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data })
    }

    fn check_size(&self, field: &'static str, size: usize) -> Result<(), RequestError> {
        let limit = self.limits.max_json_bytes;
        if size > limit { Err(RequestError::TooLarge { field, size, limit }) } else { Ok(()) }
    }

    /// Answers one stream item; a failure becomes the item's in-band error.
    pub fn stream_item(&self, item: TranslateStreamRequest) -> TranslateStreamResponse {
        use translate_stream_request::Request as In;
        use translate_stream_response::Result as Out;
        let result = match &item.request {
            Some(In::ToGraph(request)) => self.to_graph(request).map(Out::ToGraph),
            Some(In::FromGraph(request)) => self.from_graph(request).map(Out::FromGraph),
            None => Err(RequestError::MissingRequest),
        };
        let result = result.unwrap_or_else(|error| Out::Error(rpc_status(&Status::from(error))));
        TranslateStreamResponse { id: item.id, result: Some(result) }
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
        respond(Translator::to_graph(self, request.get_ref()))
    }

    async fn from_graph(&self, request: Request<FromGraphRequest>) -> Result<Response<FromGraphResponse>, Status> {
        respond(Translator::from_graph(self, request.get_ref()))
    }

    type TranslateStreamStream = ResponseStream;

    async fn translate_stream(
        &self,
        request: Request<Streaming<TranslateStreamRequest>>,
    ) -> Result<Response<ResponseStream>, Status> {
        let translator = self.clone();
        // A transport or decoding error ends the stream with that status; item errors do not.
        let responses = request.into_inner().map(move |item| item.map(|item| translator.stream_item(item)));
        Ok(Response::new(Box::pin(responses)))
    }
}

fn respond<T>(result: Result<T, RequestError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(|error| {
        let status = Status::from(error);
        // Every RequestError is the caller's mistake: worth a debug line, never an error log.
        tracing::debug!(code = ?status.code(), message = status.message(), "request refused");
        status
    })
}
