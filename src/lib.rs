//! The pushlab wire: every message that crosses between the server and any
//! client, as serde types. Compiled into the axum server and the WASM
//! dashboard alike, so both sides agree by construction. No I/O here.
//!
//! # Layout
//!
//! - [`event`]: the envelope and the typed SaaS events it carries.
//! - [`cluster`]: the instance, its broker and its cluster, as `/api/stats` shows them.
//! - [`cursor`]: the opaque event id (`<epoch>-<seq>`) every transport resumes from.
//! - [`api`]: HTTP bodies — poll responses, resets, chat posts, time, errors.
//! - [`ws`]: the WebSocket client → server and server → client frames.
//! - [`stats`]: `GET /api/stats`, the server's view of itself.
//! - [`control`]: the instructor's actions and settings.
//! - [`fault`]: the traps the instructor switches on, their parameters and ranges.
//! - [`transport`]: the four transports' names as they appear on the wire.
//! - [`room`]: participants' reports and the room-wide figures.
//! - [`paths`]: the endpoints' paths.

pub mod api;
pub mod cluster;
pub mod control;
pub mod cursor;
pub mod event;
pub mod fault;
pub mod paths;
pub mod room;
pub mod stats;
mod tagged;
pub mod transport;
pub mod ws;

pub use api::{ErrorBody, PollResponse, PostMessage, PostMessageAccepted, ResetNotice, ResetReason, TimeResponse};
pub use cluster::{BrokerState, Hello, InstanceInfo};
pub use control::{ControlAction, Settings};
pub use cursor::{Cursor, CursorError};
pub use event::{Envelope, Event, JobState, NotificationKind, PresenceCounts};
pub use fault::{Fault, FaultChange, FaultName};
pub use stats::{Announced, PerTransport, ServerStats, TransportCounters};
pub use transport::Transport;
pub use ws::{ClientMsg, ServerMsg};

/// Events a new client (no cursor, or after a reset) is given before live ones.
pub const INITIAL_EVENTS: u64 = 20;
/// Longest chat text accepted, in characters.
pub const MAX_CHAT_TEXT: usize = 500;
/// Longest chat sender name accepted, in characters.
pub const MAX_CHAT_FROM: usize = 32;
/// Longest `client` id a poller may send, in characters.
pub const MAX_CLIENT_ID: usize = 64;
