//! HTTP proxies from the environment, read the way curl and reqwest read them, with two
//! rules on top, so that every backend sends the same requests through the same proxy.
//!
//! - `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`, each upper case first, then
//!   lower case. The first of the pair that is set wins, even when it is blank, and a blank
//!   value means "no proxy" (as reqwest, through hyper-util, reads them). `ALL_PROXY`
//!   serves a scheme whose own variable is unset or blank.
//! - Loopback (`localhost`, `127.0.0.0/8`, `::1`) always goes direct: `auth-core` lets
//!   credentials travel over plain `http://` only to loopback, on the premise that they
//!   never leave the machine (RFC 8252 §8.3). Through a proxy they would, in clear text.
//!   [`ProxyEnv::no_proxy`] therefore always ends with [`LOOPBACK_NO_PROXY`].
//! - Under CGI (`REQUEST_METHOD` set) every proxy variable is ignored: there `HTTP_PROXY`
//!   can be set from a request's `Proxy` header (httpoxy, CVE-2016-5385).
//!
//! Parsing the proxy URLs and matching destinations against `NO_PROXY` is the backend's
//! business (both reqwest and hyper-util have their own); this module only decides which
//! values they get.

use std::fmt;

/// Destinations that never go through a proxy, in `NO_PROXY` syntax.
pub const LOOPBACK_NO_PROXY: &str = "localhost,127.0.0.0/8,::1";

/// The proxy settings of an environment.
///
/// ```
/// use http_common::ProxyEnv;
///
/// // Usually `ProxyEnv::from_process_env()`.
/// let proxies = ProxyEnv::from_lookup(|name| match name {
///     "HTTPS_PROXY" => Some("http://proxy.internal:3128".to_owned()),
///     "NO_PROXY" => Some(".corp.example".to_owned()),
///     _ => None,
/// });
/// assert_eq!(proxies.https(), Some("http://proxy.internal:3128"));
/// assert_eq!(proxies.http(), None);
/// assert_eq!(proxies.no_proxy(), ".corp.example,localhost,127.0.0.0/8,::1");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    all: Option<String>,
    http: Option<String>,
    https: Option<String>,
    /// The environment's `NO_PROXY`, if any, then [`LOOPBACK_NO_PROXY`].
    no_proxy: String,
}

