//! PKCE (RFC 7636) code verifiers and challenges, and CSRF `state` values.
//!
//! A verifier is drawn from the operating system's CSPRNG: 32 random bytes, base64url
//! encoded without padding, give the 43 characters RFC 7636 §7.1 recommends (256 bits
//! of entropy). Only the `S256` method is offered: `plain` protects nothing against an
//! attacker who can read the authorization request (RFC 7636 §7.2, RFC 9700 §2.1.1).
//!
//! ```
//! use auth_core::pkce;
//!
//! let verifier = pkce::new_verifier()?;
//! assert_eq!(verifier.secret().len(), 43);
//! // base64url(SHA-256(verifier)) without padding is always 43 characters.
//! assert_eq!(pkce::challenge_s256(&verifier).len(), 43);
//! let state = pkce::new_state()?;
//! assert_ne!(state, pkce::new_state()?);
//! # Ok::<(), auth_core::Error>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::secret::{CsrfState, PkceCodeVerifier};

/// The shortest verifier RFC 7636 §4.1 allows.
pub const VERIFIER_MIN_LEN: usize = 43;

/// The longest verifier RFC 7636 §4.1 allows.
pub const VERIFIER_MAX_LEN: usize = 128;

/// The `code_challenge_method` sent with [`challenge_s256`] challenges.
pub const CHALLENGE_METHOD_S256: &str = "S256";

/// Random bytes behind a fresh verifier: 32 bytes give 43 base64url characters.
const VERIFIER_BYTES: usize = 32;

/// Random bytes behind a fresh `state`: 128 bits as RFC 6749 §10.10 asks for at least,
/// doubled so that guessing stays hopeless however many logins run.
const STATE_BYTES: usize = 32;

/// A new random code verifier of 43 characters (256 bits from the OS CSPRNG).
///
/// Fails only if the operating system cannot supply random bytes; a verifier is never
/// made from a weaker source.
pub fn new_verifier() -> Result<PkceCodeVerifier, Error> {
    Ok(PkceCodeVerifier::new(random_base64url(VERIFIER_BYTES)?))
}

/// Checks a verifier obtained elsewhere: 43 to 128 characters of
/// `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1). The error names the rule broken, never the
/// value.
///
/// ```
/// use auth_core::pkce::verifier_from;
///
/// assert!(verifier_from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").is_ok());
/// assert!(verifier_from("too-short").is_err());
/// assert!(verifier_from(&"a+".repeat(30)).is_err());
/// ```
pub fn verifier_from(value: &str) -> Result<PkceCodeVerifier, Error> {
    let len = value.len();
    if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&len) {
        return Err(Error::invalid_config(format!(
            "a PKCE code verifier must be {VERIFIER_MIN_LEN} to {VERIFIER_MAX_LEN} characters long, this one has {len}"
        )));
    }
    if !value.bytes().all(is_unreserved) {
        return Err(Error::invalid_config(
            "a PKCE code verifier may contain only A-Z a-z 0-9 - . _ ~",
        ));
    }
    Ok(PkceCodeVerifier::new(value))
}

/// The `S256` challenge for `verifier`: `base64url(SHA-256(verifier))` without padding
/// (RFC 7636 §4.2).
///
/// ```
/// use auth_core::pkce::{challenge_s256, verifier_from};
///
/// // RFC 7636 Appendix B.
/// let verifier = verifier_from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")?;
/// assert_eq!(challenge_s256(&verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
/// # Ok::<(), auth_core::Error>(())
/// ```
pub fn challenge_s256(verifier: &PkceCodeVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.secret().as_bytes()))
}

/// A new random `state` value (256 bits from the OS CSPRNG, 43 base64url characters),
/// binding an authorization response to the request that asked for it (RFC 6749
/// §10.12).
pub fn new_state() -> Result<CsrfState, Error> {
    Ok(CsrfState::new(random_base64url(STATE_BYTES)?))
}

/// `n` bytes from the OS CSPRNG, base64url encoded without padding.
fn random_base64url(n: usize) -> Result<String, Error> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::invalid_config(format!(
            "the operating system's random number generator is unavailable: {e}"
        ))
    })?;
    let encoded = URL_SAFE_NO_PAD.encode(&bytes);
    // Not secret-bearing, but wipe anyway: these bytes are the secret in another form.
    bytes.iter_mut().for_each(|b| *b = 0);
    Ok(encoded)
}

/// RFC 3986 §2.3 unreserved characters, the verifier alphabet.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = verifier_from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            challenge_s256(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn fresh_verifiers_are_valid_distinct_and_43_chars() {
        let a = new_verifier().unwrap();
        let b = new_verifier().unwrap();
        assert_eq!(a.secret().len(), VERIFIER_MIN_LEN);
        assert!(verifier_from(a.secret()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn fresh_states_carry_at_least_128_bits() {
        let state = new_state().unwrap();
        // 6 bits per base64url character.
        assert!(state.secret().len() * 6 >= 128);
        assert!(state.secret().bytes().all(is_unreserved));
        assert_ne!(state, new_state().unwrap());
    }

    #[test]
    fn verifier_from_enforces_length_and_alphabet() {
        let cases: &[(String, bool)] = &[
            ("a".repeat(42), false),
            ("a".repeat(43), true),
            ("a".repeat(128), true),
            ("a".repeat(129), false),
            ("Az09-._~".repeat(6), true),
            (format!("{} ", "a".repeat(43)), false),
            (format!("{}+", "a".repeat(43)), false),
            (format!("{}/", "a".repeat(43)), false),
            (format!("{}é", "a".repeat(43)), false),
            (String::new(), false),
        ];
        for (value, ok) in cases {
            assert_eq!(verifier_from(value).is_ok(), *ok, "{value:?}");
        }
    }

    #[test]
    fn verifier_errors_do_not_echo_the_value() {
        let bad = format!("{}!", "SECRETVALUE".repeat(4));
        let err = verifier_from(&bad).unwrap_err();
        assert!(!err.to_string().contains("SECRETVALUE"));
        assert!(!format!("{err:?}").contains("SECRETVALUE"));
    }
}
