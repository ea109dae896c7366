//! What the dashboard knows, as plain data.

use std::collections::VecDeque;

use pushlab::{Envelope, Event};

/// The feed's continuity check: every `seq` exactly once, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Feed {
    /// The id of the last event accepted: the cursor to resume from.
    pub cursor: Option<String>,
    pub last_seq: Option<u64>,
    /// Events missing between two received ones.
    pub gaps: u64,
    pub duplicates: u64,
    pub resets: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    New,
    Duplicate,
}

impl Feed {
    /// Checks an event against the last one. Returns whether it is new.
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

    /// A reset from the server: continue after `cursor`, counted apart from gaps.
    pub fn reset(&mut self, cursor: &str) {
        self.resets += 1;
        self.cursor = Some(cursor.to_owned());
        self.last_seq = pushlab::Cursor::from_str_opt(cursor).map(|c| c.seq);
    }
}

/// One line of the "latest events" list.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub seq: u64,
    pub kind: &'static str,
    pub summary: String,
}

pub const RECENT: usize = 8;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub feed: Feed,
    pub received: u64,
    pub recent: VecDeque<Line>,
}

impl Model {
    pub fn on_event(&mut self, env: &Envelope) {
        if self.feed.accept(env.seq, &env.id) == Accept::Duplicate {
            return;
        }
        self.received += 1;
        self.recent.push_back(Line { seq: env.seq, kind: env.event.type_name(), summary: summary(&env.event) });
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }
}

pub fn summary(event: &Event) -> String {
    match event {
        Event::Notification { text, .. } => text.clone(),
        Event::JobUpdate { name, progress, state, .. } => format!("{name}: {progress}% ({state:?})"),
        Event::CounterUpdate { name, value } => format!("{name} = {value}"),
        Event::ChatMessage { from, text } => format!("{from}: {text}"),
        Event::Presence { counts } => format!("{} clients here", counts.total()),
        Event::Unknown => "an event type this page does not know".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_counts_gaps_and_duplicates() {
        let mut f = Feed::default();
        assert_eq!(f.accept(5, "e-5"), Accept::New);
        assert_eq!(f.accept(6, "e-6"), Accept::New);
        assert_eq!(f.accept(6, "e-6"), Accept::Duplicate);
        assert_eq!(f.accept(4, "e-4"), Accept::Duplicate);
        assert_eq!(f.accept(9, "e-9"), Accept::New);
        assert_eq!((f.gaps, f.duplicates, f.cursor.as_deref()), (2, 2, Some("e-9")));
        f.reset("x-30");
        assert_eq!((f.resets, f.last_seq), (1, Some(30)));
        assert_eq!(f.accept(31, "x-31"), Accept::New);
        assert_eq!(f.gaps, 2, "a reset is not a gap");
    }
}
