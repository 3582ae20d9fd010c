//! Server wiring: the API and admin ports, health, reflection, TLS, and signal-then-drain shutdown.

use std::{fs, future::Future, io, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinHandle};
use tonic::{
    service::Routes,
    transport::{Certificate, Identity, Server, ServerTlsConfig, server::TcpIncoming},
};
use tonic_health::{
    ServingStatus,
    pb::health_server::HealthServer,
    server::{HealthReporter, HealthService},
};

use crate::{
    admin::{self, Readiness},
    config::ServeConfig,
    incoming::{ConnectionLimits, guarded},
    metrics::Metrics,
    pb::{self, translator_server::TranslatorServer},
    service::{Limits, Translator},
};

/// TCP keepalive on accepted sockets, so dead peers are noticed even without HTTP/2 traffic.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr} ({port} port): {source}")]
    Bind { addr: SocketAddr, port: &'static str, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    ReadTls { path: PathBuf, source: io::Error },
    #[error("invalid TLS settings ({files}): {}", error_chain(.source))]
    Tls { files: String, source: tonic::transport::Error },
    #[error("reflection descriptors are invalid: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("cannot install signal handlers: {0}")]
    Signal(io::Error),
    #[error("{port} port failed: {source}")]
    Serve { port: &'static str, source: tonic::transport::Error },
}

/// `error` and its sources: tonic's transport errors say only "transport error" themselves.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Both ports bound (so a taken port or a bad certificate fails at start), not yet serving.
pub struct Bound {
    config: ServeConfig,
    tls: Option<ServerTlsConfig>,
    api: TcpIncoming,
    admin: TcpIncoming,
    api_addr: SocketAddr,
    admin_addr: SocketAddr,
}

fn bind(addr: SocketAddr, port: &'static str) -> Result<(TcpIncoming, SocketAddr), ServerError> {
    let error = |source| ServerError::Bind { addr, port, source };
    let incoming = TcpIncoming::bind(addr).map_err(error)?.with_nodelay(Some(true)).with_keepalive(Some(TCP_KEEPALIVE));
    let local = incoming.local_addr().map_err(error)?;
    Ok((incoming, local))
}

fn tls_config(config: &ServeConfig) -> Result<Option<ServerTlsConfig>, ServerError> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else { return Ok(None) };
    let read = |path: &PathBuf| fs::read(path).map_err(|source| ServerError::ReadTls { path: path.clone(), source });
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
    if let Some(ca) = &config.tls_client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    // Validates the PEM now rather than at the first connection.
    Server::builder().tls_config(tls.clone()).map_err(|source| tls_error(config, source))?;
    Ok(Some(tls))
}

fn tls_error(config: &ServeConfig, source: tonic::transport::Error) -> ServerError {
    let files: Vec<String> =
        [("--tls-cert", &config.tls_cert), ("--tls-key", &config.tls_key), ("--tls-client-ca", &config.tls_client_ca)]
            .into_iter()
            .filter_map(|(flag, path)| path.as_ref().map(|path| format!("{flag} {}", path.display())))
            .collect();
    ServerError::Tls { files: files.join(", "), source }
}

