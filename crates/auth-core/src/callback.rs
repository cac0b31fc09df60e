//! Parsing the authorization response that arrives on the redirect URI (RFC 6749
//! §4.1.2, §4.1.2.1; RFC 9207 for `iss`).
//!
//! Parsing only reads the parameters; deciding whether to trust them is
//! [`PendingAuthorization::validate`](crate::grant::authorization_code::PendingAuthorization::validate)'s
//! job, which checks `state` and `iss` against the request that was sent.
//!
//! ```
//! use auth_core::callback::Callback;
//!
//! let url = url::Url::parse("http://127.0.0.1:8400/cb?code=abc&state=xyz&iss=https%3A%2F%2Fas.example")?;
//! let callback = Callback::from_url(&url)?;
//! assert_eq!(callback.code.as_ref().map(|c| c.secret()), Some("abc"));
//! assert_eq!(callback.iss.as_deref(), Some("https://as.example"));
//! // Debug never shows the code or the state.
//! assert!(!format!("{callback:?}").contains("abc"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;

use url::Url;
use url::form_urlencoded;

use crate::Error;
use crate::oauth_error::ErrorCode;
use crate::response::clean_text;
use crate::secret::{AuthorizationCode, CsrfState};

/// The longest `error_description` or `error_uri` kept. Both are attacker-controlled
/// until `state` has been checked, and end up in messages shown to the user.
const MAX_TEXT_CHARS: usize = 300;

/// The parameters of an authorization response.
///
/// Parameters sent with an empty value count as absent (RFC 6749 §3.1). `Debug` shows
/// `code` and `state` redacted.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Callback {
    /// The authorization code (`code`), on success.
    pub code: Option<AuthorizationCode>,
    /// The `state` echoed by the server.
    pub state: Option<CsrfState>,
    /// The `error` code, when the server refused (for example `access_denied`).
    pub error: Option<ErrorCode>,
    /// The `error_description`, cleaned of control characters and, when longer than 300
    /// characters, cut to 300 followed by an ellipsis (`…`).
    pub error_description: Option<String>,
    /// The `error_uri`, cleaned and cut like the description.
    pub error_uri: Option<String>,
    /// The issuer identifier (`iss`, RFC 9207), as sent.
    pub iss: Option<String>,
}

impl Callback {
    /// Reads the query of the URL the browser was redirected to.
    ///
    /// The authorization code grant answers in the query component (RFC 6749 §4.1.2); a
    /// fragment is ignored.
    pub fn from_url(url: &Url) -> Result<Callback, Error> {
        Callback::from_query(url.query().unwrap_or(""))
    }

