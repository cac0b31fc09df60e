//! The one error type of `cargo xtask`.

use std::path::{Path, PathBuf};

/// Everything a task can fail with. Messages name the file or endpoint involved and what
/// to do; none carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// An input file is not where or what it should be (missing, wrong extension, a name
    /// that is not a Rust identifier, a duplicate operation).
    #[error("{}: {reason}", .path.display())]
    InvalidInput {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A `.graphql` file does not parse.
    #[error("{}: GraphQL syntax error: {message}", .path.display())]
    GraphQlSyntax {
        /// The file that does not parse.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },

    /// `graphql_client_codegen` refused an operation (an unknown field or type, a
    /// fragment on the wrong type).
    #[error("{}: cannot generate code: {message}", .path.display())]
    Codegen {
        /// The operation file.
        path: PathBuf,
        /// The generator's message.
        message: String,
    },

    /// The generated code is not valid Rust (a generator bug).
    #[error("{}: the generated code does not parse as Rust: {message}", .path.display())]
    GeneratedCode {
        /// The operation file it was generated from.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },

    /// The generated files differ from the checked-in ones (`codegen --check`).
    #[error("generated code is out of date:\n{}\nrun: cargo xtask codegen", list_drift(.0))]
    Stale(Vec<crate::codegen::Drift>),

    /// A command-line argument is not usable.
    #[error("{0}")]
    Usage(String),

    /// The schema pull failed: the endpoint refused, answered something else than an
    /// introspection result, or could not be reached.
    #[error("schema pull from {endpoint}: {reason}")]
    Pull {
        /// The endpoint, without query string or user info.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },

    /// The introspection result cannot be turned into SDL.
    #[error("the introspection result is not usable: {0}")]
    Introspection(String),
}

fn list_drift(drift: &[crate::codegen::Drift]) -> String {
    drift
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// An invalid input file.
    pub(crate) fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}