impl fmt::Debug for ProxyEnv {
    // A proxy URL may hold a password (`http://user:password@proxy:3128`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |value: &Option<String>| if value.is_some() { "set" } else { "unset" };
        f.debug_struct("ProxyEnv")
            .field("all", &set(&self.all))
            .field("http", &set(&self.http))
            .field("https", &set(&self.https))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxyEnv {
    /// The proxy settings of this process's environment.
    pub fn from_process_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The proxy settings of an environment read through `var`, which returns a
    /// variable's value or `None` when it is unset (or unreadable).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut env = Self {
            no_proxy: LOOPBACK_NO_PROXY.to_owned(),
            ..Self::default()
        };
        if var("REQUEST_METHOD").is_some() {
            // httpoxy: under CGI nothing here can be trusted.
            return env;
        }
        // The first variable of the pair that is set wins, blank or not.
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .find_map(&var)
                .filter(|value| !value.trim().is_empty())
        };
        env.all = first(["ALL_PROXY", "all_proxy"]);
        env.http = first(["HTTP_PROXY", "http_proxy"]);
        env.https = first(["HTTPS_PROXY", "https_proxy"]);
        if let Some(no_proxy) = first(["NO_PROXY", "no_proxy"]) {
            env.no_proxy = format!("{no_proxy},{LOOPBACK_NO_PROXY}");
        }
        env
    }

    /// The proxy settings of `vars` taken as the whole environment: for settings that do
    /// not come from the process (a configuration file, a test).
    ///
    /// ```
    /// use http_common::ProxyEnv;
    ///
    /// let proxies = ProxyEnv::from_vars([("ALL_PROXY", "http://proxy.internal:3128")]);
    /// assert_eq!(proxies.all(), Some("http://proxy.internal:3128"));
    /// ```
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let vars: Vec<(K, String)> = vars
            .into_iter()
            .map(|(name, value)| (name, value.into()))
            .collect();
        Self::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| n.as_ref() == name)
                .map(|(_, value)| value.clone())
        })
    }

    /// Whether no proxy is configured at all: every request connects directly.
    pub fn is_empty(&self) -> bool {
        self.all.is_none() && self.http.is_none() && self.https.is_none()
    }

    /// `ALL_PROXY`: the proxy for any scheme without a proxy of its own.
    pub fn all(&self) -> Option<&str> {
        self.all.as_deref()
    }

    /// `HTTP_PROXY` as set, without falling back to [`all`](Self::all).
    pub fn http(&self) -> Option<&str> {
        self.http.as_deref()
    }

    /// `HTTPS_PROXY` as set, without falling back to [`all`](Self::all).
    pub fn https(&self) -> Option<&str> {
        self.https.as_deref()
    }

    /// The destinations that must not go through a proxy, in `NO_PROXY` syntax: the
    /// environment's list followed by [`LOOPBACK_NO_PROXY`], never without loopback.
    pub fn no_proxy(&self) -> &str {
        &self.no_proxy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        ProxyEnv::from_vars(vars.iter().copied())
    }

    const PROXY: &str = "http://proxy.internal:3128";

    #[test]
    fn proxies_are_read_per_scheme_upper_case_first() {
        // (environment, all, http, https)
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: &[Case<'_>] = &[
            (&[], None, None, None),
            (&[("HTTP_PROXY", PROXY)], None, Some(PROXY), None),
            (&[("https_proxy", PROXY)], None, None, Some(PROXY)),
            (&[("ALL_PROXY", PROXY)], Some(PROXY), None, None),
            (&[("all_proxy", PROXY)], Some(PROXY), None, None),
            (
                &[
                    ("HTTP_PROXY", "http://a.internal:1"),
                    ("HTTPS_PROXY", "http://b.internal:2"),
                ],
                None,
                Some("http://a.internal:1"),
                Some("http://b.internal:2"),
            ),
            (
                &[
                    ("HTTPS_PROXY", "http://upper.internal:1"),
                    ("https_proxy", "http://lower.internal:2"),
                ],
                None,
                None,
                Some("http://upper.internal:1"),
            ),
            // Blank values mean unset.
            (
                &[("HTTP_PROXY", " "), ("HTTPS_PROXY", "")],
                None,
                None,
                None,
            ),
            // A blank upper-case value still wins over the lower-case one, as in reqwest.
            (
                &[("HTTPS_PROXY", ""), ("https_proxy", PROXY)],
                None,
                None,
                None,
            ),
            // Values are passed on unparsed: the backend decides what it can use.
            (
                &[("HTTP_PROXY", "http://[not a host")],
                None,
                Some("http://[not a host"),
                None,
            ),
        ];
        for (vars, all, http, https) in cases {
            let proxies = env(vars);
            assert_eq!(proxies.all(), *all, "{vars:?}");
            assert_eq!(proxies.http(), *http, "{vars:?}");
            assert_eq!(proxies.https(), *https, "{vars:?}");
            assert_eq!(
                proxies.is_empty(),
                all.is_none() && http.is_none() && https.is_none(),
                "{vars:?}"
            );
        }
    }

    #[test]
    fn loopback_is_always_excluded() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], LOOPBACK_NO_PROXY),
            (&[("ALL_PROXY", PROXY)], LOOPBACK_NO_PROXY),
            (
                &[("ALL_PROXY", PROXY), ("NO_PROXY", "example.test")],
                "example.test,localhost,127.0.0.0/8,::1",
            ),
            (
                &[
                    ("ALL_PROXY", PROXY),
                    ("no_proxy", ".example.test,10.0.0.0/8"),
                ],
                ".example.test,10.0.0.0/8,localhost,127.0.0.0/8,::1",
            ),
            (
                &[("ALL_PROXY", PROXY), ("NO_PROXY", " ")],
                LOOPBACK_NO_PROXY,
            ),
        ];
        for (vars, no_proxy) in cases {
            assert_eq!(env(vars).no_proxy(), *no_proxy, "{vars:?}");
        }
    }

    #[test]
    fn under_cgi_no_proxy_variable_is_trusted() {
        // httpoxy: a request's `Proxy` header becomes HTTP_PROXY under CGI.
        let proxies = env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://evil.example:80"),
            ("HTTPS_PROXY", "http://evil.example:80"),
            ("ALL_PROXY", "http://evil.example:80"),
        ]);
        assert!(proxies.is_empty());
        assert_eq!(proxies.no_proxy(), LOOPBACK_NO_PROXY);
    }

    #[test]
    fn debug_never_shows_proxy_urls() {
        let proxies = env(&[("ALL_PROXY", "http://user:pa55word@proxy.internal:3128")]);
        let debug = format!("{proxies:?}");
        assert!(!debug.contains("pa55word"), "{debug}");
        assert!(!debug.contains("proxy.internal"), "{debug}");
        assert!(debug.contains("all: \"set\""), "{debug}");
    }
}
