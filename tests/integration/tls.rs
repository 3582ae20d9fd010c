//! TLS and mutual TLS on the API port (`--tls-cert`, `--tls-key`, `--tls-client-ca`); the admin
//! port stays plaintext. Certificates are generated per test with rcgen into a temporary directory.

use std::{net::SocketAddr, path::Path, time::Duration};

use graphbridge::{
    cli::serve::Sidecar,
    pb::{ToGraphRequest, ToGraphResponse, translator_client::TranslatorClient},
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::support::server::{TestServer, channel, config};

/// Bounds every connect and call: a refused handshake must fail, never hang.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A certificate and its private key, PEM.
struct Pem {
    cert: String,
    key: String,
}

/// A CA that can sign leaf certificates.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names to check");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().expect("CA key");
        Self { issuer: CertifiedIssuer::self_signed(params, key).expect("self-signed CA") }
    }

    fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf certificate for `names` (DNS names or IP addresses), signed by this CA.
    fn sign(&self, common_name: &str, names: &[&str]) -> Pem {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        Pem { cert: cert.pem(), key: key.serialize_pem() }
    }
}

/// Everything a TLS test needs: files for the server's flags, PEM for the clients.
struct Pki {
    dir: TempDir,
    ca: String,
    /// Signed by `ca`.
    client: Pem,
    /// An unrelated CA's client certificate.
    stranger: Pem,
}

impl Pki {
    fn new() -> Self {
        let ca = Ca::new("graphbridge test CA");
        let server = ca.sign("localhost", &["localhost", "127.0.0.1"]);
        let client = ca.sign("trusted client", &["client.test"]);
        let stranger = Ca::new("unrelated CA").sign("stranger", &["client.test"]);
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, pem) in [("ca.pem", &ca.cert_pem()), ("server.pem", &server.cert), ("server.key", &server.key)] {
            std::fs::write(dir.path().join(name), pem).expect("write PEM");
        }
        Self { dir, ca: ca.cert_pem(), client, stranger }
    }

    fn path(&self, name: &str) -> String {
        path_str(&self.dir.path().join(name))
    }

    /// `--tls-cert` and `--tls-key` for the server certificate.
    fn server_flags(&self) -> Vec<String> {
        vec!["--tls-cert".into(), self.path("server.pem"), "--tls-key".into(), self.path("server.key")]
    }

    /// Server TLS plus `--tls-client-ca` with the test CA: mutual TLS.
    fn mtls_flags(&self) -> Vec<String> {
        let mut flags = self.server_flags();
        flags.extend(["--tls-client-ca".into(), self.path("ca.pem")]);
        flags
    }

    /// A client TLS config that trusts the test CA, for the name "localhost", with `identity`.
    fn client_tls(&self, identity: Option<&Pem>) -> ClientTlsConfig {
        let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca)).domain_name("localhost");
        match identity {
            Some(pem) => tls.identity(Identity::from_pem(&pem.cert, &pem.key)),
            None => tls,
        }
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_owned()
}

async fn start(flags: &[String]) -> TestServer {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    TestServer::with_flags(&flags).await
}

/// Connects (over TLS when `tls` is set) and calls ToGraph with an empty request. Connection and
/// call failures are both returned as text, so a refusal may surface at either step.
async fn to_graph(addr: SocketAddr, tls: Option<ClientTlsConfig>) -> Result<ToGraphResponse, String> {
    let attempt = async {
        let endpoint = match tls {
            Some(tls) => Channel::from_shared(format!("https://{addr}"))
                .expect("valid uri")
                .tls_config(tls)
                .map_err(|e| format!("tls config: {e:?}"))?,
            None => Channel::from_shared(format!("http://{addr}")).expect("valid uri"),
        };
        let channel = endpoint
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .connect()
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        TranslatorClient::new(channel)
            .to_graph(ToGraphRequest::default())
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| format!("call: {:?}: {}", status.code(), status.message()))
    };
    tokio::time::timeout(TIMEOUT * 2, attempt).await.unwrap_or_else(|_| Err("timed out".into()))
}

