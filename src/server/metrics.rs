//! Prometheus metrics of one server, rendered by the admin port's `GET /metrics`.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, OnceLock, RwLock},
    time::Instant,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tonic::Code;

use crate::pb::{UnknownData, UnknownDataKind};

/// Distinct `graph_type` label values kept before further ones are counted as `other`: an unknown
/// `@odata.type` is caller input, and labels must not grow without bound.
const MAX_GRAPH_TYPE_LABELS: usize = 256;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UnknownLabels {
    kind: &'static str,
    graph_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphCallLabels {
    method: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphMethodLabels {
    method: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<MethodLabels, Histogram>,
    request_bytes: Family<MethodLabels, Counter>,
    response_bytes: Family<MethodLabels, Counter>,
    in_flight: Gauge,
    shed: Family<MethodLabels, Counter>,
    unknown_data: Family<UnknownLabels, Counter>,
    graph_types: Mutex<HashSet<String>>,
    graph_calls: Family<GraphCallLabels, Counter>,
    graph_duration: Family<GraphMethodLabels, Histogram>,
    graph_retries: Family<ReasonLabels, Counter>,
    token_requests: Family<OutcomeLabels, Counter>,
    /// Each method's series of every call, found by its name after its first call instead of by
    /// hashing their labels four times a call.
    methods: RwLock<Vec<Arc<MethodSeries>>>,
}

/// The series a call of `method` counts in, taken from their families.
struct MethodSeries {
    method: &'static str,
    request_bytes: Counter,
    duration: Histogram,
    response_bytes: Counter,
    /// Made by the first call answered OK, as the family would.
    ok: OnceLock<Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("graphbridge"),
            requests: Family::default(),
            // 50 µs .. ~3.3 s
            duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_05, 3.0, 11))),
            request_bytes: Family::default(),
            response_bytes: Family::default(),
            in_flight: Gauge::default(),
            shed: Family::default(),
            unknown_data: Family::default(),
            graph_types: Mutex::new(HashSet::new()),
            graph_calls: Family::default(),
            // 5 ms .. ~100 s
            graph_duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.005, 3.0, 10))),
            graph_retries: Family::default(),
            token_requests: Family::default(),
            methods: RwLock::default(),
        };
        let r = &mut metrics.registry;
        r.register(
            "requests",
            "Translator requests (stream items each count) by method and gRPC code",
            metrics.requests.clone(),
        );
        r.register("request_duration_seconds", "Time to answer a Translator request", metrics.duration.clone());
        r.register("request_bytes", "Protobuf bytes of Translator requests", metrics.request_bytes.clone());
        r.register("response_bytes", "Protobuf bytes of Translator responses", metrics.response_bytes.clone());
        r.register("in_flight_requests", "Translator requests and streams being served", metrics.in_flight.clone());
        r.register("shed_requests", "Translator requests refused at the concurrency limit", metrics.shed.clone());
        r.register(
            "unknown_data",
            "Data Graph sent or callers wrote that the schema does not model, by kind and Graph type: \
             the early warning that Graph's schema moved",
            metrics.unknown_data.clone(),
        );
        r.register(
            "graph_requests",
            "HTTP requests to Graph by method and status (timeout, error: no answer)",
            metrics.graph_calls.clone(),
        );
        r.register(
            "graph_request_duration_seconds",
            "Time of one HTTP request to Graph",
            metrics.graph_duration.clone(),
        );
        r.register("graph_retries", "Graph requests sent again, by reason", metrics.graph_retries.clone());
        r.register("token_requests", "Entra ID token requests by outcome", metrics.token_requests.clone());
        metrics
    }
}

