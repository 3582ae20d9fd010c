//! The gateway's own cost per call (BENCHMARKS.md): graphbridge in front of a Graph emulator,
//! against a plain HTTP client calling the same emulator, in one process and one run.
//!
//! - `get/plain_http`: a hyper HTTP/1.1 GET of one rule (`tests/fixtures/rules/new-get.json`,
//!   compacted) with an Authorization header, the connection reused: the floor, what any caller
//!   of Graph pays;
//! - `get/graphbridge`: GetDetectionRule through a tonic client: the same GET by graphbridge's
//!   Graph client (token cache, request id, metrics, retry bookkeeping), the answer translated by
//!   RuleFromGraph, the rule sent back over gRPC;
//! - `get/codec_alone`: that translation alone on the same bytes (RuleFromGraph and the protobuf
//!   encoding tonic does), and `get/grpc_health`: a Health/Check on the same channel (the gRPC
//!   hop with an empty message), to see where the difference goes;
//! - `list/…`: the same for a page of 10 rules (ListDetectionRules, which also seals the next
//!   page's token).
//!
//! The emulator answers from memory without checking anything, so that the figures are the
//! clients' and graphbridge's. Everything shares one tokio runtime on this machine's cores.
//!
//! `cargo bench --bench gateway` (ratios: `python3 benches/ratios.py`).

// The binary's allocator, so the bench times what the service does (the plain client runs on it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    hint::black_box,
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use axum::{
    Router,
    http::header::CONTENT_TYPE,
    routing::{get, post},
};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use graphbridge::{
    cli::{
        config::{self, Command},
        serve::Sidecar,
    },
    pb::{
        GetDetectionRuleRequest, ListDetectionRulesRequest, RuleFromGraphRequest, UnknownDataPolicy,
        detection_rule_service_client::DetectionRuleServiceClient,
    },
};
use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::fixtures::rule_fixture;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, StatusCode, Uri, header::AUTHORIZATION};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use prost::Message;
use serde_json::{Value, json};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const COLLECTION: &str = "/beta/security/rules/detectionRules";
const TENANT: &str = "bench-tenant";
const TOKEN: &str = "bench-access-token";
const PAGE_SIZE: usize = 10;

/// What the emulator answers: one rule, and a page of rules with a next link.
struct Answers {
    rule: Bytes,
    page: Bytes,
}

impl Answers {
    fn new(graph: SocketAddr) -> Self {
        let rule: Value = serde_json::from_str(&rule_fixture("new-get")).expect("the fixture is JSON");
        let rules: Vec<Value> = (0..PAGE_SIZE)
            .map(|i| {
                let mut rule = rule.clone();
                rule["id"] = format!("rule-{i}").into();
                rule
            })
            .collect();
        let page = json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#security/rules/detectionRules",
            "value": rules,
            // graphbridge seals only a next link under its own --graph-url.
            "@odata.nextLink": format!("http://{graph}{COLLECTION}?$top={PAGE_SIZE}&$skiptoken={PAGE_SIZE}"),
        });
        Answers { rule: Bytes::from(rule.to_string()), page: Bytes::from(page.to_string()) }
    }
}

/// Graph's two resources the calls use, and Entra ID's token endpoint.
async fn emulator() -> (SocketAddr, Answers) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the emulator");
    let addr = listener.local_addr().expect("its address");
    let answers = Answers::new(addr);
    let json = |body: Bytes| ([(CONTENT_TYPE, "application/json")], body);
    let (rule, page) = (answers.rule.clone(), answers.page.clone());
    let token = Bytes::from(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN}).to_string());
    let app = Router::new()
        .route(&format!("{COLLECTION}/{{id}}"), get(move || async move { json(rule) }))
        .route(COLLECTION, get(move || async move { json(page) }))
        .route("/{tenant}/oauth2/v2.0/token", post(move || async move { json(token) }));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the emulator serves") });
    (addr, answers)
}

/// graphbridge as `graphbridge serve` runs it, with the emulator as Graph and Entra ID.
fn graphbridge(graph: SocketAddr, secret_file: &Path) -> SocketAddr {
    let (graph_url, authority_url) = (format!("http://{graph}/beta"), format!("http://{graph}"));
    let args = [
        "graphbridge",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--graph-url",
        &graph_url,
        "--graph-authority-url",
        &authority_url,
        "--graph-tenant-id",
        TENANT,
        "--graph-client-id",
        "bench-client",
        "--graph-client-secret-file",
        secret_file.to_str().expect("a UTF-8 temporary path"),
    ];
    let Command::Serve(config) = config::parse(args, |_| None).expect("valid flags") else { panic!("not serve") };
    let bound = Sidecar::bind(&config).expect("bind 127.0.0.1:0");
    let api = bound.api_addr();
    tokio::spawn(async move { bound.serve(std::future::pending()).await.expect("graphbridge serves") });
    api
}

