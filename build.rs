//! The gRPC stubs of the services in `proto/graphbridge/v1/`. Their messages are
//! graphbridge-codec's (`extern_path`): this only adds the tonic servers and clients. The
//! servers take the requests of ToGraph, FromGraph, RuleToGraph and RuleFromGraph as their
//! encoding (`pb::Encoded`), which the handlers read in place, and answer FromGraph and
//! RuleFromGraph with the encoding the codec writes as it reads (`pb::Encoded` too); the clients
//! send and receive the messages themselves.

type BuildResult = Result<(), Box<dyn std::error::Error>>;

const PROTO_ROOT: &str = "proto";
const PROTO_FILES: &[&str] = &["graphbridge/v1/translator.proto", "graphbridge/v1/detection_rule_service.proto"];

fn main() -> BuildResult {
    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler.include_imports(true).include_source_info(true).open_files(PROTO_FILES)?;

    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    for side in ["server", "client"] {
        let dir = out_dir.join(side);
        std::fs::create_dir_all(&dir)?;
        let mut config = tonic_prost_build::configure()
            .build_server(side == "server")
            .build_client(side == "client")
            .out_dir(dir)
            .extern_path(".graphbridge.v1", "::graphbridge_codec::pb")
            .extern_path(".google.rpc", "::graphbridge_codec::proto::google::rpc")
            // Undecodable requests are INVALID_ARGUMENT, not tonic-prost's INTERNAL.
            .codec_path("crate::grpc::ProtoCodec");
        if side == "server" {
            for request in ["ToGraphRequest", "FromGraphRequest", "RuleToGraphRequest", "RuleFromGraphRequest"] {
                config = config.extern_path(format!(".graphbridge.v1.{request}"), "crate::pb::Encoded");
            }
            for response in ["FromGraphResponse", "RuleFromGraphResponse"] {
                config = config.extern_path(format!(".graphbridge.v1.{response}"), "crate::pb::Encoded");
            }
        }
        config.compile_fds(compiler.file_descriptor_set())?;
    }

    // compile_fds prints no rerun-if-changed lines of its own.
    println!("cargo:rerun-if-changed=build.rs");
    for file in compiler.files() {
        if let Some(path) = file.path() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Ok(())
}
