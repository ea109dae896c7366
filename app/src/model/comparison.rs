//! The comparison's rows: what one transport cost under one set of
//! conditions. When the conditions change (the server's rate or delay, the
//! polling interval, a new server run) every open row they no longer fit is
//! closed, and the transport's next fact opens a new one: a row never mixes
//! two rates. Plain data, tested natively.

use pushlab::{PerTransport, Transport};
use serde::Serialize;

use crate::model::histogram::Histogram;
use crate::model::metrics::{Counts, Percentiles};

/// What a row was measured under. `None`: not known (yet), e.g. the rate before
/// the first `/api/stats` answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conditions {
    /// Simulated events per second, from the server's settings.
    pub rate_per_s: Option<f64>,
    /// Short polling's interval; none on a row of another transport.
    pub interval_s: Option<u32>,
    /// The instructor's delivery delay.
    pub delay_ms: Option<u64>,
    /// The server run (its epoch): a restarted server is another server.
    pub epoch: Option<String>,
}

fn fits<T>(row: &Option<T>, now: &Option<T>, same: impl Fn(&T, &T) -> bool) -> bool {
    match (row, now) {
        (Some(a), Some(b)) => same(a, b),
        _ => true,
    }
}

impl Conditions {
    /// What applies to a row of `t`: the interval only to short polling.
    fn of(&self, t: Transport) -> Conditions {
        Conditions { interval_s: self.interval_s.filter(|_| t == Transport::Poll), ..self.clone() }
    }

    /// Whether a row measured under `self` may go on under `now`: a figure the
    /// row did not know yet may be learnt, none may change.
    fn admits(&self, now: &Conditions) -> bool {
        fits(&self.rate_per_s, &now.rate_per_s, |a, b| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()))
            && fits(&self.interval_s, &now.interval_s, PartialEq::eq)
            && fits(&self.delay_ms, &now.delay_ms, PartialEq::eq)
            && fits(&self.epoch, &now.epoch, PartialEq::eq)
    }

    fn learn(&mut self, now: &Conditions) {
        self.rate_per_s = self.rate_per_s.or(now.rate_per_s);
        self.interval_s = self.interval_s.or(now.interval_s);
        self.delay_ms = self.delay_ms.or(now.delay_ms);
        if self.epoch.is_none() {
            self.epoch.clone_from(&now.epoch);
        }
    }
}

/// One row while it is measured: counters as differences from the
/// transport's own (which the live figures keep), its own latency samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub transport: Transport,
    pub conditions: Conditions,
    /// The transport's counters when the row opened, and when it closed.
    base: Counts,
    end: Option<Counts>,
    latency: Histogram,
    max_ms: Option<f64>,
    /// Time measured in earlier spans (ms), and the current span's first and
    /// last sample: the time a transport was switched off is not measured.
    spans_ms: f64,
    span: Option<(f64, f64)>,
}

impl Segment {
    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }

    /// First to last sample, over the spans the transport was on.
    pub fn duration_ms(&self) -> f64 {
        self.spans_ms + self.span.map_or(0.0, |(a, b)| b - a)
    }

    /// The row's counters, given the transport's counters now.
    pub fn counts(&self, now: Counts) -> Counts {
        self.end.unwrap_or(now).since(self.base)
    }

    /// Of every event timed in the row (not a sliding window: the row is one condition).
    pub fn percentiles(&self) -> Option<Percentiles> {
        let q = |p| self.latency.quantile(p);
        Some(Percentiles {
            p50: q(0.50)?,
            p95: q(0.95)?,
            p99: q(0.99)?,
            max: self.max_ms?,
            samples: self.latency.len(),
        })
    }

    /// The row as shown and exported, given its transport's counters now.
    pub fn row(&self, now: Counts) -> Row {
        let c = self.counts(now);
        let p = self.percentiles();
        let per_event = |v: u64| (c.events > 0 && v > 0).then(|| v as f64 / c.events as f64);
        Row {
            transport: self.transport.as_str(),
            kind: self.transport,
            current: self.is_open(),
            rate_per_s: self.conditions.rate_per_s,
            interval_s: self.conditions.interval_s,
            delay_ms: self.conditions.delay_ms,
            duration_s: self.duration_ms() / 1000.0,
            epoch: self.conditions.epoch.clone(),
            events: c.events,
            requests: c.requests,
            empty_responses: c.empty,
            connections: c.connections,
            reconnects: c.reconnects,
            payload_bytes: c.payload_bytes,
            wire_bytes: c.wire_bytes,
            events_per_request: (c.requests > 0 && !self.transport.is_stream())
                .then(|| c.events as f64 / c.requests as f64),
            bytes_per_event: (c.events > 0).then(|| c.payload_bytes as f64 / c.events as f64),
            wire_bytes_per_event: per_event(c.wire_bytes),
            p50_ms: p.map(|p| p.p50),
            p95_ms: p.map(|p| p.p95),
            p99_ms: p.map(|p| p.p99),
            max_ms: p.map(|p| p.max),
        }
    }
}

