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
                Kind::Network => match inner {
                    auth_core::Error::Transport(t) => network(t, base, BASE_URL_OPTION),
                    _ => Failure::new(Kind::Network, format!("{inner}"))
                        .next(format!("check that {base} is reachable and try again")),
                },
                kind => Failure::new(kind, format!("could not obtain a Communico token: {inner}"))
                    .next(format!(
                        "check that {base} is the Communico API (--base-url)"
                    )),
            },
            E::Unauthorized { .. } => Failure::new(Kind::Auth, error.to_string())
                .next("check that the client key has access to this endpoint"),
            E::Transport(t) => network(t, base, BASE_URL_OPTION),
            E::RateLimited { retry_after } => {
                let next = match retry_after {
                    Some(wait) if wait.as_secs() > 60 => {
                        format!("try again in {} minutes", wait.as_secs().div_ceil(60))
                    }
                    Some(wait) => format!("try again in {} s", wait.as_secs().max(1)),
                    None => "wait a minute and try again".to_owned(),
                };
                Failure::new(Kind::Api, error.to_string()).next(next)
            }
            E::Redirected { .. } => Failure::new(Kind::Api, format!("{error}, from {base}"))
                .next("check --base-url (or COMMUNICO_BASE_URL): it may have moved, or need https"),
            E::NotFound { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("check the id you asked for")
            }
            // Only an answer that is not the API's points at the base URL.
            E::UnexpectedBody { .. } => Failure::new(Kind::Api, format!("{error} from {base}"))
                .next("check that --base-url (or COMMUNICO_BASE_URL) is the Communico API"),
            E::InvalidResponse { .. } => Failure::new(Kind::Api, format!("{error} from {base}"))
                .next("try again later, or run again with -v for details"),
            E::ListingUnstable { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("try again in a few minutes")
            }
            E::Server { status, .. } if status.is_server_error() => {
                Failure::new(Kind::Api, error.to_string()).next("try again later")
            }
            _ => Failure::new(Kind::Api, error.to_string())
                .next("check the arguments, or run again with -v for details"),
        }
    }

    /// An Attendium failure. `issuer` and `api_url` are where the command pointed: each
    /// message names the one the failure came from, and the option that sets it.
    pub(crate) fn attendium(error: attendium::Error, issuer: &str, api_url: &str) -> Self {
        use attendium::Error as E;
        if error.is_login_required() {
            return Failure::new(Kind::Auth, format!("not logged in to {issuer}"))
                .next("run `attend attendium login`");
        }
        match &error {
            E::Auth(inner) => match auth_failure_kind(inner) {
                Kind::Network => match inner {
                    auth_core::Error::Transport(t) => network(t, issuer, ISSUER_OPTION),
                    _ => Failure::new(Kind::Network, inner.to_string())
                        .next(format!("check that {issuer} is reachable and try again")),
                },
                Kind::Usage => {
                    Failure::usage(inner.to_string()).next(format!("check {ISSUER_OPTION}"))
                }
                Kind::Auth => Failure::new(Kind::Auth, inner.to_string())
                    .next("run `attend attendium login` again"),
                Kind::Io => store(inner),
                kind => Failure::new(kind, format!("{inner} from {issuer}"))
                    .next(format!("check that {ISSUER_OPTION} is an Attendium server")),
            },
            E::ApiUnreachable { source, .. } => network(source, api_url, API_URL_OPTION),
            E::TryLater { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("try again later")
            }
            E::Loopback(inner) => {
                let next = match inner.as_ref() {
                    attendium::LoopbackError::Bind { .. } => {
                        "run `attend attendium login` again, with another --port N"
                    }
                    attendium::LoopbackError::TimedOut(_) => {
                        "run `attend attendium login` again (allow longer with --browser-timeout SECS)"
                    }
                    _ => "run `attend attendium login` again",
                };
                Failure::new(Kind::Auth, error.to_string()).next(next)
            }
            E::UnsupportedServer { .. } => {
                Failure::new(Kind::Api, error.to_string()).next(format!("check {ISSUER_OPTION}"))
            }
            E::SessionLocked { .. } => Failure::new(Kind::Io, error.to_string())
                .next("try again, or remove the lock file if no other attend is running"),
            E::GraphQl { .. } => {
                Failure::new(Kind::Api, error.to_string()).next("fix the query or its variables")
            }
            E::InvalidVariables { .. } => {
                Failure::usage(error.to_string()).next("check the --var values")
            }
            E::HtmlPage { .. } | E::HttpStatus { .. } | E::InvalidGraphQlResponse { .. } => {
                Failure::new(Kind::Api, format!("{error} from {api_url}"))
                    .next(format!("check {API_URL_OPTION}, or try again later"))
            }
            _ => {
                let text = error.to_string();
                Failure::new(Kind::Api, text).next("run again with -v for details")
            }
        }
    }
}

/// How the options that point at servers are named in messages.
const ISSUER_OPTION: &str = "--issuer (or ATTENDIUM_ISSUER)";
const API_URL_OPTION: &str = "--api-url (or ATTENDIUM_API_URL)";
const BASE_URL_OPTION: &str = "--base-url (or COMMUNICO_BASE_URL)";
const STORE_OPTION: &str = "--store (or ATTEND_STORE)";

