//! The one error vocabulary: every code the service answers with, at the GraphQL level
//! (`extensions.code` of a field or request error) and at the HTTP level (a request refused
//! before it is GraphQL), with the HTTP status it carries and its label in metrics.
//!
//! The one thing to know: a code is given where a failure is known and travels typed. Every
//! error this crate makes carries its [`Code`] twice: as the string clients read
//! (`extensions.code`) and as the error's `source`, which [`Code::of`] reads back without
//! parsing text. Nothing infers a code later from a message or from the shape of an error.

use std::sync::Arc;

use async_graphql::{ErrorExtensionValues, Pos, ServerError};
use axum::http::StatusCode;

/// Every code the service answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// Arguments, variables, cursors or dates the caller got wrong.
    BadUserInput,
    /// No credentials, or ones that do not hold (HTTP 401); ComplyCube's 401.
    Unauthenticated,
    /// A client outside the caller's scope; ComplyCube's 403.
    Forbidden,
    /// ComplyCube's 404.
    NotFound,
    /// ComplyCube's 429 after retries, or the rate budget had no slot in time.
    RateLimited,
    /// ComplyCube failed: 5xx, no answer in time, an unreadable answer.
    UpstreamError,
    /// The document is not GraphQL.
    GraphqlParseFailed,
    /// The document asks for what the schema does not have, or breaks a limit.
    GraphqlValidationFailed,
    /// Our own bug; the message says nothing more.
    InternalServerError,
    /// Apollo's persisted queries: a hash this process does not hold (the client then
    /// sends the text).
    PersistedQueryNotFound,
    /// A document that is not among the trusted documents (`--trusted-documents`).
    PersistedQueryNotAllowed,
    /// The answer would be larger than `--max-response-bytes`.
    ResponseTooLarge,
    /// A request to `/graphql` that is not a GraphQL request (HTTP 400).
    BadRequest,
    /// An `Accept` that allows no media type we write (HTTP 406).
    NotAcceptable,
    /// A POST body that is not declared JSON (HTTP 415).
    UnsupportedMediaType,
    /// A body larger than `--max-body-bytes` (HTTP 413).
    PayloadTooLarge,
    /// The request outlived its deadline (`--request-timeout`).
    RequestTimeout,
    /// A `Host` this service does not answer for (`--allowed-hosts`, HTTP 421).
    MisdirectedRequest,
    /// A request a browser could have sent from another site without asking (CSRF).
    CsrfRefused,
}

impl Code {
    /// Every code, for tests and for metrics that show each at zero.
    pub const ALL: [Code; 19] = [
        Self::BadUserInput,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::RateLimited,
        Self::UpstreamError,
        Self::GraphqlParseFailed,
        Self::GraphqlValidationFailed,
        Self::InternalServerError,
        Self::PersistedQueryNotFound,
        Self::PersistedQueryNotAllowed,
        Self::ResponseTooLarge,
        Self::BadRequest,
        Self::NotAcceptable,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::RequestTimeout,
        Self::MisdirectedRequest,
        Self::CsrfRefused,
    ];

    /// What `extensions.code` says.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::RateLimited => "RATE_LIMITED",
            Self::UpstreamError => "UPSTREAM_ERROR",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryNotAllowed => "PERSISTED_QUERY_NOT_ALLOWED",
            Self::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            Self::BadRequest => "BAD_REQUEST",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::MisdirectedRequest => "MISDIRECTED_REQUEST",
            Self::CsrfRefused => "CSRF_REFUSED",
        }
    }

    /// The `outcome` label of `graphql_requests_total`: the code in lower case.
    pub fn metric_label(self) -> &'static str {
        match self {
            Self::BadUserInput => "bad_user_input",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::UpstreamError => "upstream_error",
            Self::GraphqlParseFailed => "graphql_parse_failed",
            Self::GraphqlValidationFailed => "graphql_validation_failed",
            Self::InternalServerError => "internal_server_error",
            Self::PersistedQueryNotFound => "persisted_query_not_found",
            Self::PersistedQueryNotAllowed => "persisted_query_not_allowed",
            Self::ResponseTooLarge => "response_too_large",
            Self::BadRequest => "bad_request",
            Self::NotAcceptable => "not_acceptable",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::MisdirectedRequest => "misdirected_request",
            Self::CsrfRefused => "csrf_refused",
        }
    }

    /// The HTTP status of a whole request refused with this code, where HTTP says more
    /// than GraphQL's own answer: the refusals before a request is GraphQL always carry
    /// it; a GraphQL request error carries it under `application/graphql-response+json`
    /// (under `application/json` every GraphQL answer is 200, as that media type's rules
    /// say). Apollo clients expect `PERSISTED_QUERY_NOT_FOUND` with a 200.
    pub fn http_status(self) -> StatusCode {
        match self {
            Self::BadUserInput
            | Self::GraphqlParseFailed
            | Self::GraphqlValidationFailed
            | Self::PersistedQueryNotAllowed
            | Self::BadRequest
            | Self::CsrfRefused => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamError => StatusCode::BAD_GATEWAY,
            Self::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::PersistedQueryNotFound => StatusCode::OK,
            Self::ResponseTooLarge | Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
        }
    }

    /// A resolver's error with this code.
    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", self.as_str());
        async_graphql::Error {
            message: message.into(),
            source: Some(Arc::new(self)),
            extensions: Some(extensions),
        }
    }

    /// An error raised outside a resolver (before or around execution), with this code.
    pub fn server_error(self, message: impl Into<String>, pos: Option<Pos>) -> ServerError {
        let mut error = ServerError::new(message, pos);
        self.stamp(&mut error);
        error
    }

    /// Gives `error` this code (async-graphql's own errors come without one).
    pub fn stamp(self, error: &mut ServerError) {
        error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default)
            .set("code", self.as_str());
        error.source = Some(Arc::new(self));
    }

    /// The code an error was made with, if this crate made or stamped it.
    pub fn of(error: &ServerError) -> Option<Code> {
        error.source::<Code>().copied()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_has_one_name_and_one_label() {
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let labels: HashSet<_> = Code::ALL.iter().map(|c| c.metric_label()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        assert_eq!(labels.len(), Code::ALL.len());
        for code in Code::ALL {
            assert_eq!(code.metric_label(), code.as_str().to_ascii_lowercase());
        }
    }

    #[test]
    fn a_code_survives_the_way_from_resolver_error_to_server_error() {
        let error = Code::Forbidden
            .error("no")
            .into_server_error(Pos::default());
        assert_eq!(Code::of(&error), Some(Code::Forbidden));
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["extensions"]["code"], "FORBIDDEN");
        let mut theirs = ServerError::new("Unknown field", None);
        assert_eq!(Code::of(&theirs), None);
        Code::GraphqlValidationFailed.stamp(&mut theirs);
        assert_eq!(Code::of(&theirs), Some(Code::GraphqlValidationFailed));
    }
}
