//! Dynamic client registration (RFC 7591): a native application registers itself once
//! and reuses the `client_id` it gets.
//!
//! ```
//! use auth_core::registration::{registration_request, ClientMetadata, RegisteredClient, Secrets};
//! use url::Url;
//!
//! let metadata = ClientMetadata::new([Url::parse("http://127.0.0.1:8400/callback")?])
//!     .client_name("attendance-cli");
//! let request = registration_request(
//!     &Url::parse("https://api.attendium.com/oauth2/register")?,
//!     &metadata,
//!     None,
//! )?;
//! assert_eq!(request.headers()["content-type"], "application/json");
//!
//! let response = http::Response::builder().status(201).body(bytes::Bytes::from_static(
//!     br#"{"client_id":"abc","redirect_uris":["http://127.0.0.1:8400/callback"],"token_endpoint_auth_method":"none"}"#,
//! ))?;
//! let client = RegisteredClient::parse(&response)?;
//! assert_eq!(client.client_id.as_str(), "abc");
//!
//! // Cache it (a public client has no secret to leave out).
//! let cached = client.to_json(Secrets::Omit).to_string();
//! let again = RegisteredClient::from_json(&serde_json::from_str(&cached)?)?;
//! assert_eq!(again.client_id, client.client_id);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Map, Value};
use url::Url;

use crate::Error;
use crate::response::{self, opt_seconds, opt_str, req_str, str_list};
use crate::secret::{AccessToken, ClientId, ClientSecret, RegistrationAccessToken};
use crate::secure_url::{display_url, ensure_secure, is_loopback};
use crate::transport::{HttpRequest, HttpResponse, Idempotency, RequestOptions};

/// Members [`ClientMetadata`] sets itself; [`ClientMetadata::extra`] may not repeat them.
const METADATA_FIELDS: &[&str] = &[
    "redirect_uris",
    "client_name",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "scope",
];

/// The metadata a client registers with (RFC 7591 §2).
///
/// Defaults describe a public native client using the authorization code grant:
/// `token_endpoint_auth_method: "none"`, `grant_types: ["authorization_code",
/// "refresh_token"]`, `response_types: ["code"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMetadata {
    redirect_uris: Vec<Url>,
    client_name: Option<String>,
    token_endpoint_auth_method: String,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    scope: Option<String>,
    extra: Map<String, Value>,
}

impl ClientMetadata {
    /// Metadata for a client that receives authorization responses at `redirect_uris`.
    pub fn new(redirect_uris: impl IntoIterator<Item = Url>) -> Self {
        Self {
            redirect_uris: redirect_uris.into_iter().collect(),
            client_name: None,
            token_endpoint_auth_method: "none".into(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: vec!["code".into()],
            scope: None,
            extra: Map::new(),
        }
    }

    /// The name shown to the user on the consent page.
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = Some(name.into());
        self
    }

    /// How the client will authenticate at the token endpoint (`none`,
    /// `client_secret_basic`, `client_secret_post`).
    #[must_use]
    pub fn token_endpoint_auth_method(mut self, method: impl Into<String>) -> Self {
        self.token_endpoint_auth_method = method.into();
        self
    }

    /// The grant types the client will use.
    #[must_use]
    pub fn grant_types<I, S>(mut self, grant_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grant_types = grant_types.into_iter().map(Into::into).collect();
        self
    }

    /// The response types the client will use.
    #[must_use]
    pub fn response_types<I, S>(mut self, response_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.response_types = response_types.into_iter().map(Into::into).collect();
        self
    }

