//! Operation names as label values: bounded, so an unknown name is not a new series
//! forever.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use prometheus_client::{
    encoding::{EncodeLabelValue, LabelValueEncoder},
    metrics::{counter::Counter, family::Family},
};

use super::{GraphqlLabels, MAX_OPERATION_NAMES, MAX_OPERATION_NAME_LENGTH, OTHER};

/// An operation name as a label value: shared, so a label costs no allocation.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(super) struct OperationName(pub(super) Arc<str>);

impl EncodeLabelValue for OperationName {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write;
        encoder.write_str(&self.0)
    }
}

/// The operation names given their own label value: the first [`MAX_OPERATION_NAMES`]
/// valid ones seen, each with its `ok` counter (the common case: one lookup).
pub(super) struct OperationNames {
    pub(super) known: RwLock<HashMap<Arc<str>, Counter>>,
    /// The `ok` counter of `(other)`.
    pub(super) other_ok: Counter,
}

impl OperationNames {
    /// Calls `f` with the label value of `name` and the counter of its `ok` outcome,
    /// making the series when `name` is new and there is room.
    pub(super) fn with<R>(
        &self,
        name: &str,
        family: &Family<GraphqlLabels, Counter>,
        f: impl FnOnce(&Arc<str>, &Counter) -> R,
    ) -> R {
        if !is_plain_name(name) {
            return f(&OTHER, &self.other_ok);
        }
        if let Some((label, ok)) = self
            .known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get_key_value(name)
        {
            return f(label, ok);
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        if let Some((label, ok)) = known.get_key_value(name) {
            return f(label, ok);
        }
        if known.len() >= MAX_OPERATION_NAMES {
            return f(&OTHER, &self.other_ok);
        }
        let label: Arc<str> = Arc::from(name);
        let ok = family
            .get_or_create(&GraphqlLabels {
                operation: OperationName(label.clone()),
                outcome: "ok",
            })
            .clone();
        let answer = f(&label, &ok);
        known.insert(label, ok);
        answer
    }
}

/// A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) of at most [`MAX_OPERATION_NAME_LENGTH`]
/// characters: what may be a label value, or appear in a log line, as it is.
pub fn is_plain_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_OPERATION_NAME_LENGTH
        && !bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}
