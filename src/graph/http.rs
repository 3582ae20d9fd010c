//! HTTPS to Graph and Entra ID: one pooled hyper client, rustls on ring with the bundled webpki
//! roots (the image has no CA store) plus an optional CA file. One call of [`Transport::send`]
//! is one attempt: no redirect is followed, the whole exchange is bounded in time, and the
//! answer's body in size.

use std::{path::Path, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{HeaderMap, Request, StatusCode, header::CONTENT_LENGTH};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use rustls::{RootCertStore, pki_types::CertificateDer, pki_types::pem::PemObject};

use super::proxy::{LoadedProxy, Route};

/// Connections kept open for reuse, per host.
const MAX_IDLE_PER_HOST: usize = 32;
/// How long an unused connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Graph's (or Entra ID's) answer to one request.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Why an attempt got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The connection failed before the request was sent: safe to send again, even a POST.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The request may have reached Graph.
    #[error("the connection failed: {0}")]
    Failed(String),
    #[error("no answer within {0:?} (--graph-timeout)")]
    Timeout(Duration),
    #[error("the answer is over {limit} bytes (--max-message-bytes)")]
    TooLarge { limit: usize },
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

type Https = HttpsConnector<Route>;

#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<Https, Full<Bytes>>,
    timeout: Duration,
    max_body: usize,
}

impl Transport {
    pub(crate) fn new(
        ca_file: Option<&Path>,
        proxy: Option<LoadedProxy>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Self, TlsSetupError> {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let Some(path) = ca_file {
            add_ca_file(&mut roots, path)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsSetupError::Invalid { path: "TLS".into(), reason: error.to_string() })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        // http:// only reaches loopback hosts: the settings refuse it elsewhere.
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(Route::new(http, proxy));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(https);
        Ok(Transport { client, timeout, max_body })
    }

    /// One attempt, within `timeout` (the lesser of --graph-timeout and what the call has left).
    pub(crate) async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Answer, TransportError> {
        let limit = timeout.min(self.timeout);
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(TransportError::Timeout(limit)),
        }
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Answer, TransportError> {
        let response = self.client.request(request).await.map_err(|error| {
            // The error's source chain names the cause (refused, reset, TLS); never a header.
            let cause = error_chain(&error);
            if error.is_connect() { TransportError::Connect(cause) } else { TransportError::Failed(cause) }
        })?;
        let (parts, body) = response.into_parts();
        let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|length| length > self.max_body) {
            return Err(TransportError::TooLarge { limit: self.max_body });
        }
        let body = Limited::new(body, self.max_body).collect().await.map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                TransportError::TooLarge { limit: self.max_body }
            } else {
                TransportError::Failed(error.to_string())
            }
        })?;
        Ok(Answer { status: parts.status, headers: parts.headers, body: body.to_bytes() })
    }
}

/// Whether `path` is a PEM bundle of usable CA certificates.
pub(crate) fn check_ca_file(path: &Path) -> Result<(), TlsSetupError> {
    add_ca_file(&mut RootCertStore::empty(), path)
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsSetupError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| TlsSetupError::Read { path: shown.clone(), source })?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|error| TlsSetupError::Invalid { path: shown.clone(), reason: error.to_string() })?;
    if certificates.is_empty() {
        return Err(TlsSetupError::NoCertificate { path: shown });
    }
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|error| TlsSetupError::Invalid { path: shown.clone(), reason: error.to_string() })?;
    }
    Ok(())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
