//! Trusted documents (`--trusted-documents`): the strongest defence for first-party
//! frontends, as Apollo Router's safelisting and GraphQL Hive's persisted documents offer.
//! With a manifest loaded, only the documents it lists run: named by id (`documentId`, or
//! the hash of Apollo's `persistedQuery` extension) or sent as their identical text.
//! Anything else is `PERSISTED_QUERY_NOT_ALLOWED`, before it is parsed.
//!
//! The one thing to know: the manifest is read at start from either format a frontend build
//! writes: relay-compiler's `persistConfig` output (`{"<id>": "<text>", ...}`) or Apollo's
//! persisted query manifest (`{"format": "apollo-persisted-query-manifest", "operations":
//! [{"id", "body", ...}]}`); every document is also known by the SHA-256 of its text, which
//! is what Apollo clients send. `--trusted-documents-mode log` runs everything, counting and
//! logging what would have been refused, for a first rollout.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{Request, Value};
use sha2::{Digest, Sha256};

use super::incoming::DOCUMENT_ID;
use crate::{code::Code, executor::Answer};

/// What happens to a document the manifest does not list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Refused (`PERSISTED_QUERY_NOT_ALLOWED`).
    #[default]
    Enforce,
    /// Run, and counted and logged as one that would be refused.
    Log,
}

/// The trusted documents of one manifest.
pub struct TrustedDocuments {
    /// Id (the manifest's, and the SHA-256 of the text in hex) to text.
    by_id: HashMap<String, Arc<str>>,
    texts: HashSet<Arc<str>>,
    mode: Mode,
}

impl std::fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedDocuments")
            .field("documents", &self.texts.len())
            .field("mode", &self.mode)
            .finish()
    }
}

/// An operation that is not among the trusted documents.
#[derive(Debug, PartialEq, Eq)]
pub struct NotAllowed;

impl NotAllowed {
    pub fn answer(&self) -> Answer {
        let message = "this service runs trusted documents only, and this is not one of them";
        Answer::refused(
            Code::PersistedQueryNotAllowed.server_error(message, None),
            None,
        )
    }
}

