//! Apollo's automatic persisted queries: a client sends `extensions.persistedQuery
//! {version: 1, sha256Hash}` instead of the query text, and the text once when told
//! `PersistedQueryNotFound`.
//!
//! The one thing to know: this runs before the executor, on the request alone (the schema
//! registers no extensions, see `executor/shape.rs`). A hash is only ever stored with a text
//! whose SHA-256 it is, and each caller scope (full access, a set of clients, a forwarded
//! key) has a store of its own ([`Namespace`]): whether a hash is known tells a caller
//! nothing about the queries of others. It is bounded by bytes.

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

/// Whose persisted queries a request sees: one store per caller scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Namespace([u8; 32]);

impl Namespace {
    /// [`Self::of`] when an operation of `batch` uses a persisted query; otherwise a
    /// namespace nothing is looked up in (the hash is not worth making).
    pub fn lazy(admission: &crate::auth::Admission, batch: &async_graphql::BatchRequest) -> Self {
        let persisted = |r: &Request| r.extensions.contains_key("persistedQuery");
        let used = match batch {
            async_graphql::BatchRequest::Single(one) => persisted(one),
            async_graphql::BatchRequest::Batch(all) => all.iter().any(persisted),
        };
        match used {
            true => Self::of(admission),
            false => Self([0; 32]),
        }
    }

    /// The namespace of a caller: everyone with full access shares one; a scoped caller
    /// shares with those of the same clients; a forwarded key has its own.
    pub fn of(admission: &crate::auth::Admission) -> Self {
        use crate::auth::Caller;
        let mut hash = Sha256::new();
        hash.update(b"complycube-graphql/apq/v1\0");
        match (&admission.caller, &admission.key) {
            (_, Some(key)) => {
                hash.update(b"key\0");
                hash.update(key.id().as_bytes());
            }
            (Caller::Full, None) | (Caller::Forwarded, None) => hash.update(b"full\0"),
            (Caller::Scoped(clients), None) => {
                hash.update(b"scoped\0");
                for client in clients.iter() {
                    hash.update((client.len() as u64).to_be_bytes());
                    hash.update(client.as_bytes());
                }
            }
        }
        Self(hash.finalize().into())
    }
}

/// The stored queries, by caller scope and the SHA-256 of their text.
pub struct PersistedQueries {
    store: quick_cache::sync::Cache<(Namespace, [u8; 32]), Arc<str>, Weight>,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<(Namespace, [u8; 32]), Arc<str>> for Weight {
    fn weight(&self, _key: &(Namespace, [u8; 32]), text: &Arc<str>) -> u64 {
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
    pub fn resolve(&self, request: &mut Request, namespace: Namespace) -> Result<(), ApqError> {
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
            let text = self
                .store
                .get(&(namespace, hash))
                .ok_or(ApqError::NotFound)?;
            request.query = text.to_string();
            return Ok(());
        }
        if <[u8; 32]>::from(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(ApqError::Bad("provided sha does not match query"));
        }
        self.store
            .insert((namespace, hash), Arc::from(request.query.as_str()));
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

    const FULL: Namespace = Namespace([0; 32]);

    impl PersistedQueries {
        fn resolve_in(&self, request: &mut Request) -> Result<(), ApqError> {
            self.resolve(request, FULL)
        }
    }

    #[test]
    fn a_scope_never_sees_the_queries_of_another() {
        use crate::auth::{Admission, Caller};
        let store = PersistedQueries::default();
        let persisted = serde_json::json!({ "version": 1, "sha256Hash": hash_of(QUERY) });
        let a = Namespace::of(&Admission {
            caller: Caller::scoped(["a".to_owned()]),
            key: None,
            who: None,
        });
        let b = Namespace::of(&Admission {
            caller: Caller::scoped(["b".to_owned()]),
            key: None,
            who: None,
        });
        let full = Namespace::of(&Admission::full());
        assert!(a != b && a != full);
        store
            .resolve(&mut request(QUERY, persisted.clone()), a)
            .unwrap();
        store
            .resolve(&mut request("", persisted.clone()), a)
            .unwrap();
        for other in [b, full] {
            assert_eq!(
                store.resolve(&mut request("", persisted.clone()), other),
                Err(ApqError::NotFound)
            );
        }
    }

    #[test]
    fn a_hash_is_stored_with_its_text_and_found_again() {
        let store = PersistedQueries::default();
        let persisted = serde_json::json!({ "version": 1, "sha256Hash": hash_of(QUERY) });
        let mut hash_only = request("", persisted.clone());
        assert_eq!(store.resolve_in(&mut hash_only), Err(ApqError::NotFound));
        store
            .resolve_in(&mut request(QUERY, persisted.clone()))
            .unwrap();
        let mut hash_only = request("", persisted);
        store.resolve_in(&mut hash_only).unwrap();
        assert_eq!(hash_only.query, QUERY);
        // Upper-case hex names the same hash.
        let upper =
            serde_json::json!({ "version": 1, "sha256Hash": hash_of(QUERY).to_uppercase() });
        store.resolve_in(&mut request("", upper)).unwrap();
    }

    #[test]
    fn a_text_is_never_stored_under_another_hash() {
        let store = PersistedQueries::default();
        let wrong = serde_json::json!({ "version": 1, "sha256Hash": hash_of("{ other }") });
        assert!(matches!(
            store.resolve_in(&mut request(QUERY, wrong.clone())),
            Err(ApqError::Bad(_))
        ));
        assert_eq!(
            store.resolve_in(&mut request("", wrong)),
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
                    store.resolve_in(&mut request("", bad.clone())),
                    Err(ApqError::Bad(_))
                ),
                "{bad}"
            );
        }
        store.resolve_in(&mut Request::new(QUERY)).unwrap();
    }
}