/// A session store that cannot be used: names its file and, for what to do, its
/// directory and the option that chooses it. Any store error carrying a path reads so.
fn store(error: &auth_core::Error) -> Failure {
    let failure = Failure::new(Kind::Io, error.to_string());
    match error {
        // The message already says what to do with the file.
        auth_core::Error::StoreCorrupt { .. } => failure,
        // A file store's path; a Redis store names its URL and key, which no directory
        // check would fit.
        auth_core::Error::Store {
            path: Some(path), ..
        } if !path.contains("://") => match std::path::Path::new(path).parent() {
            Some(dir) if !dir.as_os_str().is_empty() => failure.next(format!(
                "check that {} is a directory this user can write to, or choose another with {STORE_OPTION}",
                dir.display()
            )),
            _ => failure.next(format!("check {STORE_OPTION}")),
        },
        _ => failure.next(format!("check {STORE_OPTION}")),
    }
}

/// How an `auth-core` failure is classified.
fn auth_failure_kind(error: &auth_core::Error) -> Kind {
    use auth_core::Error as E;
    match error {
        E::Transport(_) => Kind::Network,
        E::InsecureUrl { .. } | E::InvalidConfig { .. } => Kind::Usage,
        E::OAuth(_) | E::LoginRequired { .. } | E::CallbackRejected { .. } => Kind::Auth,
        E::Store { .. }
        | E::StoreCorrupt { .. }
        | E::StoreUnavailable { .. }
        | E::LockTimedOut { .. } => Kind::Io,
        _ => Kind::Api,
    }
}

/// A request to `base` (set by `option`) that got no complete answer.
fn network(error: &auth_core::TransportError, base: &str, option: &str) -> Failure {
    let (what, next) = match error.kind() {
        TransportErrorKind::Connect => (
            format!("could not connect to {base}"),
            format!("check {option} and the network, then try again"),
        ),
        TransportErrorKind::Timeout => (
            format!("{base} did not answer in time"),
            "try again later, or allow more time with --timeout SECS (or ATTEND_TIMEOUT)"
                .to_owned(),
        ),
        TransportErrorKind::NotTls => (
            format!("{base} does not speak TLS on that port"),
            format!(
                "use the port that serves https, or give {option} as http:// if the server \
                 is on this machine (plain HTTP is only allowed to loopback)"
            ),
        ),
        TransportErrorKind::UnsupportedContentEncoding => (
            format!("{base} sent a body in a content coding this tool cannot decode"),
            "report it to the server's operators: this tool decodes gzip, deflate and br"
                .to_owned(),
        ),
        _ => (
            format!("the exchange with {base} failed"),
            format!("check {option}, then try again"),
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

    const ISSUER: &str = "https://id.example";
    const API: &str = "https://api.example/graphql";

    fn attendium_failure(error: attendium::Error) -> Failure {
        Failure::attendium(error, ISSUER, API)
    }

    #[test]
    fn attendium_failures_name_the_option_they_come_from() {
        use auth_core::{TransportError, TransportErrorKind as K};
        let refused = || TransportError::new(K::Connect, "refused");
        // (error, kind, what the message must name, what it must not)
        let cases: Vec<(attendium::Error, Kind, &[&str], &[&str])> = vec![
            (
                attendium::Error::ApiUnreachable {
                    endpoint: API.into(),
                    source: refused(),
                },
                Kind::Network,
                &[API, "--api-url"],
                &["--issuer"],
            ),
            (
                attendium::Error::Auth(auth_core::Error::Transport(refused())),
                Kind::Network,
                &[ISSUER, "--issuer"],
                &["--api-url"],
            ),
            (
                attendium::Error::Auth(auth_core::Error::Store {
                    path: Some("/home/me/.config/attend/session.lock".into()),
                    reason: "cannot open the lock file".into(),
                    source: None,
                }),
                Kind::Io,
                &[
                    "/home/me/.config/attend/session.lock",
                    "/home/me/.config/attend is a directory",
                    "--store",
                ],
                &["--issuer", "Attendium server"],
            ),
            (
                attendium::Error::Auth(auth_core::Error::StoreUnavailable {
                    store: "redis://127.0.0.1:1/0".into(),
                    reason: "cannot connect".into(),
                }),
                Kind::Io,
                &["redis://127.0.0.1:1/0", "the session was kept", "--store"],
                &["--issuer", "Attendium server", "is a directory"],
            ),
            (
                attendium::Error::TryLater {
                    // This crate does not name `http`; the status does not decide.
                    status: Default::default(),
                    retry_after: Some(std::time::Duration::from_secs(30)),
                    errors: Vec::new(),
                    snippet: "restarting".into(),
                },
                Kind::Api,
                &["try again later", "restarting", "wait 30 s"],
                &["fix the query", "--issuer"],
            ),
            (
                attendium::Error::Auth(auth_core::Error::Transport(TransportError::new(
                    K::Timeout,
                    "no complete answer within the 60 s deadline (3 attempts)",
                ))),
                Kind::Network,
                &["--timeout", ISSUER],
                &[],
            ),
            (
                attendium::Error::from(attendium::LoopbackError::TimedOut(
                    std::time::Duration::from_secs(300),
                )),
                Kind::Auth,
                &["--browser-timeout"],
                &["--timeout SECS", "--issuer"],
            ),
        ];
        for (error, kind, named, not_named) in cases {
            let debug = format!("{error:?}");
            let failure = attendium_failure(error);
            let text = failure.to_string();
            assert_eq!(failure.kind, kind, "{debug}: {text}");
            for word in named {
                assert!(text.contains(word), "{debug}: `{word}` not in: {text}");
            }
            for word in not_named {
                assert!(!text.contains(word), "{debug}: `{word}` in: {text}");
            }
        }
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
