//! Opaque cursors: a position in one client's filtered list, and the item that stood
//! there, sealed against tampering.
//!
//! Layout of version 3 (minted now), base64url without padding:
//! `[version: 1][offset: u32 BE][scope: 8][createdAt ms: i64 BE][id length: 1][id][check: 4]`,
//! 26 bytes plus the id: 67 characters for ComplyCube's 24-character ids.
//! `scope` is a fingerprint of the client id and the filter the cursor was minted under;
//! `check` (CRC-32) covers everything before it. The check is an integrity seal, not a
//! secret: it turns an edited or truncated cursor into a clear error instead of a silent
//! wrong page.
//!
//! The anchor (the item's id and `createdAt`) is what makes paging survive photos added at
//! the head or deleted: the offset is where the item was, and the loader checks that it is
//! still there (folded into the page it fetches anyway) and finds it again by date when it
//! moved. An id longer than [`MAX_ANCHOR_ID`] bytes is minted without an anchor (length 0).
//!
//! Versions 1 (truncated SHA-256) and 2 (CRC-32), `[version][offset][scope][check]` = 17
//! bytes, carried no anchor; their cursors are still read, as positions only.

use base64::{
    alphabet::URL_SAFE,
    engine::{
        general_purpose::URL_SAFE_NO_PAD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
    },
    Engine,
};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The version minted; [`V1`] and [`V2`] are still read.
const VERSION: u8 = 3;
const V1: u8 = 1;
const V2: u8 = 2;
/// Length of a version 1 or 2 cursor.
const LEN: usize = 1 + 4 + 8 + 4;
/// Length of a version 3 cursor without its id.
const V3_FIXED: usize = 1 + 4 + 8 + 8 + 1 + 4;
/// The longest id an anchor carries (ComplyCube's are 24 characters).
pub const MAX_ANCHOR_ID: usize = 64;
/// The `createdAt` an anchor may carry, in ms: years 0000 to 9999, which RFC 3339 (and
/// so a date filter upstream) can write.
const ANCHOR_DATES: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;
/// No real cursor is longer than this, in characters; longer input is refused undecoded.
const MAX_TEXT: usize = (V3_FIXED + MAX_ANCHOR_ID).div_ceil(3) * 4;
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

/// The item a cursor was minted on: what the loader looks for when the list has moved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Anchor {
    pub id: Arc<str>,
    /// Its `createdAt`, in milliseconds since the epoch.
    pub created_at: i64,
}

/// What a cursor says: a position, and (from version 3 on) the item that stood there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    pub offset: u32,
    pub anchor: Option<Anchor>,
}

