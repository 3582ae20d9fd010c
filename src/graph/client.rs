//! One Graph request, as callers can count on it: a token, a `client-request-id` kept across
//! retries, throttling shared by every call, a bound on requests in flight, retries that are
//! safe for the method, and never past the call's deadline.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode, header};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::Semaphore;

use super::{
    credentials::random_id,
    error::{GatewayError, GraphFailure, Operation, WaitLimit},
    http::{Answer, Transport, TransportError},
    retry::{Attempt, MAX_WAIT, RetryReason, backoff, parse_retry_after, retry_reason},
    settings::BaseUrl,
    token::Tokens,
};
use crate::server::metrics::Metrics;

/// The longest throttling window kept: Graph's own have been minutes.
const LONGEST_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Why a wait of `wait` (until `until`) cannot be made, if it cannot.
fn wait_limit(until: Instant, wait: Duration, deadline: Option<Instant>) -> Option<WaitLimit> {
    match deadline {
        Some(deadline) if until >= deadline => Some(WaitLimit::Deadline),
        None if wait > MAX_WAIT => Some(WaitLimit::MaxWait),
        _ => None,
    }
}

/// One request to send to Graph.
pub(crate) struct GraphRequest {
    pub method: Method,
    /// The whole URL, under --graph-url.
    pub url: String,
    /// JSON to send (POST, PATCH).
    pub body: Option<Bytes>,
    pub operation: Operation,
}

pub(crate) struct GraphClient {
    graph_url: BaseUrl,
    transport: Transport,
    /// None without credentials: every call is refused before anything is sent.
    tokens: Option<Tokens>,
    /// Graph throttled until then: every call waits for the same window, as Graph keeps counting
    /// requests sent during it.
    throttled_until: Mutex<Option<Instant>>,
    in_flight: Semaphore,
    max_retries: u32,
    metrics: Arc<Metrics>,
    rng: SystemRandom,
}

impl GraphClient {
    pub(crate) fn new(
        graph_url: BaseUrl,
        transport: Transport,
        tokens: Option<Tokens>,
        max_concurrent_requests: usize,
        max_retries: u32,
        metrics: Arc<Metrics>,
    ) -> Self {
        GraphClient {
            graph_url,
            transport,
            tokens,
            throttled_until: Mutex::new(None),
            in_flight: Semaphore::new(max_concurrent_requests),
            max_retries,
            metrics,
            rng: SystemRandom::new(),
        }
    }

    pub(crate) fn graph_url(&self) -> &BaseUrl {
        &self.graph_url
    }

    pub(crate) fn is_configured(&self) -> bool {
        self.tokens.is_some()
    }

    /// Sends `request` until Graph answers with success, an error that is not retried, or the
    /// retries or the deadline run out.
    pub(crate) async fn send(&self, request: &GraphRequest, deadline: Option<Instant>) -> Result<Answer, GatewayError> {
        let tokens = self.tokens.as_ref().ok_or(GatewayError::NotConfigured)?;
        let client_request_id = random_id(&self.rng);
        let work = self.attempts(tokens, request, &client_request_id, deadline);
        match deadline {
            Some(deadline) => {
                tokio::time::timeout_at(deadline.into(), work).await.unwrap_or(Err(GatewayError::DeadlineExceeded))
            }
            None => work.await,
        }
    }

