//! `graphbridge serve`: the services built from the configuration and handed to the server.

use std::{future::Future, net::SocketAddr, process::ExitCode};

use tonic::{server::NamedService, service::Routes};

use super::config::ServeConfig;
use crate::{
    grpc::{Translator, TranslatorSettings, pb::translator_server::TranslatorServer},
    server::{Api, Bound, ServerError, shutdown},
};

/// The sidecar with its ports bound (a taken port or a bad certificate fails here), not yet
/// serving.
pub struct Sidecar {
    bound: Bound,
    translator: TranslatorSettings,
}

impl Sidecar {
    pub fn bind(config: &ServeConfig) -> Result<Self, ServerError> {
        Ok(Self { bound: Bound::new(config.port_settings())?, translator: config.translator_settings() })
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
        let api = |shared: &crate::server::Shared| {
            let translator = Translator::new(settings, shared.metrics.clone(), shared.stopping.clone());
            Api {
                routes: Routes::new(translator.into_server()),
                names: vec![TranslatorServer::<Translator>::NAME],
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
            Sidecar::bind(config)?.serve(signal).await
        }),
        Err(error) => Err(ServerError::Runtime(error)),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "graphbridge stopped");
            ExitCode::FAILURE
        }
    }
}
