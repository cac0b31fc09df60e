//! How the Attendium stand-in is set up: the demo user, lifetimes, the clock, token
//! randomness, and the switchable server quirks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{Clock, SystemClock};

/// The user signed in by auto-approval, whose id `{ me { id } }` answers.
pub const DEFAULT_USER_ID: &str = "user-demo-1";

/// The default access-token lifetime: one hour, a common choice of real servers.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The default authorization-code lifetime: RFC 6749 §4.1.2 recommends at most ten minutes.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(600);

/// The status a successful registration answers with (RFC 7591 §3.2.1 says `201`; some
/// servers answer `200`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RegistrationStatus {
    /// `201 Created`, as RFC 7591 §3.2.1 specifies.
    #[default]
    Created,
    /// `200 OK`.
    Ok,
}

/// How a loopback redirect URI in an authorization request is compared with the
/// registered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoopbackPorts {
    /// RFC 8252 §7.3: for loopback IP literals (`127.0.0.1`, `[::1]`) any port is allowed;
    /// everything else must match.
    #[default]
    AnyPort,
    /// The whole URI, port included, must equal a registered one (what many servers do).
    Exact,
}

/// Whether the authorization response carries `iss` (RFC 9207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CallbackIss {
    /// `iss` is sent and `authorization_response_iss_parameter_supported` is `true`.
    #[default]
    Included,
    /// No `iss`, and the metadata says `authorization_response_iss_parameter_supported: false`.
    Omitted,
}

/// How `expires_in` is written in token responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExpiresInFormat {
    /// A JSON number, as RFC 6749 §5.1 specifies.
    #[default]
    Number,
    /// A JSON string such as `"3600"`, which some servers send.
    String,
    /// Left out (RFC 6749 §5.1 only RECOMMENDS it).
    Absent,
}

/// How `token_type` is spelled in token responses (RFC 6749 §5.1: case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenTypeCase {
    /// `Bearer`.
    #[default]
    Capitalized,
    /// `bearer`.
    Lowercase,
}

/// Where the server publishes its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DiscoveryDocuments {
    /// Both RFC 8414 (`/.well-known/oauth-authorization-server`) and OpenID discovery
    /// (`/.well-known/openid-configuration`).
    #[default]
    Both,
    /// Only OpenID discovery; the RFC 8414 path answers `404`.
    OpenIdOnly,
}

/// Whether refresh tokens rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RefreshRotation {
    /// Every refresh returns a new refresh token and spends the old one; presenting a
    /// spent one revokes the whole grant (RFC 9700 §4.14.2).
    #[default]
    Rotate,
    /// The refresh token stays valid and no new one is returned.
    Reuse,
}

/// How the server behaves where standards-compliant servers differ. Switchable at run
/// time through [`Attendium::set_quirks`](super::Attendium::set_quirks).
///
/// ```
/// use sandbox::attendium::{CallbackIss, ExpiresInFormat, Quirks};
///
/// let quirks = Quirks::default()
///     .with_callback_iss(CallbackIss::Omitted)
///     .with_expires_in(ExpiresInFormat::String);
/// assert_eq!(quirks.callback_iss, CallbackIss::Omitted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Quirks {
    /// `201` or `200` on registration.
    pub registration_status: RegistrationStatus,
    /// Loopback redirect URI port matching.
    pub loopback_ports: LoopbackPorts,
    /// `iss` in the authorization response.
    pub callback_iss: CallbackIss,
    /// `expires_in` as a number, a string, or absent.
    pub expires_in: ExpiresInFormat,
    /// `Bearer` or `bearer`.
    pub token_type: TokenTypeCase,
    /// Which discovery documents exist.
    pub discovery: DiscoveryDocuments,
    /// Refresh-token rotation.
    pub refresh_rotation: RefreshRotation,
}

impl Quirks {
    /// Sets [`Quirks::registration_status`].
    pub fn with_registration_status(mut self, value: RegistrationStatus) -> Self {
        self.registration_status = value;
        self
    }

    /// Sets [`Quirks::loopback_ports`].
    pub fn with_loopback_ports(mut self, value: LoopbackPorts) -> Self {
        self.loopback_ports = value;
        self
    }

    /// Sets [`Quirks::callback_iss`].
    pub fn with_callback_iss(mut self, value: CallbackIss) -> Self {
        self.callback_iss = value;
        self
    }

    /// Sets [`Quirks::expires_in`].
    pub fn with_expires_in(mut self, value: ExpiresInFormat) -> Self {
        self.expires_in = value;
        self
    }

    /// Sets [`Quirks::token_type`].
    pub fn with_token_type(mut self, value: TokenTypeCase) -> Self {
        self.token_type = value;
        self
    }