impl TrustedDocuments {
    /// The documents of the manifest at `path`; the error says what is wrong with it.
    pub fn load(path: &std::path::Path, mode: Mode) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the trusted documents at {}: {e}",
                path.display()
            )
        })?;
        Self::parse(&text, mode)
            .map_err(|e| format!("the trusted documents at {}: {e}", path.display()))
    }

    /// The documents of a manifest in either format.
    pub fn parse(manifest: &str, mode: Mode) -> Result<Self, String> {
        let json: serde_json::Value =
            serde_json::from_str(manifest).map_err(|e| format!("not JSON: {e}"))?;
        let pairs: Vec<(String, String)> = match &json {
            serde_json::Value::Object(o)
                if o.get("format").and_then(|f| f.as_str())
                    == Some("apollo-persisted-query-manifest") =>
            {
                o.get("operations")
                    .and_then(|ops| ops.as_array())
                    .ok_or("an Apollo manifest without `operations`")?
                    .iter()
                    .map(|op| {
                        match (
                            op.get("id").and_then(|i| i.as_str()),
                            op.get("body").and_then(|b| b.as_str()),
                        ) {
                            (Some(id), Some(body)) => Ok((id.to_owned(), body.to_owned())),
                            _ => {
                                Err("an Apollo manifest operation without `id` and `body`"
                                    .to_owned())
                            }
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            serde_json::Value::Object(o) => o
                .iter()
                .map(|(id, text)| match text.as_str() {
                    Some(text) => Ok((id.clone(), text.to_owned())),
                    None => Err(format!("`{id}` does not name a document text")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err("neither relay-compiler's `{id: text}` nor Apollo's manifest".into()),
        };
        if pairs.is_empty() {
            return Err("no documents: nothing could run".into());
        }
        let mut documents = Self {
            by_id: HashMap::new(),
            texts: HashSet::new(),
            mode,
        };
        for (id, text) in pairs {
            let text: Arc<str> = text.into();
            documents.by_id.insert(id, text.clone());
            documents.by_id.insert(sha256_hex(&text), text.clone());
            documents.texts.insert(text);
        }
        Ok(documents)
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Fills in the text of an operation named by id, or says it may not run. An operation
    /// that names a document by the APQ extension keeps the extension, whose hash then
    /// matches the text it now has.
    pub fn admit(&self, request: &mut Request) -> Result<(), NotAllowed> {
        let listed = self.find(request);
        match (listed, self.mode) {
            (Some(text), _) => {
                if request.query.is_empty() {
                    request.query = text.to_string();
                }
                request.extensions.remove(DOCUMENT_ID);
                Ok(())
            }
            (None, Mode::Enforce) => {
                crate::metrics::trusted_document_refused(true);
                Err(NotAllowed)
            }
            (None, Mode::Log) => {
                crate::metrics::trusted_document_refused(false);
                tracing::warn!(
                    operation = request.operation_name.as_deref().unwrap_or("(anonymous)"),
                    "an operation outside the trusted documents ran (--trusted-documents-mode log)"
                );
                Ok(())
            }
        }
    }

    /// The listed text an operation stands for: by `documentId`, by the APQ hash, or as
    /// its own identical text.
    fn find(&self, request: &Request) -> Option<Arc<str>> {
        let id = match request.extensions.get(DOCUMENT_ID) {
            Some(Value::String(id)) => Some(id.as_str()),
            _ => match request.extensions.get("persistedQuery") {
                Some(Value::Object(persisted)) => match persisted.get("sha256Hash") {
                    Some(Value::String(hash)) => Some(hash.as_str()),
                    _ => None,
                },
                _ => None,
            },
        };
        let by_id = id.and_then(|id| {
            self.by_id
                .get(id)
                .or_else(|| self.by_id.get(&id.to_ascii_lowercase()))
                .cloned()
        });
        // An id and a text must agree: a known id cannot smuggle another text in.
        match (by_id, request.query.is_empty()) {
            (Some(text), true) => Some(text),
            (Some(text), false) => (*text == *request.query).then_some(text),
            (None, false) => self.texts.get(request.query.as_str()).cloned(),
            (None, true) => None,
        }
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &str = "query Photos($id: ID!) { client(id: $id) { complyCubeId } }";

    fn request(json: serde_json::Value) -> Request {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn both_manifest_formats_are_read() {
        let relay = TrustedDocuments::parse(
            &serde_json::json!({ "abc123": LISTED }).to_string(),
            Mode::Enforce,
        )
        .unwrap();
        let apollo = TrustedDocuments::parse(
            &serde_json::json!({
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{ "id": sha256_hex(LISTED), "name": "Photos", "type": "query", "body": LISTED }]
            })
            .to_string(),
            Mode::Enforce,
        )
        .unwrap();
        assert_eq!((relay.len(), apollo.len()), (1, 1));
        for bad in [
            "[]",
            "{}",
            "{\"a\": 1}",
            "nope",
            r#"{"format":"apollo-persisted-query-manifest"}"#,
        ] {
            assert!(
                TrustedDocuments::parse(bad, Mode::Enforce).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_listed_documents_run_by_id_hash_or_identical_text() {
        let trusted = TrustedDocuments::parse(
            &serde_json::json!({ "abc123": LISTED }).to_string(),
            Mode::Enforce,
        )
        .unwrap();
        let mut by_id =
            request(serde_json::json!({ "query": "", "extensions": { "documentId": "abc123" } }));
        trusted.admit(&mut by_id).unwrap();
        assert_eq!(by_id.query, LISTED);
        let mut by_hash = request(
            serde_json::json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(LISTED) } } }),
        );
        trusted.admit(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, LISTED);
        trusted.admit(&mut Request::new(LISTED)).unwrap();
        for refused in [
            request(serde_json::json!({ "query": "{ __typename }" })),
            request(serde_json::json!({ "query": format!("{LISTED} ") })),
            request(serde_json::json!({ "extensions": { "documentId": "nope" } })),
            // A listed id with another text beside it.
            request(
                serde_json::json!({ "query": "{ __typename }", "extensions": { "documentId": "abc123" } }),
            ),
        ] {
            let mut refused = refused;
            assert_eq!(trusted.admit(&mut refused), Err(NotAllowed));
        }
        let logging = TrustedDocuments::parse(
            &serde_json::json!({ "abc123": LISTED }).to_string(),
            Mode::Log,
        )
        .unwrap();
        assert!(logging.admit(&mut Request::new("{ __typename }")).is_ok());
    }
}
