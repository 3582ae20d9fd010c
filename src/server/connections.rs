//! Accepted connections, guarded (RELIABILITY.md, finding 7): each port serves at most
//! `--max-connections` at once, so one port's callers cannot use up the descriptors the other
//! needs (kubelet probes on the admin port), and a connection that sends nothing within
//! `--first-bytes-timeout` is closed. Past the limit the port stops accepting; new connections
//! wait in the kernel's backlog until one closes.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Sleep,
};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

/// How a port treats its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    pub max_connections: usize,
    pub first_bytes_timeout: Duration,
}

/// After an accept error other than a peer's (out of descriptors, say), wait this long before
/// accepting again rather than spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The connections of `incoming`, guarded, for `serve_with_incoming_shutdown`. The listener
/// closes when the returned stream is dropped.
pub(crate) fn guarded(
    incoming: TcpIncoming,
    limits: ConnectionLimits,
) -> impl Stream<Item = Result<Guarded, io::Error>> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    futures_util::stream::unfold((incoming, slots), move |(mut incoming, slots)| async move {
        let (tcp, slot) = accept(&mut incoming, &slots).await?;
        let deadline = Some(Box::pin(tokio::time::sleep(limits.first_bytes_timeout)));
        Some((Ok(Guarded { tcp, _slot: slot, deadline }), (incoming, slots)))
    })
}

/// The next connection, once a slot is free; None when the listener is gone.
async fn accept(incoming: &mut TcpIncoming, slots: &Arc<Semaphore>) -> Option<(TcpStream, OwnedSemaphorePermit)> {
    let slot = slots.clone().acquire_owned().await.ok()?;
    loop {
        match incoming.next().await? {
            Ok(tcp) => return Some((tcp, slot)),
            Err(error) if is_peer_error(&error) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot accept a connection; retrying");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

fn is_peer_error(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset)
}

/// A served connection; its slot frees when the connection closes. It is served at once (the
/// server's HTTP/2 SETTINGS go out before the client's first request), and reading from it fails
/// if its first bytes do not arrive by the deadline.
pub(crate) struct Guarded {
    tcp: TcpStream,
    _slot: OwnedSemaphorePermit,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl Connected for Guarded {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.tcp.connect_info()
    }
}

impl AsyncRead for Guarded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let read = Pin::new(&mut self.tcp).poll_read(cx, buf);
        let Some(deadline) = &mut self.deadline else { return read };
        match read {
            Poll::Pending if deadline.as_mut().poll(cx).is_ready() => {
                tracing::debug!(peer = ?self.tcp.peer_addr().ok(), "closing a connection that sent nothing");
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "no bytes before --first-bytes-timeout")))
            }
            Poll::Pending => Poll::Pending,
            read => {
                self.deadline = None;
                read
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
