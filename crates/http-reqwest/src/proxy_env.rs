//! Proxies from the environment, read as reqwest itself reads them (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case), with one difference:
//! loopback destinations always go direct.
//!
//! `auth-core` lets credentials travel over plain `http://` only to a loopback address,
//! on the premise that they never leave the machine (RFC 8252 §8.3). reqwest does not
//! exempt loopback from `HTTP_PROXY`, so with a proxy configured such a request, secret
//! and all, would be handed to the proxy in clear text. Adding loopback to every proxy's
//! exclusion list keeps the premise true.

/// Destinations that never go through a proxy, in `NO_PROXY` syntax.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

/// The proxies to configure, given a way to read environment variables. Empty means
/// "connect directly".
pub(crate) fn from_env(var: impl Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    // httpoxy (CVE-2016-5385): under CGI, `HTTP_PROXY` can be set from a request's
    // `Proxy` header. reqwest (through hyper-util) ignores every proxy variable then.
    if var("REQUEST_METHOD").is_some() {
        return Vec::new();
    }
    let first = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(&var)
            .filter(|value| !value.trim().is_empty())
    };
    let all = first(["ALL_PROXY", "all_proxy"]);
    let http = first(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
    let https = first(["HTTPS_PROXY", "https_proxy"]).or(all);
    let no_proxy = first(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let exclusions = || reqwest::NoProxy::from_string(&format!("{no_proxy},{LOOPBACK}"));

    let mut proxies = Vec::new();
    // As in reqwest, a proxy URL that does not parse is ignored.
    if let Some(proxy) = http.and_then(|url| reqwest::Proxy::http(url.as_str()).ok()) {
        proxies.push(proxy.no_proxy(exclusions()));
    }
    if let Some(proxy) = https.and_then(|url| reqwest::Proxy::https(url.as_str()).ok()) {
        proxies.push(proxy.no_proxy(exclusions()));
    }
    proxies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn proxies_configured_per_scheme_from_the_environment() {
        let cases: [(&[(&str, &str)], usize); 8] = [
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
            assert_eq!(from_env(env(vars)).len(), expected, "{vars:?}");
        }
    }
}
