//! Reconnect delays: capped exponential backoff with full jitter, so a room of
//! clients dropped at once does not come back in lockstep.

pub const BASE_MS: f64 = 250.0;
pub const CAP_MS: f64 = 10_000.0;

/// The delay before retry number `attempt` (1-based); `unit` is a random draw in [0, 1).
pub fn backoff_ms(attempt: u32, unit: f64) -> f64 {
    let ceiling = (BASE_MS * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(CAP_MS);
    // Half fixed, half jitter: never instant, never more than the ceiling.
    ceiling / 2.0 + unit.clamp(0.0, 1.0) * ceiling / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_with_jitter() {
        assert_eq!(backoff_ms(1, 0.0), 125.0);
        assert_eq!(backoff_ms(1, 1.0), 250.0);
        assert_eq!(backoff_ms(3, 0.0), 500.0);
        assert_eq!(backoff_ms(30, 1.0), CAP_MS);
        assert_eq!(backoff_ms(30, 0.0), CAP_MS / 2.0);
        assert!(backoff_ms(4, 0.5) > backoff_ms(3, 0.5));
    }
}
