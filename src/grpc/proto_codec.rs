//! The protobuf wire codec of the gRPC services: prost, except that
//! - a request that is not valid protobuf (truncated, invalid UTF-8 in a string) is the caller's
//!   mistake, INVALID_ARGUMENT, where tonic-prost reports INTERNAL;
//! - a message is decoded from the contiguous bytes tonic has already collected, not through
//!   tonic's buffer type (BENCHMARKS.md §10);
//! - a message is encoded without prost's up-front size check, which walks the whole message to
//!   compare its size with a buffer that grows as it is written anyway.

use bytes::Buf;
use prost::Message;
use std::marker::PhantomData;
use tonic::{
    Status,
    codec::{BufferSettings, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

/// build.rs names this type as the codec of the generated services and clients.
pub(crate) struct ProtoCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for ProtoCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProtoEncoder<T>;
    type Decoder = CallerDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProtoEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        CallerDecoder(PhantomData)
    }
}

/// Encodes with prost into tonic's growable buffer.
pub(crate) struct ProtoEncoder<T>(PhantomData<T>);

impl<T: Message> Encoder for ProtoEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        // `EncodeBuf` grows on demand (its `remaining_mut` is unbounded), so the capacity check
        // of `Message::encode` cannot fail and only costs a walk of the message.
        item.encode_raw(buf);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// Decodes with prost; a failure is INVALID_ARGUMENT.
pub(crate) struct CallerDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for CallerDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let len = buf.remaining();
        // tonic collects a message into one buffer before decoding it, so its bytes are one
        // slice; prost reads a slice several times faster than it reads a `Buf` of `Buf`s.
        let decoded = if buf.chunk().len() == len {
            let decoded = U::decode(&buf.chunk()[..len]);
            buf.advance(len);
            decoded
        } else {
            U::decode(&mut *buf)
        };
        let message =
            decoded.map_err(|error| Status::invalid_argument(format!("the message is not valid protobuf: {error}")))?;
        Ok(Some(message))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}
