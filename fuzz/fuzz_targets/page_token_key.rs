//! The key of the `page_token` target, shared with `examples/gen_seeds.rs` so that its seeds hold
//! tokens this key sealed.
pub const KEY: &[u8] = b"graphbridge fuzz: the page-token target's key";
