//! `attend attendium ...`: the browser login, the session, and GraphQL calls.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use attendium::generated::{Me, me};
use attendium::graphql::GraphQlClient;
use attendium::{AttendiumAuth, LoginOptions, Logout, LoopbackHost};
use auth_core::HttpTransport;
use serde_json::{Map, Value};
use url::Url;

use crate::cli::{AttendiumArgs, AttendiumCommand, LoginArgs, QueryArgs, RedirectHost};
use crate::embedded;
use crate::exit::{Failure, Kind};

/// How long a login completed by the sandbox may take.
const SANDBOX_LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a login prints its authorization URL: always when a person must open it;
/// not when the sandbox completes a login that another command needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlShown {
    Shown,
    Hidden,
}

/// Where the commands point, and whether logins complete by themselves.
struct Session {
    auth: AttendiumAuth,
    transport: Arc<dyn HttpTransport>,
    issuer: String,
    api_url: String,
    /// Set with `--sandbox`: the sandbox approves logins without a person.
    auto_login: bool,
}

/// Runs one `attendium` subcommand.
pub(crate) async fn run(
    args: AttendiumArgs,
    transport: Arc<dyn HttpTransport>,
    use_sandbox: bool,
) -> Result<(), Failure> {
    // The embedded sandbox lives as long as the command.
    let sandbox = if use_sandbox {
        Some(
            embedded::start(embedded::Services {
                attendium: Some(embedded::attendium_config()),
                ..embedded::Services::default()
            })
            .await?,
        )
    } else {
        None
    };
    let server = sandbox.as_ref().and_then(|s| s.attendium());
    let (issuer, api_default) = match server {
        Some(s) => (s.issuer().to_owned(), Some(s.graphql_endpoint())),
        None => (
            args.issuer
                .clone()
                .unwrap_or_else(|| attendium::DEFAULT_ISSUER.to_owned()),
            None,
        ),
    };
    let api_url = match (server, &args.api_url, api_default) {
        (None, Some(url), _) => url.clone(),
        (_, _, Some(url)) => url,
        _ => format!("{}/graphql", issuer.trim_end_matches('/')),
    };
    let mut builder = AttendiumAuth::builder(transport.clone()).issuer(issuer.clone());
    // With --sandbox the session lives in memory: it is worthless once the sandbox stops,
    // and it must not replace the session kept for the real service.
    let store = match (&args.store, use_sandbox) {
        (_, true) => None,
        (Some(store), false) => Some(store.clone()),
        (None, false) => Some(crate::store::StoreSpec::Dir(default_store()?)),
    };
    if let Some(store) = store {
        builder = store.configure_attendium(builder, &issuer)?;
    }
    let auth = builder
        .build()
        .map_err(|e| Failure::attendium(e, &issuer, &api_url))?;
    let session = Session {
        auth,
        transport,
        issuer,
        api_url,
        auto_login: use_sandbox,
    };
    match args.command {
        AttendiumCommand::Login(l) => session.login(&l, UrlShown::Shown).await,
        AttendiumCommand::Whoami => session.whoami().await,
        AttendiumCommand::Query(q) => session.query(&q).await,
        AttendiumCommand::Token => session.print_token().await,
        AttendiumCommand::Logout => session.logout().await,
    }
}

/// `<config dir>/attend`, the session's default home.
fn default_store() -> Result<PathBuf, Failure> {
    directories::ProjectDirs::from("", "", "attend")
        .map(|d| d.config_dir().to_path_buf())
        .ok_or_else(|| {
            Failure::usage("cannot find a configuration directory for the session")
                .next("name one with --store or ATTEND_STORE")
        })
}

impl Session {
    fn fail(&self, error: attendium::Error) -> Failure {
        Failure::attendium(error, &self.issuer, &self.api_url)
    }

