//! What the socket tests share: a test server on 127.0.0.1 port 0 with its checks ([`server`]),
//! the real binary as a child process ([`child`]), and clients that send what the generated client
//! never would ([`raw_grpc`], [`h2`]). Codec-level tools (fixtures, hostile inputs) are in
//! `graphbridge_testkit`.

pub mod child;
pub mod h2;
pub mod raw_grpc;
pub mod server;
