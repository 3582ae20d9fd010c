//! Admission before a request's body is read (RELIABILITY.md, finding 6): a tower layer in
//! front of a gRPC service, told which of its methods to admit.
//!
//! tonic reads and decodes a whole request before its handler runs, so a limit checked in the
//! handler cannot bound memory: hundreds of large bodies would be held while waiting to be
//! refused. Here a request takes its place among `--max-concurrent-requests` from its headers
//! alone (or is refused at once, its body never read); its body is charged to the
//! `--max-in-flight-bytes` budget frame by frame as it arrives, and each message's declared size
//! is checked against `--max-message-bytes` from its gRPC length prefix (either refusal ends the
//! body with RESOURCE_EXHAUSTED; it is not read further). The admission travels to the handler in
//! the request's extensions and with the response until it is sent, so one admission covers
//! receiving, decoding, translating and answering.

use std::{
    convert::Infallible,
    future::{Future, Ready, ready},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, ready},
};

use futures_util::future::Either;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{
    Status,
    body::Body,
    codegen::{Bytes, Service, http},
    server::NamedService,
};
use tower_layer::Layer;

use super::metrics::Metrics;

/// Permits of the in-flight byte budget are KiB: a u32 count covers any sane budget.
const BUDGET_UNIT: usize = 1024;

/// Limits on the work admitted at once, across all connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdmissionLimits {
    /// Largest message a request may declare, in bytes.
    pub max_message_bytes: usize,
    /// Requests (an open stream counts as one) served at once.
    pub max_concurrent_requests: usize,
    /// Request bytes received and not yet answered, across all calls.
    pub max_in_flight_bytes: usize,
}

/// Why a request was refused; its body is not read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("request is {size} bytes, over the limit of {limit} bytes (--max-message-bytes)")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "graphbridge is at its limit of {limit} concurrent requests (--max-concurrent-requests); retry with backoff"
    )]
    Overloaded { limit: usize },
    #[error(
        "graphbridge is translating its limit of {limit} request bytes at once (--max-in-flight-bytes); retry with backoff"
    )]
    OverBudget { limit: usize },
}

/// The status a refusal is answered with (the gRPC edge decides it).
pub(crate) type Refusal = fn(AdmissionError) -> Status;

/// The limits on work at once, shared by every connection.
#[derive(Clone)]
pub(crate) struct Admission {
    limits: AdmissionLimits,
    /// The methods admitted (by the last segment of their path); others pass straight through.
    methods: &'static [&'static str],
    refusal: Refusal,
    /// One per request (or open stream) being served.
    requests: Arc<Semaphore>,
    /// The in-flight byte budget, in BUDGET_UNITs.
    bytes: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl Admission {
    pub(crate) fn new(
        limits: AdmissionLimits,
        methods: &'static [&'static str],
        refusal: Refusal,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            limits,
            methods,
            refusal,
            requests: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            bytes: Arc::new(Semaphore::new(limits.max_in_flight_bytes / BUDGET_UNIT)),
            metrics,
        }
    }

    /// A place among the requests served at once, or RESOURCE_EXHAUSTED at once.
    fn admit(&self, method: &'static str) -> Result<Admitted, AdmissionError> {
        let request = self.requests.clone().try_acquire_owned().map_err(|_| {
            self.metrics.shed(method);
            AdmissionError::Overloaded { limit: self.limits.max_concurrent_requests }
        })?;
        Ok(Admitted { _request: request, charge: Mutex::default(), admission: self.clone(), method })
    }

    /// The admitted method `path` names, if any.
    fn method(&self, path: &str) -> Option<&'static str> {
        let (_, name) = path.rsplit_once('/')?;
        self.methods.iter().copied().find(|known| *known == name)
    }
}

impl<S> Layer<S> for Admission {
    type Service = Admit<S>;

    /// Wraps `inner` so that every call of an admitted method is admitted before its body is read.
    fn layer(&self, inner: S) -> Admit<S> {
        Admit { inner, admission: self.clone() }
    }
}