    /// Sets [`Quirks::discovery`].
    pub fn with_discovery(mut self, value: DiscoveryDocuments) -> Self {
        self.discovery = value;
        self
    }

    /// Sets [`Quirks::refresh_rotation`].
    pub fn with_refresh_rotation(mut self, value: RefreshRotation) -> Self {
        self.refresh_rotation = value;
        self
    }
}

/// What happens to an authorization request once client and redirect URI are valid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Approval {
    /// The configured user approves at once: the answer is a `302` with a code.
    #[default]
    AutoApprove,
    /// The request waits in a queue until a test calls
    /// [`Attendium::approve`](super::Attendium::approve) or
    /// [`Attendium::deny`](super::Attendium::deny).
    Manual,
    /// The user refuses at once: the answer is a `302` with `error=access_denied`.
    AutoDeny,
}

/// Where token, code and client-id randomness comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenRandomness {
    /// The operating system's CSPRNG.
    #[default]
    Os,
    /// A deterministic sequence from this seed, so that a test run is repeatable.
    Seeded(u64),
}

/// Builder for an [`Attendium`](super::Attendium) server.
///
/// ```
/// use std::time::Duration;
/// use sandbox::attendium::{Approval, AttendiumConfig};
///
/// let config = AttendiumConfig::new()
///     .user_id("user-42")
///     .access_token_ttl(Duration::from_secs(60))
///     .approval(Approval::Manual);
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct AttendiumConfig {
    pub(crate) quirks: Quirks,
    pub(crate) approval: Approval,
    pub(crate) user_id: String,
    pub(crate) access_token_ttl: Duration,
    pub(crate) refresh_token_ttl: Option<Duration>,
    pub(crate) code_ttl: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) randomness: TokenRandomness,
    pub(crate) schema_sdl: Option<Arc<str>>,
}

impl fmt::Debug for AttendiumConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendiumConfig")
            .field("quirks", &self.quirks)
            .field("approval", &self.approval)
            .field("user_id", &self.user_id)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("code_ttl", &self.code_ttl)
            .field("clock", &self.clock)
            .field("randomness", &self.randomness)
            .field(
                "schema_sdl",
                &self
                    .schema_sdl
                    .as_ref()
                    .map(|sdl| format!("{} bytes", sdl.len())),
            )
            .finish()
    }
}

impl Default for AttendiumConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl AttendiumConfig {
    /// Standard behaviour: RFC quirks off, auto-approval as [`DEFAULT_USER_ID`], one-hour
    /// access tokens, refresh tokens that do not expire, the system clock, OS randomness.
    pub fn new() -> Self {
        Self {
            quirks: Quirks::default(),
            approval: Approval::default(),
            user_id: DEFAULT_USER_ID.to_owned(),
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_token_ttl: None,
            code_ttl: DEFAULT_CODE_TTL,
            clock: Arc::new(SystemClock),
            randomness: TokenRandomness::default(),
            schema_sdl: None,
        }
    }

    /// The quirks the server starts with.
    pub fn quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// How authorization requests are approved at first.
    pub fn approval(mut self, approval: Approval) -> Self {
        self.approval = approval;
        self
    }

    /// The id of the user that auto-approval signs in.
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.user_id = id.into();
        self
    }

    /// How long access tokens live.
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// How long refresh tokens live; `None` (the default) for no expiry.
    pub fn refresh_token_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.refresh_token_ttl = ttl;
        self
    }

    /// How long authorization codes live.
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }

    /// The clock for every expiry decision (e.g. `auth_core::clock::ManualClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where token randomness comes from.
    pub fn randomness(mut self, randomness: TokenRandomness) -> Self {
        self.randomness = randomness;
        self
    }

    /// The GraphQL schema `POST /graphql` serves, as SDL (GraphQL spec §3), instead of
    /// [`SCHEMA_SDL`](super::SCHEMA_SDL), e.g. a schema pulled from the real service.
    ///
    /// Fields the sandbox models answer from its state (`Query.me` is the signed-in user
    /// and its `id` the user id); every other field answers a deterministic sample of its
    /// type. [`Attendium::new`](super::Attendium::new) fails with
    /// [`AttendiumError::InvalidSchema`](super::AttendiumError::InvalidSchema) when the
    /// SDL does not parse or is not a valid schema.
    ///
    /// ```
    /// use sandbox::attendium::AttendiumConfig;
    ///
    /// let config = AttendiumConfig::new().schema_sdl(
    ///     "type Query { me: User }\ntype User { id: ID! rooms: [String!]! }",
    /// );
    /// # let _ = config;
    /// ```
    pub fn schema_sdl(mut self, sdl: impl Into<String>) -> Self {
        self.schema_sdl = Some(Arc::from(sdl.into()));
        self
    }
}
