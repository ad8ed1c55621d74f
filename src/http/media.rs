//! GraphQL over HTTP's media types (graphql/graphql-over-http): which one an answer is
//! written in, and what HTTP status it carries.
//!
//! - The client's `Accept` picks the media type, q-values respected: `application/json`
//!   when it asks for it, sends no `Accept` (or an empty one), or accepts anything
//!   (`*/*`, `application/*`, a tie); `application/graphql-response+json` when it prefers
//!   that. An `Accept` that allows neither is answered 406.
//! - A POST body must be JSON: `Content-Type: application/json` (or, leniently,
//!   `application/graphql-response+json`); anything else, or none, is answered 415.
//! - With `application/json` (the spec's legacy watershed) every GraphQL answer is 200,
//!   request errors included. With `application/graphql-response+json`, a request error
//!   (a document that does not parse or validate, variables that cannot be coerced, an
//!   unknown operation: anything that failed before execution) is 400, and a field error
//!   during execution stays 200.
//! - A batch (a JSON array of answers) follows the same media-type rule; with
//!   `application/graphql-response+json` it is 400 only when every operation of it failed
//!   before execution, else 200, so one bad operation never hides its siblings' data
//!   behind an error status.
//!
//! The one thing to know: a request error has no `data` entry at all, whatever the media
//! type (the GraphQL spec: "if an error was raised before execution begins, the data entry
//! should not be present"); an execution that nulled its root keeps `"data": null`. Which
//! is which, the executor says ([`Outcome`]); nothing here guesses it from the errors.

use std::collections::BTreeMap;

use async_graphql::{ServerError, Value};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

use crate::{
    code::Code,
    executor::{Answer, Outcome},
};

/// The media types a GraphQL answer can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: the default, and the legacy status rules (always 200).
    Json,
    /// `application/graphql-response+json`: status codes that tell request errors apart.
    GraphqlResponse,
}

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

impl MediaType {
    /// The `Content-Type` of an answer in this media type.
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json; charset=utf-8",
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        })
    }

    /// The status of a GraphQL answer written in this media type: under
    /// `application/graphql-response+json`, a request error carries its code's status
    /// (a batch: only when every operation of it was refused, with the first one's).
    pub fn status(self, answers: &Answers) -> StatusCode {
        let refused = match answers {
            Answers::Single(answer) => answer.outcome == Outcome::Refused,
            Answers::Batch(all) => {
                !all.is_empty() && all.iter().all(|a| a.outcome == Outcome::Refused)
            }
        };
        match self {
            Self::GraphqlResponse if refused => answers
                .first()
                .and_then(Answer::code)
                .map_or(StatusCode::BAD_REQUEST, Code::http_status),
            _ => StatusCode::OK,
        }
    }
}

/// The answers to one HTTP request: one operation's, or a batch's.
// One per request, on its way to being written: the size of the single case costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Answers {
    Single(Answer),
    Batch(Vec<Answer>),
}

impl Answers {
    /// Every operation's answer, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Answer> {
        let (one, many) = match self {
            Self::Single(answer) => (Some(answer), &[][..]),
            Self::Batch(answers) => (None, answers.as_slice()),
        };
        one.into_iter().chain(many)
    }

    fn first(&self) -> Option<&Answer> {
        self.iter().next()
    }
}