/// One admitted request (or stream), handed to the handler in the request's extensions.
pub(crate) struct Admitted {
    _request: OwnedSemaphorePermit,
    charge: Mutex<Charge>,
    admission: Admission,
    method: &'static str,
}

/// The gRPC message prefix: a compression flag and a big-endian u32 length.
const PREFIX_BYTES: usize = 5;

/// Body bytes received and not yet released, the budget units held for them, and where the
/// body's messages begin.
#[derive(Default)]
struct Charge {
    received: usize,
    held: Option<OwnedSemaphorePermit>,
    messages: Prefixes,
}

/// Follows the gRPC framing of a body as it streams by, so that each message's declared size
/// is known from its prefix, before the message itself arrives.
#[derive(Default)]
struct Prefixes {
    /// Bytes of the current message still to come before the next prefix.
    to_skip: usize,
    prefix: [u8; PREFIX_BYTES],
    filled: usize,
    /// The size the last complete prefix declared.
    declared: usize,
}

impl Prefixes {
    /// Moves past `data`. Stops at the first message that declares more than `limit` bytes:
    /// Err((where its prefix starts in `data`, 0 if in an earlier frame; its declared size)).
    fn scan(&mut self, data: &[u8], limit: usize) -> Result<(), (usize, usize)> {
        let mut at = 0;
        while at < data.len() {
            if self.to_skip > 0 {
                let skipped = self.to_skip.min(data.len() - at);
                self.to_skip -= skipped;
                at += skipped;
                continue;
            }
            let prefix_start = at.saturating_sub(self.filled);
            let taken = (PREFIX_BYTES - self.filled).min(data.len() - at);
            self.prefix[self.filled..self.filled + taken].copy_from_slice(&data[at..at + taken]);
            self.filled += taken;
            at += taken;
            if self.filled == PREFIX_BYTES {
                let [_compressed, length @ ..] = self.prefix;
                self.to_skip = u32::from_be_bytes(length) as usize;
                self.declared = self.to_skip;
                self.filled = 0;
                if self.to_skip > limit {
                    return Err((prefix_start, self.to_skip));
                }
            }
        }
        Ok(())
    }
}

impl Admitted {
    /// Charges `data`, the next bytes of the body, to the budget. Refused: RESOURCE_EXHAUSTED,
    /// with how many bytes of `data` may still be passed on (those before a message that
    /// declares a size over --max-message-bytes; all of them when the budget is spent).
    fn receive(&self, data: &[u8]) -> Result<(), (usize, AdmissionError)> {
        let mut charge = self.charge.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let limit = self.admission.limits.max_message_bytes;
        charge.messages.scan(data, limit).map_err(|(start, size)| (start, AdmissionError::TooLarge { size, limit }))?;
        let received = charge.received + data.len();
        let held = charge.held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        let more = received.div_ceil(BUDGET_UNIT) - held;
        if more > 0 {
            let units = u32::try_from(more).unwrap_or(u32::MAX);
            let permit = self.admission.bytes.clone().try_acquire_many_owned(units).map_err(|_| {
                self.admission.metrics.shed(self.method);
                (data.len(), AdmissionError::OverBudget { limit: self.admission.limits.max_in_flight_bytes })
            })?;
            match &mut charge.held {
                Some(held) => held.merge(permit),
                None => charge.held = Some(permit),
            }
        }
        charge.received = received;
        Ok(())
    }

    /// The size of the message received last, as its length prefix declared it (within
    /// --max-message-bytes, or the body was refused): a unary call's request size.
    pub(crate) fn message_bytes(&self) -> usize {
        self.charge.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).messages.declared
    }

    /// Gives back the budget held for what was received so far: a stream calls this once an
    /// item is answered. Bytes of the next item already received (at most one HTTP/2 frame) are
    /// released with it, so a stream's charge lags by at most that much.
    pub(crate) fn release_bytes(&self) {
        let mut charge = self.charge.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        charge.received = 0;
        charge.held = None;
    }
}

