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
    /// The normal answer of an events listing; then a new event is published that sorts
    /// before that page's events (at midnight of the first one's day, at its location),
    /// so every later offset moves up by one. Other requests answer normally.
    ShiftByInsert,
    /// The normal answer of an events listing; then the first event of that page is
    /// deleted, so every later offset moves down by one. Other requests answer normally.
    ShiftByDelete,
}

/// A lasting way of answering, armed with
/// [`CommunicoSandbox::arm`](super::CommunicoSandbox::arm) until disarmed: the habits of
/// servers and proxies other clients have met.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// List pages carry no `total`.
    NoTotal,
    /// List pages do not echo `start`.
    NoStartEcho,
    /// `limit` is capped silently at this many entries (below the configured cap).
    LimitCap(u32),
    /// Data answers are gzip-compressed with `Content-Encoding: gzip` and sent chunked,
    /// whatever the request's `Accept-Encoding` (RFC 9110 §12.5.3 lets a server do so).
    Gzip,
    /// Answers of this target start with a UTF-8 byte-order mark (`EF BB BF`), which
    /// RFC 8259 §8.1 lets a parser ignore.
    Bom(FaultTarget),
    /// This event's `title` ends in a lone surrogate escape (`\ud83c` with no low half),
    /// wherever the event is served.
    LoneSurrogateInTitle(u64),
    /// This event's `title` ends in a byte that is not UTF-8 (`FF`), wherever the event
    /// is served.
    InvalidUtf8InTitle(u64),
    /// The token answer's `scope` is an array (`["EVENTS","ROOMS"]`) instead of a string.
    ScopeArray,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Data requests (everything but `/v3/token`).
    Data,
    /// Token requests (`/v3/token`).
    Token,
}