    /// The scopes the client may ask for (space-separated).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Another metadata member (for example `client_uri`, `logo_uri`, `software_id`).
    /// Repeating a member set by the other methods makes the request fail.
    #[must_use]
    pub fn extra(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// The redirect URIs.
    pub fn redirect_uris(&self) -> &[Url] {
        &self.redirect_uris
    }

    /// The JSON document sent, after checking it: redirect URIs `https`, loopback
    /// `http` or a private-use scheme, without fragment (RFC 7591 §2, RFC 8252 §8.4);
    /// at least one when the authorization code grant is asked for.
    pub fn to_json(&self) -> Result<Value, Error> {
        for uri in &self.redirect_uris {
            if uri.fragment().is_some() || uri.cannot_be_a_base() {
                return Err(Error::invalid_config(format!(
                    "the redirect URI {} cannot be registered (no fragment, and it must be able to receive a redirect)",
                    display_url(uri)
                )));
            }
            if uri.scheme() == "http" && !is_loopback(uri) {
                return Err(Error::invalid_config(format!(
                    "the redirect URI {} must use https (plain http is allowed only to loopback addresses)",
                    display_url(uri)
                )));
            }
        }
        if self.redirect_uris.is_empty()
            && self.grant_types.iter().any(|g| g == "authorization_code")
        {
            return Err(Error::invalid_config(
                "the authorization code grant needs at least one redirect URI",
            ));
        }
        if let Some(name) = self
            .extra
            .keys()
            .find(|k| METADATA_FIELDS.contains(&k.as_str()))
        {
            return Err(Error::invalid_config(format!(
                "the metadata member `{name}` is set twice"
            )));
        }
        let mut doc = Map::new();
        doc.insert(
            "redirect_uris".into(),
            Value::from(
                self.redirect_uris
                    .iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>(),
            ),
        );
        if let Some(name) = &self.client_name {
            doc.insert("client_name".into(), Value::from(name.as_str()));
        }
        doc.insert(
            "token_endpoint_auth_method".into(),
            Value::from(self.token_endpoint_auth_method.as_str()),
        );
        doc.insert("grant_types".into(), Value::from(self.grant_types.clone()));
        doc.insert(
            "response_types".into(),
            Value::from(self.response_types.clone()),
        );
        if let Some(scope) = &self.scope {
            doc.insert("scope".into(), Value::from(scope.as_str()));
        }
        doc.extend(self.extra.clone());
        Ok(Value::Object(doc))
    }
}

/// Builds the registration request (RFC 7591 §3.1): a JSON POST of `metadata`, with
/// the `initial_access_token` as a bearer token when the server requires one (§3).
///
/// Refused with [`Error::InsecureUrl`] before anything is built if the endpoint is not
/// `https` (or loopback): the answer may carry a client secret. Marked
/// [`Idempotency::Never`]: registering twice creates two clients.
pub fn registration_request(
    endpoint: &Url,
    metadata: &ClientMetadata,
    initial_access_token: Option<&AccessToken>,
) -> Result<HttpRequest, Error> {
    ensure_secure(endpoint)?;
    let body = serde_json::to_vec(&metadata.to_json()?)
        .map_err(|e| Error::invalid_config(format!("the metadata cannot be serialised: {e}")))?;
    let mut builder = http::Request::builder()
        .method(Method::POST)
        .uri(endpoint.as_str())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json");
    if let Some(token) = initial_access_token {
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.secret()))
            .map_err(|_| Error::invalid_config("the initial access token cannot form a header"))?;
        value.set_sensitive(true);
        builder = builder.header(AUTHORIZATION, value);
    }
    let mut request = builder.body(Bytes::from(body)).map_err(|_| {
        Error::invalid_config("the registration endpoint cannot be used in a request")
    })?;
    RequestOptions::default()
        .with_idempotency(Idempotency::Never)
        .apply(&mut request);
    Ok(request)
}

/// Whether [`RegisteredClient::to_json`] writes the client secret and the registration
/// access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Secrets {
    /// Leave them out: the JSON may be written anywhere.
    Omit,
    /// Write them: store the JSON as carefully as a password (for example with the
    /// file token store, which creates files readable by their owner only).
    Include,
}

/// A registered client (RFC 7591 §3.2.1).
///
/// `Serialize`/`Deserialize` never include the secret parts (`client_secret`,
/// `registration_access_token`): use [`to_json`](Self::to_json) with
/// [`Secrets::Include`] and [`from_json`](Self::from_json) to cache a confidential
/// client deliberately. `Debug` shows the secrets redacted.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct RegisteredClient {
    /// The client identifier.
    pub client_id: ClientId,
    /// The client secret, for a confidential client.
    pub client_secret: Option<ClientSecret>,
    /// When the client id was issued, in seconds since the Unix epoch.
    pub client_id_issued_at: Option<u64>,
    /// When the secret expires, in seconds since the Unix epoch; `0` means never
    /// (RFC 7591 §3.2.1). See [`secret_expired`](Self::secret_expired).
    pub client_secret_expires_at: Option<u64>,
    /// The token for reading or updating this registration (RFC 7592).
    pub registration_access_token: Option<RegistrationAccessToken>,
    /// Where this registration can be read or updated (RFC 7592).
    pub registration_client_uri: Option<Url>,
    /// The redirect URIs as the server registered them (it may adjust them).
    pub redirect_uris: Vec<String>,
    /// The client authentication method the server registered.
    pub token_endpoint_auth_method: Option<String>,
    /// The grant types the server registered.
    pub grant_types: Vec<String>,
    /// The client name the server registered.
    pub client_name: Option<String>,
    /// Every other member, as sent.
    pub extra: Map<String, Value>,
}

