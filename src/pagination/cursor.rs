//! Opaque cursors: a position in one client's filtered list, sealed against tampering.
//!
//! Layout, base64url without padding:
//! `[version: 1][offset: u32 BE][scope: 8 bytes][check: 4 bytes]` = 17 bytes, 23 characters.
//! `scope` is a fingerprint of the client id and the filter the cursor was minted under;
//! `check` covers everything before it. The check is an integrity seal, not a secret: it
//! turns an edited or truncated cursor into a clear error instead of a silent wrong page.
//!
//! Version 2 (minted now) checks with CRC-32, which catches every change of up to 32
//! consecutive bits, so any one edited character. Version 1 checked with a truncated
//! SHA-256, which cost more than the rest of a page's cursors together; its cursors are
//! still accepted. A later version can append an anchor (item id and `createdAt`) so
//! cursors survive inserts at the head; the version byte is there for that.

use base64::{
    alphabet::URL_SAFE,
    engine::{
        general_purpose::URL_SAFE_NO_PAD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
    },
    Engine,
};
use sha2::{Digest, Sha256};

/// The version minted; [`V1`] is still read.
const VERSION: u8 = 2;
const V1: u8 = 1;
const LEN: usize = 1 + 4 + 8 + 4;
const DOMAIN: &[u8] = b"complycube-graphql/livePhotos/cursor";

/// Decoding forgives padding and stray trailing bits, so that an edited last character
/// is reported as an altered cursor (by the checksum) rather than as bad base64.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The fingerprint of what a list is a list of: one client under one filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scope([u8; 8]);

impl Scope {
    /// Fingerprints the parts that make two lists different (client id, filter bytes).
    pub fn of(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        hash.update(DOMAIN);
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        let digest = hash.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        Self(out)
    }
}

/// Why a cursor was refused; the message is shown to the caller as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("is not a cursor of this API (not valid base64url)")]
    NotBase64,
    #[error("is not a cursor of this API (wrong length)")]
    WrongLength,
    #[error("has an unknown version {0}")]
    UnknownVersion(u8),
    #[error("has been altered (its checksum does not match)")]
    Tampered,
    #[error("belongs to a different client or filter; cursors are only valid with the client id and filter they came from")]
    ForeignScope,
}

/// Mints the cursor of the item at `offset` in the list named by `scope`.
pub fn encode(offset: u32, scope: Scope) -> String {
    let mut bytes = [0u8; LEN];
    bytes[0] = VERSION;
    bytes[1..5].copy_from_slice(&offset.to_be_bytes());
    bytes[5..13].copy_from_slice(&scope.0);
    let check = crc_check(&bytes[..13]);
    bytes[13..].copy_from_slice(&check);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The offset a cursor names, if it is intact and was minted for `scope`.
pub fn decode(cursor: &str, scope: Scope) -> Result<u32, CursorError> {
    // A real cursor is 23 characters; refuse long input before decoding it.
    if cursor.len() > 64 {
        return Err(CursorError::WrongLength);
    }
    let bytes = LENIENT.decode(cursor).map_err(|_| CursorError::NotBase64)?;
    if bytes.len() != LEN {
        return Err(CursorError::WrongLength);
    }
    let (payload, check) = bytes.split_at(13);
    match payload[0] {
        VERSION if crc_check(payload) == check => {}
        V1 if sha_check(payload) == check => {}
        // Intact, in a layout this build does not know.
        other if other > VERSION && crc_check(payload) == check => {
            return Err(CursorError::UnknownVersion(other));
        }
        _ => return Err(CursorError::Tampered),
    }
    if bytes[5..13] != scope.0 {
        return Err(CursorError::ForeignScope);
    }
    let mut offset = [0u8; 4];
    offset.copy_from_slice(&bytes[1..5]);
    Ok(u32::from_be_bytes(offset))
}

fn crc_check(payload: &[u8]) -> [u8; 4] {
    let mut crc = crc32fast::Hasher::new();
    crc.update(DOMAIN);
    crc.update(payload);
    crc.finalize().to_be_bytes()
}

fn sha_check(payload: &[u8]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(DOMAIN)
        .chain_update(payload)
        .finalize();
    let mut out = [0u8; 4];
    out.copy_from_slice(&digest[..4]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scope(name: &str) -> Scope {
        Scope::of(&[name.as_bytes()])
    }

    #[test]
    fn a_cursor_is_short_and_url_safe() {
        let c = encode(12345, scope("a"));
        assert_eq!(c.len(), 23);
        assert!(c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let s = scope("a");
        assert_eq!(decode("not a cursor!", s), Err(CursorError::NotBase64));
        assert_eq!(decode("", s), Err(CursorError::WrongLength));
        assert_eq!(decode("YWJj", s), Err(CursorError::WrongLength));
        assert_eq!(decode(&"A".repeat(500), s), Err(CursorError::WrongLength));
    }

    #[test]
    fn an_edited_last_character_is_an_altered_cursor() {
        let s = scope("a");
        let mut c = encode(7, s).into_bytes();
        let last = c.len() - 1;
        c[last] = if c[last] == b'A' { b'B' } else { b'A' };
        let c = String::from_utf8(c).unwrap();
        assert_eq!(decode(&c, s), Err(CursorError::Tampered));
    }

    #[test]
    fn version_1_cursors_still_work() {
        // Minted by the previous release, whose checks were truncated SHA-256.
        let s = scope("a");
        let mut bytes = [0u8; LEN];
        bytes[0] = V1;
        bytes[1..5].copy_from_slice(&41u32.to_be_bytes());
        bytes[5..13].copy_from_slice(&s.0);
        let check = sha_check(&bytes[..13]);
        bytes[13..].copy_from_slice(&check);
        let v1 = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(decode(&v1, s), Ok(41));
        assert_ne!(v1, encode(41, s));
    }

    #[test]
    fn a_later_version_is_named_as_such() {
        let s = scope("a");
        let mut bytes = [0u8; LEN];
        bytes[0] = 9;
        let check = crc_check(&bytes[..13]);
        bytes[13..].copy_from_slice(&check);
        let later = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(decode(&later, s), Err(CursorError::UnknownVersion(9)));
    }

    #[test]
    fn a_cursor_of_another_scope_is_foreign() {
        let c = encode(3, scope("a"));
        assert_eq!(decode(&c, scope("b")), Err(CursorError::ForeignScope));
    }

    #[test]
    fn scope_parts_are_not_ambiguous() {
        assert_ne!(Scope::of(&[b"ab", b"c"]), Scope::of(&[b"a", b"bc"]));
    }

    proptest! {
        #[test]
        fn round_trips(offset in any::<u32>(), name in ".{0,30}") {
            let s = scope(&name);
            prop_assert_eq!(decode(&encode(offset, s), s), Ok(offset));
        }

        #[test]
        fn any_single_byte_change_is_caught(offset in any::<u32>(), at in 0usize..LEN, flip in 1u8..=255) {
            let s = scope("x");
            let mut bytes = URL_SAFE_NO_PAD.decode(encode(offset, s)).unwrap();
            bytes[at] ^= flip;
            let tampered = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert!(decode(&tampered, s).is_err());
        }

        #[test]
        fn arbitrary_strings_never_panic(text in ".{0,80}") {
            let _ = decode(&text, scope("x"));
        }
    }
}
