//! What the dashboard knows, as plain data: no browser APIs, tested natively.

pub mod backoff;
pub mod clock;
pub mod comparison;
pub mod feed;
pub mod histogram;
pub mod link;
pub mod log;
pub mod metrics;
pub mod projection;
pub mod recovery;
pub mod room;
pub mod saas;
pub mod tabs;

pub use clock::{ClockOffset, Clocks};
pub use comparison::Session;
pub use feed::{Accept, Feed};
pub use log::{LogEntry, LogKind, RequestLog};
pub use metrics::{Metrics, Percentiles};
pub use saas::Saas;