impl Metrics {
    /// Starts timing one request of `method`; the guard counts it as in flight until dropped.
    pub(crate) fn start(&self, method: &'static str, request_bytes: usize) -> Call<'_> {
        self.in_flight.inc();
        let series = self.series(method);
        series.request_bytes.inc_by(request_bytes as u64);
        Call { metrics: self, series, started: Instant::now() }
    }

    fn series(&self, method: &'static str) -> Arc<MethodSeries> {
        let found = |methods: &[Arc<MethodSeries>]| methods.iter().find(|s| s.method == method).cloned();
        if let Some(series) = found(&self.methods.read().unwrap_or_else(|poisoned| poisoned.into_inner())) {
            return series;
        }
        let mut methods = self.methods.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        found(&methods).unwrap_or_else(|| {
            let labels = MethodLabels { method };
            let series = Arc::new(MethodSeries {
                method,
                request_bytes: self.request_bytes.get_or_create(&labels).clone(),
                duration: self.duration.get_or_create(&labels).clone(),
                response_bytes: self.response_bytes.get_or_create(&labels).clone(),
                ok: OnceLock::new(),
            });
            methods.push(series.clone());
            series
        })
    }

    /// Counts an open stream as in flight until the guard is dropped.
    pub(crate) fn stream_opened(self: &Arc<Self>) -> OpenStream {
        self.in_flight.inc();
        OpenStream(self.clone())
    }

    pub(crate) fn shed(&self, method: &'static str) {
        self.shed.get_or_create(&MethodLabels { method }).inc();
    }

    pub(crate) fn unknown_data(&self, entries: &[UnknownData]) {
        for entry in entries {
            let graph_type = self.graph_type_label(&entry.graph_type);
            self.unknown_data.get_or_create(&UnknownLabels { kind: kind_label(entry.kind()), graph_type }).inc();
        }
    }

    /// One HTTP request to Graph: `status` is the HTTP status, `timeout` or `error`.
    pub(crate) fn graph_call(&self, method: &str, status: &str, elapsed: std::time::Duration) {
        let labels = GraphCallLabels { method: method.to_owned(), status: status.to_owned() };
        self.graph_calls.get_or_create(&labels).inc();
        self.graph_duration
            .get_or_create(&GraphMethodLabels { method: method.to_owned() })
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn graph_retry(&self, reason: &'static str) {
        self.graph_retries.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub(crate) fn token_request(&self, outcome: &'static str) {
        self.token_requests.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    fn graph_type_label(&self, graph_type: &str) -> String {
        let mut seen = self.graph_types.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.contains(graph_type) {
            graph_type.to_owned()
        } else if seen.len() < MAX_GRAPH_TYPE_LABELS {
            seen.insert(graph_type.to_owned());
            graph_type.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// The OpenMetrics text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// One request being served.
pub(crate) struct Call<'m> {
    metrics: &'m Metrics,
    series: Arc<MethodSeries>,
    started: Instant,
}

impl Call<'_> {
    /// Records the outcome; `response_bytes` is 0 for an error.
    pub(crate) fn finish(self, code: Code, response_bytes: usize) {
        let elapsed = self.started.elapsed();
        let series = &self.series;
        let method = series.method;
        let requests = |code| self.metrics.requests.get_or_create(&RequestLabels { method, code }).clone();
        match code {
            Code::Ok => series.ok.get_or_init(|| requests(code_label(Code::Ok))).inc(),
            code => requests(code_label(code)).inc(),
        };
        series.duration.observe(elapsed.as_secs_f64());
        series.response_bytes.inc_by(response_bytes as u64);
        tracing::debug!(method, code = code_label(code), latency_us = elapsed.as_micros() as u64, "request");
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
    }
}

/// An open stream, in flight until dropped.
pub(crate) struct OpenStream(Arc<Metrics>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

fn kind_label(kind: UnknownDataKind) -> &'static str {
    match kind {
        UnknownDataKind::Unspecified => "unspecified",
        UnknownDataKind::Property => "property",
        UnknownDataKind::Type => "type",
        UnknownDataKind::EnumMember => "enum_member",
        UnknownDataKind::Null => "null",
        UnknownDataKind::RawValue => "raw_value",
    }
}

/// The canonical upper-case gRPC code name, as other gRPC metrics spell it.
pub(crate) fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_method_and_code() {
        let metrics = Metrics::default();
        metrics.start("ToGraph", 10).finish(Code::Ok, 100);
        metrics.start("ToGraph", 10).finish(Code::InvalidArgument, 0);
        metrics.start("FromGraph", 5).finish(Code::InvalidArgument, 0);
        metrics.start("ToGraph", 10).finish(Code::Ok, 1);
        metrics.shed("FromGraph");
        let text = metrics.render();
        assert!(text.contains(r#"graphbridge_requests_total{method="ToGraph",code="OK"} 2"#), "{text}");
        assert!(text.contains(r#"graphbridge_response_bytes_total{method="ToGraph"} 101"#), "{text}");
        assert!(text.contains(r#"graphbridge_request_duration_seconds_count{method="ToGraph"} 3"#), "{text}");
        assert!(text.contains(r#"graphbridge_requests_total{method="FromGraph",code="INVALID_ARGUMENT"} 1"#), "{text}");
        assert!(!text.contains(r#"graphbridge_requests_total{method="FromGraph",code="OK"}"#), "{text}");
        assert!(text.contains(r#"graphbridge_requests_total{method="ToGraph",code="INVALID_ARGUMENT"} 1"#), "{text}");
        assert!(text.contains(r#"graphbridge_request_bytes_total{method="ToGraph"} 30"#), "{text}");
        assert!(text.contains(r#"graphbridge_shed_requests_total{method="FromGraph"} 1"#), "{text}");
        assert!(text.contains("graphbridge_in_flight_requests 0"), "{text}");
    }

    #[test]
    fn graph_type_labels_are_bounded() {
        let metrics = Metrics::default();
        let entries: Vec<UnknownData> = (0..MAX_GRAPH_TYPE_LABELS + 10)
            .map(|i| UnknownData {
                graph_type: format!("t{i}"),
                kind: UnknownDataKind::Type.into(),
                ..Default::default()
            })
            .collect();
        metrics.unknown_data(&entries);
        let text = metrics.render();
        assert!(text.contains(r#"graphbridge_unknown_data_total{kind="type",graph_type="other"} 10"#), "{text}");
        assert_eq!(text.matches("graphbridge_unknown_data_total{").count(), MAX_GRAPH_TYPE_LABELS + 1);
    }
}