/// A service behind the admission.
#[derive(Clone)]
pub(crate) struct Admit<S> {
    inner: S,
    admission: Admission,
}

impl<S: NamedService> NamedService for Admit<S> {
    const NAME: &'static str = S::NAME;
}

type Answer = http::Response<Body>;

impl<S> Service<http::Request<Body>> for Admit<S>
where
    S: Service<http::Request<Body>, Response = Answer, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Either<Answering<S::Future>, Ready<Result<Answer, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let Some(method) = self.admission.method(request.uri().path()) else {
            return Either::Left(Answering { inner: self.inner.call(request), admitted: None });
        };
        match self.admission.admit(method) {
            Ok(admitted) => {
                let admitted = Arc::new(admitted);
                let (mut parts, body) = request.into_parts();
                parts.extensions.insert(admitted.clone());
                let body = Body::new(Metered { inner: body, admitted: admitted.clone(), refused: None });
                let inner = self.inner.call(http::Request::from_parts(parts, body));
                Either::Left(Answering { inner, admitted: Some(admitted) })
            }
            Err(refused) => {
                // Counted like any answered call, with no request bytes: none were read.
                let call = self.admission.metrics.start(method, 0);
                let status = (self.admission.refusal)(refused);
                call.finish(status.code(), 0);
                Either::Right(ready(Ok(status.into_http())))
            }
        }
    }
}

/// A call being answered: its admission goes on with the response until the response is sent
/// (or dropped), so that responses waiting for a slow reader stay within the limits too.
pub(crate) struct Answering<F> {
    inner: F,
    admitted: Option<Arc<Admitted>>,
}

impl<F: Future<Output = Result<Answer, Infallible>> + Unpin> Future for Answering<F> {
    type Output = Result<Answer, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(response) = ready!(Pin::new(&mut self.inner).poll(cx));
        Poll::Ready(Ok(match self.admitted.take() {
            Some(admitted) => response.map(|body| Body::new(Sending { inner: body, _admitted: admitted })),
            None => response,
        }))
    }
}

/// A response body that holds its call's admission.
struct Sending {
    inner: Body,
    _admitted: Arc<Admitted>,
}

