//! `graph::PageTokens` with a fixed key. Input: up to three fields `A\nB\nC` (read as UTF-8, lossily),
//! so that the seeds stay readable text. Never a panic, and:
//! - A opened as a token for filter B: whatever opens is exactly what was sealed: sealing the link
//!   it gives, for B, gives A again byte for byte (no other spelling of a token opens);
//! - A sealed as a link for filter B opens with B to A, with another filter (C, or B changed) as
//!   OtherFilter, and with another key as Forged;
//! - every changed byte of that token (sampled past 64 of them), every other last character, a
//!   character less and one more are refused.
#![no_main]

mod page_token_key;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use graphbridge::graph::{PageTokenError, PageTokens};
use libfuzzer_sys::fuzz_target;
use page_token_key::KEY;

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(3, |b| *b == b'\n').map(String::from_utf8_lossy);
    let a = fields.next().unwrap_or_default();
    let b = fields.next().unwrap_or_default();
    let c = fields.next();
    let tokens = PageTokens::new(KEY);

    if let Ok(link) = tokens.open(&a, &b) {
        assert_eq!(tokens.seal(&link, &b), a, "opened to {link:?}, but that seals otherwise");
    }

    let token = tokens.seal(&a, &b);
    assert_eq!(tokens.open(&token, &b).as_deref(), Ok(&*a), "sealed {a:?} for {b:?}");
    let changed = format!("{b}\0");
    for other in c.as_deref().into_iter().chain([changed.as_str()]).filter(|other| *other != b) {
        assert_eq!(tokens.open(&token, other), Err(PageTokenError::OtherFilter), "{a:?}: {b:?}, then {other:?}");
    }
    let other_key = PageTokens::new(b"another key of graphbridge's fuzz target");
    assert_eq!(other_key.open(&token, &b), Err(PageTokenError::Forged), "another key opened {a:?}");

    let refused = |changed: &str, what: &str| assert!(tokens.open(changed, &b).is_err(), "{what}: {a:?} {b:?}");
    let bytes = URL_SAFE_NO_PAD.decode(&token).expect("a token is base64url");
    // A byte of each part at least: version, filter digest, link, tag (the last 32 bytes).
    let step = bytes.len().div_ceil(64);
    for i in (0..bytes.len()).step_by(step).chain(bytes.len() - 32..bytes.len()) {
        let mut changed = bytes.clone();
        changed[i] ^= 1 << (i % 8);
        refused(&URL_SAFE_NO_PAD.encode(&changed), &format!("byte {i} changed"));
    }
    // The last character carries padding bits: another with the same data bits must not open.
    let (head, last) = token.split_at(token.len() - 1);
    for other in BASE64URL.iter().map(|&c| c as char).filter(|c| last != c.to_string()) {
        refused(&format!("{head}{other}"), &format!("last character {other}"));
    }
    refused(head, "a character less");
    refused(&format!("{token}A"), "a character more");
});
