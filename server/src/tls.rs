//! `--tls`: HTTPS on `--addr`, HTTP/2 and HTTP/1.1 by ALPN (`--http1-only`:
//! 1.1 only). The certificate is `--cert`/`--key`, or a self-signed ECDSA
//! P-256 one made at start — valid 14 days, for every listen address and
//! `localhost` — whose SHA-256 fingerprint is printed, so a browser's warning
//! can be checked before it is accepted (once per certificate).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Config;

/// A self-signed certificate lives at most this long.
pub const SELF_SIGNED_DAYS: i64 = 14;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate {path}: {why}")]
    Cert { path: String, why: String },
    #[error("cannot read the private key {path}: {why}")]
    Key { path: String, why: String },
    #[error("cannot make a self-signed certificate: {0}")]
    SelfSigned(String),
    #[error("the certificate and key do not go together: {0}")]
    Config(String),
}

/// What `--tls` serves with.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// The certificate's SHA-256, as `AB:CD:…`.
    pub fingerprint: String,
    pub self_signed: bool,
}

/// The TLS setup `config` asks for; `None` without `--tls`.
pub fn from_config(config: &Config, addr: SocketAddr, interfaces: &[IpAddr]) -> Result<Option<Tls>, TlsError> {
    if !config.uses_tls() {
        return Ok(None);
    }
    let (chain, key, self_signed) = match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => {
            let show = |p: &std::path::Path| p.display().to_string();
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_file_iter(cert)
                    .and_then(|it| it.collect())
                    .map_err(|e| TlsError::Cert { path: show(cert), why: e.to_string() })?;
            if chain.is_empty() {
                return Err(TlsError::Cert { path: show(cert), why: "no certificate in it".into() });
            }
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key { path: show(key), why: e.to_string() })?;
            (chain, key, false)
        }
        _ => {
            let (cert, key) = self_signed(addr, interfaces)?;
            (vec![cert], key, true)
        }
    };
    let fingerprint = fingerprint(&chain[0]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    server.alpn_protocols =
        if config.http1_only { vec![b"http/1.1".to_vec()] } else { vec![b"h2".to_vec(), b"http/1.1".to_vec()] };
    Ok(Some(Tls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)), fingerprint, self_signed }))
}

/// A certificate for `addr` (every interface's address when it is unspecified) and `localhost`.
fn self_signed(
    addr: SocketAddr,
    interfaces: &[IpAddr],
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let err = |e: rcgen::Error| TlsError::SelfSigned(e.to_string());
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if addr.ip().is_unspecified() {
        names.extend(interfaces.iter().map(IpAddr::to_string));
    } else {
        names.push(addr.ip().to_string());
    }
    names.sort();
    names.dedup();
    let mut params = rcgen::CertificateParams::new(names).map_err(err)?;
    let now = time::OffsetDateTime::now_utc();
    // A little slack for a clock behind the browser's.
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    params.distinguished_name.push(rcgen::DnType::CommonName, "pushlab (self-signed)");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let cert = params.self_signed(&key).map_err(err)?;
    let key = PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    Ok((cert.der().clone(), key))
}

/// SHA-256 of a certificate, as browsers show it.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn a_self_signed_certificate_is_made_for_the_addresses_and_fingerprinted() {
        let config = Config::parse_from(["pushlab", "--tls"]);
        let tls = from_config(&config, "127.0.0.1:0".parse().unwrap(), &[]).unwrap().unwrap();
        assert!(tls.self_signed);
        assert_eq!(tls.fingerprint.len(), 32 * 3 - 1);
        let (cert, _) = self_signed("0.0.0.0:1".parse().unwrap(), &["10.1.2.3".parse().unwrap()]).unwrap();
        let text = String::from_utf8_lossy(cert.as_ref()).into_owned();
        assert!(text.contains("localhost"));
        assert!(Config::parse_from(["pushlab"]).uses_tls().then_some(()).is_none());
    }

    #[test]
    fn unreadable_files_are_clear_errors() {
        let config = Config::parse_from(["pushlab", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key"]);
        let err = from_config(&config, "127.0.0.1:0".parse().unwrap(), &[]).err().unwrap().to_string();
        assert!(err.contains("/nonexistent.pem"), "{err}");
    }
}
