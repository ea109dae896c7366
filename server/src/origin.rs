//! Who this server is: its own origins, and the `Host` and `Origin` checks
//! against them (docs/PROTOCOL.md §4.4).
//!
//! The old check compared a WebSocket's `Origin` with the request's own
//! `Host` header, host and port only — and a DNS-rebinding page controls
//! both, so it could open sockets and post chat. Rebinding needs a name the
//! attacker owns, so a `Host` that is an IP address or `localhost` passes on
//! any port (Docker's `-p 8080:3000`, `ssh -L`, a laptop whose address
//! changed); a name must be one of the server's own: each `--public-url` and
//! `--allowed-origin`. A WebSocket `Origin` must be one of the server's own
//! origins — its listen addresses, the loopback names, those flags — or the
//! very origin of the (checked) `Host` it was sent to.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// One origin: scheme, lower-case host (IPv6 in brackets), port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]`; `None` for anything else (`null`, a path, a bad port).
    pub fn parse(s: &str) -> Option<Origin> {
        let uri: Uri = s.trim_end_matches('/').parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => return None,
        };
        let authority = uri.authority()?;
        let path_ok = uri.path_and_query().is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/");
        path_ok.then(|| Origin {
            scheme,
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default),
        })
    }

    fn of_ip(scheme: &str, ip: IpAddr, port: u16) -> Origin {
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        Origin { scheme: scheme.into(), host, port }
    }

    fn named(scheme: &str, host: &str, port: u16) -> Origin {
        Origin { scheme: scheme.into(), host: host.into(), port }
    }

    fn default_port(&self) -> u16 {
        if matches!(self.scheme.as_str(), "https" | "wss") { 443 } else { 80 }
    }
}

/// The origins a page of this server may have, and the hosts it answers to.
#[derive(Clone, Debug)]
pub struct Origins {
    own: Vec<Origin>,
}

impl Origins {
    /// From the listen addresses with their schemes, the interfaces'
    /// addresses, `--public-url` and `--allowed-origin`. An entry that is not
    /// an origin is an error naming it.
    pub fn new(
        listens: &[(SocketAddr, &str)],
        interfaces: &[IpAddr],
        public: &[String],
        allowed: &[String],
    ) -> Result<Self, String> {
        let mut own = Vec::new();
        for &(addr, scheme) in listens {
            let port = addr.port();
            let ips: Vec<IpAddr> = if addr.ip().is_unspecified() { interfaces.to_vec() } else { vec![addr.ip()] };
            for ip in ips {
                own.push(Origin::of_ip(scheme, ip, port));
            }
            // Every way of reaching it from this machine, whatever the interfaces said.
            for name in ["localhost", "127.0.0.1", "[::1]"] {
                own.push(Origin::named(scheme, name, port));
            }
        }
        for s in public.iter().chain(allowed) {
            own.push(Origin::parse(s).ok_or_else(|| format!("{s:?} is not an origin (scheme://host[:port])"))?);
        }
        own.dedup();
        Ok(Origins { own })
    }

    /// [`Self::allows_origin_on`] a plain HTTP connection.
    pub fn allows_origin(&self, origin: &str, host: Option<&str>) -> bool {
        self.allows_origin_on(origin, host, "http")
    }

    /// A `Host` header (`host[:port]`) this server answers to: an IP address or
    /// `localhost` on any port, or one of its own names.
    pub fn knows_host(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<axum::http::uri::Authority>() else { return false };
        let name = authority.host().to_ascii_lowercase();
        let literal = name == "localhost" || name.trim_matches(['[', ']']).parse::<IpAddr>().is_ok();
        literal || self.own.iter().any(|o| o.host == name && authority.port_u16().unwrap_or(o.default_port()) == o.port)
    }

