//! The rule that credentials travel only over HTTPS, except to loopback addresses
//! (RFC 6749 §3.1.2.1, RFC 8252 §7.3, RFC 9700 §2.6).

use std::net::IpAddr;

use url::{Host, Url};

use crate::Error;

/// Whether `url`'s host is a loopback address: `127.0.0.0/8`, `::1` or `localhost`
/// (RFC 8252 §8.3 prefers the IP literals; `localhost` is accepted as servers do).
///
/// Exactly the hosts that `http-common`'s `LOOPBACK_NO_PROXY`
/// keeps away from proxies, and no others: plain HTTP is allowed here on the premise
/// that the request never leaves the machine, so a host that a proxy could be asked to
/// reach (`localhost.`, the IPv4-mapped `::ffff:127.0.0.1`) does not qualify.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => {
            domain.eq_ignore_ascii_case("localhost")
                || domain.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// Checks that credentials may be sent to `url`: the scheme is `https`, or it is `http`
/// and the host is a loopback address. Anything else (another scheme, plain HTTP to a
/// remote host) is [`Error::InsecureUrl`], returned before a request is even built.
///
/// ```
/// use auth_core::secure_url::ensure_secure;
/// use url::Url;
///
/// assert!(ensure_secure(&Url::parse("https://api.example.com/token")?).is_ok());
/// assert!(ensure_secure(&Url::parse("http://127.0.0.1:8080/token")?).is_ok());
/// assert!(ensure_secure(&Url::parse("http://[::1]/token")?).is_ok());
/// assert!(ensure_secure(&Url::parse("http://api.example.com/token")?).is_err());
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn ensure_secure(url: &Url) -> Result<(), Error> {
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(Error::InsecureUrl {
            url: display_url(url),
        }),
    }
}

/// A URL as it may appear in messages: scheme, host, port and path only. Query strings
/// and fragments can hold codes or tokens, and user info can hold a password.
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Cannot fail for URLs with a host; ignore for the rest (they have no credentials).
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> bool {
        ensure_secure(&Url::parse(url).unwrap()).is_ok()
    }

    #[test]
    fn https_anywhere_http_only_to_loopback() {
        assert!(check("https://example.com/"));
        assert!(check("http://127.0.0.1/"));
        assert!(check("http://127.8.9.10:99/"));
        assert!(check("http://[::1]:8080/"));
        assert!(check("http://localhost/"));
        assert!(check("http://LOCALHOST:1/"));
        // Not in the list of hosts that never go through a proxy.
        assert!(!check("http://localhost./"));
        assert!(!check("http://[::ffff:127.0.0.1]/"));
        assert!(!check("http://example.com/"));
        assert!(!check("http://localhost.example.com/"));
        assert!(!check("http://10.0.0.1/"));
        assert!(!check("http://[::2]/"));
        assert!(!check("ftp://127.0.0.1/"));
        assert!(!check("file:///etc/passwd"));
    }

    #[test]
    fn display_url_drops_query_and_userinfo() {
        let url = Url::parse("http://user:pw@example.com/cb?code=SECRET#frag").unwrap();
        let shown = display_url(&url);
        assert_eq!(shown, "http://example.com/cb");
    }

    #[test]
    fn insecure_error_does_not_show_the_query() {
        let url = Url::parse("http://example.com/token?client_secret=SECRET").unwrap();
        let err = ensure_secure(&url).unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
        assert!(!format!("{err:?}").contains("SECRET"));
    }
}
