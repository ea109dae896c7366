//! The event id every transport resumes from: `<epoch>-<seq>`.
//!
//! Clients treat it as opaque. The epoch (base 36) names one run of the hub,
//! so a cursor from an earlier run is recognised and answered with a reset
//! instead of being mistaken for a position in this one.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub epoch: u64,
    /// The seq of the last event the client has; 0 is "before the first event".
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor is not a pushlab event id")]
    Malformed,
    #[error("cursor is ahead of the stream")]
    Ahead,
}

/// Longest base-36 rendering of a u64.
const MAX_EPOCH_DIGITS: usize = 13;

impl Cursor {
    pub fn new(epoch: u64, seq: u64) -> Self {
        Cursor { epoch, seq }
    }

    /// Parses, or `None`: for clients that only need the seq of a cursor they were given.
    pub fn from_str_opt(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// Renders an epoch in lowercase base 36.
pub fn epoch_to_string(mut epoch: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; MAX_EPOCH_DIGITS];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(epoch % 36) as usize];
        epoch /= 36;
        if epoch == 0 {
            break;
        }
    }
    buf[i..].iter().map(|&b| b as char).collect()
}

fn parse_epoch(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > MAX_EPOCH_DIGITS || !s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) {
        return None;
    }
    u64::from_str_radix(s, 36).ok()
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", epoch_to_string(self.epoch), self.seq)
    }
}

impl FromStr for Cursor {
    type Err = CursorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (epoch, seq) = s.split_once('-').ok_or(CursorError::Malformed)?;
        let epoch = parse_epoch(epoch).ok_or(CursorError::Malformed)?;
        // Digits only: u64::from_str would also take a leading '+'.
        if seq.is_empty() || seq.len() > 20 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CursorError::Malformed);
        }
        let seq = seq.parse().map_err(|_| CursorError::Malformed)?;
        Ok(Cursor { epoch, seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_back() {
        for (epoch, seq) in [(0, 0), (1, 1), (35, 1042), (36, 7), (u64::MAX, u64::MAX), (1_795_660_000, 57)] {
            let c = Cursor::new(epoch, seq);
            let s = c.to_string();
            assert_eq!(s.parse::<Cursor>(), Ok(c), "{s}");
        }
        assert_eq!(Cursor::new(36, 5).to_string(), "10-5");
        assert_eq!(Cursor::new(u64::MAX, 1).to_string(), "3w5e11264sgsf-1");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "-",
            "abc",
            "abc-",
            "-12",
            "%%%",
            "k3f9q2-x",
            "k3f9q2-+1",
            "k3f9q2--1",
            "K3F9Q2-1",
            "k3f9q2-1-2",
            "k3f9q2-99999999999999999999",
            "zzzzzzzzzzzzzz-1",
            "3w5e11264sgsg-1",
            "k3 f9-1",
            "k3f9q2-1 ",
            "é-1",
        ] {
            assert_eq!(bad.parse::<Cursor>(), Err(CursorError::Malformed), "{bad:?}");
        }
    }
}
