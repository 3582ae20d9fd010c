//! The ceiling of a Translator call for `scripts/bench-load`: a bare tonic server on the
//! product's stack (tonic, tokio, mimalloc, the same runtime shape) that moves the same bytes as
//! graphbridge and translates nothing. Each method it serves reads and decodes the
//! request like any tonic service (the whole body, frame by frame, through a codec), then answers a
//! pre-built reply: a response body `benches/load_frames.rs` wrote, sent verbatim.
//!
//! `echo_server ADDR METHOD=FILE...` serves `/graphbridge.v1.Translator/METHOD` on ADDR, answering
//! with the gRPC frame in FILE. Without arguments (as under a plain `cargo bench`) it serves
//! nothing. A bench target rather than an example, as it is no part of the product: neither
//! `cargo build` nor `cargo test` builds benches, while `cargo test` builds examples.
//!
//! With `ECHO_WORK=serde_json` it is a reference instead of the ceiling: before answering the same
//! reply, each method does what a translator built of the usual parts could not do less than:
//! prost decodes the request into its message, and serde_json does the call's JSON half, reading
//! the request's JSON into a `serde_json::Value` (FromGraph, RuleFromGraph) or writing the
//! reply's JSON from one (ToGraph, RuleToGraph; the value is read from the reply at start).

use std::{collections::HashMap, convert::Infallible, fs, net::SocketAddr, sync::Arc};

use bytes::{Buf, BufMut, Bytes};
use graphbridge_codec::pb::{
    FromGraphRequest, RuleFromGraphRequest, RuleToGraphRequest, RuleToGraphResponse, ToGraphRequest, ToGraphResponse,
};
use prost::{DecodeError, Message};
use tonic::{
    Request, Response, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::{BoxFuture, Context, Poll, Service, http},
    server::{Grpc, NamedService, UnaryService},
    transport::{Server, server::TcpIncoming},
};

// As the product (src/main.rs); the script sets its purge delay as the product does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Messages as their bytes: decoding takes the request out of tonic's buffer, encoding copies
/// the reply into it, as prost would its encoding.
#[derive(Clone, Copy)]
struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// What a method does with a request before it answers.
#[derive(Clone)]
enum Work {
    /// Nothing: the ceiling.
    None,
    /// The request decoded, and its JSON read into a `serde_json::Value`.
    Read(fn(&[u8]) -> Result<String, DecodeError>),
    /// The request decoded, and the reply's JSON written from its `serde_json::Value`.
    Write(fn(&[u8]) -> Result<(), DecodeError>, Arc<serde_json::Value>),
}

impl Work {
    /// The serde_json reference's work for `method`, whose reply is `reply`.
    fn serde_json(method: &str, reply: &Bytes) -> Result<Self, String> {
        let written = |json: String| serde_json::from_str(&json).map(Arc::new).map_err(|e| e.to_string());
        let decode_error = |e: DecodeError| format!("{method}'s reply: {e}");
        Ok(match method {
            "FromGraph" => Self::Read(|bytes| FromGraphRequest::decode(bytes).map(|request| request.json)),
            "RuleFromGraph" => Self::Read(|bytes| RuleFromGraphRequest::decode(bytes).map(|request| request.json)),
            "ToGraph" => Self::Write(
                |bytes| ToGraphRequest::decode(bytes).map(drop),
                written(ToGraphResponse::decode(reply.clone()).map_err(decode_error)?.json)?,
            ),
            "RuleToGraph" => Self::Write(
                |bytes| RuleToGraphRequest::decode(bytes).map(drop),
                written(RuleToGraphResponse::decode(reply.clone()).map_err(decode_error)?.json)?,
            ),
            _ => return Err(format!("{method}: no serde_json work for this method")),
        })
    }

    fn run(&self, request: &[u8]) -> Result<(), Status> {
        let invalid = |e: &dyn std::fmt::Display| Status::invalid_argument(e.to_string());
        match self {
            Self::None => {}
            Self::Read(decode) => {
                let json = decode(request).map_err(|e| invalid(&e))?;
                drop(std::hint::black_box(serde_json::from_str::<serde_json::Value>(&json).map_err(|e| invalid(&e))?));
            }
            Self::Write(decode, value) => {
                decode(request).map_err(|e| invalid(&e))?;
                drop(std::hint::black_box(serde_json::to_string(&**value).map_err(|e| invalid(&e))?));
            }
        }
        Ok(())
    }
}

/// One method's answer, and its work before it.
#[derive(Clone)]
struct Reply(Bytes, Work);

impl UnaryService<Bytes> for Reply {
    type Response = Bytes;
    type Future = std::future::Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        std::future::ready(self.1.run(request.get_ref()).map(|()| Response::new(self.0.clone())))
    }
}

/// The Translator's paths it answers, and with what message.
#[derive(Clone)]
struct Echo(Arc<HashMap<String, Reply>>);

impl NamedService for Echo {
    const NAME: &'static str = "graphbridge.v1.Translator";
}

impl<B> Service<http::Request<B>> for Echo
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let reply = self.0.get(request.uri().path()).cloned();
        Box::pin(async move {
            Ok(match reply {
                Some(reply) => Grpc::new(BytesCodec).unary(reply, request).await,
                None => Status::unimplemented("the echo server has no reply for this method").into_http(),
            })
        })
    }
}

/// The message of a gRPC frame: one uncompressed message, its length prefix checked.
fn message(frame: Vec<u8>) -> Result<Bytes, String> {
    match frame.split_first_chunk::<5>() {
        Some(([0, length @ ..], message)) if u32::from_be_bytes(*length) as usize == message.len() => {
            Ok(Bytes::from(frame).slice(5..))
        }
        _ => Err("not one uncompressed gRPC frame".into()),
    }
}

fn replies(args: &[String], serde_json: bool) -> Result<HashMap<String, Reply>, String> {
    args.iter()
        .map(|arg| {
            let (method, file) = arg.split_once('=').ok_or_else(|| format!("{arg}: expected METHOD=FILE"))?;
            let frame = fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let reply = message(frame).map_err(|e| format!("{file}: {e}"))?;
            let work = if serde_json { Work::serde_json(method, &reply)? } else { Work::None };
            Ok((format!("/{}/{method}", Echo::NAME), Reply(reply, work)))
        })
        .collect()
}

fn main() -> Result<(), String> {
    // `cargo bench` passes `--bench` (and any filter) to every bench binary.
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let Some((addr, methods)) = args.split_first() else {
        println!("echo_server: no address given, nothing served (see scripts/bench-load)");
        return Ok(());
    };
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let serde_json = match std::env::var("ECHO_WORK").as_deref() {
        Err(_) => false,
        Ok("serde_json") => true,
        Ok(other) => return Err(format!("ECHO_WORK={other}: expected serde_json, or no ECHO_WORK")),
    };
    let echo = Echo(Arc::new(replies(methods, serde_json)?));
    // As graphbridge's default --worker-threads: one worker per CPU the process may use.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        // No Nagle delay on replies, as graphbridge's ports.
        let incoming = TcpIncoming::bind(addr).map_err(|e| format!("{addr}: {e}"))?.with_nodelay(Some(true));
        Server::builder().add_service(echo).serve_with_incoming(incoming).await.map_err(|e| e.to_string())
    })
}
