//! The protobuf wire codec of the gRPC services: prost, except that
//! - a request that is not valid protobuf (truncated, invalid UTF-8 in a string) is the caller's
//!   mistake, INVALID_ARGUMENT, where tonic-prost reports INTERNAL;
//! - a message is decoded from the contiguous bytes tonic has already collected, not through
//!   tonic's buffer type (BENCHMARKS.md §10);
//! - a message is encoded without prost's up-front size check, which walks the whole message to
//!   compare its size with a buffer that grows as it is written anyway;
//! - a request its handler reads in place (`Encoded`) is passed on as its bytes, and a response
//!   the codec wrote as its encoding is sent as it is (see `encoded`).

use graphbridge_codec::translate::TranslateError;
use std::marker::PhantomData;
use tonic::{
    Status,
    codec::{BufferSettings, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

use super::{
    encoded::{FromEncoded, ToEncoded},
    status::translate_status,
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