    async fn attempts(
        &self,
        tokens: &Tokens,
        request: &GraphRequest,
        client_request_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Answer, GatewayError> {
        let (mut retries, mut token_refused) = (0, false);
        loop {
            self.wait_out_throttling(deadline).await?;
            let time_left =
                deadline.map_or(Duration::MAX, |deadline| deadline.saturating_duration_since(Instant::now()));
            let permit = self.in_flight.acquire().await.map_err(|_| GatewayError::DeadlineExceeded)?;
            let token = tokens.get(time_left).await?;
            let started = Instant::now();
            let outcome =
                self.transport.send(self.http_request(request, &token.header, client_request_id), time_left).await;
            drop(permit);
            // The send after a refused token is no retry (it spends none of --graph-max-retries)
            // but is another attempt.
            let number = retries + u32::from(token_refused);
            self.observe(request, &outcome, client_request_id, number, started.elapsed());

            let outcome = match outcome {
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer) if answer.status == StatusCode::UNAUTHORIZED && !token_refused => {
                    // The token may have been revoked or rotated: one new token, one more try.
                    tokens.refused(&token).await;
                    token_refused = true;
                    self.metrics.graph_retry(RetryReason::Unauthorized.label());
                    continue;
                }
                other => other,
            };
            let attempt = match &outcome {
                Ok(answer) => Attempt::Answered(answer.status),
                Err(TransportError::Connect(_)) => Attempt::NotSent,
                Err(TransportError::Timeout(_)) => Attempt::Lost { timed_out: true },
                Err(TransportError::Failed(_)) => Attempt::Lost { timed_out: false },
                Err(TransportError::TooLarge { .. }) => Attempt::Oversized,
            };
            let failure = |answer: &Answer| self.failure(answer, client_request_id);
            let error = match outcome {
                Ok(answer) => GatewayError::Graph {
                    operation: request.operation,
                    host: self.graph_url.host().to_owned(),
                    failure: Box::new(failure(&answer)),
                },
                Err(TransportError::Timeout(_)) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    GatewayError::DeadlineExceeded
                }
                Err(error) => GatewayError::Transport { host: self.graph_url.host().to_owned(), error },
            };
            let Some(reason) = retry_reason(&request.method, attempt) else {
                return Err(error);
            };
            let graph_wait = match &error {
                GatewayError::Graph { failure, .. } => failure.retry_after,
                _ => None,
            };
            if retries >= self.max_retries {
                return Err(error);
            }
            // Capped so that instants stay representable whatever Graph sends (1e19 s parses).
            let wait = graph_wait.unwrap_or_else(|| backoff(retries, self.jitter())).min(LONGEST_WINDOW);
            if graph_wait.is_some() {
                // Everyone waits for Graph's window (this call at the top of the loop), even if
                // this call gives up now: Graph counts requests sent during it.
                let until = Instant::now() + wait;
                let mut throttled = self.throttled_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                *throttled = Some(throttled.map_or(until, |current| current.max(until)));
            }
            if let Some(limit) = wait_limit(Instant::now() + wait, wait, deadline) {
                // Waiting could not end in an answer within the call's time: fail now.
                return Err(match error {
                    GatewayError::Graph { failure, host, .. } if reason == RetryReason::Throttled => {
                        GatewayError::Throttled { wait, limit, failure: Some(failure), host }
                    }
                    other => other,
                });
            }
            if graph_wait.is_none() {
                tokio::time::sleep(wait).await;
            }
            retries += 1;
            self.metrics.graph_retry(reason.label());
        }
    }

    /// Waits while Graph's throttling window lasts; fails at once if it outlasts the deadline.
    async fn wait_out_throttling(&self, deadline: Option<Instant>) -> Result<(), GatewayError> {
        let until = *self.throttled_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(until) = until.filter(|until| *until > Instant::now()) else {
            return Ok(());
        };
        let wait = until.saturating_duration_since(Instant::now());
        if let Some(limit) = wait_limit(until, wait, deadline) {
            let host = self.graph_url.host().to_owned();
            return Err(GatewayError::Throttled { wait, limit, failure: None, host });
        }
        tokio::time::sleep_until(until.into()).await;
        Ok(())
    }

    fn http_request(
        &self,
        request: &GraphRequest,
        authorization: &str,
        client_request_id: &str,
    ) -> Request<Full<Bytes>> {
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(&request.url)
            .header(header::AUTHORIZATION, authorization)
            .header(header::ACCEPT, "application/json")
            .header("client-request-id", client_request_id)
            .header("return-client-request-id", "true");
        if request.method != Method::DELETE {
            // New enum members by name, not as unknownFutureValue, in every entity Graph answers
            // (a create's and an update's too): kept in additional_data.
            builder = builder.header("prefer", "include-unknown-enum-members");
        }
        let body = match &request.body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Full::new(json.clone())
            }
            None => Full::new(Bytes::new()),
        };
        // Every part was checked: the URL is built under --graph-url from encoded segments.
        builder.body(body).expect("a valid request")
    }

    /// Metrics and the debug line of one attempt: ids, never a header or a body.
    fn observe(
        &self,
        request: &GraphRequest,
        outcome: &Result<Answer, TransportError>,
        client_request_id: &str,
        attempt: u32,
        elapsed: Duration,
    ) {
        let (status, request_id) = match outcome {
            Ok(answer) => (answer.status.as_str().to_owned(), answer.header("request-id").unwrap_or_default()),
            Err(TransportError::Timeout(_)) => ("timeout".to_owned(), ""),
            Err(_) => ("error".to_owned(), ""),
        };
        self.metrics.graph_call(request.method.as_str(), &status, elapsed);
        tracing::debug!(
            method = %request.method,
            operation = ?request.operation,
            status,
            request_id,
            client_request_id,
            attempt,
            elapsed_ms = elapsed.as_millis() as u64,
            "graph call"
        );
    }

    /// Graph's error body and headers as one failure.
    fn failure(&self, answer: &Answer, client_request_id: &str) -> GraphFailure {
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        let error = &body["error"];
        let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        let inner = error.get("innerError").or_else(|| error.get("innererror")).unwrap_or(&serde_json::Value::Null);
        let mut request_id = text(&inner["request-id"]);
        if request_id.is_empty() {
            request_id = answer.header("request-id").unwrap_or_default().to_owned();
        }
        let mut message = text(&error["message"]);
        if message.is_empty() {
            message = format!("HTTP {}", answer.status);
        }
        let throttling = matches!(answer.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
        let retry_after = answer
            .header("retry-after")
            .filter(|_| throttling)
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        GraphFailure {
            status: answer.status.as_u16(),
            code: text(&error["code"]),
            message,
            request_id,
            client_request_id: client_request_id.to_owned(),
            retry_after,
        }
    }

    fn jitter(&self) -> f64 {
        let mut bytes = [0u8; 4];
        let _ = self.rng.fill(&mut bytes);
        f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
    }
}
