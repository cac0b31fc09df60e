//! The environment's proxies as reqwest proxies.
//!
//! Which variables count, the httpoxy guard and the rule that loopback destinations always
//! go direct are http-common's [`ProxyEnv`], shared by both transports. reqwest does not
//! exempt loopback from `HTTP_PROXY` by itself: with a proxy configured, a plain-`http`
//! request to a local server, secret and all, would be handed to the proxy in clear text.
//! Every proxy made here carries [`ProxyEnv::no_proxy`], which always lists loopback.

use http_common::ProxyEnv;

/// The proxies to configure for `env`. Empty means "connect directly".
pub(crate) fn proxies(env: &ProxyEnv) -> Vec<reqwest::Proxy> {
    let exclusions = || reqwest::NoProxy::from_string(env.no_proxy());
    // As in reqwest, a proxy URL that does not parse is ignored, and `ALL_PROXY` serves a
    // scheme that has no usable proxy of its own.
    let first_usable = |candidates: [Option<&str>; 2], make: fn(&str) -> reqwest::Result<_>| {
        candidates
            .into_iter()
            .flatten()
            .find_map(|url| make(url).ok())
    };
    let http = first_usable([env.http(), env.all()], |url| reqwest::Proxy::http(url));
    let https = first_usable([env.https(), env.all()], |url| reqwest::Proxy::https(url));
    [http, https]
        .into_iter()
        .flatten()
        .map(|proxy| proxy.no_proxy(exclusions()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_configured_per_scheme_from_the_environment() {
        let cases: [(&[(&str, &str)], usize); 9] = [
            (&[], 0),
            (&[("HTTP_PROXY", "http://proxy.internal:3128")], 1),
            (&[("https_proxy", "http://proxy.internal:3128")], 1),
            (&[("ALL_PROXY", "http://proxy.internal:3128")], 2),
            (
                &[
                    ("HTTP_PROXY", "http://a.internal:1"),
                    ("HTTPS_PROXY", "http://b.internal:2"),
                ],
                2,
            ),
            // Empty values mean unset.
            (&[("HTTP_PROXY", " "), ("HTTPS_PROXY", "")], 0),
            // Unparsable values are ignored, as reqwest does.
            (&[("HTTP_PROXY", "http://[not a host")], 0),
            // ... and then ALL_PROXY serves that scheme, as reqwest does.
            (
                &[
                    ("HTTP_PROXY", "http://[not a host"),
                    ("ALL_PROXY", "http://proxy.internal:3128"),
                ],
                2,
            ),
            // Under CGI nothing is trusted (httpoxy).
            (
                &[
                    ("REQUEST_METHOD", "GET"),
                    ("HTTP_PROXY", "http://evil.example:80"),
                ],
                0,
            ),
        ];
        for (vars, expected) in cases {
            assert_eq!(
                proxies(&ProxyEnv::from_vars(vars.iter().copied())).len(),
                expected,
                "{vars:?}"
            );
        }
    }
}
