//! Browser-side transport clients, one module each.

pub mod sse;