    /// A browser's `Origin`: scheme, host and port equal one of ours, or the
    /// origin of the `Host` it was sent to (itself checked by [`check_host`]).
    /// `scheme` is the connection's (`https` on the TLS listener).
    pub fn allows_origin_on(&self, origin: &str, host: Option<&str>, scheme: &str) -> bool {
        let Some(o) = Origin::parse(origin) else { return false };
        let host = host.filter(|h| self.knows_host(h));
        let same_host = host.and_then(|h| Origin::parse(&format!("{scheme}://{h}"))).is_some_and(|h| h == o);
        same_host || self.own.contains(&o)
    }
}

/// Same-origin upgrades and `--allowed-origin` pass; a request without
/// `Origin` is not from a browser and passes too. `scheme` is the connection's;
/// over HTTP/2 the host is the request's `:authority`.
pub fn check_origin(origins: &Origins, headers: &HeaderMap, uri: &Uri, scheme: &str) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(uri.authority().map(|a| a.as_str()));
    match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        None => Ok(()),
        Some(Ok(o)) if origins.allows_origin_on(o, host, scheme) => Ok(()),
        Some(_) => Err(ApiError::ForbiddenOrigin),
    }
}

/// Refuses a request whose `Host` is none of this server's names (a
/// DNS-rebinding page's is its own). No `Host` at all is not a browser.
pub async fn check_host(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).map(|h| h.to_str().unwrap_or_default().to_owned());
    match host {
        Some(h) if !app.origins.knows_host(&h) => ApiError::UnknownHost(h).into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> Origins {
        Origins::new(&[("127.0.0.1:3000".parse().unwrap(), "http")], &[], &[], &["https://lab.example:8443".into()])
            .unwrap()
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let o = loopback();
        let host = Some("127.0.0.1:3000");
        for ok in [
            "http://127.0.0.1:3000",
            "http://localhost:3000",
            "http://LOCALHOST:3000/",
            "http://[::1]:3000",
            "https://lab.example:8443",
        ] {
            assert!(o.allows_origin(ok, host), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:3000",
            "http://127.0.0.1:3001",
            "http://evil.example:3000",
            "null",
            "http://lab.example:8443",
            "http://127.0.0.1:3000/x",
        ] {
            assert!(!o.allows_origin(bad, host), "{bad}");
        }
        // Through a port mapping (docker -p 8080:3000, ssh -L): the page's origin is its Host's.
        assert!(o.allows_origin("http://localhost:8080", Some("localhost:8080")));
        assert!(!o.allows_origin("http://evil.example:8080", Some("evil.example:8080")), "a name must be ours");
    }

    #[test]
    fn hosts_are_addresses_localhost_or_the_servers_own_names() {
        let o = loopback();
        for ok in [
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "lab.example:8443",
            "127.0.0.1:8080",
            "10.1.2.3",
            "[fe80::1]:80",
        ] {
            assert!(o.knows_host(ok), "{ok}");
        }
        for bad in ["evil.example:3000", "lab.example", "lab.example:3000", "", "a b"] {
            assert!(!o.knows_host(bad), "{bad}");
        }
    }

    #[test]
    fn bound_to_all_interfaces_every_address_is_ours() {
        let lan: IpAddr = "192.168.1.20".parse().unwrap();
        let public = ["http://lab.local".to_string(), "wss://x.example".to_string()];
        let o = Origins::new(&[("0.0.0.0:3000".parse().unwrap(), "http")], &[lan], &public, &[]).unwrap();
        assert!(o.knows_host("lab.local") && o.knows_host("x.example") && o.knows_host("x.example:443"));
        assert!(!o.knows_host("x.example:80"), "wss defaults to 443");
        assert!(o.allows_origin("http://192.168.1.20:3000", None) && o.allows_origin("http://lab.local:80", None));
        assert!(o.allows_origin("http://localhost:3000", None), "loopback names whatever the interfaces said");
        assert!(!o.allows_origin("http://10.0.0.1:3000", None));
        assert!(
            Origins::new(&[("127.0.0.1:1".parse().unwrap(), "http")], &[], &["not an origin".into()], &[]).is_err()
        );
    }
}
