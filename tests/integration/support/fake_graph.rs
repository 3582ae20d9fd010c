//! A fake Microsoft Graph and Entra ID token endpoint on 127.0.0.1, behaving as Graph's
//! documentation says: 201 + the entity on create, 200 + the whole entity on PATCH, 204 on
//! delete, collections paged with `@odata.nextLink`, Graph's error bodies with
//! `innerError.request-id`, 401 for a token it did not issue. Tests script other answers (429
//! with `Retry-After`, 503, unreadable bodies; every answer slowed down) ahead of the normal ones, and read every request it got.

use std::{
    collections::{BTreeMap, VecDeque},
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode},
    response::Response,
};
use serde_json::{Value, json};

/// The tenant, client id and secret the fake accepts.
pub const TENANT: &str = "contoso-tenant";
pub const CLIENT_ID: &str = "graphbridge-app";
pub const SECRET: &str = "the-client-secret-value";
const COLLECTION: &str = "/beta/security/rules/detectionRules";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    /// Path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// An answer to give instead of the normal one, to the next Graph request.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Scripted {
    /// Graph's error body for `status`, with `code` and a request-id.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        let body = json!({"error": {"code": code, "message": message,
            "innerError": {"request-id": format!("req-{status}-{code}"), "date": "2026-12-02T00:00:00"}}});
        Scripted { status, headers: Vec::new(), body: body.to_string() }
    }

    pub fn throttled(retry_after: &str) -> Self {
        Self::error(429, "TooManyRequests", "Too many requests").with_header("retry-after", retry_after)
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn ok(body: &str) -> Self {
        Scripted { status: 200, headers: Vec::new(), body: body.to_owned() }
    }
}

