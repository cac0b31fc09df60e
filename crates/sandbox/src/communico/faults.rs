//! Faults the Communico sandbox can be told to inject.

use std::time::Duration;

/// A failure to answer with instead of the normal response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// This status with a JSON error envelope (`{"status":"error","code":…}`).
    Status(u16),
    /// `429 Too Many Requests` with `Retry-After: <secs>`.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after_secs: u64,
    },
    /// `503 Service Unavailable`, with `Retry-After` when given.
    Unavailable {
        /// The `Retry-After` value in seconds, if any.
        retry_after_secs: Option<u64>,
    },
    /// An HTML error page with this status, as a proxy would send.
    HtmlPage {
        /// The status.
        status: u16,
    },
    /// A success status with a truncated JSON body.
    MalformedJson,
    /// A success status with an error envelope (`{"status":"error","code":code}`).
    ErrorEnvelope {
        /// The envelope's `code`.
        code: u16,
    },
    /// The normal answer, after a delay (wall time).
    Slow(Duration),
    /// Revokes the presented token, then answers `401` as the server does for a revoked
    /// token.
    RevokeToken,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Data requests (everything but `/v3/token`).
    Data,
    /// Token requests (`/v3/token`).
    Token,
}
