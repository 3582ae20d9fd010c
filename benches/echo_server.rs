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

use std::{collections::HashMap, convert::Infallible, fs, net::SocketAddr, sync::Arc};

use bytes::{Buf, BufMut, Bytes};
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

/// One method's answer.
struct Reply(Bytes);

impl UnaryService<Bytes> for Reply {
    type Response = Bytes;
    type Future = std::future::Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, _request: Request<Bytes>) -> Self::Future {
        std::future::ready(Ok(Response::new(self.0.clone())))
    }
}

/// The Translator's paths it answers, and with what message.
#[derive(Clone)]
struct Echo(Arc<HashMap<String, Bytes>>);

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
                Some(reply) => Grpc::new(BytesCodec).unary(Reply(reply), request).await,
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

fn replies(args: &[String]) -> Result<HashMap<String, Bytes>, String> {
    args.iter()
        .map(|arg| {
            let (method, file) = arg.split_once('=').ok_or_else(|| format!("{arg}: expected METHOD=FILE"))?;
            let frame = fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            Ok((format!("/{}/{method}", Echo::NAME), message(frame).map_err(|e| format!("{file}: {e}"))?))
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
    let echo = Echo(Arc::new(replies(methods)?));
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