/// The floor: a GET with a bearer token, the body read whole, as graphbridge's client reads it.
async fn plain_get(http: &Client<HttpConnector, Empty<Bytes>>, uri: &Uri, bearer: &str) -> Bytes {
    let request = Request::get(uri.clone()).header(AUTHORIZATION, bearer).body(Empty::new()).expect("a valid request");
    let response = http.request(request).await.expect("the emulator answers");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body().collect().await.expect("the whole body").to_bytes()
}

/// Graph's answer read as graphbridge reads it (RuleFromGraph), and its rules encoded as tonic
/// encodes them in the response: graphbridge's translation alone.
fn translate(body: &Bytes) -> Vec<u8> {
    let json = std::str::from_utf8(body).expect("UTF-8").to_owned();
    let request = RuleFromGraphRequest { json, unknown_data_policy: UnknownDataPolicy::Preserve.into() };
    let read = translate::rule_from_graph(&Limits::UNBOUNDED, &request).expect("a readable answer");
    let mut encoded = Vec::new();
    for rule in &read.rules {
        rule.encode(&mut encoded).expect("a Vec grows");
    }
    encoded
}

/// `iters` calls of `call` one after the other (the cost of a call, not throughput), timed inside
/// one `block_on` so that entering the runtime is not counted per call.
async fn timed<F: Future>(iters: u64, mut call: impl FnMut() -> F) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(call().await);
    }
    start.elapsed()
}

fn gateway(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    // Lives to the end: graphbridge reads the secret file whenever it fetches a token.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "bench-client-secret\n").expect("write the secret file");
    let (graph, answers, api) = runtime.block_on(async {
        let (graph, answers) = emulator().await;
        (graph, answers, graphbridge(graph, &secret))
    });
    let http = Client::builder(TokioExecutor::new()).build_http();
    let (rules, health) = runtime.block_on(async {
        let channel = Channel::from_shared(format!("http://{api}")).expect("a URI").connect().await.expect("connect");
        (DetectionRuleServiceClient::new(channel.clone()), HealthClient::new(channel))
    });
    let get_rule = || {
        let mut rules = rules.clone();
        async move { rules.get_detection_rule(GetDetectionRuleRequest { id: "rule-0".into() }).await.expect("read") }
    };
    let list_page = || {
        let mut rules = rules.clone();
        let request = ListDetectionRulesRequest { page_size: PAGE_SIZE as i32, ..Default::default() };
        async move { rules.list_detection_rules(request).await.expect("listed").into_inner() }
    };
    let check_health = || {
        let mut health = health.clone();
        async move { health.check(HealthCheckRequest::default()).await.expect("health answers") }
    };
    // Both paths answer what the emulator holds, and the token is fetched before any timing.
    runtime.block_on(async {
        let page = list_page().await;
        assert_eq!((page.rules.len(), page.next_page_token.is_empty()), (PAGE_SIZE, false));
        let rule = get_rule().await.into_inner();
        assert_eq!(rule.encode_to_vec(), translate(&answers.rule));
    });

    let bearer = format!("Bearer {TOKEN}");
    let rule_uri: Uri = format!("http://{graph}{COLLECTION}/rule-0").parse().expect("a URI");
    let mut group = c.benchmark_group("gateway/get");
    group.bench_function("plain_http", |b| {
        b.iter_custom(|n| runtime.block_on(timed(n, || plain_get(&http, &rule_uri, &bearer))))
    });
    group.bench_function("graphbridge", |b| b.iter_custom(|n| runtime.block_on(timed(n, get_rule))));
    group.bench_function("codec_alone", |b| b.iter(|| translate(black_box(&answers.rule))));
    group.bench_function("grpc_health", |b| b.iter_custom(|n| runtime.block_on(timed(n, check_health))));
    group.finish();

    let page_uri: Uri = format!("http://{graph}{COLLECTION}?$top={PAGE_SIZE}").parse().expect("a URI");
    let mut group = c.benchmark_group("gateway/list");
    group.bench_function("plain_http", |b| {
        b.iter_custom(|n| runtime.block_on(timed(n, || plain_get(&http, &page_uri, &bearer))))
    });
    group.bench_function("graphbridge", |b| b.iter_custom(|n| runtime.block_on(timed(n, list_page))));
    group.bench_function("codec_alone", |b| b.iter(|| translate(black_box(&answers.page))));
    group.finish();
}

criterion_group!(benches, gateway);
criterion_main!(benches);