/// Every row of this session, oldest first, the conditions now, and where they are measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Session {
    pub rows: Vec<Segment>,
    open: PerTransport<Option<usize>>,
    pub now: Conditions,
    pub place: Place,
    /// Local time (ms) the stream last announced a change of settings: a
    /// `/api/stats` answer asked for before that may predate the change.
    pub settings_heard_ms: f64,
}

impl Session {
    /// A fact of transport `t` (a request, an answer, a frame, an event) at
    /// `at_ms`; `before` is the transport's counters before it. Opens a row
    /// under the conditions now if none is open.
    pub fn sample(&mut self, t: Transport, before: Counts, at_ms: f64) {
        let i = match *self.open.get(t) {
            Some(i) => i,
            None => {
                self.rows.push(Segment {
                    transport: t,
                    conditions: self.now.of(t),
                    base: before,
                    end: None,
                    latency: Histogram::default(),
                    max_ms: None,
                    spans_ms: 0.0,
                    span: None,
                });
                *self.open.get_mut(t) = Some(self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        let s = &mut self.rows[i];
        s.span = Some(s.span.map_or((at_ms, at_ms), |(first, last)| (first, last.max(at_ms))));
    }

    /// An event of `t` that was timed: its latency goes into the open row.
    pub fn latency(&mut self, t: Transport, ms: f64) {
        if let Some(s) = self.open_mut(t) {
            s.latency.add(ms);
            s.max_ms = Some(s.max_ms.map_or(ms, |m| m.max(ms)));
        }
    }

    /// Transport `t` is (re)started: what follows is a new span of its row.
    pub fn begin(&mut self, t: Transport) {
        if let Some(s) = self.open_mut(t) {
            s.spans_ms += s.span.take().map_or(0.0, |(a, b)| b - a);
        }
    }

    /// Changes the conditions; every open row they no longer fit is closed
    /// with its transport's counters now (`counts`), the others learn what
    /// they did not know. Returns how many rows closed.
    pub fn set_conditions(&mut self, change: &dyn Fn(&mut Conditions), counts: &PerTransport<Counts>) -> usize {
        change(&mut self.now);
        let mut closed = 0;
        for t in Transport::ALL {
            let Some(i) = *self.open.get(t) else { continue };
            let now = self.now.of(t);
            let s = &mut self.rows[i];
            if s.conditions.admits(&now) {
                s.conditions.learn(&now);
            } else {
                s.end = Some(*counts.get(t));
                *self.open.get_mut(t) = None;
                closed += 1;
            }
        }
        closed
    }

    /// Forgets every row; keeps the conditions and the place.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.open = PerTransport::default();
    }

    fn open_mut(&mut self, t: Transport) -> Option<&mut Segment> {
        self.open.get(t).map(|i| &mut self.rows[i])
    }
}

/// One row of the comparison, as shown and exported.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    pub transport: &'static str,
    #[serde(skip)]
    pub kind: Transport,
    /// Still measuring; a closed row ended when its conditions changed.
    pub current: bool,
    pub rate_per_s: Option<f64>,
    pub interval_s: Option<u32>,
    pub delay_ms: Option<u64>,
    /// Measured: first to last sample, while the transport was on.
    pub duration_s: f64,
    /// The server run the row was measured against.
    pub epoch: Option<String>,
    pub events: u64,
    pub requests: u64,
    pub empty_responses: u64,
    pub connections: u64,
    pub reconnects: u64,
    pub payload_bytes: u64,
    pub wire_bytes: u64,
    pub events_per_request: Option<f64>,
    pub bytes_per_event: Option<f64>,
    pub wire_bytes_per_event: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// "20/s", "0.2/s"; "?/s" before the page knows the rate.
pub fn rate_label(rate: Option<f64>) -> String {
    rate.map_or("?/s".into(), |r| format!("{r}/s"))
}

/// "48 s", then whole minutes.
pub fn duration_label(s: f64) -> String {
    if s < 100.0 { format!("{s:.0} s") } else { format!("{:.0} min", s / 60.0) }
}

impl Row {
    /// The conditions, compact: "20/s · every 2 s · 48 s" (and "+500 ms delay" when set).
    pub fn conditions_label(&self) -> String {
        let mut parts = vec![rate_label(self.rate_per_s)];
        if let Some(i) = self.interval_s {
            parts.push(format!("every {i} s"));
        }
        if let Some(d) = self.delay_ms.filter(|d| *d > 0) {
            parts.push(format!("+{d} ms delay"));
        }
        parts.push(duration_label(self.duration_s));
        parts.join(" · ")
    }
}

/// Where the rows were measured: the browser and the server, once per export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Place {
    /// Name and major version, from `navigator.userAgent`.
    pub browser: String,
    pub user_agent: String,
    /// The server's origin, as the page reached it.
    pub server: String,
    /// Its run (epoch), from `/api/stats`.
    pub epoch: Option<String>,
    /// The pushlab build the page came from (the server serves its own build).
    pub version: &'static str,
}

#[derive(Serialize)]
struct Export<'a> {
    browser: &'a str,
    user_agent: &'a str,
    server: &'a str,
    epoch: Option<&'a str>,
    version: &'a str,
    rows: &'a [Row],
}

