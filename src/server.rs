//! Server wiring: the API and admin ports, health, reflection, and signal-then-drain shutdown.

use std::{future::Future, io, net::SocketAddr, time::Duration};

use tokio::task::JoinHandle;
use tonic::{
    server::NamedService,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    config::ServeConfig,
    pb::{self, translator_server::TranslatorServer},
    service::{Limits, Translator},
};

/// Room for the protobuf framing around a request's JSON: tonic's own decode limit is a backstop
/// behind the handler's check, which answers RESOURCE_EXHAUSTED (tonic would say OUT_OF_RANGE).
const FRAMING_ALLOWANCE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr} ({port} port): {source}")]
    Bind { addr: SocketAddr, port: &'static str, source: io::Error },
    #[error("reflection descriptors are invalid: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("{port} port failed: {source}")]
    Serve { port: &'static str, source: tonic::transport::Error },
}

/// Both ports, bound (so a taken port fails at start) but not yet serving.
pub struct Bound {
    config: ServeConfig,
    api: TcpIncoming,
    admin: TcpIncoming,
    api_addr: SocketAddr,
    admin_addr: SocketAddr,
}

fn bind(addr: SocketAddr, port: &'static str) -> Result<(TcpIncoming, SocketAddr), ServerError> {
    let incoming =
        TcpIncoming::bind(addr).map_err(|source| ServerError::Bind { addr, port, source })?.with_nodelay(Some(true));
    let local = incoming.local_addr().map_err(|source| ServerError::Bind { addr, port, source })?;
    Ok((incoming, local))
}

impl Bound {
    pub fn new(config: ServeConfig) -> Result<Self, ServerError> {
        let (api, api_addr) = bind(config.listen, "API")?;
        let (admin, admin_addr) = bind(config.admin_listen, "admin")?;
        Ok(Self { config, api, admin, api_addr, admin_addr })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Serves until `shutdown` completes, then flips health to NOT_SERVING, stops accepting and
    /// lets in-flight calls finish for at most the drain timeout.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let limits = Limits {
            max_json_bytes: self.config.max_message_bytes as usize,
            max_json_depth: self.config.max_json_depth as usize,
        };
        let translator = TranslatorServer::new(Translator::new(limits))
            .max_decoding_message_size(limits.max_json_bytes + FRAMING_ALLOWANCE)
            .max_encoding_message_size(limits.max_json_bytes + FRAMING_ALLOWANCE);

        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_serving::<TranslatorServer<Translator>>().await;
        let admin_health = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(health.clone()),
        );

        let reflection_v1 = reflection_builder().build_v1()?;
        let reflection_v1alpha = reflection_builder().build_v1alpha()?;

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        let api = spawn_port(
            "API",
            Server::builder()
                .add_service(translator)
                .add_service(health_service)
                .add_service(reflection_v1)
                .add_service(reflection_v1alpha)
                .serve_with_incoming_shutdown(self.api, stopped()),
        );
        let admin = spawn_port(
            "admin",
            Server::builder().add_service(admin_health).serve_with_incoming_shutdown(self.admin, stopped()),
        );
        tracing::info!(api = %self.api_addr, admin = %self.admin_addr, "serving");

        shutdown.await;
        tracing::info!(drain_timeout = ?self.config.drain_timeout, "shutting down: health NOT_SERVING, draining");
        set_not_serving(&health).await;
        let _ = stop_tx.send(true);
        drain(self.config.drain_timeout, api, admin).await
    }
}

fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        // Lets grpcurl decode google.rpc.BadRequest details instead of printing base64.
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

type PortTask = JoinHandle<Result<(), ServerError>>;

fn spawn_port(
    port: &'static str,
    serving: impl Future<Output = Result<(), tonic::transport::Error>> + Send + 'static,
) -> PortTask {
    tokio::spawn(async move { serving.await.map_err(|source| ServerError::Serve { port, source }) })
}

async fn set_not_serving(health: &HealthReporter) {
    health.set_service_status("", ServingStatus::NotServing).await;
    health.set_service_status(<TranslatorServer<Translator> as NamedService>::NAME, ServingStatus::NotServing).await;
}

/// Waits for both ports to finish their connections, but no longer than `timeout`: tonic itself
/// would wait forever for a client that never closes its connection.
async fn drain(timeout: Duration, api: PortTask, admin: PortTask) -> Result<(), ServerError> {
    let both = async {
        let (api, admin) = tokio::join!(api, admin);
        for joined in [api, admin] {
            match joined {
                Ok(result) => result?,
                Err(panic) => tracing::error!(%panic, "a server task panicked"),
            }
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, both).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(?timeout, "drain timeout reached with connections still open; exiting");
            Ok(())
        }
    }
}

/// Completes on SIGTERM or SIGINT.
pub async fn termination_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