impl fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_id_issued_at", &self.client_id_issued_at)
            .field("client_secret_expires_at", &self.client_secret_expires_at)
            .field("registration_access_token", &self.registration_access_token)
            .field(
                "registration_client_uri",
                &self.registration_client_uri.as_ref().map(display_url),
            )
            .field("redirect_uris", &self.redirect_uris)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .field("grant_types", &self.grant_types)
            .field("client_name", &self.client_name)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RegisteredClient {
    /// Reads a registration response.
    ///
    /// Accepts `201 Created` (RFC 7591 §3.2.1) and `200 OK` (what some servers send).
    /// `client_id` is required; the rest is optional. RFC 7591 §3.2.2 errors
    /// (`invalid_redirect_uri`, `invalid_client_metadata`, ...) are [`Error::OAuth`];
    /// anything else is [`Error::UnexpectedResponse`] or [`Error::InvalidResponse`].
    pub fn parse(response: &HttpResponse) -> Result<Self, Error> {
        let map = response::oauth_json(response)?;
        if !matches!(response.status(), StatusCode::OK | StatusCode::CREATED) {
            return Err(response::unexpected(response));
        }
        Self::from_map(map)
    }

    /// Reads a client written by [`to_json`](Self::to_json) (or a registration response
    /// body). Secrets are read when present.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Self::from_map(map.clone()),
            other => Err(Error::invalid_response(format!(
                "a registered client should be a JSON object, found {}",
                response::json_type(other)
            ))),
        }
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Self, Error> {
        let client_id = req_str(&map, "client_id")?;
        if client_id.is_empty() {
            return Err(Error::invalid_response("`client_id` is empty"));
        }
        let registration_client_uri = match opt_str(&map, "registration_client_uri")? {
            None => None,
            Some(uri) => Some(Url::parse(&uri).map_err(|_| {
                Error::invalid_response("`registration_client_uri` is not a valid URL")
            })?),
        };
        let client = Self {
            client_id: ClientId::new(client_id),
            client_secret: opt_str(&map, "client_secret")?
                .filter(|s| !s.is_empty())
                .map(ClientSecret::new),
            client_id_issued_at: opt_seconds(&map, "client_id_issued_at")?,
            client_secret_expires_at: opt_seconds(&map, "client_secret_expires_at")?,
            registration_access_token: opt_str(&map, "registration_access_token")?
                .filter(|s| !s.is_empty())
                .map(RegistrationAccessToken::new),
            registration_client_uri,
            redirect_uris: str_list(&map, "redirect_uris")?,
            token_endpoint_auth_method: opt_str(&map, "token_endpoint_auth_method")?,
            grant_types: str_list(&map, "grant_types")?,
            client_name: opt_str(&map, "client_name")?,
            extra: Map::new(),
        };
        for known in KNOWN_RESPONSE_FIELDS {
            map.remove(*known);
        }
        Ok(Self {
            extra: map,
            ..client
        })
    }

    /// The client as a JSON object in the RFC 7591 response format, which
    /// [`from_json`](Self::from_json) reads back. With [`Secrets::Omit`] the client
    /// secret and registration access token are left out.
    pub fn to_json(&self, secrets: Secrets) -> Value {
        let mut map = self.extra.clone();
        map.insert("client_id".into(), Value::from(self.client_id.as_str()));
        if secrets == Secrets::Include {
            if let Some(secret) = &self.client_secret {
                map.insert("client_secret".into(), Value::from(secret.secret()));
            }
            if let Some(token) = &self.registration_access_token {
                map.insert(
                    "registration_access_token".into(),
                    Value::from(token.secret()),
                );
            }
        }
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(key.into(), value);
            }
        };
        put(
            "client_id_issued_at",
            self.client_id_issued_at.map(Value::from),
        );
        put(
            "client_secret_expires_at",
            self.client_secret_expires_at.map(Value::from),
        );
        put(
            "registration_client_uri",
            self.registration_client_uri
                .as_ref()
                .map(|u| Value::from(u.as_str())),
        );
        put(
            "redirect_uris",
            Some(Value::from(self.redirect_uris.clone())),
        );
        put(
            "token_endpoint_auth_method",
            self.token_endpoint_auth_method.clone().map(Value::from),
        );
        put("grant_types", Some(Value::from(self.grant_types.clone())));
        put("client_name", self.client_name.clone().map(Value::from));
        Value::Object(map)
    }

    /// Whether the client secret has expired at `now`. A client without a secret, or
    /// whose secret never expires (`client_secret_expires_at` absent or `0`), is never
    /// expired.
    pub fn secret_expired(&self, now: SystemTime) -> bool {
        match self.client_secret_expires_at {
            None | Some(0) => false,
            Some(at) => SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(at))
                .is_some_and(|at| now >= at),
        }
    }
}

