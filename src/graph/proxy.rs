//! An HTTP proxy on the way to Graph and Entra ID (`--graph-proxy`): every connection is an
//! HTTP CONNECT tunnel through it, and TLS to Graph runs inside the tunnel, so the proxy sees
//! only the host and port (a TLS-inspecting proxy's CA is `--graph-ca-file`).

use std::{
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use base64::Engine as _;
use hyper::{Uri, header::HeaderValue};
use hyper_util::{
    client::legacy::connect::{HttpConnector, proxy::Tunnel},
    rt::TokioIo,
};
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `--graph-proxy`: an `http://host:port` proxy that accepts CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    uri: Uri,
}

impl ProxyUrl {
    /// Parses `text`; the error says what is wrong, for the flag's message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: Uri = text.parse().map_err(|error| format!("{text:?} is not a URL: {error}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(format!("{text:?} is not an absolute URL such as http://proxy.example:3128"));
        };
        if scheme != "http" {
            // The tunnel to the proxy is plain TCP; what crosses it to Graph is TLS.
            return Err(format!("{text:?}: scheme {scheme:?}; the proxy is reached with http:// (CONNECT)"));
        }
        if authority.as_str().contains('@') {
            return Err(format!("{text:?} carries credentials: give them in --graph-proxy-credentials-file"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() || text.contains('#') {
            return Err(format!("{text:?} has a path, query or fragment: give only http://host:port"));
        }
        let uri = format!("http://{authority}").parse().map_err(|error| format!("{text:?}: {error}"))?;
        Ok(ProxyUrl { uri })
    }
}

impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.uri.authority().map_or("", |authority| authority.as_str()))
    }
}

/// The proxy, and the file of its `user:password` (Basic authentication), if it asks for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    pub url: ProxyUrl,
    pub credentials_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxySetupError {
    #[error("--graph-proxy-credentials-file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("--graph-proxy-credentials-file {path}: expected one line, user:password")]
    Malformed { path: String },
}

/// The `Proxy-Authorization` value of the credentials in `path`: read once, at start-up.
fn proxy_authorization(path: &Path) -> Result<HeaderValue, ProxySetupError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ProxySetupError::Read { path: shown.clone(), source })?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let well_formed = line.split_once(':').is_some_and(|(user, _)| !user.is_empty()) && !line.contains(['\n', '\r']);
    if !well_formed {
        return Err(ProxySetupError::Malformed { path: shown });
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(line);
    let mut value =
        HeaderValue::try_from(format!("Basic {encoded}")).map_err(|_| ProxySetupError::Malformed { path: shown })?;
    value.set_sensitive(true);
    Ok(value)
}

impl ProxySettings {
    /// The proxy ready to use, its credentials read (once: a restart picks up new ones).
    pub(crate) fn load(&self) -> Result<LoadedProxy, ProxySetupError> {
        let authorization = self.credentials_file.as_deref().map(proxy_authorization).transpose()?;
        Ok(LoadedProxy { url: self.url.clone(), authorization })
    }
}

/// A proxy whose credentials have been read.
pub(crate) struct LoadedProxy {
    url: ProxyUrl,
    authorization: Option<HeaderValue>,
}

/// Why a connection through the proxy failed; names the proxy, as the tunnel's own error does not.
#[derive(Debug, thiserror::Error)]
#[error("through the proxy {proxy}")]
struct ThroughProxy {
    proxy: Arc<str>,
    source: BoxError,
}

/// How connections are made: straight to the host, or through the proxy.
#[derive(Clone)]
pub(crate) enum Route {
    Direct(HttpConnector),
    Tunnel { tunnel: Box<Tunnel<HttpConnector>>, proxy: Arc<str> },
}

impl Route {
    /// `http` itself, or a tunnel through the proxy that `http` connects to.
    pub(crate) fn new(http: HttpConnector, proxy: Option<LoadedProxy>) -> Self {
        let Some(LoadedProxy { url, authorization }) = proxy else { return Route::Direct(http) };
        let mut tunnel = Tunnel::new(url.uri.clone(), http);
        if let Some(authorization) = authorization {
            tunnel = tunnel.with_auth(authorization);
        }
        Route::Tunnel { tunnel: Box::new(tunnel), proxy: url.to_string().into() }
    }
}

impl Service<Uri> for Route {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Route::Direct(http) => http.poll_ready(cx).map_err(Into::into),
            Route::Tunnel { tunnel, .. } => tunnel.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        match self {
            Route::Direct(http) => {
                let connecting = http.call(destination);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
            Route::Tunnel { tunnel, proxy } => {
                let connecting = tunnel.call(destination);
                let proxy = proxy.clone();
                Box::pin(async move {
                    connecting.await.map_err(|error| ThroughProxy { proxy, source: error.into() }.into())
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_is_http_host_and_port_only() {
        for (good, shown) in [
            ("http://proxy.example:3128", "proxy.example:3128"),
            ("http://10.0.0.1:8080/", "10.0.0.1:8080"),
            ("http://[::1]:3128", "[::1]:3128"),
        ] {
            assert_eq!(ProxyUrl::parse(good).map(|url| url.to_string()), Ok(shown.to_owned()), "{good}");
        }
        for (bad, says) in [
            ("https://proxy.example:3128", "scheme"),
            ("socks5://proxy.example:1080", "scheme"),
            ("http://user:pw@proxy.example:3128", "credentials"),
            ("http://proxy.example:3128/path", "path"),
            ("http://proxy.example:3128?x=1", "query"),
            ("proxy.example:3128", "absolute URL"),
        ] {
            let error = ProxyUrl::parse(bad).expect_err(bad);
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn credentials_are_one_user_password_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = |content: &str| {
            let path = dir.path().join("credentials");
            std::fs::write(&path, content).unwrap();
            path
        };
        let value = proxy_authorization(&file("user:pa:ss\n")).unwrap();
        assert_eq!(value.to_str().unwrap(), "Basic dXNlcjpwYTpzcw==");
        assert!(value.is_sensitive(), "never logged");
        assert_eq!(proxy_authorization(&file("user:\r\n")).unwrap().to_str().unwrap(), "Basic dXNlcjo=");
        for bad in ["", "user", ":password", "user:pw\nsecond:line\n"] {
            assert!(matches!(proxy_authorization(&file(bad)), Err(ProxySetupError::Malformed { .. })), "{bad:?}");
        }
        let missing = proxy_authorization(&dir.path().join("absent"));
        assert!(matches!(missing, Err(ProxySetupError::Read { .. })));
    }
}
