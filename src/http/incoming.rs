//! Reading a GraphQL request out of an HTTP one: the URL of a GET, the JSON body of a POST
//! (one operation or a batch).
//!
//! The one thing to know: besides the usual fields, an operation may name a trusted document
//! by `documentId` (GraphQL over HTTP's persisted documents), which async-graphql's request
//! has no field for: it is carried in the request's `extensions` under `documentId`, where
//! [`super::trusted`] looks for it. Bodies without one are read straight into async-graphql's
//! types, as before.

use async_graphql::{BatchRequest, ParseRequestError, Value};
use axum::{extract::Request, http::Method};

use super::Rejection;

/// The extension a `documentId` is carried in.
pub const DOCUMENT_ID: &str = "documentId";

/// The GraphQL request(s) of an HTTP request whose body the limit layers already bound.
pub async fn read(request: Request) -> Result<BatchRequest, Rejection> {
    if request.method() == Method::GET {
        let query = request.uri().query().unwrap_or_default();
        let mut one = async_graphql::http::parse_query_string(query).map_err(|e| {
            ParseRequestError::Io(std::io::Error::other(format!(
                "failed to parse graphql request from uri query: {e}"
            )))
        })?;
        if query.contains("documentId=") {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                .map_err(|e| ParseRequestError::InvalidRequest(Box::new(e)))?;
            if let Some((_, id)) = pairs.into_iter().find(|(k, _)| k == DOCUMENT_ID) {
                one.extensions.insert(DOCUMENT_ID.into(), Value::String(id));
            }
        }
        return Ok(BatchRequest::Single(one));
    }
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .map_err(unreadable_body)?;
    let invalid = |e: serde_json::Error| ParseRequestError::InvalidRequest(Box::new(e));
    if mentions_document_id(&body) {
        let mut json: serde_json::Value = serde_json::from_slice(&body).map_err(invalid)?;
        match &mut json {
            serde_json::Value::Array(all) => all.iter_mut().for_each(carry_document_id),
            one => carry_document_id(one),
        }
        let batch = json.is_array();
        return Ok(one_or_batch(batch, json).map_err(invalid)?);
    }
    Ok(from_json(&body).map_err(invalid)?)
}

/// A body's one operation or batch, told apart by its first character.
fn from_json(body: &[u8]) -> serde_json::Result<BatchRequest> {
    let batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut json = serde_json::Deserializer::from_slice(body);
    let read = one_or_batch(batch, &mut json)?;
    json.end()?;
    Ok(read)
}

/// One operation, or a batch when `batch`. async-graphql's `BatchRequest` is an untagged
/// enum: serde copies the whole body into a tree of its own, tries each variant on it, and
/// when none fits says only "data did not match any variant of untagged enum
/// BatchRequest". Read as what it is, a wrong body is told what is wrong and where
/// ("invalid type: integer `5`, expected a string at line 1 column 11"). An empty batch is
/// refused later, with every other wrong batch size.
fn one_or_batch<'de, D: serde::Deserializer<'de>>(
    batch: bool,
    json: D,
) -> Result<BatchRequest, D::Error> {
    use serde::Deserialize;
    match batch {
        true => Vec::deserialize(json).map(BatchRequest::Batch),
        false => async_graphql::Request::deserialize(json).map(BatchRequest::Single),
    }
}

/// Why a body could not be read: too large (the limit layer), too slow (the body timeout
/// layer: said as `TimedOut`, answered 408), or the connection's fault.
fn unreadable_body(e: axum::Error) -> ParseRequestError {
    let inner = e.into_inner();
    let timed_out =
        std::iter::successors(Some(&*inner as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        })
        .any(|e| e.is::<tower_http::timeout::TimeoutError>());
    if timed_out {
        return ParseRequestError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the body was not sent in time",
        ));
    }
    match inner.to_string() {
        m if m.contains("length limit") => ParseRequestError::PayloadTooLarge,
        m => ParseRequestError::Io(std::io::Error::other(m)),
    }
}

/// Whether the body has a `"documentId"` anywhere (most have none, and are read straight
/// into async-graphql's types).
fn mentions_document_id(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\"documentId\"").is_some()
}

