//! How a client proves who it is to the token endpoint (RFC 6749 §2.3), and the
//! form-encoded POST every grant sends.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use url::Url;
use url::form_urlencoded;

use crate::Error;
use crate::secret::{ClientId, ClientSecret};
use crate::secure_url::ensure_secure;
use crate::transport::{HttpRequest, Idempotency, RequestOptions};

/// How the client secret travels, when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BasicEncoding {
    /// RFC 6749 §2.3.1: each of id and secret is `application/x-www-form-urlencoded`
    /// first, then `base64(id:secret)`. What the RFC requires.
    #[default]
    FormUrlEncoded,
    /// `base64(id:secret)` of the raw values, as most servers (and Communico) expect.
    /// A secret containing `:` then cannot be told apart from the id by a strict server;
    /// use it only where the server asks for it.
    Raw,
}

/// The client's credentials and how it presents them.
///
/// ```
/// use auth_core::{ClientAuth, BasicEncoding, ClientSecret};
///
/// let communico = ClientAuth::basic("key", ClientSecret::new("secret"), BasicEncoding::Raw);
/// let public = ClientAuth::public("my-cli");
/// assert!(format!("{communico:?}").contains("redacted"));
/// assert_eq!(public.client_id().as_str(), "my-cli");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic (`client_secret_basic`).
    Basic {
        /// The client id.
        id: ClientId,
        /// The client secret.
        secret: ClientSecret,
        /// Which of the two encodings in use.
        encoding: BasicEncoding,
    },
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post {
        /// The client id.
        id: ClientId,
        /// The client secret.
        secret: ClientSecret,
    },
    /// A public client (`none`): only `client_id` in the form body (RFC 6749 §3.2.1).
    Public {
        /// The client id.
        id: ClientId,
    },
}

impl ClientAuth {
    /// HTTP Basic authentication.
    pub fn basic(id: impl Into<ClientId>, secret: ClientSecret, encoding: BasicEncoding) -> Self {
        ClientAuth::Basic {
            id: id.into(),
            secret,
            encoding,
        }
    }

    /// `client_secret_post` authentication.
    pub fn post(id: impl Into<ClientId>, secret: ClientSecret) -> Self {
        ClientAuth::Post {
            id: id.into(),
            secret,
        }
    }

    /// A public client.
    pub fn public(id: impl Into<ClientId>) -> Self {
        ClientAuth::Public { id: id.into() }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        match self {
            ClientAuth::Basic { id, .. }
            | ClientAuth::Post { id, .. }
            | ClientAuth::Public { id } => id,
        }
    }

    /// Whether this client sends a secret.
    pub fn is_confidential(&self) -> bool {
        !matches!(self, ClientAuth::Public { .. })
    }
}