/// The media type an answer to a request with these headers is written in; `None` when
/// its `Accept` allows neither (answer 406).
pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if accept.trim().is_empty() {
        return Some(MediaType::Json);
    }
    // For each media type we can write: the q of the most specific range matching it,
    // that range's specificity, and its position in the header.
    let mut best: [Option<(f32, u8, usize)>; 2] = [None, None];
    for (position, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut q = 1.0_f32;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                // A q that does not parse makes the range meaningless: skip it.
                q = match value.trim().parse::<f32>() {
                    Ok(q) if (0.0..=1.0).contains(&q) => q,
                    _ => -1.0,
                };
            }
        }
        if q < 0.0 {
            continue;
        }
        for (slot, name) in best.iter_mut().zip([JSON, GRAPHQL_RESPONSE]) {
            let specificity = match essence.as_str() {
                e if e == name => 3,
                "application/*" => 2,
                "*/*" => 1,
                _ => continue,
            };
            // RFC 9110 12.5.1: the most specific matching range decides; the first wins a tie.
            if slot.is_none_or(|(_, s, _)| specificity > s) {
                *slot = Some((q, specificity, position));
            }
        }
    }
    let score = |slot: Option<(f32, u8, usize)>| {
        slot.filter(|(q, _, _)| *q > 0.0)
            // Higher q, then the type named outright over a wildcard, then the earlier.
            .map(|(q, specificity, position)| (q, specificity, usize::MAX - position))
    };
    match (score(best[0]), score(best[1])) {
        (None, None) => None,
        (Some(_), None) => Some(MediaType::Json),
        (None, Some(_)) => Some(MediaType::GraphqlResponse),
        // A full tie (`*/*`, `application/*`) goes to the default, application/json.
        (Some(json), Some(gql)) if gql.partial_cmp(&json) == Some(std::cmp::Ordering::Greater) => {
            Some(MediaType::GraphqlResponse)
        }
        (Some(_), Some(_)) => Some(MediaType::Json),
    }
}

/// Whether a POST body is declared as JSON, as GraphQL over HTTP requires.
pub fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .is_some_and(|essence| {
            essence.eq_ignore_ascii_case(JSON) || essence.eq_ignore_ascii_case(GRAPHQL_RESPONSE)
        })
}

/// A response as written: without `data` when it failed before execution.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Written<'a> {
    Executed(&'a async_graphql::Response),
    RequestError {
        errors: &'a [ServerError],
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        extensions: &'a BTreeMap<String, Value>,
    },
}

impl<'a> From<&'a Answer> for Written<'a> {
    fn from(answer: &'a Answer) -> Self {
        match answer.outcome {
            Outcome::Refused => Self::RequestError {
                errors: &answer.response.errors,
                extensions: &answer.response.extensions,
            },
            Outcome::Ran => Self::Executed(&answer.response),
        }
    }
}

/// What an answer's body serialises: one response or an array of them.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Body<'a> {
    Single(Written<'a>),
    Batch(Vec<Written<'a>>),
}

impl<'a> From<&'a Answers> for Body<'a> {
    fn from(answers: &'a Answers) -> Self {
        match answers {
            Answers::Single(answer) => Self::Single(answer.into()),
            Answers::Batch(all) => Self::Batch(all.iter().map(Into::into).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn no_accept_and_wildcards_are_application_json() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(accept(""), Some(MediaType::Json));
        assert_eq!(accept("*/*"), Some(MediaType::Json));
        assert_eq!(accept("application/*"), Some(MediaType::Json));
        assert_eq!(
            accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Some(MediaType::Json)
        );
    }

    #[test]
    fn the_preferred_type_wins_by_q_then_specificity_then_order() {
        use MediaType::*;
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(Json)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(Json)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json"),
            Some(GraphqlResponse)
        );
        assert_eq!(
            accept("*/*, application/graphql-response+json"),
            Some(GraphqlResponse),
            "named beats a wildcard of the same q"
        );
        assert_eq!(
            accept("application/json;q=0, */*"),
            Some(GraphqlResponse),
            "q=0 refuses a type that a wildcard would allow"
        );
        assert_eq!(
            accept("APPLICATION/JSON; charset=utf-8"),
            Some(Json),
            "case and parameters do not matter"
        );
    }

    #[test]
    fn an_accept_allowing_neither_is_none() {
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/xml, text/*"), None);
        assert_eq!(accept("application/json;q=0"), None);
        assert_eq!(accept("application/json;q=bogus"), None);
    }

    #[test]
    fn only_json_bodies_are_accepted() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            is_json_body(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/graphql-response+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/graphql"));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!is_json_body(&HeaderMap::new()));
    }
}
