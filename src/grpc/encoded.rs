//! Messages as the server reads and writes them: decoded and encoded by prost, or kept as their
//! protobuf encoding ([`Encoded`]) where the codec reads a request in place or writes a response
//! as it reads.

use bytes::{Buf, BufMut, Bytes};
use graphbridge_codec::translate::EncodedResponse;
use prost::{DecodeError, Message};
use tonic::codec::{DecodeBuf, EncodeBuf};

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
