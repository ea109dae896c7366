//! Where a client connects and how: host:port, plain TCP or TLS, HTTP/1.1 or
//! HTTP/2 (chosen by ALPN, as browsers do). Every byte read is counted below
//! TLS, so a run over TLS pays its record overhead like a real page.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::atomic::AtomicU64;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;

use crate::LoadError;
use crate::counting::Counting;

/// A connection's bytes: counted TCP, TLS on top when asked.
pub type Stream = Either<Counting<TcpStream>, TlsStream<Counting<TcpStream>>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// host:port.
    pub host: String,
    pub tls: bool,
    /// Ask for h2 by ALPN (TLS only: pushlab speaks HTTP/2 only over TLS).
    pub http2: bool,
}

impl Target {
    /// `http://host:port` or `https://host:port` (which implies `tls`).
    pub fn parse(url: &str) -> Result<Target, LoadError> {
        let bad = || LoadError::BadUrl(url.to_owned());
        let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => return Err(bad()),
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains('/') || !host.contains(':') {
            return Err(bad());
        }
        Ok(Target { host: host.to_owned(), tls, http2: false })
    }

    /// Plain HTTP/1.1 to host:port (the nchan feeder).
    pub fn plain(host: &str) -> Target {
        Target { host: host.to_owned(), tls: false, http2: false }
    }

    /// The same server, TLS and HTTP/2 as the flags say (`--http2` needs TLS).
    pub fn with(mut self, tls: bool, http2: bool) -> Target {
        self.tls |= tls || http2;
        self.http2 = http2;
        self
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}://{}{path}", if self.tls { "wss" } else { "ws" }, self.host)
    }

    fn server_name(&self) -> Result<ServerName<'static>, LoadError> {
        let name = self.host.rsplit_once(':').map_or(self.host.as_str(), |(h, _)| h);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(name.to_owned()).map_err(|_| LoadError::BadUrl(self.host.clone()))
    }
}

/// Opens a connection; `h2` asks ALPN for HTTP/2 (else HTTP/1.1). Returns the
/// stream and whether h2 was agreed.
pub async fn open(target: &Target, h2: bool, read: Arc<AtomicU64>) -> Result<(Stream, bool), LoadError> {
    let connect_err = |source| LoadError::Connect { addr: target.host.clone(), source };
    let tcp = TcpStream::connect(&target.host).await.map_err(connect_err)?;
    let _ = tcp.set_nodelay(true);
    let counted = Counting::new(tcp, read);
    if !target.tls {
        return Ok((Either::Left(counted), false));
    }
    let tls = TlsConnector::from(config(h2)).connect(target.server_name()?, counted).await.map_err(connect_err)?;
    let agreed = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    if h2 && !agreed {
        return Err(LoadError::Protocol(format!("{} did not agree to HTTP/2 (ALPN h2)", target.host)));
    }
    Ok((Either::Right(tls), agreed))
}

/// One config per ALPN choice, shared by every client (so later clients resume
/// TLS sessions, as a browser's tabs do).
fn config(h2: bool) -> Arc<ClientConfig> {
    static CONFIGS: OnceLock<[Arc<ClientConfig>; 2]> = OnceLock::new();
    let configs = CONFIGS.get_or_init(|| [build(b"http/1.1"), build(b"h2")]);
    configs[usize::from(h2)].clone()
}

fn build(alpn: &[u8]) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

/// Accepts any certificate (still checking the handshake's signatures): the
/// load runner only targets servers its user runs on loopback, which present a
/// self-signed certificate made at start.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_say_host_and_tls() {
        let t = Target::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!((t.host.as_str(), t.tls, t.http2), ("127.0.0.1:3000", false, false));
        let t = Target::parse("https://lab.local:8443/").unwrap();
        assert_eq!((t.host.as_str(), t.tls), ("lab.local:8443", true));
        assert_eq!(t.ws_url("/api/ws"), "wss://lab.local:8443/api/ws");
        for bad in ["127.0.0.1:3000", "ftp://x:1", "http://", "http://host", "http://h:1/path"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http2_implies_tls() {
        let t = Target::parse("http://127.0.0.1:3000").unwrap().with(false, true);
        assert!(t.tls && t.http2);
        assert_eq!(t.scheme(), "https");
        assert_eq!(t.server_name().unwrap(), ServerName::try_from("127.0.0.1").unwrap());
    }
}
