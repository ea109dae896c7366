//! Where participants join: the URL on `/room` and in its QR code.

use std::net::{IpAddr, SocketAddr};

/// Each `--public-url` when given (behind a balancer the instances are not
/// what people open); else, bound to all interfaces, every address others can
/// reach, the likeliest first (home and office ranges before the rest, IPv4
/// before IPv6); else the bound address — none when it is loopback, as nobody
/// else can join it.
pub fn urls(scheme: &str, addr: SocketAddr, public_urls: &[String], interfaces: &[IpAddr]) -> Vec<String> {
    if !public_urls.is_empty() {
        return public_urls.to_vec();
    }
    let ip = addr.ip();
    if ip.is_loopback() {
        return Vec::new();
    }
    if !ip.is_unspecified() {
        return vec![format!("{scheme}://{addr}")];
    }
    // Bound to [::], Linux takes IPv4 too (dual stack); bound to 0.0.0.0, only IPv4.
    let mut ips: Vec<IpAddr> = interfaces
        .iter()
        .map(|ip| ip.to_canonical())
        .filter(|ip| reachable(ip) && (ip.is_ipv4() || addr.is_ipv6()))
        .collect();
    ips.sort_by_key(likeliness);
    ips.dedup();
    ips.into_iter().map(|ip| format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))).collect()
}

/// Loopback and link-local addresses reach no one else in the room.
fn reachable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified(),
        IpAddr::V6(v6) => !v6.is_loopback() && !v6.is_unicast_link_local() && !v6.is_unspecified(),
    }
}

/// Lower first: Wi-Fi routers hand out 192.168/16, offices 10/8, then
/// 172.16/12 (also Docker's bridges), then public IPv4, then IPv6.
fn likeliness(ip: &IpAddr) -> (u8, IpAddr) {
    let rank = match ip {
        IpAddr::V4(v4) => match v4.octets() {
            [192, 168, ..] => 0,
            [10, ..] => 1,
            [172, b, ..] if (16..32).contains(&b) => 2,
            _ => 3,
        },
        IpAddr::V6(_) => 4,
    };
    (rank, *ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn lan_addresses_likeliest_first() {
        let nics = ips(&[
            "127.0.0.1",
            "172.17.0.1",
            "10.0.0.5",
            "192.168.1.20",
            "169.254.3.3",
            "::1",
            "fe80::1",
            "2001:db8::5",
        ]);
        let all4 = urls("http", "0.0.0.0:3000".parse().unwrap(), &[], &nics);
        assert_eq!(all4, ["http://192.168.1.20:3000", "http://10.0.0.5:3000", "http://172.17.0.1:3000"]);
        let all6 = urls("https", "[::]:3000".parse().unwrap(), &[], &nics);
        assert_eq!(all6.last().map(String::as_str), Some("https://[2001:db8::5]:3000"));
        assert_eq!(all6.len(), 4);
    }

    #[test]
    fn public_urls_win_and_loopback_has_none() {
        let nics = ips(&["192.168.1.20"]);
        let public = vec!["https://lab.example.org".to_string()];
        assert_eq!(urls("http", "0.0.0.0:3000".parse().unwrap(), &public, &nics), public);
        assert!(urls("http", "127.0.0.1:3000".parse().unwrap(), &[], &nics).is_empty());
        assert_eq!(urls("http", "192.168.1.20:80".parse().unwrap(), &[], &nics), ["http://192.168.1.20:80"]);
    }
}