    /// Reads a query string (with or without its leading `?`), for callers that receive
    /// the request target rather than a whole URL.
    ///
    /// A parameter given twice is [`Error::CallbackRejected`]: RFC 6749 §3.1 forbids it,
    /// and accepting either copy would let an attacker who can append to the URL choose
    /// which one is used.
    ///
    /// ```
    /// use auth_core::callback::Callback;
    ///
    /// assert!(Callback::from_query("?code=a&state=b").is_ok());
    /// assert!(Callback::from_query("code=a&code=b&state=c").is_err());
    /// ```
    pub fn from_query(query: &str) -> Result<Callback, Error> {
        let query = query.strip_prefix('?').unwrap_or(query);
        // A set, not a list: a query of many distinct names must not take quadratic time.
        let mut seen: HashSet<String> = HashSet::new();
        let mut callback = Callback::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if !seen.insert(name.to_string()) {
                return Err(Error::callback(format!(
                    "the parameter `{}` appears more than once",
                    clean_text(&name, 40)
                )));
            }
            if value.is_empty() {
                continue;
            }
            match &*name {
                "code" => callback.code = Some(AuthorizationCode::new(value.into_owned())),
                "state" => callback.state = Some(CsrfState::new(value.into_owned())),
                "error" => callback.error = Some(ErrorCode::parse(&clean_text(&value, 100))),
                "error_description" => {
                    callback.error_description = Some(clean_text(&value, MAX_TEXT_CHARS));
                }
                "error_uri" => callback.error_uri = Some(clean_text(&value, MAX_TEXT_CHARS)),
                "iss" => callback.iss = Some(value.into_owned()),
                // Other parameters (`scope`, `session_state`, ...) are not needed.
                _ => {}
            }
        }
        Ok(callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_successful_response() {
        let url = Url::parse(
            "https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz&iss=https%3A%2F%2Fas.example%2Ft1&scope=a",
        )
        .unwrap();
        let cb = Callback::from_url(&url).unwrap();
        assert_eq!(cb.code.unwrap().secret(), "SplxlOBeZQQYbYS6WxSbIA");
        assert_eq!(cb.state.unwrap().secret(), "xyz");
        assert_eq!(cb.iss.as_deref(), Some("https://as.example/t1"));
        assert!(cb.error.is_none());
    }

    #[test]
    fn reads_an_error_response() {
        let cb = Callback::from_query(
            "error=access_denied&error_description=The+user+said+no%0A%0Aagain&error_uri=https%3A%2F%2Fe&state=s",
        )
        .unwrap();
        assert_eq!(cb.error, Some(ErrorCode::AccessDenied));
        assert_eq!(
            cb.error_description.as_deref(),
            Some("The user said no again")
        );
        assert_eq!(cb.error_uri.as_deref(), Some("https://e"));
        assert!(cb.code.is_none());
    }

    #[test]
    fn duplicate_parameters_are_rejected() {
        for query in [
            "code=a&code=b&state=s",
            "code=a&state=s&state=t",
            "code=a&state=s&iss=x&iss=y",
            "code=a&state=s&error=x&error=x",
            "code=a&state=s&other=1&other=2",
            // An empty copy still counts: the server sent the parameter twice.
            "code=a&state=s&code=",
        ] {
            match Callback::from_query(query) {
                Err(Error::CallbackRejected { reason }) => {
                    assert!(reason.contains("more than once"), "{reason}");
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }

    #[test]
    fn empty_values_count_as_absent() {
        let cb = Callback::from_query("code=&state=&iss=").unwrap();
        assert!(cb.code.is_none() && cb.state.is_none() && cb.iss.is_none());
        let cb = Callback::from_query("").unwrap();
        assert!(cb.code.is_none());
        let cb = Callback::from_url(&Url::parse("http://127.0.0.1/cb").unwrap()).unwrap();
        assert!(cb.state.is_none());
    }

    #[test]
    fn many_distinct_parameters_are_read_in_linear_time() {
        let query: String = (0..200_000).map(|i| format!("p{i}=v&")).collect();
        let cb = Callback::from_query(&format!("{query}code=c&state=s")).unwrap();
        assert!(cb.code.is_some());
    }

    #[test]
    fn fragment_is_ignored() {
        let url = Url::parse("http://127.0.0.1/cb?state=s#code=frag").unwrap();
        assert!(Callback::from_url(&url).unwrap().code.is_none());
    }

    #[test]
    fn long_or_dirty_descriptions_are_cleaned() {
        let long = "x".repeat(5000);
        let cb = Callback::from_query(&format!("error=e&error_description={long}")).unwrap();
        // As documented: 300 characters and an ellipsis.
        let description = cb.error_description.unwrap();
        assert_eq!(description.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(description.ends_with('…'), "{description}");
        let cb = Callback::from_query("error=e%00%1b[31m&error_description=a%1b%07b").unwrap();
        assert_eq!(cb.error_description.as_deref(), Some("a b"));
        assert!(!cb.error.unwrap().as_str().contains('\u{1b}'));
    }

    #[test]
    fn debug_and_errors_leak_neither_code_nor_state() {
        let cb = Callback::from_query("code=SECRETCODE&state=SECRETSTATE").unwrap();
        let debug = format!("{cb:?} {cb:#?}");
        assert!(
            !debug.contains("SECRETCODE") && !debug.contains("SECRETSTATE"),
            "{debug}"
        );
        let err = Callback::from_query("code=SECRETCODE&code=SECRETCODE").unwrap_err();
        assert!(!err.to_string().contains("SECRETCODE"));
        assert!(!format!("{err:?}").contains("SECRETCODE"));
    }
}