/// Mints the cursor of the item `id`, created at `created_at` (ms), at `offset` in the
/// list named by `scope`.
pub fn encode(offset: u32, scope: Scope, id: &str, created_at: i64) -> String {
    let id = if id.len() <= MAX_ANCHOR_ID { id } else { "" };
    let mut bytes = Vec::with_capacity(V3_FIXED + id.len());
    bytes.push(VERSION);
    bytes.extend_from_slice(&offset.to_be_bytes());
    bytes.extend_from_slice(&scope.0);
    let created_at = if id.is_empty() { 0 } else { created_at };
    bytes.extend_from_slice(&created_at.to_be_bytes());
    bytes.push(id.len() as u8);
    bytes.extend_from_slice(id.as_bytes());
    let check = crc_check(&bytes);
    bytes.extend_from_slice(&check);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a cursor names, if it is intact and was minted for `scope`.
pub fn decode(cursor: &str, scope: Scope) -> Result<Position, CursorError> {
    if cursor.len() > MAX_TEXT {
        return Err(CursorError::WrongLength);
    }
    let bytes = LENIENT.decode(cursor).map_err(|_| CursorError::NotBase64)?;
    if bytes.len() < LEN {
        return Err(CursorError::WrongLength);
    }
    let (payload, check) = bytes.split_at(bytes.len() - 4);
    let intact = crc_check(payload) == check;
    let anchor = match payload[0] {
        VERSION if intact => Some(v3_anchor(payload)?),
        V2 if intact && bytes.len() == LEN => None,
        V1 if bytes.len() == LEN && sha_check(payload) == check => None,
        // Intact, in a layout this build does not know.
        other if other > VERSION && intact => return Err(CursorError::UnknownVersion(other)),
        V1 | V2 if bytes.len() != LEN => return Err(CursorError::WrongLength),
        _ => return Err(CursorError::Tampered),
    };
    if payload[5..13] != scope.0 {
        return Err(CursorError::ForeignScope);
    }
    let mut offset = [0u8; 4];
    offset.copy_from_slice(&payload[1..5]);
    Ok(Position {
        offset: u32::from_be_bytes(offset),
        anchor: anchor.flatten(),
    })
}

/// The anchor of an intact version 3 payload (`None`: minted without one).
fn v3_anchor(payload: &[u8]) -> Result<Option<Anchor>, CursorError> {
    let fixed = V3_FIXED - 4;
    if payload.len() < fixed || payload.len() - fixed != usize::from(payload[fixed - 1]) {
        return Err(CursorError::WrongLength);
    }
    if payload.len() == fixed {
        return Ok(None);
    }
    let mut created_at = [0u8; 8];
    created_at.copy_from_slice(&payload[13..21]);
    let created_at = i64::from_be_bytes(created_at);
    // The check is a seal against accidents, not a secret: a forged cursor may carry any
    // date. Only dates ComplyCube can hold (and the date filters can say) are anchors.
    if !ANCHOR_DATES.contains(&created_at) {
        return Err(CursorError::Tampered);
    }
    let id = std::str::from_utf8(&payload[fixed..]).map_err(|_| CursorError::Tampered)?;
    Ok(Some(Anchor {
        id: id.into(),
        created_at,
    }))
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

    const ID: &str = "5eb1b5f231778a0008d1c3f6";
    const AT: i64 = 1_577_887_604_756;

    fn scope(name: &str) -> Scope {
        Scope::of(&[name.as_bytes()])
    }

    fn anchored(offset: u32) -> Position {
        Position {
            offset,
            anchor: Some(Anchor {
                id: ID.into(),
                created_at: AT,
            }),
        }
    }

    /// A cursor of an older layout: `[version][offset][scope][check]`.
    fn legacy(version: u8, offset: u32, s: Scope) -> String {
        let mut bytes = [0u8; LEN];
        bytes[0] = version;
        bytes[1..5].copy_from_slice(&offset.to_be_bytes());
        bytes[5..13].copy_from_slice(&s.0);
        let check = if version == V1 {
            sha_check(&bytes[..13])
        } else {
            crc_check(&bytes[..13])
        };
        bytes[13..].copy_from_slice(&check);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_cursor_is_url_safe_and_carries_its_anchor() {
        let c = encode(12345, scope("a"), ID, AT);
        assert_eq!(c.len(), 67);
        assert!(c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
        assert_eq!(decode(&c, scope("a")), Ok(anchored(12345)));
    }

    #[test]
    fn an_overlong_id_is_minted_without_an_anchor() {
        let long = "x".repeat(MAX_ANCHOR_ID + 1);
        let c = encode(3, scope("a"), &long, AT);
        assert_eq!(
            decode(&c, scope("a")),
            Ok(Position {
                offset: 3,
                anchor: None
            })
        );
        assert!(c.len() <= MAX_TEXT);
        let c = encode(3, scope("a"), &"y".repeat(MAX_ANCHOR_ID), AT);
        assert!(c.len() <= MAX_TEXT);
        assert!(decode(&c, scope("a")).unwrap().anchor.is_some());
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
        let mut c = encode(7, s, ID, AT).into_bytes();
        let last = c.len() - 1;
        c[last] = if c[last] == b'A' { b'B' } else { b'A' };
        let c = String::from_utf8(c).unwrap();
        assert_eq!(decode(&c, s), Err(CursorError::Tampered));
    }

    #[test]
    fn version_1_and_2_cursors_still_work_as_positions() {
        let s = scope("a");
        for version in [V1, V2] {
            let old = legacy(version, 41, s);
            assert_eq!(
                decode(&old, s),
                Ok(Position {
                    offset: 41,
                    anchor: None
                })
            );
            assert_eq!(decode(&old, scope("b")), Err(CursorError::ForeignScope));
        }
    }

    #[test]
    fn an_anchor_date_no_filter_can_say_is_refused() {
        for at in [i64::MAX, i64::MIN, 253_402_300_800_000] {
            let c = encode(3, scope("a"), ID, at);
            assert_eq!(decode(&c, scope("a")), Err(CursorError::Tampered), "{at}");
        }
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
        let c = encode(3, scope("a"), ID, AT);
        assert_eq!(decode(&c, scope("b")), Err(CursorError::ForeignScope));
    }

    #[test]
    fn scope_parts_are_not_ambiguous() {
        assert_ne!(Scope::of(&[b"ab", b"c"]), Scope::of(&[b"a", b"bc"]));
    }

    proptest! {
        #[test]
        fn round_trips(offset in any::<u32>(), name in ".{0,30}", id in "[0-9a-f]{1,64}", at in ANCHOR_DATES) {
            let s = scope(&name);
            let want = Position { offset, anchor: Some(Anchor { id: id.as_str().into(), created_at: at }) };
            prop_assert_eq!(decode(&encode(offset, s, &id, at), s), Ok(want));
        }

        #[test]
        fn any_single_byte_change_is_caught(offset in any::<u32>(), at in 0usize..50, flip in 1u8..=255) {
            let s = scope("x");
            let mut bytes = URL_SAFE_NO_PAD.decode(encode(offset, s, ID, AT)).unwrap();
            let at = at % bytes.len();
            bytes[at] ^= flip;
            let tampered = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert!(decode(&tampered, s).is_err());
        }

        #[test]
        fn arbitrary_strings_never_panic(text in ".{0,160}") {
            let _ = decode(&text, scope("x"));
        }
    }
}
