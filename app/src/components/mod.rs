//! The dashboard's views, one concern each.

pub mod announce;
pub mod chart;
pub mod compare;
pub mod figures;
pub mod format;
pub mod instructor;
pub mod ledger;
pub mod log;
pub mod saas;
pub mod server;
pub mod seven;
pub mod switch;
pub mod teach;
