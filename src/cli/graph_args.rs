//! The `serve` flags of the Graph gateway (`DetectionRuleService`), and the `AZURE_*` variables
//! that Azure Workload Identity injects, read as their flags.

use std::{path::PathBuf, time::Duration};

use clap::Args;

use super::config::parse_positive_duration;
use crate::graph::{self, BaseUrl, Cloud, CredentialSource, GraphSettings, Identity, ProxySettings, ProxyUrl};

/// Variables the Azure Workload Identity webhook sets in a labelled pod, and the flag each
/// stands for; the flag's own `GRAPHBRIDGE_*` variable wins over them.
pub(crate) const AZURE_VARIABLES: &[(&str, &str)] = &[
    ("graph-tenant-id", "AZURE_TENANT_ID"),
    ("graph-client-id", "AZURE_CLIENT_ID"),
    ("graph-federated-token-file", "AZURE_FEDERATED_TOKEN_FILE"),
    ("graph-authority-url", "AZURE_AUTHORITY_HOST"),
];

/// How graphbridge reaches Graph.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct GraphArgs {
    /// The national cloud: sets the defaults of --graph-url and --graph-authority-url. Detection
    /// rules are served by the public cloud (beta); Graph's metadata for usgov and usgov-dod has
    /// no detectionRule, and Microsoft documents the API as unsupported in China.
    #[arg(long, value_enum, default_value_t = Cloud::Public)]
    pub graph_cloud: Cloud,
    /// Graph's base URL [default: the cloud's, https://graph.microsoft.com/beta]. https:// only,
    /// except on a loopback host (an emulator).
    #[arg(long)]
    pub graph_url: Option<String>,
    /// Entra ID's authority [default: the cloud's, https://login.microsoftonline.com]; also read
    /// from AZURE_AUTHORITY_HOST.
    #[arg(long)]
    pub graph_authority_url: Option<String>,
    /// The Entra ID tenant (directory) id; also read from AZURE_TENANT_ID.
    #[arg(long)]
    pub graph_tenant_id: Option<String>,
    /// The application (client) id; also read from AZURE_CLIENT_ID.
    #[arg(long)]
    pub graph_client_id: Option<String>,
    /// File holding the application's client secret (read for every token request).
    #[arg(long)]
    pub graph_client_secret_file: Option<PathBuf>,
    /// PEM file holding the application's certificate and its RSA private key: graphbridge
    /// signs a client assertion with it.
    #[arg(long)]
    pub graph_client_certificate_file: Option<PathBuf>,
    /// Azure Workload Identity: the projected service-account token, read for every token
    /// request (Kubernetes rotates it); also read from AZURE_FEDERATED_TOKEN_FILE.
    #[arg(long)]
    pub graph_federated_token_file: Option<PathBuf>,
    /// Longest one HTTP request to Graph or Entra ID may take, connecting included.
    #[arg(long, default_value = "30s", value_parser = parse_positive_duration)]
    pub graph_timeout: Duration,
    /// Retries of one Graph request (throttling, transient failures; see the README).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub graph_max_retries: u32,
    /// HTTP requests to Graph in flight at once, across all calls: more callers wait for a turn.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub graph_max_concurrent_requests: u32,
    /// PEM CA bundle trusted beside the bundled roots (a TLS-inspecting proxy's CA).
    #[arg(long)]
    pub graph_ca_file: Option<PathBuf>,
    /// An HTTP proxy, http://host:port, that every connection to Graph and Entra ID goes through
    /// (CONNECT; TLS runs inside the tunnel). HTTPS_PROXY and NO_PROXY are not read.
    #[arg(long)]
    pub graph_proxy: Option<String>,
    /// File holding the proxy's `user:password` (Basic authentication), read at start-up.
    #[arg(long)]
    pub graph_proxy_credentials_file: Option<PathBuf>,
    /// Refuse CreateDetectionRule, UpdateDetectionRule and DeleteDetectionRule with
    /// PERMISSION_DENIED, before anything is sent.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub graph_read_only: bool,
    /// File holding the key (at least 32 bytes) that signs page tokens; replicas sharing it
    /// accept each other's tokens [default: a random key of this process].
    #[arg(long)]
    pub page_token_key_file: Option<PathBuf>,
}

