//! A minimal HTTP/2 client that does what well-behaved clients never do: opens streams past the
//! server's limit, resets them at once, sends frames by hand.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const ACK: u8 = 0x1;
pub const REFUSED_STREAM: u32 = 0x7;
pub const CANCEL: u32 = 0x8;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn hpack_string(out: &mut Vec<u8>, s: &str) {
    // 7-bit prefix integer, no Huffman coding.
    let mut len = s.len();
    if len < 127 {
        out.push(len as u8);
    } else {
        out.push(127);
        len -= 127;
        while len >= 128 {
            out.push((len % 128 + 128) as u8);
            len /= 128;
        }
        out.push(len as u8);
    }
    out.extend_from_slice(s.as_bytes());
}

/// A HEADERS frame opening a gRPC call of `path` (literal fields without indexing).
pub fn request_headers(stream: u32, path: &str, end_stream: bool) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "127.0.0.1"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ] {
        block.push(0x00);
        hpack_string(&mut block, name);
        hpack_string(&mut block, value);
    }
    let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
    frame(HEADERS, flags, stream, &block)
}

/// A DATA frame holding one gRPC message.
pub fn grpc_data(stream: u32, message: &[u8], end_stream: bool) -> Vec<u8> {
    let mut payload = vec![0];
    payload.extend_from_slice(&(message.len() as u32).to_be_bytes());
    payload.extend_from_slice(message);
    frame(DATA, if end_stream { END_STREAM } else { 0 }, stream, &payload)
}

#[derive(Debug)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

/// A connection with the preface and an empty SETTINGS frame sent.
pub async fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(&[PREFACE, &frame(SETTINGS, 0, 0, &[])].concat()).await.expect("send preface");
    tcp
}

/// Reads frames until `done(frames)`, the connection ends, or `limit` passes; acknowledges
/// the server's SETTINGS and PINGs as it goes. Returns the frames and whether it ended.
pub async fn read_until(tcp: &mut TcpStream, limit: Duration, done: impl Fn(&[Frame]) -> bool) -> (Vec<Frame>, bool) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut frames = Vec::new();
    while !done(&frames) {
        let mut header = [0u8; 9];
        match tokio::time::timeout_at(deadline, tcp.read_exact(&mut header)).await {
            Err(_) => return (frames, false),
            Ok(Err(_)) => return (frames, true),
            Ok(Ok(_)) => {}
        }
        let len = (usize::from(header[0]) << 16) | (usize::from(header[1]) << 8) | usize::from(header[2]);
        let mut payload = vec![0; len];
        if tcp.read_exact(&mut payload).await.is_err() {
            return (frames, true);
        }
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
        let (kind, flags) = (header[3], header[4]);
        if kind == SETTINGS && flags & ACK == 0 {
            let _ = tcp.write_all(&frame(SETTINGS, ACK, 0, &[])).await;
        }
        if kind == PING && flags & ACK == 0 {
            let _ = tcp.write_all(&frame(PING, ACK, 0, &payload)).await;
        }
        frames.push(Frame { kind, flags, stream, payload });
    }
    (frames, false)
}

pub fn error_code(frame: &Frame) -> u32 {
    let at = if frame.kind == GOAWAY { 4 } else { 0 };
    u32::from_be_bytes(frame.payload[at..at + 4].try_into().expect("4 bytes"))
}
