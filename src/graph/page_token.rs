//! `next_page_token`: Graph's `@odata.nextLink`, sealed so that callers cannot change it and a
//! token is only good with the filter it was issued for. Any replica with the same key (a
//! shared Secret) accepts it.
//!
//! Layout, base64url without padding: version (1 byte) | SHA-256 of the filter, first 16 bytes |
//! the link's path and query | HMAC-SHA-256 of everything before it (32 bytes).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{digest, hmac, rand::SecureRandom};

const VERSION: u8 = 1;
const FILTER_DIGEST: usize = 16;
const TAG: usize = 32;
/// Shortest key accepted from --page-token-key-file: HMAC-SHA-256's own output size.
pub(crate) const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenError {
    #[error("not a page token of this service")]
    Malformed,
    #[error("not a page token of this service, or it was changed")]
    Forged,
    #[error("issued for another filter: send the same filter with its page token")]
    OtherFilter,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenKeyError {
    #[error("cannot read --page-token-key-file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("--page-token-key-file {path} holds {bytes} bytes: at least {MIN_KEY_BYTES} are needed")]
    Short { path: String, bytes: usize },
}

/// Seals and opens page tokens with one key.
pub struct PageTokens {
    key: hmac::Key,
}

impl PageTokens {
    pub fn new(key: &[u8]) -> Self {
        PageTokens { key: hmac::Key::new(hmac::HMAC_SHA256, key) }
    }

    /// A key of this process only: tokens do not survive a restart or cross replicas.
    pub(crate) fn random(rng: &dyn SecureRandom) -> Self {
        let mut key = [0u8; MIN_KEY_BYTES];
        rng.fill(&mut key).expect("the system's random source");
        Self::new(&key)
    }

    /// The key in `path` (its bytes as they are: a Secret of random bytes or text).
    pub(crate) fn from_file(path: &std::path::Path) -> Result<Self, PageTokenKeyError> {
        let shown = path.display().to_string();
        let key = std::fs::read(path)
            .map_err(|error| PageTokenKeyError::Read { path: shown.clone(), reason: error.to_string() })?;
        if key.len() < MIN_KEY_BYTES {
            return Err(PageTokenKeyError::Short { path: shown, bytes: key.len() });
        }
        Ok(Self::new(&key))
    }

    pub fn seal(&self, link: &str, filter: &str) -> String {
        let mut token = Vec::with_capacity(1 + FILTER_DIGEST + link.len() + TAG);
        token.push(VERSION);
        token.extend_from_slice(&filter_digest(filter));
        token.extend_from_slice(link.as_bytes());
        let tag = hmac::sign(&self.key, &token);
        token.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The link sealed in `token`, if this key sealed it for `filter`.
    pub fn open(&self, token: &str, filter: &str) -> Result<String, PageTokenError> {
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| PageTokenError::Malformed)?;
        if bytes.len() < 1 + FILTER_DIGEST + TAG || bytes[0] != VERSION {
            return Err(PageTokenError::Malformed);
        }
        let (sealed, tag) = bytes.split_at(bytes.len() - TAG);
        hmac::verify(&self.key, sealed, tag).map_err(|_| PageTokenError::Forged)?;
        if sealed[1..=FILTER_DIGEST] != filter_digest(filter) {
            return Err(PageTokenError::OtherFilter);
        }
        String::from_utf8(sealed[1 + FILTER_DIGEST..].to_vec()).map_err(|_| PageTokenError::Malformed)
    }
}

fn filter_digest(filter: &str) -> [u8; FILTER_DIGEST] {
    let digest = digest::digest(&digest::SHA256, filter.as_bytes());
    let mut first = [0u8; FILTER_DIGEST];
    first.copy_from_slice(&digest.as_ref()[..FILTER_DIGEST]);
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "/beta/security/rules/detectionRules?$top=2&$skiptoken=abc";

    #[test]
    fn a_sealed_link_opens_with_the_same_key_and_filter_only() {
        let tokens = PageTokens::new(&[7; 32]);
        let token = tokens.seal(LINK, "status eq 'enabled'");
        assert_eq!(tokens.open(&token, "status eq 'enabled'").unwrap(), LINK);
        assert_eq!(tokens.open(&token, "").unwrap_err(), PageTokenError::OtherFilter);
        let other_replica = PageTokens::new(&[7; 32]);
        assert_eq!(other_replica.open(&token, "status eq 'enabled'").unwrap(), LINK);
        let other_key = PageTokens::new(&[8; 32]);
        assert_eq!(other_key.open(&token, "status eq 'enabled'").unwrap_err(), PageTokenError::Forged);
    }

    #[test]
    fn every_changed_byte_is_refused() {
        let tokens = PageTokens::new(b"a key of at least thirty-two bytes!");
        let token = URL_SAFE_NO_PAD.decode(tokens.seal(LINK, "")).unwrap();
        for i in 0..token.len() {
            let mut changed = token.clone();
            changed[i] ^= 1;
            assert!(tokens.open(&URL_SAFE_NO_PAD.encode(&changed), "").is_err(), "byte {i}");
        }
        for bad in ["", "!!!", "AAAA", &URL_SAFE_NO_PAD.encode(&token[..token.len() - 1])] {
            assert!(tokens.open(bad, "").is_err(), "{bad:?}");
        }
    }
}