    async fn login(&self, args: &LoginArgs, shown: UrlShown) -> Result<(), Failure> {
        let mut options = LoginOptions::default();
        if let Some(port) = args.port {
            options = options.with_port(port);
        }
        if !args.scope.is_empty() {
            options = options.with_scopes(args.scope.iter().cloned());
        }
        options = options.with_host(match args.redirect_host {
            RedirectHost::Ipv4 => LoopbackHost::Ipv4,
            RedirectHost::Ipv6 => LoopbackHost::Ipv6,
            RedirectHost::Localhost => LoopbackHost::Localhost,
        });
        let login = self
            .auth
            .start_login(options)
            .await
            .map_err(|e| self.fail(e))?;
        let url = login.authorization_url().clone();
        // The URL carries the login's `state`: it is shown to the person who must open
        // it, and to no one else (never logged).
        match shown {
            UrlShown::Shown => eprintln!(
                "To log in to {}, open this URL in a browser:\n\n  {url}\n",
                self.issuer
            ),
            UrlShown::Hidden => eprintln!("Logging in to the sandbox at {}…", self.issuer),
        }
        let token = if self.auto_login {
            if shown == UrlShown::Shown {
                eprintln!(
                    "(The sandbox approves logins as its demo user: following the URL here.)"
                );
            }
            // Both at once: the loopback listener completes when the follower reaches it,
            // and a follower that fails ends the login now, not at the listener's timeout.
            let follower = follow_authorization(self.transport.as_ref(), &url);
            let finish = login.finish(SANDBOX_LOGIN_TIMEOUT);
            tokio::pin!(finish);
            tokio::select! {
                followed = follower => {
                    followed?;
                    finish.await
                }
                token = &mut finish => token,
            }
        } else {
            if !args.no_browser {
                open_browser(&url);
            }
            eprintln!("Waiting for the browser to come back (Ctrl-C to give up)…");
            login
                .finish(Duration::from_secs(args.browser_timeout))
                .await
        };
        let token = token.map_err(|e| self.fail(e))?;
        let expiry = token
            .expires_at
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map(|t| format!(" (access token valid until {t})"))
            .unwrap_or_default();
        eprintln!("Logged in to {}{expiry}.", self.issuer);
        if granted_no_scope(&token) {
            eprintln!(
                "attend: warning: {} granted no scope{}; if API calls are refused, log in again \
                 with --scope NAME (repeat for several).",
                self.issuer,
                if args.scope.is_empty() {
                    " (none was asked for)"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }

    /// With `--sandbox`, logs in when there is no session; otherwise nothing.
    async fn ensure_session(&self) -> Result<(), Failure> {
        if !self.auto_login {
            return Ok(());
        }
        match self.auth.token().await {
            Ok(_) => Ok(()),
            Err(e) if e.is_login_required() => {
                let login = LoginArgs {
                    no_browser: true,
                    port: None,
                    redirect_host: RedirectHost::Ipv4,
                    scope: Vec::new(),
                    browser_timeout: SANDBOX_LOGIN_TIMEOUT.as_secs(),
                };
                self.login(&login, UrlShown::Hidden).await
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    async fn print_token(&self) -> Result<(), Failure> {
        self.ensure_session().await?;
        let token = self.auth.token().await.map_err(|e| self.fail(e))?;
        // The one place a secret is printed: this command exists to hand it to scripts.
        let mut out = io::stdout().lock();
        writeln!(out, "{}", token.access_token.secret())?;
        out.flush()?;
        Ok(())
    }

    async fn whoami(&self) -> Result<(), Failure> {
        self.ensure_session().await?;
        let answer = self
            .graphql()?
            .query::<Me>(me::Variables)
            .await
            .and_then(attendium::graphql::Response::complete)
            .map_err(|e| self.fail(e))?;
        let Some(user) = answer.me else {
            return Err(
                Failure::new(Kind::Auth, "the API knows no user for this session")
                    .next("run `attend attendium login` again"),
            );
        };
        let mut out = io::stdout().lock();
        writeln!(out, "{}", user.id)?;
        out.flush()?;
        eprintln!("(logged in to {})", self.issuer);
        Ok(())
    }

    async fn query(&self, args: &QueryArgs) -> Result<(), Failure> {
        let text = if args.file == "-" {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::io("stdin", &e))?;
            text
        } else {
            std::fs::read_to_string(&args.file).map_err(|e| Failure::io(&args.file, &e))?
        };
        if text.trim().is_empty() {
            return Err(Failure::usage("the query is empty")
                .next("give a file holding a GraphQL query, or - to read one from stdin"));
        }
        let variables = parse_vars(&args.vars)?;
        self.ensure_session().await?;
        let answer = self
            .graphql()?
            .raw(&text, variables)
            .await
            .map_err(|e| self.fail(e))?;
        let mut out = io::stdout().lock();
        // Through io::Error, so a closed stdout is a broken pipe like anywhere else.
        serde_json::to_writer_pretty(&mut out, &answer.data).map_err(io::Error::from)?;
        out.write_all(b"\n")?;
        out.flush()?;
        if answer.is_partial() {
            for error in &answer.errors {
                eprintln!("attend: GraphQL error: {error}");
            }
            return Err(Failure::new(
                Kind::Api,
                "the answer is partial: some fields failed (errors above)",
            )
            .next("fix the query or its variables"));
        }
        Ok(())
    }

    async fn logout(&self) -> Result<(), Failure> {
        let outcome = match self.auth.logout().await {
            Ok(outcome) => outcome,
            // The store could not be cleared: the session is still here.
            Err(
                e @ attendium::Error::Auth(
                    auth_core::Error::Store { .. }
                    | auth_core::Error::StoreCorrupt { .. }
                    | auth_core::Error::StoreUnavailable { .. }
                    | auth_core::Error::LockTimedOut { .. },
                ),
            ) => return Err(self.fail(e)),
            // Revocation failed after the session was removed here: logging out again
            // cannot revoke it, so say what is left rather than "try again".
            Err(e) => {
                let reason = e.to_string();
                let kind = self.fail(e).kind;
                return Err(Failure::new(
                    kind,
                    format!(
                        "logged out here, but {} could not revoke the session: {reason}",
                        self.issuer
                    ),
                )
                .next("its refresh token stays valid at the server until it expires or is revoked there"));
            }
        };
        let message = match outcome {
            Logout::Revoked => "Logged out: the server revoked the session",
            Logout::RemovedLocally => {
                "Logged out here (the server offers no revocation; the session ends when it expires)"
            }
            Logout::NotLoggedIn => "Not logged in: nothing to do",
            _ => "Logged out",
        };
        eprintln!("{message}.");
        Ok(())
    }

    /// The GraphQL client for `--api-url`, with the session's tokens.
    fn graphql(&self) -> Result<GraphQlClient, Failure> {
        let endpoint = Url::parse(&self.api_url).map_err(|e| {
            Failure::usage(format!("`{}` is not a URL: {e}", self.api_url))
                .next("check --api-url (or ATTENDIUM_API_URL)")
        })?;
        GraphQlClient::new(endpoint, self.transport.clone(), self.auth.token_provider()).map_err(
            |e| Failure::usage(e.to_string()).next("check --api-url (or ATTENDIUM_API_URL)"),
        )
    }
}

/// Whether the token answer said the grant has no scope at all: `scope` present and
/// empty. An absent `scope` means "as asked" (RFC 6749 §5.1) and is not this.
fn granted_no_scope(token: &auth_core::Token) -> bool {
    token.scope.as_deref().is_some_and(|s| s.trim().is_empty())
}

/// `--var NAME=VALUE`: JSON values, or strings when the value is not JSON.
fn parse_vars(vars: &[String]) -> Result<Map<String, Value>, Failure> {
    let mut map = Map::new();
    for var in vars {
        let Some((name, value)) = var.split_once('=') else {
            return Err(
                Failure::usage(format!("--var `{var}` has no `=`")).next("write --var NAME=VALUE")
            );
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(
                Failure::usage(format!("--var `{var}` has no name")).next("write --var NAME=VALUE")
            );
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        map.insert(name.to_owned(), value);
    }
    Ok(map)
}

/// Does what the browser would: asks for the authorization URL, and follows the
/// redirect it answers with to the loopback listener, which completes the login. Only
/// servers that approve by themselves (the sandbox) answer with that redirect.
async fn follow_authorization(transport: &dyn HttpTransport, url: &Url) -> Result<(), Failure> {
    use sandbox::attendium::AttendiumError as E;
    sandbox::attendium::follow_authorization(transport, url)
        .await
        .map_err(|error| {
            let kind = match error {
                E::Browsing(_) => Kind::Network,
                _ => Kind::Auth,
            };
            Failure::new(kind, format!("the login could not be completed: {error}"))
        })
}

/// Opens `url` in the desktop's browser; the URL is printed anyway, so failing is fine.
fn open_browser(url: &Url) {
    use std::process::{Command, Stdio};
    let mut command = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        // Not `cmd /C start`: cmd splits the URL at `&` (every query parameter after the
        // first would be lost). The URL protocol handler takes it as one argument.
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        Command::new("xdg-open")
    };
    // The opener must not read our stdin nor write over our output.
    let attempt = command
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match attempt {
        Ok(mut child) => {
            // Reap it in the background so it does not linger as a zombie.
            std::thread::spawn(move || child.wait());
        }
        Err(_) => eprintln!("(Could not open a browser: open the URL above yourself.)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_failed_sandbox_login_ends_at_once_with_the_followers_failure() {
        use sandbox::attendium::{EndpointFault, FaultTimes, OAuthEndpoint};
        let sandbox = embedded::start(embedded::Services {
            attendium: Some(embedded::attendium_config()),
            ..embedded::Services::default()
        })
        .await
        .unwrap();
        let server = sandbox.attendium().unwrap();
        // The authorization endpoint answers with an error page instead of approving.
        server.inject_endpoint_fault(
            OAuthEndpoint::Authorization,
            EndpointFault::BadGatewayHtml,
            FaultTimes::Always,
        );
        let transport =
            crate::transport::build(crate::cli::HttpBackend::Reqwest, Duration::from_secs(60))
                .unwrap();
        let session = Session {
            auth: AttendiumAuth::builder(transport.clone())
                .issuer(server.issuer())
                .build()
                .unwrap(),
            transport,
            issuer: server.issuer().to_owned(),
            api_url: server.graphql_endpoint(),
            auto_login: true,
        };
        // Not the loopback listener's timeout: the follower's own failure.
        let failure = session.ensure_session().await.unwrap_err();
        assert_eq!(failure.kind, Kind::Auth, "{failure}");
        assert!(failure.to_string().contains("did not approve"), "{failure}");
    }

    #[test]
    fn only_an_empty_granted_scope_is_no_scope() {
        let token = |scope: Option<&str>| {
            let mut token = auth_core::Token::bearer(auth_core::AccessToken::new("a"), None);
            token.scope = scope.map(str::to_owned);
            token
        };
        assert!(granted_no_scope(&token(Some(""))));
        assert!(granted_no_scope(&token(Some("  "))));
        assert!(!granted_no_scope(&token(None)));
        assert!(!granted_no_scope(&token(Some("read"))));
    }

    #[test]
    fn variables_are_json_or_strings() {
        let vars = parse_vars(&[
            "first=10".into(),
            "name=\"Ann\"".into(),
            "plain=hello world".into(),
            "list=[1,2]".into(),
        ])
        .unwrap();
        assert_eq!(vars["first"], json!(10));
        assert_eq!(vars["name"], json!("Ann"));
        assert_eq!(vars["plain"], json!("hello world"));
        assert_eq!(vars["list"], json!([1, 2]));
        assert!(parse_vars(&["novalue".into()]).is_err());
        assert!(parse_vars(&["=1".into()]).is_err());
    }
}