const KNOWN_RESPONSE_FIELDS: &[&str] = &[
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "client_name",
];

impl serde::Serialize for RegisteredClient {
    /// Serialises as [`to_json`](RegisteredClient::to_json) with [`Secrets::Omit`].
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json(Secrets::Omit).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for RegisteredClient {
    /// Reads what [`to_json`](RegisteredClient::to_json) writes, ignoring any secret
    /// in it (use [`from_json`](RegisteredClient::from_json) to read secrets).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let mut client = Self::from_json(&value).map_err(serde::de::Error::custom)?;
        client.client_secret = None;
        client.registration_access_token = None;
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth_error::ErrorCode;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn endpoint() -> Url {
        url("https://api.attendium.com/oauth2/register")
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    const FULL: &str = r#"{
        "client_id": "s6BhdRkqt3",
        "client_secret": "SECRET-cf136dc3c1fc93f31185e5885805d",
        "client_id_issued_at": 2893256800,
        "client_secret_expires_at": "2893276800",
        "registration_access_token": "SECRET-this.is.an.access.token.value.ffx83",
        "registration_client_uri": "https://server.example.com/connect/register?client_id=s6BhdRkqt3",
        "redirect_uris": ["https://client.example.org/callback"],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code"],
        "client_name": "My Example",
        "logo_uri": "https://client.example.org/logo.png"
    }"#;

    #[test]
    fn request_has_attendium_shape_and_defaults() {
        let metadata = ClientMetadata::new([url("http://127.0.0.1:8400/callback")])
            .client_name("attend")
            .scope("read");
        let req = registration_request(&endpoint(), &metadata, None).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert!(req.headers().get(AUTHORIZATION).is_none());
        assert_eq!(RequestOptions::of(&req).idempotency, Idempotency::Never);
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "redirect_uris": ["http://127.0.0.1:8400/callback"],
                "client_name": "attend",
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "read"
            })
        );
    }

    #[test]
    fn initial_access_token_is_a_sensitive_bearer_header() {
        let metadata = ClientMetadata::new([url("https://app.example/cb")])
            .token_endpoint_auth_method("client_secret_basic")
            .grant_types(["authorization_code"])
            .response_types(["code"])
            .extra("software_id", Value::from("x"));
        let token = AccessToken::new("SECRETIAT");
        let req = registration_request(&endpoint(), &metadata, Some(&token)).unwrap();
        let auth = &req.headers()[AUTHORIZATION];
        assert_eq!(auth, "Bearer SECRETIAT");
        assert!(auth.is_sensitive());
        assert!(!format!("{:?}", req.headers()).contains("SECRETIAT"));
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(body["software_id"], "x");
        assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    }

    #[test]
    fn bad_requests_are_refused_before_they_exist() {
        let ok = ClientMetadata::new([url("https://app.example/cb")]);
        assert!(matches!(
            registration_request(&url("http://as.example/register"), &ok, None),
            Err(Error::InsecureUrl { .. })
        ));
        for bad in [
            ClientMetadata::new([url("http://app.example/cb")]),
            ClientMetadata::new([url("https://app.example/cb#x")]),
            ClientMetadata::new(Vec::<Url>::new()),
            ok.clone().extra("client_name", Value::from("dup")),
        ] {
            assert!(matches!(
                registration_request(&endpoint(), &bad, None),
                Err(Error::InvalidConfig { .. })
            ));
        }
        // No redirect URI is fine without the code grant.
        let machine = ClientMetadata::new(Vec::<Url>::new()).grant_types(["client_credentials"]);
        assert!(registration_request(&endpoint(), &machine, None).is_ok());
        assert_eq!(ok.redirect_uris().len(), 1);
    }

    #[test]
    fn parses_201_and_200() {
        for status in [201, 200] {
            let client = RegisteredClient::parse(&response(status, FULL)).unwrap();
            assert_eq!(client.client_id.as_str(), "s6BhdRkqt3");
            assert_eq!(
                client.client_secret.as_ref().unwrap().secret(),
                "SECRET-cf136dc3c1fc93f31185e5885805d"
            );
            assert_eq!(client.client_id_issued_at, Some(2893256800));
            assert_eq!(client.client_secret_expires_at, Some(2893276800));
            assert!(client.registration_access_token.is_some());
            assert_eq!(
                client.registration_client_uri.as_ref().unwrap().host_str(),
                Some("server.example.com")
            );
            assert_eq!(
                client.redirect_uris,
                ["https://client.example.org/callback"]
            );
            assert_eq!(
                client.token_endpoint_auth_method.as_deref(),
                Some("client_secret_basic")
            );
            assert_eq!(client.grant_types, ["authorization_code"]);
            assert_eq!(client.client_name.as_deref(), Some("My Example"));
            assert_eq!(client.extra.keys().collect::<Vec<_>>(), ["logo_uri"]);
        }
        let minimal = RegisteredClient::parse(&response(201, r#"{"client_id":"x"}"#)).unwrap();
        assert!(minimal.client_secret.is_none() && minimal.redirect_uris.is_empty());
    }

    #[test]
    fn errors_are_typed() {
        for (code, expected) in [
            ("invalid_redirect_uri", ErrorCode::InvalidRedirectUri),
            ("invalid_client_metadata", ErrorCode::InvalidClientMetadata),
        ] {
            match RegisteredClient::parse(&response(
                400,
                &format!(r#"{{"error":"{code}","error_description":"nope"}}"#),
            )) {
                Err(Error::OAuth(e)) => {
                    assert_eq!(e.code, expected);
                    assert_eq!(e.description.as_deref(), Some("nope"));
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            RegisteredClient::parse(&response(202, r#"{"client_id":"x"}"#)),
            Err(Error::UnexpectedResponse { .. })
        ));
        assert!(matches!(
            RegisteredClient::parse(&response(201, r#"{"client_secret":"s"}"#)),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            RegisteredClient::parse(&response(201, r#"{"client_id":""}"#)),
            Err(Error::InvalidResponse { .. })
        ));
        // A lone string where an array is expected is read as a one-element list.
        let lone = RegisteredClient::parse(&response(
            201,
            r#"{"client_id":"x","redirect_uris":"https://a.example/cb"}"#,
        ))
        .unwrap();
        assert_eq!(lone.redirect_uris, ["https://a.example/cb"]);
        assert!(matches!(
            RegisteredClient::parse(&response(201, r#"{"client_id":"x","redirect_uris":[1]}"#)),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            RegisteredClient::parse(&response(500, "<html>down</html>")),
            Err(Error::UnexpectedResponse { .. })
        ));
    }

    #[test]
    fn json_cache_includes_secrets_only_when_asked() {
        let client = RegisteredClient::parse(&response(201, FULL)).unwrap();
        let public = client.to_json(Secrets::Omit);
        let text = public.to_string();
        assert!(!text.contains("SECRET"), "{text}");
        let back = RegisteredClient::from_json(&public).unwrap();
        assert!(back.client_secret.is_none() && back.registration_access_token.is_none());
        assert_eq!(back.client_id, client.client_id);
        assert_eq!(back.extra, client.extra);

        let full = client.to_json(Secrets::Include);
        assert_eq!(RegisteredClient::from_json(&full).unwrap(), client);

        // serde never carries secrets, either way.
        let serde_text = serde_json::to_string(&client).unwrap();
        assert!(!serde_text.contains("SECRET"));
        let via_serde: RegisteredClient = serde_json::from_value(full).unwrap();
        assert!(via_serde.client_secret.is_none());
        assert_eq!(via_serde.redirect_uris, client.redirect_uris);
        assert!(RegisteredClient::from_json(&Value::from(1)).is_err());
    }

    #[test]
    fn secret_expiry() {
        let mut client = RegisteredClient::parse(&response(201, r#"{"client_id":"x"}"#)).unwrap();
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert!(!client.secret_expired(at(10)));
        client.client_secret_expires_at = Some(0);
        assert!(!client.secret_expired(at(u32::MAX as u64)));
        client.client_secret_expires_at = Some(100);
        assert!(!client.secret_expired(at(99)));
        assert!(client.secret_expired(at(100)));
    }

    #[test]
    fn debug_leaks_no_secret() {
        let client = RegisteredClient::parse(&response(201, FULL)).unwrap();
        let debug = format!("{client:?} {client:#?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("s6BhdRkqt3"));
        // An error response carrying a secret-like member does not leak it either.
        let err = RegisteredClient::parse(&response(
            400,
            r#"{"error":"invalid_client_metadata","client_secret":"SECRETX"}"#,
        ))
        .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRETX"));
    }
}
