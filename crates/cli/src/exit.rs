//! Exit codes and the one-sentence error messages: every failure is classified once, here,
//! by what the person can do about it.

use std::fmt;
use std::io;

use auth_core::TransportErrorKind;

/// The exit codes, as `--help` lists them.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  unexpected failure
  2  usage: bad arguments, impossible dates, missing configuration
  3  authentication: credentials refused, not logged in, login not completed
  4  API: the server answered with an error or with something that is not its API
  5  network: no connection, or no answer in time
  6  I/O: a local file, a local port or the output could not be used
  7  refused: `communico sync` would remove more events than --max-removals allows";

/// What kind of failure ended the command; each has its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Anything not classified below.
    Unexpected,
    /// Bad arguments or configuration.
    Usage,
    /// Credentials refused, no session.
    Auth,
    /// The server answered, but not with what was asked.
    Api,
    /// No (complete) answer.
    Network,
    /// Local files and output.
    Io,
    /// A safety check refused to apply a change (the sync's removal guard).
    Refused,
}

impl Kind {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Kind::Unexpected => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::Api => 4,
            Kind::Network => 5,
            Kind::Io => 6,
            Kind::Refused => 7,
        }
    }
}

/// A failure as shown to the person: what happened, and what to do next.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: Kind,
    what: String,
    next: Option<String>,
    /// Set for a closed stdout (`attend ... | head`).
    broken_pipe: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what.trim_end_matches('.'))?;
        if let Some(next) = &self.next {
            write!(f, "; {next}")?;
        }
        f.write_str(".")
    }
}

impl Failure {
    pub(crate) fn new(kind: Kind, what: impl Into<String>) -> Self {
        Self {
            kind,
            what: what.into(),
            next: None,
            broken_pipe: false,
        }
    }

    /// Adds what to do next.
    pub(crate) fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }

    pub(crate) fn usage(what: impl Into<String>) -> Self {
        Self::new(Kind::Usage, what)
    }

    /// An I/O failure on `what` (a path or "the output").
    pub(crate) fn io(what: &str, error: &io::Error) -> Self {
        Self::new(Kind::Io, format!("cannot use {what}: {error}"))
    }

    /// Whether this is a closed stdout (`attend ... | head`): not worth a message.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }

    /// A Communico failure, with `base` (the API's URL) named where it helps.
    pub(crate) fn communico(error: communico::Error, base: &str) -> Self {
        use communico::Error as E;
        match &error {
            // The library's one date-order check reads "the end date ... is before the
            // start date ..."; the test below pins that wording.
            E::InvalidQuery { reason } if reason.contains("before the start date") => {
                Failure::usage(reason.clone()).next("make --to the same day as --from or later")
            }
            E::InvalidQuery { reason } => {
                Failure::usage(reason.clone()).next("check the arguments (see --help)")
            }
            E::InvalidConfig { reason } => {
                Failure::usage(reason.clone()).next("check --base-url (or COMMUNICO_BASE_URL)")
            }
            E::Auth(inner) => match auth_failure_kind(inner) {
                Kind::Auth => Failure::new(
                    Kind::Auth,
                    format!("the Communico API refused the credentials ({inner})"),
                )
                .next("check COMMUNICO_CLIENT_KEY and COMMUNICO_CLIENT_SECRET"),
                Kind::Network => Failure::new(Kind::Network, format!("{inner}"))
                    .next(format!("check that {base} is reachable and try again")),
                kind => Failure::new(kind, format!("could not obtain a Communico token: {inner}"))
                    .next(format!(
                        "check that {base} is the Communico API (--base-url)"
                    )),
            },
            E::Unauthorized { .. } => Failure::new(Kind::Auth, error.to_string())
                .next("check that the client key has access to this endpoint"),
            E::Transport(t) => network(t, base),
            E::RateLimited { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("wait a minute and try again")
            }
            E::NotFound { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("check the id you asked for")
            }
            // Only an answer that is not the API's points at the base URL.
            E::UnexpectedBody { .. } => Failure::new(Kind::Api, format!("{error} from {base}"))
                .next("check that --base-url (or COMMUNICO_BASE_URL) is the Communico API"),
            E::InvalidResponse { .. } => Failure::new(Kind::Api, format!("{error} from {base}"))
                .next("try again later, or run again with -v for details"),
            E::Server { status, .. } if status.is_server_error() => {
                Failure::new(Kind::Api, error.to_string()).next("try again later")
            }
            _ => Failure::new(Kind::Api, error.to_string())
                .next("check the arguments, or run again with -v for details"),
        }
    }

    /// An Attendium failure, at `issuer`.
    pub(crate) fn attendium(error: attendium::Error, issuer: &str) -> Self {
        use attendium::Error as E;
        if error.is_login_required() {
            return Failure::new(Kind::Auth, format!("not logged in to {issuer}"))
                .next("run `attend attendium login`");
        }
        match &error {
            E::Auth(inner) => match auth_failure_kind(inner) {
                Kind::Network => match inner {
                    auth_core::Error::Transport(t) => network(t, issuer),
                    _ => Failure::new(Kind::Network, inner.to_string())
                        .next(format!("check that {issuer} is reachable and try again")),
                },
                Kind::Usage => {
                    Failure::usage(inner.to_string()).next("check --issuer (or ATTENDIUM_ISSUER)")
                }
                Kind::Auth => Failure::new(Kind::Auth, inner.to_string())
                    .next("run `attend attendium login` again"),
                kind => Failure::new(kind, format!("{inner} from {issuer}"))
                    .next("check that --issuer (or ATTENDIUM_ISSUER) is an Attendium server"),
            },
            E::Loopback(_) => Failure::new(Kind::Auth, error.to_string())
                .next("run `attend attendium login` again (with --port N if the port is taken)"),
            E::UnsupportedServer { .. } => Failure::new(Kind::Api, error.to_string())
                .next("check --issuer (or ATTENDIUM_ISSUER)"),
            E::SessionLocked { .. } => Failure::new(Kind::Io, error.to_string())
                .next("try again, or remove the lock file if no other attend is running"),
            E::GraphQl { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("fix the query or its variables")
            }
            E::InvalidVariables { .. } => {
                Failure::usage(error.to_string()).next("check the --var values")
            }
            E::HtmlPage { .. } | E::HttpStatus { .. } | E::InvalidGraphQlResponse { .. } => {
                Failure::new(Kind::Api, error.to_string())
                    .next("check --api-url (or ATTENDIUM_API_URL), or try again later")
            }
            _ => {
                let text = error.to_string();
                Failure::new(Kind::Api, text).next("run again with -v for details")
            }
        }
    }
}