pub fn to_json(p: &Place, rows: &[Row]) -> String {
    let export = Export {
        browser: &p.browser,
        user_agent: &p.user_agent,
        server: &p.server,
        epoch: p.epoch.as_deref(),
        version: p.version,
        rows,
    };
    serde_json::to_string_pretty(&export).unwrap_or_default()
}

/// A CSV field, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One line per row; CSV has no header block, so each line names its browser and server too.
pub fn to_csv(place: &Place, rows: &[Row]) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    let num = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let mut out = String::from(
        "transport,current,rate_per_s,interval_s,delay_ms,duration_s,events,requests,empty_responses,connections,reconnects,payload_bytes,wire_bytes,events_per_request,bytes_per_event,wire_bytes_per_event,p50_ms,p95_ms,p99_ms,max_ms,browser,server,epoch,version\n",
    );
    for r in rows {
        let cells = [
            r.transport.to_string(),
            r.current.to_string(),
            r.rate_per_s.map_or(String::new(), |v| v.to_string()),
            num(r.interval_s.map(u64::from)),
            num(r.delay_ms),
            format!("{:.1}", r.duration_s),
            r.events.to_string(),
            r.requests.to_string(),
            r.empty_responses.to_string(),
            r.connections.to_string(),
            r.reconnects.to_string(),
            r.payload_bytes.to_string(),
            r.wire_bytes.to_string(),
            opt(r.events_per_request),
            opt(r.bytes_per_event),
            opt(r.wire_bytes_per_event),
            opt(r.p50_ms),
            opt(r.p95_ms),
            opt(r.p99_ms),
            opt(r.max_ms),
            field(&place.browser),
            field(&place.server),
            field(r.epoch.as_deref().unwrap_or_default()),
            field(place.version),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A browser's name and major version from its user agent: "Chrome 131",
/// "Firefox 133", "Safari 17", "Edge 131", "Headless Chrome 131".
pub fn browser_name(ua: &str) -> String {
    // Tokens are "Name/1.2.3"; a prefix test, not a substring search (smaller WASM).
    let major = |key: &str| {
        ua.split(' ').find_map(|token| {
            let v = token.strip_prefix(key)?;
            let v = &v[..v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len())];
            (!v.is_empty()).then(|| v.to_string())
        })
    };
    const NAMES: [(&str, &str); 8] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("FxiOS/", "Firefox"),
        ("Firefox/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ];
    NAMES
        .iter()
        .find_map(|(key, name)| major(key).map(|v| format!("{name} {v}")))
        .unwrap_or_else(|| if ua.is_empty() { "unknown".into() } else { ua.chars().take(40).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(events: u64, requests: u64, payload: u64, wire: u64) -> Counts {
        Counts { events, requests, payload_bytes: payload, wire_bytes: wire, ..Counts::default() }
    }

    fn none() -> PerTransport<Counts> {
        PerTransport::default()
    }

    fn at(rate: f64) -> impl Fn(&mut Conditions) {
        move |c| c.rate_per_s = Some(rate)
    }

    #[test]
    fn a_rate_change_closes_the_row_and_the_next_fact_opens_another() {
        let mut s = Session::default();
        s.set_conditions(&|c| c.interval_s = Some(2), &none());
        s.sample(Transport::Poll, Counts::default(), 1_000.0);
        s.sample(Transport::Sse, Counts::default(), 1_000.0);
        // The rate is learnt after the rows opened: they take it, nothing closes.
        assert_eq!(s.set_conditions(&at(20.0), &none()), 0);
        assert_eq!(
            s.rows[0].conditions,
            Conditions { rate_per_s: Some(20.0), interval_s: Some(2), ..Default::default() }
        );
        assert_eq!(s.rows[1].conditions.interval_s, None, "the interval is short polling's alone");
        s.latency(Transport::Poll, 3.0);
        s.sample(Transport::Poll, counts(10, 2, 900, 1500), 49_000.0);
        // Both open rows close at 50/s with their transport's counters then.
        let now = counts(12, 3, 1000, 1800);
        assert_eq!(s.set_conditions(&at(50.0), &PerTransport::from_fn(|_| now)), 2);
        s.sample(Transport::Poll, now, 50_000.0);
        s.latency(Transport::Poll, 9.0);
        s.sample(Transport::Poll, counts(40, 4, 3000, 3500), 52_000.0);
        assert_eq!(s.rows.len(), 3);
        let old = s.rows[0].row(counts(99, 99, 99, 99));
        assert_eq!(
            (old.current, old.rate_per_s, old.events, old.requests, old.duration_s),
            (false, Some(20.0), 12, 3, 48.0)
        );
        assert_eq!((old.p50_ms.map(f64::round), old.max_ms), (Some(3.0), Some(3.0)), "only its own samples");
        assert_eq!(old.conditions_label(), "20/s · every 2 s · 48 s");
        let new = s.rows[2].row(counts(50, 5, 4000, 4600));
        assert_eq!(
            (new.current, new.rate_per_s, new.events, new.requests, new.wire_bytes),
            (true, Some(50.0), 38, 2, 2800)
        );
        assert_eq!((new.duration_s, new.max_ms), (2.0, Some(9.0)));
        // The same rate again is no change.
        assert_eq!(s.set_conditions(&at(50.0), &none()), 0);
    }

    #[test]
    fn the_interval_splits_short_polling_only_and_a_delay_or_server_run_splits_all() {
        let mut s = Session::default();
        s.set_conditions(
            &|c| *c = Conditions { rate_per_s: Some(5.0), interval_s: Some(2), ..Default::default() },
            &none(),
        );
        s.sample(Transport::Poll, Counts::default(), 0.0);
        s.sample(Transport::Ws, Counts::default(), 0.0);
        assert_eq!(s.set_conditions(&|c| c.interval_s = Some(5), &none()), 1);
        s.sample(Transport::Poll, Counts::default(), 0.0);
        assert_eq!(s.rows[2].conditions.interval_s, Some(5));
        s.set_conditions(&|c| (c.delay_ms, c.epoch) = (Some(0), Some("a".into())), &none());
        assert_eq!(s.set_conditions(&|c| c.delay_ms = Some(500), &none()), 2);
        s.sample(Transport::Ws, Counts::default(), 0.0);
        assert_eq!(s.rows[3].row(Counts::default()).conditions_label(), "5/s · +500 ms delay · 0 s");
        assert_eq!(s.set_conditions(&|c| c.epoch = Some("b".into()), &none()), 1);
    }

    #[test]
    fn time_switched_off_is_not_measured() {
        let mut s = Session::default();
        s.sample(Transport::Sse, Counts::default(), 0.0);
        s.sample(Transport::Sse, Counts::default(), 10_000.0);
        s.begin(Transport::Sse); // switched away, and back 50 s later
        s.sample(Transport::Sse, Counts::default(), 60_000.0);
        s.sample(Transport::Sse, Counts::default(), 65_000.0);
        assert_eq!(s.rows.len(), 1, "same conditions: the row goes on");
        assert_eq!(s.rows[0].duration_ms(), 15_000.0);
        assert_eq!(duration_label(15.0), "15 s");
        assert_eq!(duration_label(600.0), "10 min");
        s.clear();
        assert!(s.rows.is_empty());
    }

    #[test]
    fn exports_carry_the_conditions() {
        let mut s = Session::default();
        s.set_conditions(
            &|c| *c = Conditions { rate_per_s: Some(0.5), epoch: Some("e1".into()), ..Default::default() },
            &none(),
        );
        s.sample(Transport::LongPoll, Counts::default(), 0.0);
        s.latency(Transport::LongPoll, 1.5);
        s.sample(Transport::LongPoll, counts(2, 2, 300, 800), 4_000.0);
        let rows = [s.rows[0].row(counts(2, 2, 300, 800))];
        let place = Place {
            browser: "Chrome 131".into(),
            user_agent: "Mozilla/5.0 …".into(),
            server: "http://127.0.0.1:3000".into(),
            epoch: Some("e1".into()),
            version: "0.1.0",
        };
        let csv = to_csv(&place, &rows);
        let line = csv.lines().nth(1).unwrap();
        assert!(csv.starts_with("transport,current,rate_per_s,interval_s,delay_ms,duration_s,events,"), "{csv}");
        assert!(line.starts_with("long-poll,true,0.5,,,4.0,2,2,0,0,0,300,800,1.000,150.000,400.000,1.49"), "{line}");
        assert!(line.ends_with(",Chrome 131,http://127.0.0.1:3000,e1,0.1.0"), "{line}");
        let json: serde_json::Value = serde_json::from_str(&to_json(&place, &rows)).unwrap();
        assert_eq!(
            (json["browser"].as_str(), json["server"].as_str()),
            (Some("Chrome 131"), Some("http://127.0.0.1:3000"))
        );
        assert_eq!(json["rows"][0]["rate_per_s"], 0.5);
        assert_eq!(json["rows"][0]["duration_s"], 4.0);
        assert_eq!(json["rows"][0]["interval_s"], serde_json::Value::Null);
        assert!(json["rows"][0].get("kind").is_none());
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn browser_names() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(browser_name(chrome), "Chrome 131");
        assert_eq!(browser_name(&chrome.replace("Chrome/", "HeadlessChrome/")), "Headless Chrome 131");
        assert_eq!(browser_name(&format!("{chrome} Edg/131.0.2903.51")), "Edge 131");
        assert_eq!(
            browser_name("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
            "Firefox 133"
        );
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_name(safari), "Safari 17");
        assert_eq!(browser_name(""), "unknown");
    }
}
