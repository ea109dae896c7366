//! One HTTP/1.1 connection per client, over a counting socket.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::LoadError;
use crate::counting::Counting;

pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
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
        self.get_with(path, &[]).await
    }

    /// `GET path` with extra request headers.
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<Response<Incoming>, LoadError> {
        let mut req = Request::get(path).header(hyper::header::HOST, &self.host);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req.body(Full::default())).await
    }

    async fn send(
        &mut self,
        req: Result<Request<Full<Bytes>>, hyper::http::Error>,
    ) -> Result<Response<Incoming>, LoadError> {
        let req = req.map_err(|e| LoadError::Http(e.to_string()))?;
        self.sender.ready().await.map_err(|e| LoadError::Http(e.to_string()))?;
        self.sender.send_request(req).await.map_err(|e| LoadError::Http(e.to_string()))
    }

    /// `POST /api/control` with the instructor token.
    pub async fn control(&mut self, token: &str, action: &pushlab::ControlAction) -> Result<(), LoadError> {
        let body = serde_json::to_vec(action).expect("an action serializes");
        let req = Request::post("/api/control")
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)));
        let res = self.send(req).await?;
        let status = res.status();
        let text = res.into_body().collect().await.map_err(|e| LoadError::Http(e.to_string()))?.to_bytes();
        if status.is_success() {
            Ok(())
        } else {
            Err(LoadError::Protocol(format!("control {action:?}: HTTP {status}: {}", String::from_utf8_lossy(&text))))
        }
    }

    /// `POST path` with a body; the answer's status, its body read and dropped.
    pub async fn post(&mut self, path: &str, body: Vec<u8>) -> Result<u16, LoadError> {
        let req = Request::post(path)
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)));
        let res = self.send(req).await?;
        let status = res.status().as_u16();
        res.into_body().collect().await.map_err(|e| LoadError::Http(e.to_string()))?;
        Ok(status)
    }

    pub async fn get_body(&mut self, path: &str) -> Result<(u16, Bytes), LoadError> {
        let res = self.get(path).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.map_err(|e| LoadError::Http(e.to_string()))?.to_bytes();
        Ok((status, body))
    }
}
