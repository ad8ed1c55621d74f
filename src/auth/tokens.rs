//! Static bearer tokens (`FACADE_ACCESS_TOKENS`), each with full access.
//!
//! The one thing to know: a presented token is compared with every configured one in
//! constant time, through their SHA-256 digests: the time taken says nothing about how
//! much of a token was right, nor about its length, nor about which token matched.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::secrets::Secret;

/// The configured tokens, kept only as digests.
pub struct StaticTokens {
    digests: Vec<[u8; 32]>,
}

impl StaticTokens {
    pub fn new(tokens: &[Secret]) -> Self {
        Self {
            digests: tokens.iter().map(|t| digest(t.expose())).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Whether `presented` is one of the tokens. Looks at every token, whatever matches.
    pub fn contains(&self, presented: &str) -> bool {
        let presented = digest(presented);
        let found = self
            .digests
            .iter()
            .fold(Choice::from(0), |found, d| found | d.ct_eq(&presented));
        found.into()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_tokens_match() {
        let tokens = StaticTokens::new(&[
            Secret::new("first-token-0123456789"),
            Secret::new("second-token-0123456789"),
        ]);
        assert!(tokens.contains("first-token-0123456789"));
        assert!(tokens.contains("second-token-0123456789"));
        for wrong in [
            "",
            "first-token-012345678",
            "first-token-01234567890",
            "First-token-0123456789",
            "second-token",
        ] {
            assert!(!tokens.contains(wrong), "{wrong}");
        }
        assert!(!StaticTokens::new(&[]).contains(""));
    }
}
