//! A WebSocket client that resumes and then stops reading: the slow consumer.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pushlab::ClientMsg;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::LoadError;

pub struct Stalled {
    ws: WebSocketStream<TcpStream>,
}

/// Connects with a small receive buffer (which also stops the kernel growing
/// it), resumes, and reads nothing until [`Stalled::drain`].
pub async fn open(host: &str) -> Result<Stalled, LoadError> {
    let addr = tokio::net::lookup_host(host)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| LoadError::BadUrl(host.to_owned()))?;
    let connect_err = |source| LoadError::Connect { addr: host.to_owned(), source };
    let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(connect_err)?;
    socket.set_recv_buffer_size(16 * 1024).map_err(connect_err)?;
    let tcp = socket.connect(addr).await.map_err(connect_err)?;
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{host}/api/ws"), tcp)
        .await
        .map_err(|e| LoadError::Ws(e.to_string()))?;
    let resume = serde_json::to_string(&ClientMsg::Resume { after: None }).expect("resume serializes");
    ws.send(Message::text(resume)).await.map_err(|e| LoadError::Ws(e.to_string()))?;
    Ok(Stalled { ws })
}

impl Stalled {
    /// Reads what was buffered; the close code the server sent (0 for a cut
    /// socket), or `None` if the socket is still open after `limit`.
    pub async fn drain(mut self, limit: Duration) -> Option<u16> {
        tokio::time::timeout(limit, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map_or(0, |f| f.code.into()),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return 0,
                }
            }
        })
        .await
        .ok()
    }
}