impl Bound {
    pub fn new(config: ServeConfig) -> Result<Self, ServerError> {
        let tls = tls_config(&config)?;
        let (api, api_addr) = bind(config.listen, "API")?;
        let (admin, admin_addr) = bind(config.admin_listen, "admin")?;
        Ok(Self { config, tls, api, admin, api_addr, admin_addr })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Serves until `shutdown` completes. Then: health NOT_SERVING on both ports at once, the
    /// pre-stop delay, no new connections, open streams told to stop, and in-flight calls
    /// given at most the drain timeout.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let config = &self.config;
        let limits = Limits {
            max_message_bytes: config.max_message_bytes as usize,
            max_json_depth: config.max_json_depth as usize,
            max_concurrent_requests: config.max_concurrent_requests as usize,
            max_in_flight_bytes: config.max_in_flight_bytes as usize,
            request_timeout: config.request_timeout,
        };
        let metrics = Arc::new(Metrics::default());
        let readiness = Readiness::ready();
        let (stop_tx, stop_rx) = watch::channel(false);
        let translator = Translator::new(limits, metrics.clone(), stop_rx.clone()).into_server();

        let health = HealthReporter::new();
        health.set_serving::<TranslatorServer<Translator>>().await;
        let health_service = || HealthServer::new(HealthService::from_health_reporter(health.clone()));

        let stopped = || {
            let mut stop = stop_rx.clone();
            async move {
                let _ = stop.wait_for(|stop| *stop).await;
            }
        };

        let mut api = Server::builder()
            .http2_keepalive_interval(Some(config.http2_keepalive_interval))
            .http2_keepalive_timeout(Some(config.http2_keepalive_timeout))
            .max_concurrent_streams(config.max_concurrent_streams);
        if let Some(tls) = self.tls.clone() {
            api = api.tls_config(tls).map_err(|source| tls_error(config, source))?;
        }
        // tonic-types' descriptors let grpcurl decode google.rpc.BadRequest details.
        let api_routes = Routes::new(translator).add_service(health_service());
        let api_routes = with_reflection(api_routes, &[pb::FILE_DESCRIPTOR_SET, tonic_types::pb::FILE_DESCRIPTOR_SET])?;
        let connections = ConnectionLimits {
            max_connections: config.max_connections as usize,
            first_bytes_timeout: config.first_bytes_timeout,
        };
        let api = api.add_routes(api_routes).serve_with_incoming_shutdown(guarded(self.api, connections), stopped());
        let api = spawn_port("API", api);

        // One port, two protocols: gRPC health over h2c for kubelet probes, HTTP/1.1 for the rest.
        let admin_routes = Routes::from(admin::router(metrics, readiness.clone())).add_service(health_service());
        let admin_routes = with_reflection(admin_routes, &[])?;
        let admin = Server::builder()
            .accept_http1(true)
            .add_routes(admin_routes)
            .serve_with_incoming_shutdown(guarded(self.admin, connections), stopped());
        let admin = spawn_port("admin", admin);
        tracing::info!(api = %self.api_addr, admin = %self.admin_addr, tls = self.tls.is_some(), "serving");

        shutdown.await;
        tracing::info!(
            prestop_delay = ?config.prestop_delay,
            drain_timeout = ?config.drain_timeout,
            "shutting down: NOT_SERVING now, then draining"
        );
        readiness.set_not_ready();
        health.set_service_status("", ServingStatus::NotServing).await;
        health.set_not_serving::<TranslatorServer<Translator>>().await;
        tokio::time::sleep(config.prestop_delay).await;
        let _ = stop_tx.send(true);
        drain(config.drain_timeout, api, admin).await
    }
}

/// Adds reflection v1 and v1alpha (grpcurl 1.8 speaks only v1alpha) over the descriptors of
/// health, reflection itself and `extra`.
fn with_reflection(routes: Routes, extra: &[&'static [u8]]) -> Result<Routes, ServerError> {
    let builder = || {
        [
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ]
        .iter()
        .chain(extra)
        .fold(tonic_reflection::server::Builder::configure(), |builder, set| {
            builder.register_encoded_file_descriptor_set(set)
        })
    };
    Ok(routes.add_service(builder().build_v1()?).add_service(builder().build_v1alpha()?))
}

type PortTask = JoinHandle<Result<(), ServerError>>;

fn spawn_port(
    port: &'static str,
    serving: impl Future<Output = Result<(), tonic::transport::Error>> + Send + 'static,
) -> PortTask {
    tokio::spawn(async move { serving.await.map_err(|source| ServerError::Serve { port, source }) })
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
        Ok(result) => {
            tracing::info!("drained");
            result
        }
        Err(_) => {
            tracing::warn!(?timeout, "drain timeout reached with connections still open; exiting");
            Ok(())
        }
    }
}

/// Installs the SIGTERM and SIGINT handlers now (a signal before the first poll must not kill
/// the process) and returns a future that completes on either.
pub fn termination_signal() -> Result<impl Future<Output = ()>, ServerError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).map_err(ServerError::Signal)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServerError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    })
}
