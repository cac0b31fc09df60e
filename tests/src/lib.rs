//! Cross-crate tests of the attend-rs workspace.
//!
//! The tests themselves are in `tests/tests/`; this library holds what they share:
//! [`conformance`], a scripted local HTTP server and transport scenarios that every
//! `HttpTransport` implementation must pass.
//!
//! The README's examples are compiled and run as this crate's doctests, so that what it
//! shows keeps working.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod conformance;
pub mod redis_server;