/// How an `auth-core` failure is classified.
fn auth_failure_kind(error: &auth_core::Error) -> Kind {
    use auth_core::Error as E;
    match error {
        E::Transport(_) => Kind::Network,
        E::InsecureUrl { .. } | E::InvalidConfig { .. } => Kind::Usage,
        E::OAuth(_) | E::LoginRequired { .. } | E::CallbackRejected { .. } => Kind::Auth,
        E::Store { .. } | E::StoreCorrupt { .. } => Kind::Io,
        _ => Kind::Api,
    }
}

fn network(error: &auth_core::TransportError, base: &str) -> Failure {
    let (what, next) = match error.kind() {
        TransportErrorKind::Connect => (
            format!("could not connect to {base}"),
            "check the address and the network, then try again",
        ),
        TransportErrorKind::Timeout => {
            (format!("{base} did not answer in time"), "try again later")
        }
        _ => (
            format!("the exchange with {base} failed"),
            "check the address, then try again",
        ),
    };
    // The transport's message says why (refused, DNS, TLS); it carries no credentials.
    Failure::new(Kind::Network, format!("{what} ({error})")).next(next)
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        let mut failure = Failure::io("the output", &error);
        failure.broken_pipe = error.kind() == io::ErrorKind::BrokenPipe;
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_listed_in_the_help() {
        let kinds = [
            Kind::Unexpected,
            Kind::Usage,
            Kind::Auth,
            Kind::Api,
            Kind::Network,
            Kind::Io,
        ];
        let mut codes: Vec<u8> = kinds.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        for code in codes {
            assert!(
                EXIT_CODES_HELP.contains(&format!("\n  {code}  ")),
                "exit code {code} is not in the help"
            );
        }
    }

    #[test]
    fn a_failure_reads_as_one_sentence_with_what_to_do() {
        let f = Failure::new(Kind::Api, "the server said no.").next("try again later");
        assert_eq!(f.to_string(), "the server said no; try again later.");
        assert_eq!(Failure::usage("bad").to_string(), "bad.");
    }

    #[test]
    fn invalid_queries_are_usage_errors() {
        let err = communico::EventQuery::new()
            .start_date(communico::date("2024-05-02").unwrap())
            .end_date(communico::date("2024-05-01").unwrap())
            .validate()
            .unwrap_err();
        let f = Failure::communico(err, "https://api.communico.co");
        assert_eq!(f.kind, Kind::Usage);
        assert!(f.to_string().contains("before the start date"));
        assert!(
            f.to_string()
                .contains("make --to the same day as --from or later"),
            "{f}"
        );
    }

    #[test]
    fn broken_pipes_are_recognised() {
        let f = Failure::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(f.is_broken_pipe());
        assert!(!Failure::from(io::Error::other("disk full")).is_broken_pipe());
        // The kind decides, not the text.
        assert!(!Failure::from(io::Error::other("Broken pipe")).is_broken_pipe());
    }
}