#[derive(Default)]
struct Fake {
    rules: Mutex<BTreeMap<String, Value>>,
    script: Mutex<VecDeque<Scripted>>,
    graph_requests: Mutex<Vec<Received>>,
    token_requests: Mutex<Vec<Received>>,
    tokens_issued: AtomicUsize,
    /// Tokens Graph accepts; revoking one makes Graph answer 401 to it.
    valid_tokens: Mutex<Vec<String>>,
    token_lifetime_seconds: AtomicU64,
    /// The federated token the token endpoint accepts as a client assertion (workload identity).
    federated_token: Mutex<String>,
    /// Every Graph answer waits this long (a slow Graph).
    delay_ms: AtomicU64,
    /// Graph requests being answered, and the most at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts one Graph request from its arrival until its answer, or until the client goes away.
struct InFlight(Arc<Fake>);

impl InFlight {
    fn enter(fake: &Arc<Fake>) -> Self {
        let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(fake.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct FakeGraph {
    pub addr: SocketAddr,
    fake: Arc<Fake>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGraph {
    pub async fn start() -> Self {
        let fake = Arc::new(Fake::default());
        fake.token_lifetime_seconds.store(3599, Ordering::Relaxed);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake Graph");
        let addr = listener.local_addr().expect("its address");
        let app = Router::new().fallback(answer).with_state(fake.clone());
        let task = tokio::spawn(async move { axum::serve(listener, app).await.expect("the fake Graph serves") });
        FakeGraph { addr, fake, task }
    }

    /// `--graph-url`, `--graph-authority-url`, the ids and a secret file: the flags of a
    /// graphbridge that uses this fake.
    pub fn flags(&self, secret_file: &std::path::Path) -> Vec<String> {
        let mut flags = self.urls();
        flags.extend(["--graph-client-secret-file".into(), secret_file.display().to_string()]);
        flags
    }

    /// The URL and id flags without a credential.
    pub fn urls(&self) -> Vec<String> {
        [
            ("--graph-url", format!("http://{}/beta", self.addr)),
            ("--graph-authority-url", format!("http://{}", self.addr)),
            ("--graph-tenant-id", TENANT.to_owned()),
            ("--graph-client-id", CLIENT_ID.to_owned()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }

    pub fn store(&self, rule: Value) {
        let id = rule["id"].as_str().expect("a rule with an id").to_owned();
        self.fake.rules.lock().unwrap().insert(id, rule);
    }

    pub fn rule(&self, id: &str) -> Option<Value> {
        self.fake.rules.lock().unwrap().get(id).cloned()
    }

    /// Answers the next Graph requests (not token requests) with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.fake.script.lock().unwrap().extend(answers);
    }

    pub fn graph_requests(&self) -> Vec<Received> {
        self.fake.graph_requests.lock().unwrap().clone()
    }

    pub fn token_requests(&self) -> Vec<Received> {
        self.fake.token_requests.lock().unwrap().clone()
    }

    /// Graph stops accepting every token issued so far (as after a revocation).
    pub fn revoke_tokens(&self) {
        self.fake.valid_tokens.lock().unwrap().clear();
    }

    pub fn set_token_lifetime(&self, seconds: u64) {
        self.fake.token_lifetime_seconds.store(seconds, Ordering::Relaxed);
    }

    pub fn accept_federated_token(&self, token: &str) {
        *self.fake.federated_token.lock().unwrap() = token.to_owned();
    }

    pub fn set_delay(&self, delay: Duration) {
        self.fake.delay_ms.store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// The most Graph requests (not token requests) the fake was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.fake.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn answer(State(fake): State<Arc<Fake>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body =
        to_bytes(body, 16 * 1024 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let uri = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let at = std::time::Instant::now();
    let received = Received { method: parts.method.clone(), uri: uri.clone(), headers: parts.headers, body, at };
    if parts.uri.path() == format!("/{TENANT}/oauth2/v2.0/token") {
        fake.token_requests.lock().unwrap().push(received.clone());
        return token(&fake, &received);
    }
    fake.graph_requests.lock().unwrap().push(received.clone());
    let _counted = InFlight::enter(&fake);
    let delay = Duration::from_millis(fake.delay_ms.load(Ordering::Relaxed));
    let scripted = fake.script.lock().unwrap().pop_front();
    if let Some(scripted) = scripted {
        tokio::time::sleep(delay).await;
        let mut response = respond(scripted.status, &scripted.body);
        for (name, value) in scripted.headers {
            response.headers_mut().insert(name, value.parse().unwrap());
        }
        return response;
    }
    tokio::time::sleep(delay).await;
    let bearer = received.header("authorization").strip_prefix("Bearer ").unwrap_or_default().to_owned();
    if !fake.valid_tokens.lock().unwrap().contains(&bearer) {
        let error = Scripted::error(401, "InvalidAuthenticationToken", "Access token validation failure.");
        return respond(401, &error.body);
    }
    graph(&fake, &received, parts.uri.path())
}

fn respond(status: u16, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    if !body.is_empty() {
        response.headers_mut().insert("content-type", "application/json".parse().unwrap());
    }
    response.headers_mut().insert("request-id", format!("req-{status}").parse().unwrap());
    response
}

/// Entra ID: a client secret or a client assertion for the configured client.
fn token(fake: &Fake, request: &Received) -> Response {
    let form: BTreeMap<String, String> = request
        .body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
        .collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let federated = fake.federated_token.lock().unwrap().clone();
    let assertion = field("client_assertion");
    let credential_ok = field("client_secret") == SECRET
        || (field("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            && (assertion == federated || signed_by_the_test_certificate(assertion)));
    let request_ok = field("grant_type") == "client_credentials" && field("client_id") == CLIENT_ID;
    if !(credential_ok && request_ok) {
        let error = json!({"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c"});
        return respond(401, &error.to_string());
    }
    let n = fake.tokens_issued.fetch_add(1, Ordering::Relaxed) + 1;
    let access_token = format!("token-{n}");
    fake.valid_tokens.lock().unwrap().push(access_token.clone());
    let lifetime = fake.token_lifetime_seconds.load(Ordering::Relaxed);
    respond(200, &json!({"token_type": "Bearer", "expires_in": lifetime, "access_token": access_token}).to_string())
}

/// An RS256 JWT signed with the key of `tests/fixtures/gateway/app-certificate.pem`.
fn signed_by_the_test_certificate(jwt: &str) -> bool {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let Some((signed, signature)) = jwt.rsplit_once('.') else { return false };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else { return false };
    let public_key = include_bytes!("../../fixtures/gateway/app-public-key.der");
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_key);
    key.verify(signed.as_bytes(), &signature).is_ok()
}

/// The detection rules collection, as Graph documents it.
fn graph(fake: &Fake, request: &Received, path: &str) -> Response {
    let not_found = || respond(404, &Scripted::error(404, "itemNotFound", "The rule was not found.").body);
    let Some(rest) = path.strip_prefix(COLLECTION) else { return not_found() };
    let id = rest.strip_prefix('/').map(|id| percent_encoding::percent_decode_str(id).decode_utf8_lossy().into_owned());
    let mut rules = fake.rules.lock().unwrap();
    match (&request.method, id) {
        (&Method::GET, None) => {
            let query: BTreeMap<&str, &str> = request
                .uri
                .split_once('?')
                .map_or("", |(_, q)| q)
                .split('&')
                .filter_map(|p| p.split_once('='))
                .collect();
            let top: usize = query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(100);
            let skip: usize = query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
            let all: Vec<&Value> = rules.values().collect();
            let page: Vec<&Value> = all.iter().skip(skip).take(top).copied().collect();
            let mut body = json!({"@odata.context": "https://graph.microsoft.com/beta/$metadata#security/rules/detectionRules", "value": page});
            if skip + top < all.len() {
                let host = request.header("host");
                body["@odata.nextLink"] =
                    format!("http://{host}{COLLECTION}?$top={top}&$skiptoken={}", skip + top).into();
            }
            respond(200, &body.to_string())
        }
        (&Method::POST, None) => {
            let Ok(mut rule) = serde_json::from_str::<Value>(&request.body) else {
                return respond(400, &Scripted::error(400, "BadRequest", "The body is not JSON.").body);
            };
            let id = rule["id"].as_str().map(str::to_owned).unwrap_or_else(|| format!("{}", rules.len() + 1000));
            if rules.contains_key(&id) {
                return respond(409, &Scripted::error(409, "Conflict", "A rule with this id exists.").body);
            }
            rule["id"] = id.clone().into();
            rule["createdBy"] = "graphbridge-app".into();
            rules.insert(id, rule.clone());
            respond(201, &rule.to_string())
        }
        (&Method::GET, Some(id)) => rules.get(&id).map_or_else(not_found, |rule| respond(200, &rule.to_string())),
        (&Method::PATCH, Some(id)) => {
            let Some(rule) = rules.get_mut(&id) else { return not_found() };
            let Ok(Value::Object(changes)) = serde_json::from_str::<Value>(&request.body) else {
                return respond(400, &Scripted::error(400, "BadRequest", "The body is not a JSON object.").body);
            };
            for (name, value) in changes {
                if value.is_null() {
                    rule.as_object_mut().unwrap().remove(&name);
                } else {
                    rule[name] = value;
                }
            }
            respond(200, &rule.to_string())
        }
        (&Method::DELETE, Some(id)) => match rules.remove(&id) {
            Some(_) => respond(204, ""),
            None => not_found(),
        },
        _ => respond(405, &Scripted::error(405, "MethodNotAllowed", "Not allowed.").body),
    }
}
