//! Raw protobuf bytes through tonic's client: what the generated client can never send.

use prost::bytes::{Buf, BufMut};
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    transport::Channel,
};

#[derive(Debug, Clone, Copy, Default)]
pub struct Bytes;

impl Codec for Bytes {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Bytes;
    type Decoder = Bytes;

    fn encoder(&mut self) -> Self::Encoder {
        Bytes
    }

    fn decoder(&mut self) -> Self::Decoder {
        Bytes
    }
}

impl Encoder for Bytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Bytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// One unary call of `method` with `body` as the request message.
pub async fn unary(channel: Channel, method: &'static str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let path = PathAndQuery::from_static(method);
    grpc.unary(tonic::Request::new(body), path, Bytes).await.map(tonic::Response::into_inner)
}

/// TranslateStream with raw `items`: the answers (raw) and the status that ended the stream.
pub async fn stream(channel: Channel, items: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, Status) {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let path = PathAndQuery::from_static("/graphbridge.v1.Translator/TranslateStream");
    let request = tonic::Request::new(tokio_stream::iter(items));
    let mut answers = match grpc.streaming(request, path, Bytes).await {
        Ok(response) => response.into_inner(),
        Err(status) => return (Vec::new(), status),
    };
    let mut seen = Vec::new();
    loop {
        match answers.message().await {
            Ok(Some(answer)) => seen.push(answer),
            Ok(None) => return (seen, Status::ok("")),
            Err(status) => return (seen, status),
        }
    }
}
