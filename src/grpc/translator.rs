//! The `graphbridge.v1.Translator` gRPC service: the codec's translations behind the admission,
//! with a timeout for large inputs, metrics, and in-band errors on the stream.

use std::{pin::Pin, sync::Arc, time::Duration};

use graphbridge_codec::translate::{self, Limits, Reported, TranslateError};
use prost::Message;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Code, Request, Response, Status, Streaming};
use tower_layer::Layer;

use super::{
    encoded::ToEncoded,
    status::{CallError, answered, rpc_status},
};
use crate::{
    pb::{
        Encoded, MigrateRuleRequest, MigrateRuleResponse, RuleToGraphResponse, ToGraphResponse, TranslateStreamRequest,
        TranslateStreamResponse, translate_stream_request, translate_stream_response, translator_server,
    },
    server::{
        admission::{Admission, AdmissionLimits, Admit, Admitted, Refusal},
        metrics::Metrics,
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

/// The Translator's methods, as the admission and the metrics name them.
pub(crate) const METHODS: &[&str] =
    &["ToGraph", "FromGraph", "TranslateStream", "RuleToGraph", "RuleFromGraph", "MigrateRule"];

/// How the Translator serves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TranslatorSettings {
    pub translation: Limits,
    pub admission: AdmissionLimits,
    /// Longest a unary call may take.
    pub request_timeout: Duration,
}

/// The Translator service. Cheap to clone: clones share limits and metrics.
#[derive(Clone)]
pub(crate) struct Translator {
    settings: TranslatorSettings,
    metrics: Arc<Metrics>,
    /// Becomes true when the server shuts down: open streams stop reading.
    shutdown: watch::Receiver<bool>,
}

impl Translator {
    pub(crate) fn new(settings: TranslatorSettings, metrics: Arc<Metrics>, shutdown: watch::Receiver<bool>) -> Self {
        Self { settings, metrics, shutdown }
    }

    /// The gRPC service, behind the admission that runs before a request's body is read.
    pub(crate) fn into_server(self) -> Admit<translator_server::TranslatorServer<Self>> {
        let max_decoded = self.settings.translation.max_message_bytes * TRANSPORT_LIMIT_FACTOR;
        let refusal: Refusal = Status::from;
        let admission = Admission::new(self.settings.admission, METHODS, refusal, self.metrics.clone());
        admission.layer(
            translator_server::TranslatorServer::new(self)
                .max_decoding_message_size(max_decoded)
                .max_encoding_message_size(max_decoded),
        )
    }

    /// Runs one translation and counts the unknown data its answer reports.
    fn answer<Req, Resp: Reported>(&self, translate: Translate<Req, Resp>, request: &Req) -> Result<Resp, CallError> {
        let response = translate(&self.settings.translation, request)?;
        self.metrics.unknown_data(response.unknown_data());
        Ok(response)
    }

    /// Runs one translation: inline when small, else on the blocking pool within
    /// --request-timeout. `held` goes with the work and is dropped when the work ends, which can
    /// be after a timed-out call was answered: a unary call's admission, a stream item's signal.
    async fn translate<Req, Resp, Held>(
        &self,
        translate: Translate<Req, Resp>,
        request: Req,
        request_bytes: usize,
        held: Held,
    ) -> Result<Resp, CallError>
    where
        Req: Send + 'static,
        Resp: Reported + Send + 'static,
        Held: Send + 'static,
    {
        if request_bytes <= INLINE_REQUEST_BYTES {
            return self.answer(translate, &request);
        }
        let this = self.clone();
        let work = tokio::task::spawn_blocking(move || {
            let _held = held;
            this.answer(translate, &request)
        });
        let after = self.settings.request_timeout;
        match tokio::time::timeout(after, work).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(CallError::Bug(join_error.to_string())),
            Err(_) => Err(CallError::Timeout { after }),
        }
    }

    /// Answers one stream item; a failure becomes the item's in-band error. `done` is dropped
    /// when the item's translation has ended, even one answered as timed out.
    async fn stream_item(&self, item: TranslateStreamRequest, done: oneshot::Sender<()>) -> TranslateStreamResponse {
        use translate_stream_request::Request as In;
        use translate_stream_response::Result as Out;
        let item_bytes = item.encoded_len();
        let call = self.metrics.start("TranslateStream", item_bytes);
        let result = match item.request {
            Some(In::ToGraph(request)) => {
                self.translate(translate::to_graph, request, item_bytes, done).await.map(Out::ToGraph)
            }
            Some(In::FromGraph(request)) => {
                self.translate(translate::from_graph, request, item_bytes, done).await.map(Out::FromGraph)
            }
            Some(In::RuleToGraph(request)) => {
                self.translate(translate::rule_to_graph, request, item_bytes, done).await.map(Out::RuleToGraph)
            }
            Some(In::RuleFromGraph(request)) => {
                self.translate(translate::rule_from_graph, request, item_bytes, done).await.map(Out::RuleFromGraph)
            }
            Some(In::MigrateRule(request)) => {
                self.translate(translate::migrate_rule, request, item_bytes, done).await.map(Out::MigrateRule)
            }
            None => Err(CallError::MissingRequest),
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
    /// is held until the answer is ready. The answer is sent as `Out`: itself, or its encoding.
    async fn unary<Req, Resp, Out>(
        &self,
        method: &'static str,
        request: Request<Req>,
        translate: Translate<Req, Resp>,
    ) -> Result<Response<Out>, Status>
    where
        Req: Send + 'static,
        Resp: Reported + Send + 'static,
        Out: From<Resp> + ToEncoded,
    {
        let admitted = admitted(&request);
        // The size its length prefix declared, which the admission has held to
        // --max-message-bytes: measuring the decoded message again would walk all of it.
        let request_bytes = admitted.as_ref().map_or(0, |admitted| admitted.message_bytes());
        let call = self.metrics.start(method, request_bytes);
        let result = match admitted {
            Err(error) => Err(error),
            Ok(admitted) => self.translate(translate, request.into_inner(), request_bytes, admitted).await,
        };
        answered(call, result.map(Out::from))
    }
}

/// One of the translations, as `unary` and stream items run it.
type Translate<Req, Resp> = fn(&Limits, &Req) -> Result<Resp, TranslateError>;

/// The admission the layer in front of the service gave this request.
fn admitted<T>(request: &Request<T>) -> Result<Arc<Admitted>, CallError> {
    request
        .extensions()
        .get::<Arc<Admitted>>()
        .cloned()
        .ok_or_else(|| CallError::Bug("a request reached the Translator without admission".into()))
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<TranslateStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl translator_server::Translator for Translator {
    async fn to_graph(&self, request: Request<Encoded>) -> Result<Response<ToGraphResponse>, Status> {
        self.unary("ToGraph", request, |limits, request| translate::to_graph_encoded(limits, &request.0)).await
    }

    async fn from_graph(&self, request: Request<Encoded>) -> Result<Response<Encoded>, Status> {
        self.unary("FromGraph", request, |limits, request| translate::from_graph_encoded(limits, &request.0)).await
    }

    async fn rule_to_graph(&self, request: Request<Encoded>) -> Result<Response<RuleToGraphResponse>, Status> {
        let translate = |limits: &Limits, request: &Encoded| translate::rule_to_graph_encoded(limits, &request.0);
        self.unary("RuleToGraph", request, translate).await
    }

    async fn rule_from_graph(&self, request: Request<Encoded>) -> Result<Response<Encoded>, Status> {
        let translate = |limits: &Limits, request: &Encoded| translate::rule_from_graph_encoded(limits, &request.0);
        self.unary("RuleFromGraph", request, translate).await
    }

    async fn migrate_rule(
        &self,
        request: Request<MigrateRuleRequest>,
    ) -> Result<Response<MigrateRuleResponse>, Status> {
        self.unary("MigrateRule", request, translate::migrate_rule).await
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
                match next {
                    Ok(Some(item)) => {
                        let (done, ended) = oneshot::channel::<()>();
                        let answer = translator.stream_item(item, done).await;
                        if responses.send(Ok(answer)).await.is_err() {
                            break;
                        }
                        // The next item is read only once this one's translation has ended (a
                        // timed-out one is answered at once but still runs), so items cannot
                        // pile up on the blocking pool, and the budget holds what is running.
                        let _ = ended.await;
                        admitted.release_bytes();
                    }
                    Ok(None) => break,
                    Err(status) => {
                        let _ = responses.send(Err(status)).await;
                        break;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(outbound))))
    }
}