/// The `Authorization: Basic` value for `id` and `secret`, marked sensitive.
///
/// ```
/// use auth_core::client_auth::basic_authorization;
/// use auth_core::{BasicEncoding, ClientId, ClientSecret};
///
/// let id = ClientId::new("a b");
/// let secret = ClientSecret::new("p:w");
/// // RFC 6749 §2.3.1: form-encode each part first ("a+b:p%3Aw").
/// assert_eq!(basic_authorization(&id, &secret, BasicEncoding::FormUrlEncoded)?, "Basic YStiOnAlM0F3");
/// // Raw ("a b:p:w").
/// assert_eq!(basic_authorization(&id, &secret, BasicEncoding::Raw)?, "Basic YSBiOnA6dw==");
/// # Ok::<(), auth_core::Error>(())
/// ```
pub fn basic_authorization(
    id: &ClientId,
    secret: &ClientSecret,
    encoding: BasicEncoding,
) -> Result<HeaderValue, Error> {
    let pair = match encoding {
        BasicEncoding::Raw => format!("{}:{}", id.as_str(), secret.secret()),
        BasicEncoding::FormUrlEncoded => format!(
            "{}:{}",
            form_encode_component(id.as_str()),
            form_encode_component(secret.secret())
        ),
    };
    let mut value = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(pair)))
        .map_err(|_| Error::invalid_config("the client credentials cannot form a header"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// `application/x-www-form-urlencoded` encoding of one value (spaces as `+`).
pub fn form_encode_component(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Builds a form-encoded POST to an OAuth endpoint, authenticated as `client`.
///
/// Refuses (before building anything) an endpoint that is neither `https` nor loopback.
/// Sets `Accept: application/json` and attaches `idempotency` for the retry layer.
/// The `Authorization` header is marked sensitive, so `http`'s `Debug` hides it; the
/// body may hold a secret or a code, so never log a request's body (this crate never
/// does).
pub fn form_post(
    endpoint: &Url,
    client: Option<&ClientAuth>,
    params: &[(&str, &str)],
    idempotency: Idempotency,
) -> Result<HttpRequest, Error> {
    ensure_secure(endpoint)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        form.append_pair(key, value);
    }
    let mut builder = http::Request::builder()
        .method(Method::POST)
        .uri(endpoint.as_str())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json");
    match client {
        Some(ClientAuth::Basic {
            id,
            secret,
            encoding,
        }) => {
            builder = builder.header(AUTHORIZATION, basic_authorization(id, secret, *encoding)?);
        }
        Some(ClientAuth::Post { id, secret }) => {
            form.append_pair("client_id", id.as_str());
            form.append_pair("client_secret", secret.secret());
        }
        Some(ClientAuth::Public { id }) => {
            form.append_pair("client_id", id.as_str());
        }
        None => {}
    }
    let mut request = builder
        .body(Bytes::from(form.finish()))
        .map_err(|_| Error::invalid_config("the endpoint URL cannot be used in a request"))?;
    RequestOptions::default()
        .with_idempotency(idempotency)
        .apply(&mut request);
    Ok(request)
}

/// Parses and checks a URL given as configuration.
pub fn parse_endpoint(url: &str) -> Result<Url, Error> {
    Url::parse(url).map_err(|e| {
        Error::invalid_config(format!(
            "`{}` is not a valid URL: {e}",
            crate::response::snippet(without_userinfo(url).as_bytes())
        ))
    })
}

/// `url` with everything between the scheme and the last `@` left out: an unparsable
/// URL may still hold `user:password@`, and no parser says where it ends.
fn without_userinfo(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((before, after)) => match before.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…@{after}"),
            None => format!("…@{after}"),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_endpoint_error_shows_no_userinfo() {
        for url in [
            "https://user:SECRET1@[not-an-address/token",
            "https://SECRET1@exa mple.com/token",
            "//user:SECRET1@host/token",
        ] {
            let err = parse_endpoint(url).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(matches!(err, Error::InvalidConfig { .. }), "{text}");
            assert!(!text.contains("SECRET1"), "{text}");
        }
        let err = parse_endpoint("https://u:p@exa mple.com/token").unwrap_err();
        assert!(
            err.to_string().contains("`https://…@exa mple.com/token`"),
            "{err}"
        );
        let err = parse_endpoint("not a url").unwrap_err();
        assert!(err.to_string().contains("`not a url`"), "{err}");
    }

    fn decode(value: &HeaderValue) -> String {
        let b64 = value.to_str().unwrap().strip_prefix("Basic ").unwrap();
        String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
    }

    /// RFC 6749 §2.3.1 and Appendix B, with a secret full of characters that matter.
    #[test]
    fn basic_encodings_of_a_hard_secret() {
        let id = ClientId::new("client id+1");
        let secret = ClientSecret::new("p:a/s+s%wörd é");
        let raw = basic_authorization(&id, &secret, BasicEncoding::Raw).unwrap();
        assert_eq!(decode(&raw), "client id+1:p:a/s+s%wörd é");
        let rfc = basic_authorization(&id, &secret, BasicEncoding::FormUrlEncoded).unwrap();
        assert_eq!(
            decode(&rfc),
            "client+id%2B1:p%3Aa%2Fs%2Bs%25w%C3%B6rd+%C3%A9"
        );
        assert!(raw.is_sensitive() && rfc.is_sensitive());
    }

    #[test]
    fn form_post_places_credentials() {
        let url = Url::parse("https://as.example/token").unwrap();
        let post = ClientAuth::post("id", ClientSecret::new("s e"));
        let req = form_post(
            &url,
            Some(&post),
            &[("grant_type", "client_credentials")],
            Idempotency::Retryable,
        )
        .unwrap();
        assert_eq!(
            req.body(),
            "grant_type=client_credentials&client_id=id&client_secret=s+e"
        );
        assert!(req.headers().get(AUTHORIZATION).is_none());
        assert_eq!(RequestOptions::of(&req).idempotency, Idempotency::Retryable);

        let basic = ClientAuth::basic("id", ClientSecret::new("s"), BasicEncoding::Raw);
        let req = form_post(
            &url,
            Some(&basic),
            &[("grant_type", "client_credentials")],
            Idempotency::Retryable,
        )
        .unwrap();
        assert_eq!(req.body(), "grant_type=client_credentials");
        assert!(!format!("{:?}", req.headers()).contains(&STANDARD.encode("id:s")));

        let public = ClientAuth::public("cli");
        let req = form_post(&url, Some(&public), &[("a", "b")], Idempotency::Never).unwrap();
        assert_eq!(req.body(), "a=b&client_id=cli");
    }

    #[test]
    fn form_post_refuses_plain_http_to_remote_hosts() {
        let url = Url::parse("http://as.example/token").unwrap();
        let client = ClientAuth::basic("id", ClientSecret::new("s"), BasicEncoding::Raw);
        assert!(matches!(
            form_post(&url, Some(&client), &[], Idempotency::Never),
            Err(Error::InsecureUrl { .. })
        ));
    }
}
