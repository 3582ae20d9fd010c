//! Entra ID access tokens for Graph: one cache for all calls, one token request for many
//! waiters, refreshed ahead of expiry, dropped when Graph refuses it.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, header};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::Mutex;

use super::{
    credentials,
    error::TokenError,
    http::{Answer, Transport},
    settings::{BaseUrl, Identity},
};
use crate::server::metrics::Metrics;

/// A token is replaced this long before it expires (Entra ID issues 60-90 minute tokens), or
/// at half its lifetime if that is sooner.
const REFRESH_AHEAD: Duration = Duration::from_secs(300);

/// A token and when to stop using it.
#[derive(Clone)]
pub(crate) struct AccessToken {
    /// `Bearer …`: the whole Authorization header value.
    pub header: Arc<str>,
    refresh_at: Instant,
    /// Distinguishes tokens, so that a 401 drops the token it was answered for and not a newer one.
    generation: u64,
}

pub(crate) struct Tokens {
    identity: Identity,
    token_url: String,
    /// `{origin of --graph-url}/.default`
    scope: String,
    transport: Transport,
    metrics: Arc<Metrics>,
    cached: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    token: Option<AccessToken>,
    generation: u64,
}

impl Tokens {
    pub(crate) fn new(
        identity: Identity,
        authority: &BaseUrl,
        graph: &BaseUrl,
        transport: Transport,
        metrics: Arc<Metrics>,
    ) -> Self {
        let token_url = authority.join(&format!("/{}/oauth2/v2.0/token", identity.tenant_id));
        let scope = format!("{}/.default", graph.origin());
        Tokens { identity, token_url, scope, transport, metrics, cached: Mutex::new(Cached::default()) }
    }

    /// A valid token: the cached one, or a new one (callers arriving meanwhile wait for it).
    pub(crate) async fn get(&self, timeout: Duration) -> Result<AccessToken, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.token.as_ref().filter(|token| Instant::now() < token.refresh_at) {
            return Ok(token.clone());
        }
        let fetched = self.fetch(timeout).await;
        self.metrics.token_request(if fetched.is_ok() { "ok" } else { "error" });
        let (header, lifetime) = fetched?;
        cached.generation += 1;
        let ahead = REFRESH_AHEAD.min(lifetime / 2);
        let token =
            AccessToken { header, refresh_at: Instant::now() + lifetime - ahead, generation: cached.generation };
        cached.token = Some(token.clone());
        Ok(token)
    }

    /// Drops `token` after Graph refused it, unless a newer one replaced it already.
    pub(crate) async fn refused(&self, token: &AccessToken) {
        let mut cached = self.cached.lock().await;
        if cached.token.as_ref().is_some_and(|current| current.generation == token.generation) {
            cached.token = None;
        }
    }

    async fn fetch(&self, timeout: Duration) -> Result<(Arc<str>, Duration), TokenError> {
        let Identity { client_id, credential, .. } = &self.identity;
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.clone()),
            ("scope", self.scope.clone()),
        ];
        form.extend(credentials::form_fields(credential, client_id, &self.token_url)?);
        let body: String = form
            .iter()
            .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::builder()
            .method(Method::POST)
            .uri(&self.token_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| TokenError::Unreadable)?;
        let answer = self.transport.send(request, timeout).await.map_err(TokenError::Transport)?;
        read_token(&answer)
    }
}

/// `{"token_type":"Bearer","expires_in":3599,"access_token":"…"}`, or Entra ID's error body.
fn read_token(answer: &Answer) -> Result<(Arc<str>, Duration), TokenError> {
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let text = |name: &str| body.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    if !answer.status.is_success() {
        // Only the first line: Entra ID appends trace and correlation ids on later lines.
        let description = text("error_description").lines().next().unwrap_or_default().to_owned();
        return Err(TokenError::Refused { status: answer.status.as_u16(), error: text("error"), description });
    }
    let token = text("access_token");
    let lifetime = body.get("expires_in").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
    match lifetime {
        Some(seconds) if !token.is_empty() && seconds > 0 => {
            Ok((format!("Bearer {token}").into(), Duration::from_secs(seconds)))
        }
        _ => Err(TokenError::Unreadable),
    }
}
