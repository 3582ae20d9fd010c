//! Command line and `GRAPHBRIDGE_*` environment, parsed into one plain struct and validated once.
//!
//! Every `serve` flag `--some-flag` has the environment equivalent `GRAPHBRIDGE_SOME_FLAG`; a flag
//! given on the command line wins. The environment is passed in, so parsing is testable without
//! touching the process environment.

use std::{ffi::OsString, net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use graphbridge_codec::translate::Limits;

use super::graph_args::{AZURE_VARIABLES, GraphArgs};
use crate::{
    graph::GraphSettings,
    grpc::TranslatorSettings,
    server::{PortSettings, TlsFiles, admission::AdmissionLimits, connections::ConnectionLimits},
};

const ENV_PREFIX: &str = "GRAPHBRIDGE_";

#[derive(Debug, Parser)]
#[command(
    name = "graphbridge",
    version,
    propagate_version = true,
    about = "Translates protobuf <-> Microsoft Graph security OData JSON over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum Command {
    /// Run the gRPC server.
    Serve(Box<ServeConfig>),
    /// Translate offline, stdin to stdout, exactly as the server would.
    Convert {
        #[command(subcommand)]
        direction: ConvertDirection,
    },
}

/// Which way `convert` translates.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum ConvertDirection {
    /// Proto-JSON of a graphbridge.v1.ToGraphRequest on stdin -> Graph JSON on stdout.
    ToGraph,
    /// Graph JSON (an array of actions or one action) on stdin -> proto-JSON of a
    /// graphbridge.v1.FromGraphResponse on stdout.
    FromGraph {
        /// What to do with data the schema does not model.
        #[arg(long, value_enum, default_value_t = PolicyArg::Preserve)]
        unknown_data_policy: PolicyArg,
    },
    /// Proto-JSON of a graphbridge.v1.RuleToGraphRequest on stdin -> the rule's Graph JSON on stdout.
    RuleToGraph,
    /// Graph JSON of a detection rule (or an OData collection of them) on stdin -> proto-JSON of a
    /// graphbridge.v1.RuleFromGraphResponse on stdout.
    RuleFromGraph {
        /// What to do with data the schema does not model.
        #[arg(long, value_enum, default_value_t = PolicyArg::Preserve)]
        unknown_data_policy: PolicyArg,
    },
    /// Graph JSON of a rule in the retired shape on stdin -> the rule in the current shape on
    /// stdout; what has no exact equivalent is listed on stderr.
    MigrateRule,
}

/// graphbridge.v1.UnknownDataPolicy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    Preserve,
    Reject,
    Drop,
}

