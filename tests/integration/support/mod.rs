//! What the socket tests share: a test server on 127.0.0.1 port 0 with its checks ([`server`]),
//! the real binary as a child process ([`child`]), clients that send what the generated client
//! never would ([`raw_grpc`], [`h2`]), and a fake Graph ([`fake_graph`]) with graphbridge in
//! front of it ([`gateway`]), with an HTTP proxy between them where a test asks
//! ([`connect_proxy`]). Codec-level tools (fixtures, hostile inputs) are in `graphbridge_testkit`.

pub mod child;
pub mod connect_proxy;
pub mod fake_graph;
pub mod gateway;
pub mod h2;
pub mod raw_grpc;
pub mod server;

/// The test tool `name` on PATH; a missing one fails the test rather than skipping it, saying
/// `how` to get it.
pub fn tool_on_path(name: &str, how: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{name} not found on PATH: {how}"))
}
