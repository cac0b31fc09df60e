//! Cross-crate tests of the attend-rs workspace.
//!
//! The tests themselves are in `tests/tests/`; this library holds what they share:
//! [`conformance`], a scripted local HTTP server and transport scenarios that every
//! `HttpTransport` implementation must pass.

pub mod conformance;
