//! What this schema's fields weigh in an answer, for the budget's estimate before an
//! operation runs ([`crate::executor::budget`]).
//!
//! The one thing to know: the only lists are a connection's `nodes` and `edges`, whose size
//! the connection's `first`/`last` set (the default page size without them), and the
//! result of `nodes(ids:)`, one item per id; and the only large leaves are an image's
//! `base64Data` and `dataUrl`, which draw on the request's download budget
//! (`--max-download-bytes`) however often they are selected.

use async_graphql::{parser::types::Field, Variables};

use crate::{
    executor::budget::{int_argument, list_argument_len, CostModel, FieldCost, Leaf},
    pagination::Limits,
};

/// The cost model of this schema.
pub struct Cost {
    limits: Limits,
    /// The base64 text of `--max-download-bytes` of images, and a `data:` prefix.
    images: u64,
}

impl Cost {
    pub fn new(limits: Limits, max_download_bytes: usize) -> Self {
        Self {
            limits,
            images: (max_download_bytes as u64).div_ceil(3) * 4 + 32,
        }
    }

    /// A connection's size as its arguments ask (clamped to the maximum: larger is refused
    /// by the resolver, with a clearer error, before any load).
    fn page(&self, field: &Field, variables: &Variables) -> u64 {
        let max = i64::from(self.limits.max_page_size);
        let first = int_argument(field, "first", variables).map(|n| n.clamp(0, max));
        let last = int_argument(field, "last", variables).map(|n| n.clamp(0, max));
        let asked = match (first, last) {
            (Some(f), Some(l)) => f.min(l),
            (Some(n), None) | (None, Some(n)) => n,
            (None, None) => i64::from(self.limits.default_page_size),
        };
        asked as u64
    }
}

impl CostModel for Cost {
    fn default_page(&self) -> u64 {
        u64::from(self.limits.default_page_size)
    }

    fn field(&self, parent: &str, field: &Field, variables: &Variables, page: u64) -> FieldCost {
        match (parent, field.name.node.as_str()) {
            ("Client", "livePhotos") => FieldCost {
                page: Some(self.page(field, variables)),
                ..FieldCost::ONE
            },
            ("LivePhotoConnection", "nodes" | "edges") => FieldCost {
                items: page,
                ..FieldCost::ONE
            },
            ("Query", "nodes") => FieldCost {
                items: list_argument_len(field, "ids", variables).unwrap_or(1),
                ..FieldCost::ONE
            },
            ("LivePhotoImage", "base64Data" | "dataUrl") => FieldCost {
                leaf: Leaf::Pooled(self.images),
                ..FieldCost::ONE
            },
            _ => FieldCost::ONE,
        }
    }
}
