//! An HTTP CONNECT proxy on 127.0.0.1: it records each CONNECT it is sent (the target and any
//! Proxy-Authorization) and tunnels it, or refuses every one with a set status.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// The longest request head the proxy reads.
const MAX_HEAD: usize = 8 * 1024;

/// One CONNECT the proxy was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// `host:port`, as the request line gives it.
    pub target: String,
    pub authorization: Option<String>,
}

pub struct ConnectProxy {
    pub addr: SocketAddr,
    connects: Arc<Mutex<Vec<Connect>>>,
    task: JoinHandle<()>,
}

impl ConnectProxy {
    /// A proxy that tunnels every CONNECT.
    pub async fn tunnelling() -> Self {
        Self::start(None).await
    }

    /// A proxy that answers every CONNECT with `status` and closes the connection.
    pub async fn refusing(status: u16) -> Self {
        Self::start(Some(status)).await
    }

    async fn start(refusal: Option<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let connects = Arc::new(Mutex::new(Vec::new()));
        let recorded = connects.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, refusal, recorded.clone()));
            }
        });
        ConnectProxy { addr, connects, task }
    }

    /// The `--graph-proxy` value.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connects(&self) -> Vec<Connect> {
        self.connects.lock().unwrap().clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut client: TcpStream, refusal: Option<u16>, connects: Arc<Mutex<Vec<Connect>>>) {
    let Some(head) = read_head(&mut client).await else { return };
    let mut lines = head.split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let ["CONNECT", target, _version] = request_line[..] else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n").await;
        return;
    };
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_owned());
    connects.lock().unwrap().push(Connect { target: target.to_owned(), authorization });
    if let Some(status) = refusal {
        let _ = client.write_all(format!("HTTP/1.1 {status} Refused\r\ncontent-length: 0\r\n\r\n").as_bytes()).await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
        return;
    };
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_ok() {
        let _ = copy_bidirectional(&mut client, &mut upstream).await;
    }
}

/// The request head, up to its blank line; None if the client closes first or sends too much.
/// The client sends nothing after the head until it is answered, so nothing past it is read.
async fn read_head(client: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() == MAX_HEAD || client.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}
