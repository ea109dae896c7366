//! One HTTP/1.1 connection per client, over a counting socket.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::LoadError;
use crate::counting::Counting;

pub struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    host: String,
}

/// Opens a connection to `host` (host:port); bytes read are added to `read`.
pub async fn connect(host: &str, read: Arc<AtomicU64>) -> Result<Conn, LoadError> {
    let tcp = TcpStream::connect(host).await.map_err(|source| LoadError::Connect { addr: host.to_owned(), source })?;
    let _ = tcp.set_nodelay(true);
    let io = TokioIo::new(Counting::new(tcp, read));
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| LoadError::Http(e.to_string()))?;
    tokio::spawn(conn);
    Ok(Conn { sender, host: host.to_owned() })
}

impl Conn {
    pub async fn get(&mut self, path: &str) -> Result<Response<Incoming>, LoadError> {
        self.sender.ready().await.map_err(|e| LoadError::Http(e.to_string()))?;
        let req = Request::get(path)
            .header(hyper::header::HOST, &self.host)
            .body(Empty::new())
            .map_err(|e| LoadError::Http(e.to_string()))?;
        self.sender.send_request(req).await.map_err(|e| LoadError::Http(e.to_string()))
    }

    pub async fn get_body(&mut self, path: &str) -> Result<(u16, Bytes), LoadError> {
        let res = self.get(path).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.map_err(|e| LoadError::Http(e.to_string()))?.to_bytes();
        Ok((status, body))
    }
}