/// Moves an operation's `documentId` into its `extensions`.
fn carry_document_id(operation: &mut serde_json::Value) {
    let Some(object) = operation.as_object_mut() else {
        return;
    };
    let Some(id) = object.remove(DOCUMENT_ID) else {
        return;
    };
    let extensions = object
        .entry("extensions")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    if let Some(extensions) = extensions.as_object_mut() {
        extensions.insert(DOCUMENT_ID.into(), id);
    }
}

/// Whether a GET names an operation: its query text, a persisted query's hash, or a
/// trusted document's id.
pub(super) fn names_an_operation(uri: &axum::http::Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|p| {
            ["query=", "extensions=", "documentId="]
                .iter()
                .any(|k| p.starts_with(k))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a request reads as, to compare: query, operation name and variables of each.
    fn seen(batch: &BatchRequest) -> Vec<(String, Option<String>, String)> {
        batch
            .iter()
            .map(|r| {
                let variables = serde_json::to_string(&r.variables).unwrap();
                (r.query.clone(), r.operation_name.clone(), variables)
            })
            .collect()
    }

    #[test]
    fn reads_what_async_graphqls_untagged_enum_reads() {
        let bodies = [
            r#"{"query":"{ a }"}"#,
            r#" {"query":"query Q($id: ID!) { a }","operationName":"Q","variables":{"id":"x"}}"#,
            r#"[{"query":"{ a }"},{"query":"{ b }","variables":{"n":[1,null,{"k":true}]}}]"#,
            "\n\t [ {\"query\":\"{ a }\"} ]",
            r#"{"query":"{ a }","extensions":{"persistedQuery":{"version":1}}}"#,
        ];
        for body in bodies {
            let ours = from_json(body.as_bytes()).unwrap();
            let theirs: BatchRequest = serde_json::from_str(body).unwrap();
            assert_eq!(seen(&ours), seen(&theirs), "{body}");
            assert_eq!(
                matches!(ours, BatchRequest::Batch(_)),
                matches!(theirs, BatchRequest::Batch(_)),
                "{body}"
            );
        }
    }

    #[test]
    fn finds_a_document_id_only_as_a_key_or_string() {
        assert_eq!(
            DOCUMENT_ID, "documentId",
            "the needle above spells the constant"
        );
        assert!(mentions_document_id(br#"{"documentId":"sha256:ab"}"#));
        assert!(mentions_document_id(
            br#"[{"query":"{ a }"},{"documentId":"x"}]"#
        ));
        assert!(!mentions_document_id(br#"{"query":"{ documentId }"}"#));
        assert!(!mentions_document_id(br#"{"query":"{ a }"}"#));
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        for body in [
            "",
            "  ",
            "not json",
            r#"{"query": 5}"#,
            "5",
            r#""{ a }""#,
            "[5]",
        ] {
            assert!(from_json(body.as_bytes()).is_err(), "{body}");
        }
        // Left to the batch size check, which says how many operations a batch may hold.
        assert!(matches!(from_json(b"[]"), Ok(BatchRequest::Batch(v)) if v.is_empty()));
        assert!(from_json(br#"{"query":"{ a }"} trailing"#).is_err());
    }

    #[tokio::test]
    async fn a_body_with_a_document_id_is_told_what_is_wrong_too() {
        for (body, batch) in [
            (
                r#"{"documentId":"sha256:ab","variables":{"id":"x"}}"#,
                false,
            ),
            (r#"[{"documentId":"sha256:ab"},{"query":"{ a }"}]"#, true),
        ] {
            let request = Request::post("/graphql").body(body.into()).unwrap();
            let got = read(request).await.unwrap_or_else(|_| panic!("{body}"));
            assert_eq!(matches!(got, BatchRequest::Batch(_)), batch, "{body}");
            let first = got.iter().next().unwrap();
            let id = first.extensions.get(DOCUMENT_ID);
            assert_eq!(id, Some(&Value::String("sha256:ab".into())), "{body}");
        }
        let wrong = r#"{"documentId":"sha256:ab","variables":5}"#;
        let request = Request::post("/graphql").body(wrong.into()).unwrap();
        let Err(refused) = read(request).await else {
            panic!("{wrong} was read")
        };
        let answer = refused.respond(super::super::media::MediaType::Json);
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX);
        let message = String::from_utf8(body.await.unwrap().to_vec()).unwrap();
        assert!(message.contains("invalid type: integer `5`"), "{message}");
    }
}
