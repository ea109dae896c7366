//! One HTTP connection per client (HTTP/1.1, or HTTP/2 over TLS), over a
//! counting socket.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::LoadError;
use crate::wire::{self, Target};

pub struct Conn {
    sender: Sender,
    host: String,
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    /// With the URI's origin for `:scheme` and `:authority`.
    H2(http2::SendRequest<Full<Bytes>>, String),
}

/// Opens a connection to the target; bytes read are added to `read`.
pub async fn connect(target: &Target, read: Arc<AtomicU64>) -> Result<Conn, LoadError> {
    let (stream, h2) = wire::open(target, target.http2, read).await?;
    let io = TokioIo::new(stream);
    let http = |e: hyper::Error| LoadError::Http(e.to_string());
    let sender = if h2 {
        let (sender, conn) = http2::handshake(TokioExecutor::new(), io).await.map_err(http)?;
        tokio::spawn(conn);
        Sender::H2(sender, format!("https://{}", target.host))
    } else {
        let (sender, conn) = http1::handshake(io).await.map_err(http)?;
        tokio::spawn(conn);
        Sender::H1(sender)
    };
    Ok(Conn { sender, host: target.host.clone() })
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
        let mut req = req.map_err(|e| LoadError::Http(e.to_string()))?;
        let http = |e: hyper::Error| LoadError::Http(e.to_string());
        match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await.map_err(http)?;
                s.send_request(req).await.map_err(http)
            }
            Sender::H2(s, origin) => {
                // HTTP/2 names the origin in pseudo-headers, not in Host.
                req.headers_mut().remove(hyper::header::HOST);
                let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                *req.uri_mut() = format!("{origin}{path}").parse().map_err(|e| LoadError::Http(format!("{e}")))?;
                s.ready().await.map_err(http)?;
                s.send_request(req).await.map_err(http)
            }
        }
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
