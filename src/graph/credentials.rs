//! The form of a client-credentials token request, for each way of proving graphbridge's
//! identity. Every file is read afresh for each token request (tokens are fetched about once an
//! hour), so a rotated Secret or projected token is picked up without a restart.

use std::{
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{
    digest,
    rand::{SecureRandom, SystemRandom},
    signature::{RSA_PKCS1_SHA256, RsaKeyPair},
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use serde_json::json;

use super::settings::CredentialSource;

/// A signed client assertion is valid this long (Entra ID accepts up to 10 minutes).
const ASSERTION_LIFETIME_SECONDS: u64 = 300;
const NOT_RSA: &str = "the private key is not RSA: Entra ID takes assertions signed with RSA";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Why a credential could not be used. Never carries the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read {flag} {path}: {reason}")]
    Read { flag: &'static str, path: String, reason: String },
    #[error("{flag} {path} is empty")]
    Empty { flag: &'static str, path: String },
    #[error("--graph-client-certificate-file {path}: {reason}")]
    Certificate { path: String, reason: String },
}

/// The credential fields of a token request: `client_secret`, or a client assertion.
pub(crate) fn form_fields(
    source: &CredentialSource,
    client_id: &str,
    token_url: &str,
) -> Result<Vec<(&'static str, String)>, CredentialError> {
    Ok(match source {
        CredentialSource::ClientSecret(path) => {
            vec![("client_secret", read_trimmed("--graph-client-secret-file", path)?)]
        }
        CredentialSource::FederatedToken(path) => {
            let token = read_trimmed("--graph-federated-token-file", path)?;
            vec![("client_assertion_type", JWT_BEARER.to_owned()), ("client_assertion", token)]
        }
        CredentialSource::ClientCertificate(path) => {
            let assertion = CertificateKey::load(path)?.assertion(client_id, token_url, SystemTime::now())?;
            vec![("client_assertion_type", JWT_BEARER.to_owned()), ("client_assertion", assertion)]
        }
    })
}

/// Checks at start-up that the credential can be used, so that a bad file stops `serve` with the
/// flag's name instead of failing every call.
pub(crate) fn check(source: &CredentialSource) -> Result<(), CredentialError> {
    match source {
        CredentialSource::ClientSecret(path) => read_trimmed("--graph-client-secret-file", path).map(drop),
        // Kubernetes may project the token only after the container starts: checked when used.
        CredentialSource::FederatedToken(_) => Ok(()),
        CredentialSource::ClientCertificate(path) => CertificateKey::load(path).map(drop),
    }
}

fn read_trimmed(flag: &'static str, path: &Path) -> Result<String, CredentialError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| CredentialError::Read {
        flag,
        path: shown.clone(),
        reason: error.to_string(),
    })?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CredentialError::Empty { flag, path: shown });
    }
    Ok(trimmed.to_owned())
}

/// An application certificate and its RSA key, from one PEM file.
struct CertificateKey {
    key: RsaKeyPair,
    /// base64url SHA-256 of the certificate's DER: the `x5t#S256` header.
    thumbprint: String,
}

impl CertificateKey {
    fn load(path: &PathBuf) -> Result<Self, CredentialError> {
        let shown = path.display().to_string();
        let invalid = |reason: String| CredentialError::Certificate { path: shown.clone(), reason };
        let pem = std::fs::read(path).map_err(|error| CredentialError::Read {
            flag: "--graph-client-certificate-file",
            path: shown.clone(),
            reason: error.to_string(),
        })?;
        let certificate = CertificateDer::pem_slice_iter(&pem)
            .next()
            .ok_or_else(|| invalid("holds no PEM certificate".into()))?
            .map_err(|error| invalid(format!("unreadable certificate: {error}")))?;
        let key = match PrivateKeyDer::from_pem_slice(&pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            Ok(PrivateKeyDer::Pkcs1(der)) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            Ok(_) => return Err(invalid(NOT_RSA.into())),
            Err(_) => return Err(invalid("holds no PEM private key".into())),
        }
        .map_err(|error| match error.to_string().as_str() {
            "WrongAlgorithm" => invalid(NOT_RSA.into()),
            other => invalid(format!("the private key is not a usable RSA key: {other}")),
        })?;
        let thumbprint = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, certificate.as_ref()));
        Ok(CertificateKey { key, thumbprint })
    }

    /// A JWT signed with RS256: `aud` the token URL, `iss` = `sub` = the client id, a fresh `jti`,
    /// valid for ASSERTION_LIFETIME_SECONDS from `now`.
    fn assertion(&self, client_id: &str, token_url: &str, now: SystemTime) -> Result<String, CredentialError> {
        let rng = SystemRandom::new();
        let issued = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint});
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": random_id(&rng),
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME_SECONDS,
        });
        let signed =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature).map_err(|_| {
            CredentialError::Certificate { path: String::new(), reason: "signing the assertion failed".into() }
        })?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// A random version-4 UUID: `client-request-id`s and assertion `jti`s.
pub(crate) fn random_id(rng: &dyn SecureRandom) -> String {
    let mut bytes = [0u8; 16];
    // The system's random source does not fail on Linux once booted; zeros would still be unique
    // enough for a request id, never a key.
    let _ = rng.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids_and_differ() {
        let rng = SystemRandom::new();
        let (a, b) = (random_id(&rng), random_id(&rng));
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn a_secret_file_is_read_trimmed_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        let fields = form_fields(&CredentialSource::ClientSecret(path.clone()), "c", "u").unwrap();
        assert_eq!(fields, vec![("client_secret", "s3cret".to_owned())]);
        std::fs::write(&path, "\n").unwrap();
        let error = check(&CredentialSource::ClientSecret(path)).unwrap_err().to_string();
        assert!(error.contains("--graph-client-secret-file") && error.contains("empty"), "{error}");
    }

    /// A throwaway self-signed RSA test certificate (`openssl req -x509 -newkey rsa:2048`), its
    /// public key (PKCS#1 DER), and the certificate's SHA-256 thumbprint, base64url.
    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gateway");
    const THUMBPRINT: &str = "ps3joxUNgikXUFA0p8xAYZPVTAFQmlXzv7qvP6zLiNA";

    #[test]
    fn a_certificate_signs_an_assertion_entra_id_accepts() {
        let path = PathBuf::from(FIXTURES).join("app-certificate.pem");
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let jwt = CertificateKey::load(&path).unwrap().assertion("client", "https://login/t/token", now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        let (header, claims) = (decode(parts[0]), decode(parts[1]));
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["x5t#S256"], THUMBPRINT);
        assert_eq!(claims["aud"], "https://login/t/token");
        assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("client"), Some("client")));
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["nbf"].as_u64().unwrap(), ASSERTION_LIFETIME_SECONDS);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
        let public_key = std::fs::read(PathBuf::from(FIXTURES).join("app-public-key.der")).unwrap();
        let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_key);
        let signed = format!("{}.{}", parts[0], parts[1]);
        key.verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).expect("a valid RS256 signature");
    }

    #[test]
    fn a_certificate_without_an_rsa_key_is_refused_naming_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        // rcgen makes ECDSA keys: Entra ID's assertions need RSA.
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["app".into()]).unwrap().self_signed(&key).unwrap();
        std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
        let error = check(&CredentialSource::ClientCertificate(path)).unwrap_err().to_string();
        assert!(error.contains("--graph-client-certificate-file") && error.contains("not RSA"), "{error}");
    }
}