#[tokio::test]
async fn tls_client_trusting_the_ca_is_served() {
    let pki = Pki::new();
    let server = start(&pki.server_flags()).await;
    let response = to_graph(server.api, Some(pki.client_tls(None))).await.expect("TLS call");
    assert_eq!(response.json, "[]");
    server.stop().await;
}

#[tokio::test]
async fn plaintext_client_fails_against_tls_port() {
    let pki = Pki::new();
    let server = start(&pki.server_flags()).await;
    let error = to_graph(server.api, None).await.expect_err("plaintext h2c must not reach a TLS port");
    // Observed: `connect` succeeds (TCP, and the h2 preface is only sent); the server drops the
    // connection as the preface is no TLS ClientHello, and the call fails with Unknown,
    // "transport error".
    assert!(error.starts_with("call: ") || error.starts_with("connect: "), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn mtls_client_with_cert_from_the_ca_is_served() {
    let pki = Pki::new();
    let server = start(&pki.mtls_flags()).await;
    let response = to_graph(server.api, Some(pki.client_tls(Some(&pki.client)))).await.expect("mTLS call");
    assert_eq!(response.json, "[]");
    server.stop().await;
}

#[tokio::test]
async fn mtls_client_without_cert_is_refused() {
    let pki = Pki::new();
    let server = start(&pki.mtls_flags()).await;
    let error = to_graph(server.api, Some(pki.client_tls(None))).await.expect_err("no client certificate");
    // Observed: in TLS 1.3 the client's side of the handshake completes before the server checks
    // the (missing) certificate, so `connect` succeeds and the call fails with Unknown,
    // "transport error", once the server's alert arrives.
    assert!(error.starts_with("call: ") || error.starts_with("connect: "), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn mtls_client_with_cert_from_another_ca_is_refused() {
    let pki = Pki::new();
    let server = start(&pki.mtls_flags()).await;
    let error = to_graph(server.api, Some(pki.client_tls(Some(&pki.stranger)))).await.expect_err("untrusted client");
    // Observed: as without a certificate, `connect` succeeds and the call fails with Unknown,
    // "transport error", once the server's alert arrives.
    assert!(error.starts_with("call: ") || error.starts_with("connect: "), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn admin_port_stays_plaintext_under_mtls() {
    let pki = Pki::new();
    let server = start(&pki.mtls_flags()).await;
    let check = async {
        let channel = channel(server.admin).await.expect("plaintext connect to the admin port");
        HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await
    };
    let response = tokio::time::timeout(TIMEOUT, check).await.expect("in time").expect("health check");
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);
    server.stop().await;
}

#[test]
fn unreadable_tls_cert_fails_at_start_naming_the_path() {
    let pki = Pki::new();
    let missing = path_str(&pki.dir.path().join("no-such-cert.pem"));
    let key = pki.path("server.key");
    let config = config(&["--tls-cert", &missing, "--tls-key", &key]);
    let error = Sidecar::bind(&config).err().expect("a missing certificate file fails at start").to_string();
    assert!(error.contains(&missing), "the path is not named: {error}");
}

#[test]
fn tls_cert_that_is_not_pem_fails_at_start() {
    let pki = Pki::new();
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let key = pki.path("server.key");
    let config = config(&["--tls-cert", &garbage, "--tls-key", &key]);
    let error =
        Sidecar::bind(&config).err().expect("an invalid certificate fails at start, not at the first connection");
    let error = error.to_string();
    assert!(error.contains(&garbage), "the file is not named: {error}");
    assert!(error.contains("certificate"), "the cause is not given: {error}");
}

#[test]
fn tls_client_ca_that_is_not_pem_fails_at_start() {
    let pki = Pki::new();
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let mut flags = pki.server_flags();
    flags.extend(["--tls-client-ca".into(), garbage]);
    let config = config(&flags.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(Sidecar::bind(&config).is_err(), "an invalid client CA must fail at start, not at the first connection");
}

#[test]
fn tls_key_not_matching_the_cert_fails_at_start() {
    let pki = Pki::new();
    let other_key = pki.path("other.key");
    std::fs::write(&other_key, &pki.client.key).expect("write");
    let cert = pki.path("server.pem");
    let config = config(&["--tls-cert", &cert, "--tls-key", &other_key]);
    assert!(Sidecar::bind(&config).is_err(), "a key that does not match the certificate must fail at start");
}