impl GraphArgs {
    /// Checks the settings together; the error names the flag.
    pub(crate) fn validate(&self) -> Result<(), String> {
        self.urls()?;
        self.credential()?;
        let proxy = self.proxy()?;
        if let Some(tenant) = &self.graph_tenant_id
            && !tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(format!("--graph-tenant-id {tenant:?}: expected a tenant id or domain name"));
        }
        let files = [
            ("--graph-client-secret-file", &self.graph_client_secret_file),
            ("--graph-client-certificate-file", &self.graph_client_certificate_file),
            ("--graph-federated-token-file", &self.graph_federated_token_file),
            ("--graph-ca-file", &self.graph_ca_file),
            ("--page-token-key-file", &self.page_token_key_file),
            ("--graph-proxy-credentials-file", &self.graph_proxy_credentials_file),
        ];
        for (flag, path) in files {
            if let Some(path) = path.as_ref().filter(|path| !path.is_file()) {
                return Err(format!("{flag} {}: no such file", path.display()));
            }
        }
        let credential = self.credential()?.map(|identity| identity.credential);
        graph::check_files(
            credential.as_ref(),
            self.graph_ca_file.as_deref(),
            self.page_token_key_file.as_deref(),
            proxy.as_ref(),
        )
        .map_err(|error| error.to_string())
    }

    fn proxy(&self) -> Result<Option<ProxySettings>, String> {
        let Some(url) = &self.graph_proxy else {
            return match self.graph_proxy_credentials_file {
                Some(_) => Err("--graph-proxy-credentials-file is given without --graph-proxy".into()),
                None => Ok(None),
            };
        };
        let url = ProxyUrl::parse(url).map_err(|error| format!("--graph-proxy: {error}"))?;
        Ok(Some(ProxySettings { url, credentials_file: self.graph_proxy_credentials_file.clone() }))
    }

    fn urls(&self) -> Result<(BaseUrl, BaseUrl), String> {
        let graph = self.graph_url.as_deref().unwrap_or(self.graph_cloud.graph_url());
        let authority = self.graph_authority_url.as_deref().unwrap_or(self.graph_cloud.authority_url());
        let graph = BaseUrl::parse(graph).map_err(|error| format!("--graph-url: {error}"))?;
        let authority = BaseUrl::parse(authority).map_err(|error| format!("--graph-authority-url: {error}"))?;
        Ok((graph, authority))
    }

    /// The identity, when a credential is given; None when none is.
    fn credential(&self) -> Result<Option<Identity>, String> {
        let given: Vec<CredentialSource> = [
            self.graph_client_secret_file.clone().map(CredentialSource::ClientSecret),
            self.graph_client_certificate_file.clone().map(CredentialSource::ClientCertificate),
            self.graph_federated_token_file.clone().map(CredentialSource::FederatedToken),
        ]
        .into_iter()
        .flatten()
        .collect();
        let credential = match <[CredentialSource; 1]>::try_from(given) {
            Ok([credential]) => credential,
            Err(given) if given.is_empty() => return Ok(None),
            Err(_) => {
                return Err("--graph-client-secret-file, --graph-client-certificate-file and \
                            --graph-federated-token-file (or AZURE_FEDERATED_TOKEN_FILE): give only one"
                    .into());
            }
        };
        let required = |value: &Option<String>, flag: &str, variable: &str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{flag} (or {variable}) is required with a Graph credential"))
        };
        Ok(Some(Identity {
            tenant_id: required(&self.graph_tenant_id, "--graph-tenant-id", "AZURE_TENANT_ID")?,
            client_id: required(&self.graph_client_id, "--graph-client-id", "AZURE_CLIENT_ID")?,
            credential,
        }))
    }

    /// What the Graph client needs; `validate` has passed.
    pub(crate) fn settings(&self, max_message_bytes: usize, max_json_depth: usize) -> GraphSettings {
        let (graph_url, authority_url) = self.urls().expect("validated");
        GraphSettings {
            graph_url,
            authority_url,
            identity: self.credential().expect("validated"),
            timeout: self.graph_timeout,
            max_retries: self.graph_max_retries,
            max_concurrent_requests: self.graph_max_concurrent_requests as usize,
            ca_file: self.graph_ca_file.clone(),
            proxy: self.proxy().expect("validated"),
            read_only: self.graph_read_only,
            page_token_key_file: self.page_token_key_file.clone(),
            max_message_bytes,
            max_json_depth,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::Path};

    use super::{super::config, *};

    /// The Graph settings of `graphbridge serve ARGS` with `env` as the whole environment.
    fn graph_args(args: &[&str], env: &[(&str, &str)]) -> Result<GraphArgs, String> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let argv = ["graphbridge", "serve"].iter().chain(args);
        match config::parse(argv, |name| env.get(name).cloned()).map_err(|error| error.to_string())? {
            config::Command::Serve(config) => Ok(config.graph),
            other => panic!("{other:?}"),
        }
    }

    fn file(dir: &Path, name: &str, content: &[u8]) -> String {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    #[test]
    fn azure_workload_identity_variables_fill_their_flags() {
        let dir = tempfile::tempdir().unwrap();
        let token = file(dir.path(), "token", b"projected");
        let env = [
            ("AZURE_TENANT_ID", "tenant-a"),
            ("AZURE_CLIENT_ID", "client-a"),
            ("AZURE_FEDERATED_TOKEN_FILE", token.as_str()),
            ("AZURE_AUTHORITY_HOST", "https://login.example.com/"),
        ];
        let settings = graph_args(&[], &env).unwrap().settings(1024, 64);
        let identity = settings.identity.expect("an identity from AZURE_* alone");
        assert_eq!((identity.tenant_id.as_str(), identity.client_id.as_str()), ("tenant-a", "client-a"));
        assert_eq!(identity.credential, CredentialSource::FederatedToken(token.into()));
        assert_eq!(settings.authority_url, BaseUrl::parse("https://login.example.com").unwrap());
    }

    #[test]
    fn graphbridge_variables_win_over_azure_ones_and_flags_over_both() {
        let env = [("AZURE_TENANT_ID", "from-azure"), ("AZURE_CLIENT_ID", "client-from-azure")];
        let args = graph_args(&[], &env).unwrap();
        assert_eq!(args.graph_tenant_id.as_deref(), Some("from-azure"));
        let env = [env[0], env[1], ("GRAPHBRIDGE_GRAPH_TENANT_ID", "from-graphbridge")];
        let args = graph_args(&[], &env).unwrap();
        assert_eq!(args.graph_tenant_id.as_deref(), Some("from-graphbridge"));
        assert_eq!(args.graph_client_id.as_deref(), Some("client-from-azure"), "the others still fill theirs");
        let args = graph_args(&["--graph-tenant-id", "from-flag"], &env).unwrap();
        assert_eq!(args.graph_tenant_id.as_deref(), Some("from-flag"));
    }

    #[test]
    fn a_page_token_key_shorter_than_32_bytes_is_refused_when_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let short = file(dir.path(), "short", &[7; 31]);
        let error = graph_args(&["--page-token-key-file", &short], &[]).unwrap_err();
        assert!(error.contains("--page-token-key-file") && error.contains("31 bytes"), "{error}");
        let enough = file(dir.path(), "enough", &[7; 32]);
        assert!(graph_args(&["--page-token-key-file", &enough], &[]).is_ok());
    }

    #[test]
    fn a_proxy_is_read_from_its_variable_and_checked_with_its_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = file(dir.path(), "proxy", b"user:secret\n");
        let env = [("GRAPHBRIDGE_GRAPH_PROXY", "http://proxy.example:3128")];
        let args = graph_args(&["--graph-proxy-credentials-file", &credentials], &env).unwrap();
        let proxy = args.settings(1024, 64).proxy.expect("a proxy from GRAPHBRIDGE_GRAPH_PROXY");
        assert_eq!(proxy.url.to_string(), "proxy.example:3128");
        assert_eq!(proxy.credentials_file, Some(credentials.clone().into()));

        for (args, says) in [
            (&["--graph-proxy-credentials-file", credentials.as_str()][..], "without --graph-proxy"),
            (&["--graph-proxy", "https://proxy.example:3128"], "--graph-proxy: "),
            (&["--graph-proxy", "http://u:p@proxy.example:3128"], "--graph-proxy-credentials-file"),
        ] {
            let error = graph_args(args, &[]).unwrap_err();
            assert!(error.contains(says), "{args:?}: {error}");
        }
        let malformed = file(dir.path(), "malformed", b"no colon\n");
        let error = graph_args(
            &["--graph-proxy", "http://proxy.example:3128", "--graph-proxy-credentials-file", &malformed],
            &[],
        )
        .unwrap_err();
        assert!(error.contains("user:password") && !error.contains("no colon"), "{error}");
    }
}
