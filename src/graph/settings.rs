//! What the Graph client needs to know, checked once at start-up.

use std::{path::PathBuf, time::Duration};

use hyper::Uri;

use super::proxy::ProxySettings;

/// An `https://` base URL (or `http://` on a loopback host), without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `https://graph.microsoft.com`
    origin: String,
    /// `/beta`: empty for a bare origin.
    path: String,
    host: String,
}

impl BaseUrl {
    /// Parses `text`; the error says what is wrong, for the flag's message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: Uri = text.parse().map_err(|error| format!("{text:?} is not a URL: {error}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(format!("{text:?} is not an absolute URL such as https://graph.microsoft.com/beta"));
        };
        if uri.query().is_some() || text.contains('#') {
            return Err(format!("{text:?} has a query or fragment: give only the origin and path"));
        }
        if authority.as_str().contains('@') {
            return Err(format!("{text:?} carries credentials: give them in their own settings"));
        }
        let host = authority.host().to_owned();
        match scheme {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => return Err(format!("{text:?}: http:// is only accepted for a loopback host; use https://")),
            other => return Err(format!("{text:?}: scheme {other:?} is not https")),
        }
        Ok(BaseUrl {
            origin: format!("{scheme}://{authority}"),
            path: uri.path().trim_end_matches('/').to_owned(),
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
        })
    }

    /// The URL with `suffix` (starting with `/`) appended to its path.
    pub fn join(&self, suffix: &str) -> String {
        format!("{}{}{suffix}", self.origin, self.path)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The host, without brackets: the `domain` of errors.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// `127.0.0.0/8`, `::1` and `localhost`: where `http://` is accepted, for emulators and tests.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A national cloud: the defaults of `--graph-url` and `--graph-authority-url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cloud {
    /// Microsoft Graph global service: the current rule shape (beta).
    Public,
    /// US Government L4 (Fairfax). Graph's metadata for it has no detectionRule (to 2026-08).
    Usgov,
    /// US Government L5 (DoD). Graph's metadata for it has no detectionRule (to 2026-08).
    UsgovDod,
    /// China (21Vianet). Microsoft documents the API as unsupported there.
    China,
}

impl Cloud {
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com/beta",
            Cloud::Usgov => "https://graph.microsoft.us/beta",
            Cloud::UsgovDod => "https://dod-graph.microsoft.us/beta",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn/beta",
        }
    }

    pub fn authority_url(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::Usgov | Cloud::UsgovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

/// How graphbridge proves its identity to Entra ID. Each is a file, read afresh for every token
/// request: Kubernetes rotates mounted Secrets and projected tokens in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The application's client secret.
    ClientSecret(PathBuf),
    /// PEM certificate and RSA private key: a client assertion signed with it.
    ClientCertificate(PathBuf),
    /// Azure Workload Identity: the projected service-account token is the client assertion.
    FederatedToken(PathBuf),
}

/// Who graphbridge is to Entra ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant_id: String,
    pub client_id: String,
    pub credential: CredentialSource,
}

/// Everything the gateway needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphSettings {
    pub graph_url: BaseUrl,
    pub authority_url: BaseUrl,
    /// None: no credentials, every gateway call is FAILED_PRECONDITION.
    pub identity: Option<Identity>,
    /// One attempt's limit: connecting, sending and reading the whole answer.
    pub timeout: Duration,
    pub max_retries: u32,
    /// Graph requests in flight at once, token requests included.
    pub max_concurrent_requests: usize,
    /// Extra trust roots (a corporate proxy's CA), beside the bundled ones.
    pub ca_file: Option<PathBuf>,
    /// None: connections go straight to Graph and Entra ID.
    pub proxy: Option<ProxySettings>,
    pub read_only: bool,
    /// The HMAC key of page tokens; None: a random key of this process.
    pub page_token_key_file: Option<PathBuf>,
    /// Largest Graph answer read, and largest body sent.
    pub max_message_bytes: usize,
    pub max_json_depth: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for good in
            ["https://graph.microsoft.com/beta", "http://127.0.0.1:8080/beta", "http://[::1]:1/", "http://localhost"]
        {
            assert!(BaseUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "http://graph.microsoft.com/beta",
            "http://10.0.0.1/beta",
            "ftp://127.0.0.1/",
            "graph.microsoft.com/beta",
            "https://user:pw@graph.microsoft.com/beta",
            "https://graph.microsoft.com/beta?x=1",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_under_the_path() {
        let url = BaseUrl::parse("https://graph.microsoft.com/beta/").unwrap();
        assert_eq!(url.join("/security/rules"), "https://graph.microsoft.com/beta/security/rules");
        assert_eq!(url.origin(), "https://graph.microsoft.com");
        assert_eq!(url.host(), "graph.microsoft.com");
        assert_eq!(BaseUrl::parse("http://[::1]:9/").unwrap().host(), "::1");
    }

    #[test]
    fn every_cloud_has_https_urls() {
        for cloud in [Cloud::Public, Cloud::Usgov, Cloud::UsgovDod, Cloud::China] {
            assert!(BaseUrl::parse(cloud.graph_url()).is_ok());
            assert!(BaseUrl::parse(cloud.authority_url()).is_ok());
        }
    }
}
