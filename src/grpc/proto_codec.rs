//! The protobuf wire codec of the gRPC services: prost, except that
//! - a request that is not valid protobuf (truncated, invalid UTF-8 in a string) is the caller's
//!   mistake, INVALID_ARGUMENT, where tonic-prost reports INTERNAL;
//! - a message is decoded from the contiguous bytes tonic has already collected, not through
//!   tonic's buffer type (BENCHMARKS.md §10);
//! - a message is encoded without prost's up-front size check, which walks the whole message to
//!   compare its size with a buffer that grows as it is written anyway;
//! - a request its handler reads in place ([`Encoded`]) is passed on as its bytes, and a response
//!   the codec wrote as its encoding is sent as it is.

use bytes::{Buf, BufMut, Bytes};
use graphbridge_codec::translate::{EncodedResponse, TranslateError};
use prost::{DecodeError, Message};
use std::marker::PhantomData;
use tonic::{
    Status,
    codec::{BufferSettings, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

use super::status::translate_status;

/// A message as its protobuf encoding: build.rs makes it the request type of ToGraph, FromGraph,
/// RuleToGraph and RuleFromGraph in the generated server, whose handlers read it in place
/// (BENCHMARKS.md §11), and the response type of FromGraph and RuleFromGraph, whose encoding the
/// codec writes as it reads the JSON (§12).
pub struct Encoded(pub Bytes);

impl From<EncodedResponse> for Encoded {
    fn from(response: EncodedResponse) -> Self {
        Encoded(response.bytes.into())
    }
}

/// A request as the server reads it from a message's bytes.
pub(crate) trait FromEncoded: Sized {
    fn from_encoded(buf: &mut DecodeBuf<'_>) -> Result<Self, DecodeError>;
}

impl<M: Message + Default> FromEncoded for M {
    fn from_encoded(buf: &mut DecodeBuf<'_>) -> Result<Self, DecodeError> {
        let len = buf.remaining();
        // tonic collects a message into one buffer before decoding it, so its bytes are one
        // slice; prost reads a slice several times faster than it reads a `Buf` of `Buf`s.
        if buf.chunk().len() == len {
            let decoded = M::decode(&buf.chunk()[..len]);
            buf.advance(len);
            decoded
        } else {
            M::decode(buf)
        }
    }
}

impl FromEncoded for Encoded {
    fn from_encoded(buf: &mut DecodeBuf<'_>) -> Result<Self, DecodeError> {
        Ok(Encoded(buf.copy_to_bytes(buf.remaining())))
    }
}

/// A response as the server writes it.
pub(crate) trait ToEncoded {
    fn encoding_len(&self) -> usize;
    fn encode_to(self, buf: &mut EncodeBuf<'_>);
}

impl<M: Message> ToEncoded for M {
    fn encoding_len(&self) -> usize {
        self.encoded_len()
    }

    fn encode_to(self, buf: &mut EncodeBuf<'_>) {
        // `EncodeBuf` grows on demand (its `remaining_mut` is unbounded), so the capacity check
        // of `Message::encode` cannot fail and only costs a walk of the message.
        self.encode_raw(buf);
    }
}

impl ToEncoded for Encoded {
    fn encoding_len(&self) -> usize {
        self.0.len()
    }

    fn encode_to(self, buf: &mut EncodeBuf<'_>) {
        buf.put(self.0);
    }
}

/// build.rs names this type as the codec of the generated services and clients.
pub(crate) struct ProtoCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for ProtoCodec<T, U>
where
    T: ToEncoded + Send + 'static,
    U: FromEncoded + Send + 'static,
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

/// Encodes into tonic's growable buffer.
pub(crate) struct ProtoEncoder<T>(PhantomData<T>);

impl<T: ToEncoded> Encoder for ProtoEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode_to(buf);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// Decodes with prost; a failure is INVALID_ARGUMENT.
pub(crate) struct CallerDecoder<U>(PhantomData<U>);

impl<U: FromEncoded> Decoder for CallerDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let message = U::from_encoded(buf).map_err(|error| translate_status(TranslateError::NotProtobuf(error)))?;
        Ok(Some(message))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}
