//! The Graph client behind `DetectionRuleService`: HTTPS (`http`), through an egress proxy where
//! one is set (`proxy`), Entra ID tokens (`token`, `credentials`), retries and throttling
//! (`retry`, `client`), page tokens (`page_token`), and the rule operations (`rules`). It knows
//! nothing of gRPC: its errors become statuses at the edge.

mod client;
mod credentials;
mod error;
mod http;
mod page_token;
mod proxy;
mod retry;
mod rules;
mod settings;
mod token;

use std::sync::Arc;

use graphbridge_codec::translate::Limits;
use ring::rand::SystemRandom;

pub use credentials::CredentialError;
pub use error::{GatewayError, GraphFailure, Operation, TokenError, WaitLimit};
pub use http::{TlsSetupError, TransportError};
pub use page_token::{PageTokenError, PageTokenKeyError, PageTokens};
pub use proxy::{ProxySettings, ProxySetupError, ProxyUrl};
pub use retry::parse_retry_after;
pub(crate) use rules::DetectionRules;
pub use settings::{BaseUrl, Cloud, CredentialSource, GraphSettings, Identity};

use crate::server::metrics::Metrics;

/// A setting that cannot be used: `serve` stops at start-up.
#[derive(Debug, thiserror::Error)]
pub enum GatewaySetupError {
    #[error("--graph-ca-file: {0}")]
    Tls(#[from] TlsSetupError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    PageTokenKey(#[from] PageTokenKeyError),
    #[error(transparent)]
    Proxy(#[from] ProxySetupError),
}

/// Reads every file the settings name (the credential, the CA bundle, the page-token key, the
/// proxy's credentials) and checks that it can be used: `serve` runs this while it validates its
/// settings, so that a bad file stops it with exit code 2 and the flag's name, like any other bad
/// setting.
pub(crate) fn check_files(
    credential: Option<&CredentialSource>,
    ca_file: Option<&std::path::Path>,
    page_token_key_file: Option<&std::path::Path>,
    proxy: Option<&ProxySettings>,
) -> Result<(), GatewaySetupError> {
    if let Some(credential) = credential {
        credentials::check(credential)?;
    }
    if let Some(path) = ca_file {
        http::check_ca_file(path)?;
    }
    if let Some(path) = page_token_key_file {
        PageTokens::from_file(path)?;
    }
    if let Some(proxy) = proxy {
        proxy.load()?;
    }
    Ok(())
}

/// The rule operations, ready to serve, nothing sent yet. The credential was checked with the
/// settings (`check_files`) and is read again for each token; the CA bundle, the page-token key
/// and the proxy's credentials are loaded here for use.
pub(crate) fn detection_rules(
    settings: &GraphSettings,
    metrics: Arc<Metrics>,
) -> Result<DetectionRules, GatewaySetupError> {
    let proxy = settings.proxy.as_ref().map(ProxySettings::load).transpose()?;
    let transport =
        http::Transport::new(settings.ca_file.as_deref(), proxy, settings.timeout, settings.max_message_bytes)?;
    let tokens = match &settings.identity {
        Some(identity) => {
            let tokens = token::Tokens::new(
                identity.clone(),
                &settings.authority_url,
                &settings.graph_url,
                transport.clone(),
                metrics.clone(),
            );
            Some(tokens)
        }
        None => None,
    };
    let pages = match &settings.page_token_key_file {
        Some(path) => PageTokens::from_file(path)?,
        None => PageTokens::random(&SystemRandom::new()),
    };
    let client = client::GraphClient::new(
        settings.graph_url.clone(),
        transport,
        tokens,
        settings.max_concurrent_requests,
        settings.max_retries,
        metrics.clone(),
    );
    let limits = Limits { max_message_bytes: settings.max_message_bytes, max_json_depth: settings.max_json_depth };
    Ok(DetectionRules::new(client, pages, limits, settings.read_only, metrics))
}
