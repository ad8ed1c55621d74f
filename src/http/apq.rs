//! Apollo's automatic persisted queries: a client sends `extensions.persistedQuery
//! {version: 1, sha256Hash}` instead of the query text, and the text once when told
//! `PersistedQueryNotFound`.
//!
//! The one thing to know: this runs before the executor, on the request alone (the schema
//! registers no extensions, see `executor/shape.rs`). A hash is only ever stored with a text
//! whose SHA-256 it is, so knowing a hash means already knowing the query: the store is
//! shared by every caller without telling anyone anything. It is bounded by bytes.

use std::sync::Arc;

use async_graphql::{Request, Value};
use sha2::{Digest, Sha256};

use crate::{code::Code, executor::Answer};

/// Bytes of query text kept (plus a small overhead per query); the least recently used
/// go first.
const STORE_BYTES: u64 = 8 * 1024 * 1024;
/// Counted per entry on top of its text: the key and the bookkeeping.
const ENTRY_OVERHEAD: u64 = 64;

/// Why a request's persisted query cannot run.
#[derive(Debug, PartialEq, Eq)]
pub enum ApqError {
    /// A hash alone, not (or no longer) stored: the client sends the text next.
    NotFound,
    /// Anything else wrong with it: said as `BAD_REQUEST`.
    Bad(&'static str),
}

impl ApqError {
    /// The code and message: Apollo's exact message and code for `NotFound`.
    pub fn code_and_message(&self) -> (Code, &'static str) {
        match self {
            Self::NotFound => (Code::PersistedQueryNotFound, "PersistedQueryNotFound"),
            Self::Bad(message) => (Code::BadRequest, message),
        }
    }

    /// The GraphQL answer: the operation is refused.
    pub fn answer(&self) -> Answer {
        let (code, message) = self.code_and_message();
        Answer::refused(code.server_error(message, None), None)
    }
}

/// The stored queries, by the SHA-256 of their text.
pub struct PersistedQueries {
    store: quick_cache::sync::Cache<[u8; 32], Arc<str>, Weight>,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<[u8; 32], Arc<str>> for Weight {
    fn weight(&self, _key: &[u8; 32], text: &Arc<str>) -> u64 {
        text.len() as u64 + ENTRY_OVERHEAD
    }
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self {
            store: quick_cache::sync::Cache::with_weighter(1024, STORE_BYTES, Weight),
        }
    }
}

impl PersistedQueries {
    /// Fills in the query of a hash-only request, stores the text of a request that
    /// brings both, or says what is wrong. Requests without `persistedQuery` pass as they are.
    pub fn resolve(&self, request: &mut Request) -> Result<(), ApqError> {
        let Some(persisted) = request.extensions.get("persistedQuery") else {
            return Ok(());
        };
        let Value::Object(persisted) = persisted else {
            return Err(ApqError::Bad("extensions.persistedQuery must be an object"));
        };
        match persisted.get("version") {
            Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
            _ => {
                return Err(ApqError::Bad(
                    "PersistedQueryVersionNotSupported: only version 1",
                ))
            }
        }
        let hash = match persisted.get("sha256Hash") {
            Some(Value::String(hash)) => {
                parse_hash(hash).ok_or(ApqError::Bad("sha256Hash must be 64 hexadecimal digits"))?
            }
            _ => {
                return Err(ApqError::Bad(
                    "extensions.persistedQuery needs a sha256Hash",
                ))
            }
        };
        if request.query.is_empty() {
            let text = self.store.get(&hash).ok_or(ApqError::NotFound)?;
            request.query = text.to_string();
            return Ok(());
        }
        if <[u8; 32]>::from(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(ApqError::Bad("provided sha does not match query"));
        }
        self.store.insert(hash, Arc::from(request.query.as_str()));
        Ok(())
    }
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "{ __typename }";

    fn hash_of(text: &str) -> String {
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn request(query: &str, persisted: serde_json::Value) -> Request {
        serde_json::from_value(serde_json::json!({
            "query": query,
            "extensions": { "persistedQuery": persisted },
        }))
        .unwrap()
    }

    #[test]
    fn a_hash_is_stored_with_its_text_and_found_again() {
        let store = PersistedQueries::default();
        let persisted = serde_json::json!({ "version": 1, "sha256Hash": hash_of(QUERY) });
        let mut hash_only = request("", persisted.clone());
        assert_eq!(store.resolve(&mut hash_only), Err(ApqError::NotFound));
        store
            .resolve(&mut request(QUERY, persisted.clone()))
            .unwrap();
        let mut hash_only = request("", persisted);
        store.resolve(&mut hash_only).unwrap();
        assert_eq!(hash_only.query, QUERY);
        // Upper-case hex names the same hash.
        let upper =
            serde_json::json!({ "version": 1, "sha256Hash": hash_of(QUERY).to_uppercase() });
        store.resolve(&mut request("", upper)).unwrap();
    }

    #[test]
    fn a_text_is_never_stored_under_another_hash() {
        let store = PersistedQueries::default();
        let wrong = serde_json::json!({ "version": 1, "sha256Hash": hash_of("{ other }") });
        assert!(matches!(
            store.resolve(&mut request(QUERY, wrong.clone())),
            Err(ApqError::Bad(_))
        ));
        assert_eq!(
            store.resolve(&mut request("", wrong)),
            Err(ApqError::NotFound)
        );
    }

    #[test]
    fn malformed_extensions_are_bad_requests() {
        let store = PersistedQueries::default();
        for bad in [
            serde_json::json!("x"),
            serde_json::json!({ "version": 2, "sha256Hash": hash_of(QUERY) }),
            serde_json::json!({ "version": 1 }),
            serde_json::json!({ "version": 1, "sha256Hash": "abc" }),
            serde_json::json!({ "version": 1, "sha256Hash": "zz".repeat(32) }),
            serde_json::json!({ "version": 1, "sha256Hash": "é".repeat(32) }),
        ] {
            assert!(
                matches!(
                    store.resolve(&mut request("", bad.clone())),
                    Err(ApqError::Bad(_))
                ),
                "{bad}"
            );
        }
        store.resolve(&mut Request::new(QUERY)).unwrap();
    }
}
