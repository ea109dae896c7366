//! One GET through `fetch`, with what it cost on the wire where the browser says.

use gloo_net::http::Request;
use web_sys::AbortSignal;

pub struct Reply {
    pub status: u16,
    pub text: String,
    /// Bytes on the wire, headers included (Resource Timing), when known.
    pub wire_bytes: Option<u64>,
    /// The browser opened a new TCP connection for it (not a kept-alive one).
    pub new_connection: bool,
    /// When its last byte arrived (local wall clock, ms; Resource Timing's
    /// `responseEnd`), not when the page got round to reading it.
    pub arrived_ms: f64,
    /// The instance that answered (`X-Pushlab-Instance`).
    pub instance: Option<String>,
    /// `http/1.1` or `h2` (Resource Timing's `nextHopProtocol`), when the browser says.
    pub protocol: Option<String>,
}

pub async fn get(url: &str, signal: Option<&AbortSignal>) -> Result<Reply, String> {
    super::timing::observe();
    let res = Request::get(url).abort_signal(signal).send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let instance = res.headers().get(pushlab::cluster::INSTANCE_HEADER);
    let text = res.text().await.map_err(|e| e.to_string())?;
    let now = super::now_ms();
    let (wire_bytes, new_connection, arrived_ms, protocol) = timing(&res.url()).unwrap_or((None, false, now, None));
    Ok(Reply { status, text, wire_bytes, new_connection, arrived_ms: arrived_ms.min(now), instance, protocol })
}

/// The Resource Timing entry for `url`: size, new connection?, arrival, protocol.
fn timing(url: &str) -> Option<(Option<u64>, bool, f64, Option<String>)> {
    let perf = web_sys::window()?.performance()?;
    let entry = super::timing::claim(url)?;
    let size = entry.transfer_size();
    let arrived = if entry.response_end() > 0.0 { perf.time_origin() + entry.response_end() } else { super::now_ms() };
    let protocol = Some(entry.next_hop_protocol()).filter(|p| !p.is_empty());
    Some(((size > 0.0).then_some(size as u64), entry.connect_end() > entry.connect_start(), arrived, protocol))
}