impl HttpBody for Sending {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request body charged to the budget as its frames arrive.
struct Metered {
    inner: Body,
    admitted: Arc<Admitted>,
    /// Why the body ends: set by a frame that was refused, returned after that frame, so that
    /// the messages complete before it are still answered.
    refused: Option<Status>,
}

impl HttpBody for Metered {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(refused) = self.refused.take() {
            return Poll::Ready(Some(Err(refused)));
        }
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        let Some(Ok(frame)) = frame else { return Poll::Ready(frame) };
        let Some(data) = frame.data_ref() else { return Poll::Ready(Some(Ok(frame))) };
        match self.admitted.receive(data) {
            Ok(()) => Poll::Ready(Some(Ok(frame))),
            Err((0, refused)) => Poll::Ready(Some(Err((self.admitted.admission.refusal)(refused)))),
            Err((passed_on, refused)) => {
                self.refused = Some((self.admitted.admission.refusal)(refused));
                Poll::Ready(Some(Ok(Frame::data(data.slice(..passed_on)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max_in_flight_bytes: usize, max_concurrent_requests: usize) -> Admission {
        let limits = AdmissionLimits { max_message_bytes: 4096, max_concurrent_requests, max_in_flight_bytes };
        let refusal: Refusal = |error| Status::resource_exhausted(error.to_string());
        Admission::new(limits, &["ToGraph", "FromGraph"], refusal, Arc::new(Metrics::default()))
    }

    #[test]
    fn the_request_limit_counts_requests_whatever_their_size() {
        let admission = admission(1024 * 1024, 2);
        let _first = admission.admit("ToGraph").unwrap();
        let second = admission.admit("ToGraph").unwrap();
        assert!(matches!(admission.admit("ToGraph"), Err(AdmissionError::Overloaded { limit: 2 })));
        drop(second);
        admission.admit("ToGraph").expect("freed when the request ended");
    }

    #[test]
    fn bodies_are_charged_exactly_and_refused_over_budget() {
        let admission = admission(10 * 1024, 8);
        let first = admission.admit("FromGraph").unwrap();
        // Many small frames cost what their bytes cost, not a unit each.
        for _ in 0..6 * 1024 {
            first.receive(&[0]).unwrap();
        }
        assert_eq!(admission.bytes.available_permits(), 4);
        let second = admission.admit("FromGraph").unwrap();
        let (passed_on, refused) = second.receive(&[0; 5 * 1024]).unwrap_err();
        assert!(matches!(refused, AdmissionError::OverBudget { limit: 10240 }), "{refused:?}");
        assert_eq!(passed_on, 5 * 1024, "bytes already received are passed on");
        second.receive(&[0; 4 * 1024]).unwrap();
        drop(first);
        second.receive(&[0; 6 * 1024]).expect("freed when the first request ended");
    }

    #[test]
    fn a_message_over_the_limit_is_refused_from_its_prefix_even_when_split() {
        let admission = admission(1024 * 1024, 8);
        let call = admission.admit("ToGraph").unwrap();
        call.receive(&[0, 0]).unwrap();
        let refused = call.receive(&[0, 0x10, 0x01, b'x']).unwrap_err();
        assert!(matches!(refused, (0, AdmissionError::TooLarge { size: 4097, limit: 4096, .. })), "{refused:?}");
        let fits = admission.admit("FromGraph").unwrap();
        fits.receive(&[0, 0, 0, 0x10, 0x00, b'x']).expect("4096 bytes is within the limit");
    }

    #[test]
    fn every_message_of_a_stream_is_checked_wherever_the_frames_split_it() {
        // Three messages: 3 bytes, 4096 bytes, then 4097 bytes (over the limit).
        let mut body = vec![0, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0x10, 0x00];
        body.extend([7; 4096]);
        body.extend([0, 0, 0, 0x10, 0x01]);
        for frame in [1, 2, 5, 7, 4096, body.len()] {
            let admission = admission(1024 * 1024, 8);
            let stream = admission.admit("FromGraph").unwrap();
            let mut passed_on = 0;
            let refused = body.chunks(frame).find_map(|data| match stream.receive(data) {
                Ok(()) => {
                    passed_on += data.len();
                    None
                }
                Err((part, refused)) => {
                    passed_on += part;
                    Some(refused)
                }
            });
            let too_large = matches!(refused, Some(AdmissionError::TooLarge { size: 4097, .. }));
            assert!(too_large, "frames of {frame}: {refused:?}");
            // The two whole messages before it are passed on; of the refused one, at most the part
            // of its prefix that came in earlier frames.
            let before = 8 + 5 + 4096;
            assert!((before..before + PREFIX_BYTES).contains(&passed_on), "frames of {frame}: {passed_on}");
        }
    }

    #[test]
    fn a_stream_releases_its_charge_per_item() {
        let admission = admission(4 * 1024, 8);
        let stream = admission.admit("FromGraph").unwrap();
        let mut item = vec![0, 0, 0, 0x0b, 0xfb]; // a message of 3067 bytes: 3 KiB framed
        item.resize(3 * 1024, 7);
        for _ in 0..10 {
            stream.receive(&item).unwrap();
            stream.release_bytes();
        }
        assert_eq!(admission.bytes.available_permits(), 4);
    }

    #[test]
    fn only_the_named_methods_are_admitted() {
        let admission = admission(1024, 1);
        assert_eq!(admission.method("/graphbridge.v1.Translator/FromGraph"), Some("FromGraph"));
        assert_eq!(admission.method("/graphbridge.v1.Translator/ToGraph"), Some("ToGraph"));
        assert_eq!(admission.method("/graphbridge.v1.Translator/Nope"), None);
    }
}
