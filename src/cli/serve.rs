//! `graphbridge serve`: the services built from the configuration and handed to the server.

use std::{future::Future, net::SocketAddr, process::ExitCode, sync::Arc};

use tonic::{server::NamedService, service::Routes};

use super::config::ServeConfig;
use crate::{
    graph::{self, DetectionRules, GatewaySetupError},
    grpc::{
        DetectionRuleGateway, Translator, TranslatorSettings,
        pb::{detection_rule_service_server::DetectionRuleServiceServer, translator_server::TranslatorServer},
    },
    server::{Api, Bound, ServerError, metrics::Metrics, shutdown},
};

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Gateway(#[from] GatewaySetupError),
}

/// The sidecar with its ports bound and its files read (a taken port, a bad certificate or key
/// fails here), not yet serving.
pub struct Sidecar {
    bound: Bound,
    translator: TranslatorSettings,
    rules: DetectionRules,
    max_message_bytes: usize,
    metrics: Arc<Metrics>,
}

impl Sidecar {
    pub fn bind(config: &ServeConfig) -> Result<Self, StartError> {
        let metrics = Arc::new(Metrics::default());
        let graph = config.graph_settings();
        let rules = graph::detection_rules(&graph, metrics.clone())?;
        if graph.identity.is_none() {
            tracing::info!("no Graph credentials: DetectionRuleService answers FAILED_PRECONDITION");
        }
        Ok(Self {
            bound: Bound::new(config.port_settings(), metrics.clone())?,
            translator: config.translator_settings(),
            rules,
            max_message_bytes: graph.max_message_bytes,
            metrics,
        })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.bound.api_addr()
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.bound.admin_addr()
    }

    /// Serves until `shutdown` completes, then drains.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let settings = self.translator;
        let gateway = DetectionRuleGateway::new(self.rules, self.metrics);
        let api = |shared: &crate::server::Shared| {
            let translator = Translator::new(settings, shared.metrics.clone(), shared.stopping.clone());
            Api {
                routes: Routes::new(translator.into_server()).add_service(gateway.into_server(self.max_message_bytes)),
                names: vec![
                    TranslatorServer::<Translator>::NAME,
                    DetectionRuleServiceServer::<DetectionRuleGateway>::NAME,
                ],
                // tonic-types' descriptors let grpcurl decode google.rpc.BadRequest details.
                descriptors: vec![graphbridge_codec::FILE_DESCRIPTOR_SET, tonic_types::pb::FILE_DESCRIPTOR_SET],
            }
        };
        self.bound.serve(api, shutdown).await
    }
}

/// Runs the server until SIGTERM or SIGINT, then drains.
pub fn run(config: &ServeConfig) -> ExitCode {
    let workers = match config.worker_threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n.into(),
    };
    // Large translations run on the blocking pool and are CPU-bound: more threads than cores
    // would add no speed, only translations held in memory at once.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(workers)
        .enable_all()
        .build();
    let served = match runtime {
        Ok(runtime) => runtime.block_on(async {
            let signal = shutdown::termination_signal()?;
            Ok::<_, StartError>(Sidecar::bind(config)?.serve(signal).await?)
        }),
        Err(error) => Err(ServerError::Runtime(error).into()),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "graphbridge stopped");
            ExitCode::FAILURE
        }
    }
}
