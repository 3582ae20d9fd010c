//! The API and admin ports: binding, TLS, health, reflection, and signal-then-drain shutdown
//! around the services the caller hands in.

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

use super::{
    admin::{self, Readiness},
    connections::{ConnectionLimits, guarded},
    metrics::Metrics,
};

/// How the ports serve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PortSettings {
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    pub connections: ConnectionLimits,
    pub max_concurrent_streams: u32,
    pub http2_keepalive_interval: Duration,
    pub http2_keepalive_timeout: Duration,
    /// After the shutdown signal, how long to keep serving while reporting NOT_SERVING.
    pub prestop_delay: Duration,
    /// Then, how long in-flight calls may take.
    pub drain_timeout: Duration,
}

/// PEM files of the API port's TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Client certificates must be signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

/// What the server shares with the services it runs.
pub(crate) struct Shared {
    pub metrics: Arc<Metrics>,
    /// Becomes true when the server stops taking work: open streams stop reading.
    pub stopping: watch::Receiver<bool>,
}

/// The services of the API port, beside health and reflection.
pub(crate) struct Api {
    pub routes: Routes,
    /// Their names, reported by health as SERVING until shutdown.
    pub names: Vec<&'static str>,
    /// Encoded descriptor sets that reflection serves.
    pub descriptors: Vec<&'static [u8]>,
}

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
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
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
pub(crate) struct Bound {
    settings: PortSettings,
    tls: Option<ServerTlsConfig>,
    api: TcpIncoming,
    admin: TcpIncoming,
    api_addr: SocketAddr,
    admin_addr: SocketAddr,
    metrics: Arc<Metrics>,
}

fn bind(addr: SocketAddr, port: &'static str) -> Result<(TcpIncoming, SocketAddr), ServerError> {
    let error = |source| ServerError::Bind { addr, port, source };
    let incoming = TcpIncoming::bind(addr).map_err(error)?.with_nodelay(Some(true)).with_keepalive(Some(TCP_KEEPALIVE));
    let local = incoming.local_addr().map_err(error)?;
    Ok((incoming, local))
}

fn tls_config(files: &Option<TlsFiles>) -> Result<Option<ServerTlsConfig>, ServerError> {
    let Some(files) = files else { return Ok(None) };
    let read = |path: &PathBuf| fs::read(path).map_err(|source| ServerError::ReadTls { path: path.clone(), source });
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(read(&files.cert)?, read(&files.key)?));
    if let Some(ca) = &files.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    // Validates the PEM now rather than at the first connection.
    Server::builder().tls_config(tls.clone()).map_err(|source| tls_error(files, source))?;
    Ok(Some(tls))
}

fn tls_error(files: &TlsFiles, source: tonic::transport::Error) -> ServerError {
    let named = [
        ("--tls-cert", Some(&files.cert)),
        ("--tls-key", Some(&files.key)),
        ("--tls-client-ca", files.client_ca.as_ref()),
    ];
    let named: Vec<String> =
        named.into_iter().filter_map(|(flag, path)| path.map(|path| format!("{flag} {}", path.display()))).collect();
    ServerError::Tls { files: named.join(", "), source }
}

impl Bound {
    /// Binds both ports; `metrics` are served on the admin port.
    pub(crate) fn new(settings: PortSettings, metrics: Arc<Metrics>) -> Result<Self, ServerError> {
        let tls = tls_config(&settings.tls)?;
        let (api, api_addr) = bind(settings.listen, "API")?;
        let (admin, admin_addr) = bind(settings.admin_listen, "admin")?;
        Ok(Self { settings, tls, api, admin, api_addr, admin_addr, metrics })
    }

    pub(crate) fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    pub(crate) fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Serves the API that `api` builds until `shutdown` completes. Then: health NOT_SERVING on
    /// both ports at once, the pre-stop delay, no new connections, open streams told to stop,
    /// and in-flight calls given at most the drain timeout.
    pub(crate) async fn serve(
        self,
        api: impl FnOnce(&Shared) -> Api,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let settings = &self.settings;
        let metrics = self.metrics.clone();
        let readiness = Readiness::ready();
        let (stop_tx, stop_rx) = watch::channel(false);
        let Api { routes, names, descriptors } = api(&Shared { metrics: metrics.clone(), stopping: stop_rx.clone() });

        let health = HealthReporter::new();
        for name in &names {
            health.set_service_status(*name, ServingStatus::Serving).await;
        }
        let health_service = || HealthServer::new(HealthService::from_health_reporter(health.clone()));

        let stopped = || {
            let mut stop = stop_rx.clone();
            async move {
                let _ = stop.wait_for(|stop| *stop).await;
            }
        };

        let mut server = Server::builder()
            .http2_keepalive_interval(Some(settings.http2_keepalive_interval))
            .http2_keepalive_timeout(Some(settings.http2_keepalive_timeout))
            .max_concurrent_streams(settings.max_concurrent_streams);
        if let (Some(tls), Some(files)) = (self.tls.clone(), &settings.tls) {
            server = server.tls_config(tls).map_err(|source| tls_error(files, source))?;
        }
        let api_routes = with_reflection(routes.add_service(health_service()), &descriptors)?;
        let connections = settings.connections;
        let api = server.add_routes(api_routes).serve_with_incoming_shutdown(guarded(self.api, connections), stopped());
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
            prestop_delay = ?settings.prestop_delay,
            drain_timeout = ?settings.drain_timeout,
            "shutting down: NOT_SERVING now, then draining"
        );
        readiness.set_not_ready();
        for name in names.iter().chain([&""]) {
            health.set_service_status(*name, ServingStatus::NotServing).await;
        }
        tokio::time::sleep(settings.prestop_delay).await;
        let _ = stop_tx.send(true);
        drain(settings.drain_timeout, api, admin).await
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
