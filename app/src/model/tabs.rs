//! The other tabs of this origin, heard over a `BroadcastChannel`: over
//! HTTP/1.1 a browser opens at most six connections per origin, and every
//! SSE stream or held long poll keeps one (WebSockets are outside that pool).
//! A seventh stalls silently, so the page warns before.

/// Chromium's, Firefox's and Safari's limit per origin over HTTP/1.1.
pub const PER_ORIGIN: u32 = 6;
/// Warn once this many tabs (this one included) hold a connection: one more
/// stream and the page's own requests start to queue.
pub const WARN_AT: u32 = PER_ORIGIN - 1;
/// A tab not heard from for this long is gone (it says so every 2 s).
pub const FORGET_MS: f64 = 5_000.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tabs {
    /// Other tabs: id, whether it holds a connection, when last heard (ms).
    others: Vec<(String, bool, f64)>,
}

/// What a tab says about itself: `<id> <holds 0|1>`, or `<id> gone`.
pub fn message(id: &str, holds: Option<bool>) -> String {
    match holds {
        Some(h) => format!("{id} {}", u8::from(h)),
        None => format!("{id} gone"),
    }
}

impl Tabs {
    /// Takes in another tab's message; anything unreadable is ignored.
    pub fn heard(&mut self, text: &str, now_ms: f64) {
        let Some((id, what)) = text.split_once(' ') else { return };
        self.others.retain(|(other, ..)| other != id);
        match what {
            "0" | "1" => self.others.push((id.to_owned(), what == "1", now_ms)),
            _ => {}
        }
    }

    pub fn expire(&mut self, now_ms: f64) {
        self.others.retain(|(_, _, at)| now_ms - at < FORGET_MS);
    }

    /// Tabs of this origin open, this one included.
    pub fn open(&self) -> u32 {
        self.others.len() as u32 + 1
    }

    /// Tabs holding a connection, this one included when `me` holds one.
    pub fn holding(&self, me: bool) -> u32 {
        self.others.iter().filter(|(_, h, _)| *h).count() as u32 + u32::from(me)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_tabs_that_hold_a_connection() {
        let mut t = Tabs::default();
        for i in 0..4 {
            t.heard(&message(&format!("p{i}"), Some(true)), 0.0);
        }
        t.heard(&message("poller", Some(false)), 0.0);
        assert_eq!((t.open(), t.holding(true), t.holding(false)), (6, 5, 4));
        assert!(t.holding(true) >= WARN_AT);
        t.heard(&message("p0", Some(false)), 100.0);
        t.heard(&message("p1", None), 100.0);
        t.heard("garbage", 100.0);
        t.heard("p9 maybe", 100.0);
        assert_eq!((t.open(), t.holding(true)), (5, 3), "p0 stopped holding, p1 left");
        t.expire(FORGET_MS + 50.0);
        assert_eq!(t.open(), 2, "only p0 spoke within the last 5 s");
    }
}
