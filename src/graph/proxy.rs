//! An HTTP proxy on the way to Graph and Entra ID (`--graph-proxy`): every connection is an
//! HTTP CONNECT tunnel through it, and TLS to Graph runs inside the tunnel, so the proxy sees
//! only the host and port (a TLS-inspecting proxy's CA is `--graph-ca-file`). The CONNECT is
//! written here rather than by hyper-util's tunnel, whose errors do not say what the proxy
//! answered (tinyproxy refuses credentials with 401, not 407).

use std::{
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use base64::Engine as _;
use hyper::{Uri, header::HeaderValue};
use hyper_util::{client::legacy::connect::HttpConnector, rt::TokioIo};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
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

/// How connections are made: by `http` straight to the host, or through the proxy it reaches.
#[derive(Clone)]
pub(crate) struct Route {
    http: HttpConnector,
    proxy: Option<Arc<LoadedProxy>>,
}

impl Route {
    pub(crate) fn new(http: HttpConnector, proxy: Option<LoadedProxy>) -> Self {
        Route { http, proxy: proxy.map(Arc::new) }
    }
}

impl Service<Uri> for Route {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let Some(proxy) = self.proxy.clone() else {
            let connecting = self.http.call(destination);
            return Box::pin(async move { connecting.await.map_err(Into::into) });
        };
        let connecting = self.http.call(proxy.url.uri.clone());
        Box::pin(async move {
            let tunnelled = async {
                let stream = connecting.await.map_err(|error| TunnelError::Connect(error.into()))?.into_inner();
                tunnel(stream, &destination, proxy.authorization.as_ref()).await
            };
            tunnelled
                .await
                .map(TokioIo::new)
                .map_err(|source| ThroughProxy { proxy: proxy.url.to_string(), source }.into())
        })
    }
}

/// Why a connection through the proxy failed, naming the proxy.
#[derive(Debug, thiserror::Error)]
#[error("through the proxy {proxy}")]
struct ThroughProxy {
    proxy: String,
    source: TunnelError,
}

#[derive(Debug, thiserror::Error)]
enum TunnelError {
    #[error("cannot connect to it")]
    Connect(#[source] BoxError),
    #[error("{0} has no host to tunnel to")]
    NoHost(Uri),
    #[error("asking for a tunnel")]
    Io(#[from] std::io::Error),
    #[error("it closed the connection before answering the CONNECT")]
    Closed,
    #[error("its answer to the CONNECT has no end within {MAX_ANSWER} bytes")]
    TooLong,
    #[error("it agreed to the tunnel, then sent data of its own")]
    DataAfterAnswer,
    #[error("it refused the tunnel: {0}")]
    Refused(String),
}

/// The longest answer to a CONNECT that is read.
const MAX_ANSWER: usize = 8 * 1024;
/// The most of a refusal's status line that an error shows.
const MAX_SHOWN: usize = 200;

/// Asks the proxy at the other end of `stream` for a tunnel to `destination`; the stream, once
/// the proxy has agreed (any 2xx), carries the connection to it.
async fn tunnel(
    mut stream: TcpStream,
    destination: &Uri,
    authorization: Option<&HeaderValue>,
) -> Result<TcpStream, TunnelError> {
    let host = destination.host().ok_or_else(|| TunnelError::NoHost(destination.clone()))?;
    let default_port = if destination.scheme_str() == Some("http") { 80 } else { 443 };
    let port = destination.port_u16().unwrap_or(default_port);
    let mut request = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n").into_bytes();
    if let Some(authorization) = authorization {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(authorization.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await?;

    let mut answer = Vec::with_capacity(256);
    let head_len = loop {
        if let Some(end) = answer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        if answer.len() >= MAX_ANSWER {
            return Err(TunnelError::TooLong);
        }
        let mut chunk = [0u8; 1024];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(TunnelError::Closed);
        }
        answer.extend_from_slice(&chunk[..read]);
    };
    let status_line = String::from_utf8_lossy(answer.split(|&b| b == b'\r').next().unwrap_or_default());
    let mut words = status_line.split(' ');
    let agreed = words.next().is_some_and(|version| version.starts_with("HTTP/1."))
        && words.next().is_some_and(|code| code.len() == 3 && code.starts_with('2'));
    if !agreed {
        // The status line, within reason: the rest of a long one is the proxy's, not ours.
        return Err(TunnelError::Refused(status_line.chars().take(MAX_SHOWN).collect()));
    }
    // The first bytes after an agreement are the destination's.
    if head_len != answer.len() {
        return Err(TunnelError::DataAfterAnswer);
    }
    Ok(stream)
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

    /// What `tunnel` makes of a proxy that answers the CONNECT with `answer` and then closes.
    async fn tunnel_through(answer: impl Into<Vec<u8>>) -> Result<(), TunnelError> {
        let answer = answer.into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let proxy = tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 1024];
            let read = client.read(&mut request).await.unwrap();
            // Written whole before the reader gives up: loopback buffers hold it.
            let _ = client.write_all(&answer).await;
            String::from_utf8(request[..read].to_vec()).unwrap()
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let authorization = HeaderValue::from_static("Basic dTpw");
        let destination: Uri = "https://graph.example:8443/beta".parse().unwrap();
        let tunnelled = tunnel(stream, &destination, Some(&authorization)).await.map(drop);
        let request = proxy.await.unwrap();
        assert_eq!(
            request,
            "CONNECT graph.example:8443 HTTP/1.1\r\nHost: graph.example:8443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        tunnelled
    }

    #[tokio::test]
    async fn a_tunnel_is_agreed_by_a_2xx_answer_alone() {
        assert!(tunnel_through(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_ok());
        assert!(tunnel_through(b"HTTP/1.0 200 OK\r\nProxy-agent: x\r\n\r\n").await.is_ok());
        let refused =
            tunnel_through(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 3\r\n\r\nno!").await;
        assert!(
            matches!(&refused, Err(TunnelError::Refused(line)) if line == "HTTP/1.1 407 Proxy Authentication Required")
        );
        let long = format!("HTTP/1.1 403 {}\r\n\r\n", "x".repeat(1000));
        assert!(matches!(tunnel_through(long).await, Err(TunnelError::Refused(line)) if line.len() == MAX_SHOWN));
        for (answer, expected) in [
            (&b"SSH-2.0-OpenSSH\r\n\r\n"[..], "refused"),
            (b"HTTP/1.1 200 OK\r\n\r\nsurprise", "data"),
            (b"HTTP/1.1 200 OK\r\n", "closed"),
        ] {
            let error = tunnel_through(answer).await.expect_err("no tunnel");
            let kind = match error {
                TunnelError::Refused(_) => "refused",
                TunnelError::DataAfterAnswer => "data",
                TunnelError::Closed => "closed",
                other => panic!("{other:?}"),
            };
            assert_eq!(kind, expected, "{answer:?}");
        }
        let endless = vec![b'x'; MAX_ANSWER + 1024];
        assert!(matches!(tunnel_through(endless).await, Err(TunnelError::TooLong)));
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
