//! Compiles `proto/` with protox (no system `protoc`) into the prost types, the encoded
//! descriptor set, and the Graph schema tables (graphbridge-codegen).

use std::{env, fs, path::PathBuf};

type BuildResult = Result<(), Box<dyn std::error::Error>>;

const PROTO_ROOT: &str = "../../proto";
const PROTO_FILES: &[&str] = &["graphbridge/v1/translator.proto", "graphbridge/v1/detection_rule_service.proto"];

fn main() -> BuildResult {
    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler
        .include_imports(true) // reflection needs the whole dependency closure
        .include_source_info(true) // keeps the .proto comments for `grpcurl describe`
        .open_files(PROTO_FILES)?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    // Encoded by protox itself: re-encoding through prost_types would drop the custom options.
    fs::write(out_dir.join("graphbridge_descriptor.bin"), compiler.encode_file_descriptor_set())?;
    fs::write(out_dir.join("graph_schema.rs"), graphbridge_codegen::schema(compiler.descriptor_pool())?)?;

    prost_build::Config::new()
        // Deterministic output: additional_data is written back in key order.
        .btree_map(["."])
        .compile_fds(compiler.file_descriptor_set())?;

    // compile_fds prints no rerun-if-changed lines of its own.
    println!("cargo:rerun-if-changed=build.rs");
    for file in compiler.files() {
        if let Some(path) = file.path() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Ok(())
}