/// Settings of `graphbridge serve`.
#[derive(Debug, Clone, PartialEq, Args)]
#[command(args_override_self = true)]
pub struct ServeConfig {
    /// Address of the API port (Translator, reflection, health). Loopback by default: a
    /// sidecar's callers share its pod.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address of the admin port (gRPC health for Kubernetes probes), reachable on the pod IP.
    #[arg(long, default_value = "0.0.0.0:9464")]
    pub admin_listen: SocketAddr,
    /// Largest accepted request message, and largest JSON input or output, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1024..=256 * 1024 * 1024))]
    pub max_message_bytes: u32,
    /// Deepest accepted nesting of JSON arrays and objects (Graph's actions need 3).
    #[arg(long, default_value_t = graphbridge_codec::DEFAULT_MAX_DEPTH as u32, value_parser = clap::value_parser!(u32).range(3..=1024))]
    pub max_json_depth: u32,
    /// Translator requests (an open TranslateStream counts as one) served at once; beyond it,
    /// calls are refused at once with RESOURCE_EXHAUSTED. Health and reflection are not limited.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_concurrent_requests: u32,
    /// Request bytes received or translated at once, across all calls and streams, counted as
    /// they arrive; a call that would go over is refused at once with RESOURCE_EXHAUSTED. A
    /// translation holds up to about 10x its request, so the default keeps a 64 MiB container
    /// safe. At least --max-message-bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_in_flight_bytes: u32,
    /// Longest a ToGraph or FromGraph call may take before DEADLINE_EXCEEDED (e.g. 500ms, 30s).
    #[arg(long, default_value = "30s", value_parser = parse_positive_duration)]
    pub request_timeout: Duration,
    /// HTTP/2 streams a client may open at once on one connection of the API port.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_streams: u32,
    /// Connections each port serves at once; past it the port stops accepting until one closes,
    /// so one port's clients cannot take the descriptors the other needs.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// A new connection that sends nothing for this long is closed without being served.
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    pub first_bytes_timeout: Duration,
    /// Idle time after which the server pings a connection (HTTP/2 keepalive).
    #[arg(long, default_value = "60s", value_parser = parse_positive_duration)]
    pub http2_keepalive_interval: Duration,
    /// How long a keepalive ping may go unanswered before the connection is closed.
    #[arg(long, default_value = "20s", value_parser = parse_positive_duration)]
    pub http2_keepalive_timeout: Duration,
    /// After SIGTERM/SIGINT, how long to keep serving while reporting NOT_SERVING, so that load
    /// balancers and endpoints notice before connections are refused.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub prestop_delay: Duration,
    /// After the pre-stop delay, how long in-flight calls may take before the process exits anyway.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    /// PEM certificate chain: serve the API port over TLS (the admin port stays plaintext, as
    /// Kubernetes gRPC probes cannot speak TLS).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle: require client certificates signed by it (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Tokio worker threads, and threads for large translations; 0 means one per CPU the process
    /// may use (cgroup CPU limits included).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16))]
    pub worker_threads: u16,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Parses `args` (starting with the program name) with `env` as the environment.
pub fn parse<I, T>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = Cli::command();
    // The environment becomes flags placed before the user's, which win (args_override_self).
    if args.get(1).is_some_and(|a| a == "serve") {
        let serve = command.find_subcommand("serve").expect("declared above");
        let from_env: Vec<OsString> = serve
            .get_arguments()
            .filter_map(|arg| arg.get_long())
            .filter_map(|long| {
                let azure = || AZURE_VARIABLES.iter().find(|(flag, _)| *flag == long).and_then(|(_, name)| env(name));
                env(&env_name(long)).or_else(azure).map(|value| format!("--{long}={value}").into())
            })
            .collect();
        args.splice(2..2, from_env);
    }
    command = command.mut_subcommand("serve", |serve| {
        let ids: Vec<_> =
            serve.get_arguments().filter_map(|a| a.get_long().map(|l| (a.get_id().clone(), env_name(l)))).collect();
        ids.into_iter().fold(serve, |serve, (id, name)| {
            serve.mut_arg(id, |arg| {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                arg.help(format!("{help} [env: {name}]"))
            })
        })
    });
    let matches = command.try_get_matches_from(args)?;
    let command = Cli::from_arg_matches(&matches)?.command;
    if let Command::Serve(config) = &command {
        config.validate().map_err(|message| clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, message))?;
    }
    Ok(command)
}

impl ServeConfig {
    /// What the ports need.
    pub(crate) fn port_settings(&self) -> PortSettings {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                Some(TlsFiles { cert: cert.clone(), key: key.clone(), client_ca: self.tls_client_ca.clone() })
            }
            _ => None,
        };
        PortSettings {
            listen: self.listen,
            admin_listen: self.admin_listen,
            tls,
            connections: ConnectionLimits {
                max_connections: self.max_connections as usize,
                first_bytes_timeout: self.first_bytes_timeout,
            },
            max_concurrent_streams: self.max_concurrent_streams,
            http2_keepalive_interval: self.http2_keepalive_interval,
            http2_keepalive_timeout: self.http2_keepalive_timeout,
            prestop_delay: self.prestop_delay,
            drain_timeout: self.drain_timeout,
        }
    }

    /// What the Translator needs.
    pub(crate) fn translator_settings(&self) -> TranslatorSettings {
        TranslatorSettings {
            translation: Limits {
                max_message_bytes: self.max_message_bytes as usize,
                max_json_depth: self.max_json_depth as usize,
            },
            admission: AdmissionLimits {
                max_message_bytes: self.max_message_bytes as usize,
                max_concurrent_requests: self.max_concurrent_requests as usize,
                max_in_flight_bytes: self.max_in_flight_bytes as usize,
            },
            request_timeout: self.request_timeout,
        }
    }

    /// What the Graph gateway needs.
    pub(crate) fn graph_settings(&self) -> GraphSettings {
        self.graph.settings(self.max_message_bytes as usize, self.max_json_depth as usize)
    }

    /// Rules between settings, which clap checks one at a time.
    fn validate(&self) -> Result<(), String> {
        self.graph.validate().map_err(|message| format!("{message}\n"))?;
        if self.max_in_flight_bytes < self.max_message_bytes {
            return Err(format!(
                "--max-in-flight-bytes ({}) must be at least --max-message-bytes ({}): a largest request could never run\n",
                self.max_in_flight_bytes, self.max_message_bytes
            ));
        }
        Ok(())
    }
}

