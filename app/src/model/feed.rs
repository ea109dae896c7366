//! The feed's continuity check: every `seq` exactly once, in order, across
//! every transport switch and reconnect.

use pushlab::Cursor;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Feed {
    /// The id of the last event accepted: the cursor to resume from.
    pub cursor: Option<String>,
    pub last_seq: Option<u64>,
    /// Events missing between two received ones.
    pub gaps: u64,
    pub duplicates: u64,
    /// Resets the server announced (their lost events are not gaps).
    pub resets: u64,
    /// Events the resets said were lost, where known.
    pub missed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    New,
    Duplicate,
}

impl Feed {
    /// Checks an event against the last one.
    pub fn accept(&mut self, seq: u64, id: &str) -> Accept {
        match self.last_seq {
            Some(last) if seq <= last => {
                self.duplicates += 1;
                return Accept::Duplicate;
            }
            Some(last) => self.gaps += seq - last - 1,
            None => {}
        }
        self.last_seq = Some(seq);
        self.cursor = Some(id.to_owned());
        Accept::New
    }

    /// A reset from the server: the stream continues after `cursor`.
    pub fn reset(&mut self, cursor: &str, missed: Option<u64>) {
        self.resets += 1;
        self.missed += missed.unwrap_or(0);
        self.cursor = Some(cursor.to_owned());
        self.last_seq = Cursor::from_str_opt(cursor).map(|c| c.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_gaps_and_duplicates() {
        let mut f = Feed::default();
        assert_eq!(f.accept(5, "e-5"), Accept::New);
        assert_eq!(f.accept(6, "e-6"), Accept::New);
        assert_eq!(f.accept(6, "e-6"), Accept::Duplicate);
        assert_eq!(f.accept(4, "e-4"), Accept::Duplicate);
        assert_eq!(f.accept(9, "e-9"), Accept::New);
        assert_eq!((f.gaps, f.duplicates, f.cursor.as_deref()), (2, 2, Some("e-9")));
    }

    #[test]
    fn a_reset_is_counted_apart_from_gaps() {
        let mut f = Feed::default();
        f.accept(9, "e-9");
        f.reset("x-30", Some(12));
        assert_eq!((f.resets, f.missed, f.last_seq, f.cursor.as_deref()), (1, 12, Some(30), Some("x-30")));
        assert_eq!(f.accept(31, "x-31"), Accept::New);
        assert_eq!(f.gaps, 0);
        f.reset("y-0", None);
        assert_eq!(f.accept(1, "y-1"), Accept::New, "a new epoch starts again from 1");
        assert_eq!((f.gaps, f.duplicates, f.resets), (0, 0, 2));
    }
}
