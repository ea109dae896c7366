//! The traps, acting where a middlebox would: between the handlers and the
//! socket, so a laptop needs nothing else (`docs/PROTOCOL.md`, "Faults").
//!
//! - [`body`]: an SSE response body, as a buffering proxy passes it on
//!   (`buffering`, `hold-first`, `idle-cut`).
//! - [`http`]: poll answers (`latency`; for long polls also `hold-first` and `idle-cut`).
//! - [`io`]: an upgraded WebSocket's socket (`ws-dies`, `idle-cut`).
//!
//! `latency` on a stream delays each event frame in the streaming loop, in
//! order, beside the instructor's delay; `hold-first` on a WebSocket holds
//! the socket after the upgrade. The instructor's endpoints, the clock,
//! stats and static files are never touched.

pub mod body;
pub mod http;
pub mod io;

use std::time::Duration;

use pushlab::fault::FAULT_LIFETIME_S;
use pushlab::{Fault, FaultChange, FaultName, Settings, Transport};

use crate::control::Control;
use crate::hub::now_us;

/// What a fault's `since` is for a connection opened at `opened_us`: the later of the two.
pub fn since(fault_on_us: i64, opened_us: i64) -> i64 {
    fault_on_us.max(opened_us)
}

/// Applies a change to the list of faults on (sorted by name); `since` gets the switch-on times.
pub fn change(faults: &mut Vec<Fault>, since: &mut [i64; 5], change: FaultChange, now_us: i64) {
    match change {
        FaultChange::On(f) => {
            faults.retain(|x| x.name() != f.name());
            faults.push(f);
            faults.sort_by_key(Fault::name);
            since[f.name() as usize] = now_us;
        }
        FaultChange::Off(name) => faults.retain(|x| x.name() != name),
        FaultChange::Clear => faults.clear(),
    }
}

/// Drops the faults switched on more than their lifetime ago; true when one went.
pub fn expire(faults: &mut Vec<Fault>, since: &[i64; 5], now_us: i64) -> bool {
    let before = faults.len();
    faults.retain(|f| now_us < since[f.name() as usize] + FAULT_LIFETIME_S as i64 * 1_000_000);
    faults.len() != before
}

/// The fault `name` when it is on and acts on `t`.
pub fn on(settings: &Settings, name: FaultName, t: Transport) -> Option<Fault> {
    settings.fault(name).filter(|f| f.acts_on(t)).copied()
}

/// A fault's deadline, µs, as an instant of tokio's clock.
pub fn instant_at(at_us: i64) -> tokio::time::Instant {
    let left = (at_us - now_us()).max(0) as u64;
    tokio::time::Instant::now() + Duration::from_micros(left)
}

/// When a connection of `t` opened at `opened_us` and last active at `last_us` is cut, if `idle-cut` is on.
pub fn idle_deadline(control: &Control, t: Transport, opened_us: i64, last_us: i64) -> Option<i64> {
    control.with(|s| match on(s, FaultName::IdleCut, t) {
        Some(Fault::IdleCut { after_s }) => {
            let from = since(control.fault_since(FaultName::IdleCut), opened_us).max(last_us);
            Some(from + after_s as i64 * 1_000_000)
        }
        _ => None,
    })
}

/// A connection's own jitter for the frame `n`: the same every time it is asked, up to `max_ms`.
pub fn jitter_us(salt: u64, n: u64, max_ms: u32) -> i64 {
    if max_ms == 0 {
        return 0;
    }
    // splitmix64: cheap, and well spread for consecutive `n`.
    let mut z = salt ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % (max_ms as u64 * 1000 + 1)) as i64
}

/// `latency` on transport `t`, if on: its delay (µs) and its jitter (ms).
pub fn latency(settings: &Settings, t: Transport) -> Option<(i64, u32)> {
    match on(settings, FaultName::Latency, t) {
        Some(Fault::Latency { ms, jitter_ms, .. }) => Some((ms as i64 * 1000, jitter_ms)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_kept_sorted_replaced_and_expire() {
        let (mut faults, mut since) = (Vec::new(), [0i64; 5]);
        change(&mut faults, &mut since, FaultChange::On(Fault::WsDies { after_ms: 1 }), 10);
        change(&mut faults, &mut since, FaultChange::On(Fault::Buffering { bytes: 1, max_ms: 1 }), 20);
        change(&mut faults, &mut since, FaultChange::On(Fault::WsDies { after_ms: 2 }), 30);
        assert_eq!(faults, [Fault::Buffering { bytes: 1, max_ms: 1 }, Fault::WsDies { after_ms: 2 }]);
        let life = FAULT_LIFETIME_S as i64 * 1_000_000;
        assert!(expire(&mut faults, &since, 20 + life));
        assert_eq!(faults, [Fault::WsDies { after_ms: 2 }], "switched on again, it lives on");
        change(&mut faults, &mut since, FaultChange::Clear, 40);
        assert!(faults.is_empty());
    }

    #[test]
    fn jitter_is_stable_per_frame_and_bounded() {
        assert_eq!(jitter_us(7, 3, 0), 0);
        assert_eq!(jitter_us(7, 3, 50), jitter_us(7, 3, 50));
        let all: Vec<i64> = (0..1000).map(|n| jitter_us(7, n, 50)).collect();
        assert!(all.iter().all(|&j| (0..=50_000).contains(&j)));
        assert!(all.iter().any(|&j| j > 25_000) && all.iter().any(|&j| j < 25_000), "spread");
    }
}