/// `--admin-listen` -> `GRAPHBRIDGE_ADMIN_LISTEN`.
pub fn env_name(long_flag: &str) -> String {
    format!("{ENV_PREFIX}{}", long_flag.replace('-', "_").to_uppercase())
}

/// `250ms`, `10s`, `2m`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 500ms, 10s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {text:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

pub(crate) fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).and_then(|d| if d.is_zero() { Err("must be more than 0".into()) } else { Ok(d) })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn serve(args: &[&str], env: &[(&str, &str)]) -> Result<ServeConfig, clap::Error> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let argv = ["graphbridge", "serve"].iter().chain(args);
        parse(argv, |name| env.get(name).cloned()).map(|command| match command {
            Command::Serve(config) => *config,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn defaults_are_a_loopback_sidecar() {
        let config = serve(&[], &[]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:50051".parse().unwrap());
        assert_eq!(config.admin_listen, "0.0.0.0:9464".parse().unwrap());
        assert_eq!(config.max_message_bytes, 4 * 1024 * 1024);
        assert_eq!(config.drain_timeout, Duration::from_secs(10));
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn environment_sets_and_flags_override() {
        let env = [("GRAPHBRIDGE_LISTEN", "127.0.0.1:1"), ("GRAPHBRIDGE_DRAIN_TIMEOUT", "250ms"), ("OTHER", "x")];
        let config = serve(&[], &env).unwrap();
        assert_eq!(config.listen, "127.0.0.1:1".parse().unwrap());
        assert_eq!(config.drain_timeout, Duration::from_millis(250));
        let config = serve(&["--listen", "[::1]:2"], &env).unwrap();
        assert_eq!(config.listen, "[::1]:2".parse().unwrap());
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        for (args, env) in [
            (&["--listen", "nowhere"][..], &[][..]),
            (&[], &[("GRAPHBRIDGE_MAX_JSON_DEPTH", "2")][..]),
            (&["--drain-timeout", "5 parsecs"], &[]),
            (&["--request-timeout", "0s"], &[]),
            (&["--tls-cert", "cert.pem"], &[]),
            (&[], &[("GRAPHBRIDGE_TLS_CLIENT_CA", "ca.pem")]),
            (&["--max-message-bytes", "16777216"], &[]),
        ] {
            let error = serve(args, env).unwrap_err().to_string();
            assert!(error.contains("--"), "{error}");
        }
    }

    /// Kubernetes injects `<SERVICE>_PORT`, `<SERVICE>_SERVICE_HOST`, … for a Service named
    /// graphbridge; a flag whose variable matched one would silently receive `tcp://…`.
    #[test]
    fn no_environment_variable_collides_with_kubernetes_service_links() {
        let command = Cli::command();
        let serve = command.find_subcommand("serve").unwrap();
        for long in serve.get_arguments().filter_map(|a| a.get_long()) {
            let name = env_name(long);
            let rest = name.strip_prefix("GRAPHBRIDGE_").unwrap();
            assert!(rest != "PORT" && !rest.starts_with("PORT_") && !rest.starts_with("SERVICE_"), "{name}");
        }
    }

    #[test]
    fn version_works_after_a_subcommand_as_the_image_entrypoint_passes_it() {
        let version = parse(["graphbridge", "serve", "--version"], |_| None).unwrap_err();
        assert_eq!(version.kind(), clap::error::ErrorKind::DisplayVersion);
    }

    #[test]
    fn help_names_every_environment_variable() {
        let help = parse(["graphbridge", "serve", "--help"], |_| None).unwrap_err().to_string();
        for name in [
            "GRAPHBRIDGE_LISTEN",
            "GRAPHBRIDGE_ADMIN_LISTEN",
            "GRAPHBRIDGE_MAX_MESSAGE_BYTES",
            "GRAPHBRIDGE_LOG_FORMAT",
        ] {
            assert!(help.contains(name), "{name} missing from:\n{help}");
        }
    }
}
