//! Opaque values the server hands out: client ids, codes, access and refresh tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::config::TokenRandomness;

/// 32 bytes: 256 bits, well above the 128 bits RFC 6749 §10.10 asks of tokens and codes.
const TOKEN_BYTES: usize = 32;

/// Draws opaque values from the OS or from a seeded sequence.
#[derive(Debug)]
pub(crate) struct TokenSource {
    seeded: Option<SplitMix64>,
}

/// The operating system could not supply random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RandomUnavailable;

impl TokenSource {
    pub(crate) fn new(randomness: TokenRandomness) -> Self {
        let seeded = match randomness {
            TokenRandomness::Os => None,
            TokenRandomness::Seeded(seed) => Some(SplitMix64(seed)),
        };
        Self { seeded }
    }

    /// A fresh 43-character base64url value.
    pub(crate) fn token(&mut self) -> Result<String, RandomUnavailable> {
        let mut bytes = [0u8; TOKEN_BYTES];
        match &mut self.seeded {
            Some(rng) => rng.fill(&mut bytes),
            None => getrandom::fill(&mut bytes).map_err(|_| RandomUnavailable)?,
        }
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny and good enough for repeatable test values.
/// Seeded values are predictable by design and only meant for tests.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_source_repeats_its_sequence_and_never_repeats_a_value() {
        let mut a = TokenSource::new(TokenRandomness::Seeded(7));
        let mut b = TokenSource::new(TokenRandomness::Seeded(7));
        let first: Vec<_> = (0..4).map(|_| a.token().unwrap()).collect();
        let second: Vec<_> = (0..4).map(|_| b.token().unwrap()).collect();
        assert_eq!(first, second);
        let unique: std::collections::BTreeSet<_> = first.iter().collect();
        assert_eq!(unique.len(), 4);
    }

    #[test]
    fn os_tokens_are_43_base64url_characters() {
        let mut source = TokenSource::new(TokenRandomness::Os);
        let token = source.token().unwrap();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(token, source.token().unwrap());
    }
}
