//! Bounded answers: every HTTP request has a byte budget for its answer
//! (`--max-response-bytes`), spent twice over.
//!
//! - **Before anything runs**, each operation's answer is estimated from its document
//!   ([`estimate`]): leaves by their typical size, lists by the items they may hold (the
//!   schema's [`CostModel`] says how many: a connection's `first`/`last`, the ids of
//!   `nodes`), and the leaves that draw on a pool of their own (images) by the pool. An
//!   operation whose estimate, with the others of its batch, passes the budget is refused
//!   with `RESPONSE_TOO_LARGE` before it costs an upstream call.
//! - **While it is built**, every [`super::Shaped`] object counts the bytes of its leaves
//!   ([`AnswerBudget::spend`]); once the answer passes the budget, objects stop resolving
//!   (no further loads) and the operation's answer becomes one `RESPONSE_TOO_LARGE` error.
//!
//! The one thing to know: estimates are upper bounds of the shape (a page is as full as it
//! was asked to be), and counting covers only what [`super::Shaped`] objects hold, which is
//! every object of the schema; the two together bound an answer to about the budget
//! whatever the document does with aliases, fragments and nesting.

use std::{
    ops::ControlFlow,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
};

use async_graphql::{
    parser::types::{Field, SelectionSet},
    Name, Value, Variables,
};

use super::{
    types::FieldTypes,
    walk::{self, Fragments},
};

/// One HTTP request's answer budget, shared by the operations of a batch.
#[derive(Debug)]
pub struct AnswerBudget {
    max: u64,
    estimated: AtomicU64,
    built: AtomicU64,
    exceeded: AtomicBool,
}

impl AnswerBudget {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max: max_bytes as u64,
            estimated: AtomicU64::new(0),
            built: AtomicU64::new(0),
            exceeded: AtomicBool::new(false),
        }
    }

    /// The budget, in bytes.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Takes an operation's estimate from the request's; `Err` with what the request's
    /// operations would then come to when that passes the budget (nothing is taken).
    pub fn reserve(&self, estimate: u64) -> Result<(), u64> {
        self.estimated
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |before| {
                let after = before.saturating_add(estimate);
                (after <= self.max).then_some(after)
            })
            .map(drop)
            .map_err(|before| before.saturating_add(estimate))
    }

    /// Gives back an operation's estimate: it did not run after all (refused).
    pub fn release(&self, estimate: u64) {
        let _ = self
            .estimated
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |before| {
                Some(before.saturating_sub(estimate))
            });
    }

    /// Counts `bytes` of the answer as built; `false` once the answer has passed the
    /// budget (and from then on).
    pub fn spend(&self, bytes: u64) -> bool {
        let built = self.built.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if built > self.max {
            self.exceeded.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The bytes counted as built so far: about the size of the written answer.
    pub fn built(&self) -> u64 {
        self.built.load(Ordering::Relaxed)
    }

    /// Whether the answer has passed the budget while it was built.
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }
}

/// The bytes a field adds to a JSON answer under `key`, not counting the objects inside
/// it (each counts its own): its key, its punctuation and its leaves.
pub fn written_bytes(key: &str, value: &Value) -> u64 {
    key.len() as u64 + 4 + leaf_bytes(value)
}

fn leaf_bytes(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.len() as u64 + 2,
        Value::Enum(name) => name.len() as u64 + 2,
        Value::List(items) => items.iter().map(leaf_bytes).sum::<u64>() + items.len() as u64,
        Value::Binary(b) => b.len() as u64 * 4 / 3 + 2,
        Value::Number(_) => 12,
        Value::Null | Value::Boolean(_) | Value::Object(_) => 5,
    }
}

/// What a schema says about the size of its fields' values.
pub trait CostModel: Send + Sync {
    /// The size of a page a list at the root is (a connection without `first`/`last`).
    fn default_page(&self) -> u64;

    /// The cost of `parent.field` as `field` writes it, inside a page of `page` items (the
    /// nearest connection's size; the default page size at the root).
    fn field(&self, parent: &str, field: &Field, variables: &Variables, page: u64) -> FieldCost;
}

/// Every field one typical value: for a schema with no model of its own (the executor's
/// tests).
pub struct Typical;

impl CostModel for Typical {
    fn default_page(&self) -> u64 {
        1
    }

    fn field(&self, _: &str, _: &Field, _: &Variables, _: u64) -> FieldCost {
        FieldCost::ONE
    }
}

/// What one field costs, by the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldCost {
    /// Items of a list field (1 for any other).
    pub items: u64,
    /// The page size this field sets for the lists below it, if it does (a connection).
    pub page: Option<u64>,
    /// What a leaf (scalar) value weighs.
    pub leaf: Leaf,
}

impl FieldCost {
    /// A field that is one value of typical size.
    pub const ONE: Self = Self {
        items: 1,
        page: None,
        leaf: Leaf::Bytes(TYPICAL_LEAF_BYTES),
    };
}

/// What a leaf weighs in an estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// About this many bytes each time it is written.
    Bytes(u64),
    /// Drawn from a pool with its own bound (images: `--max-download-bytes`): however often
    /// such leaves are selected, together they weigh at most this.
    Pooled(u64),
}

/// A leaf value as most of this schema's are: an id, a date, a name.
pub const TYPICAL_LEAF_BYTES: u64 = 32;

/// An upper bound of the bytes of the answer to the operation selecting `set` on `root`.
pub fn estimate(
    types: &FieldTypes,
    model: &dyn CostModel,
    fragments: &Fragments,
    root: &str,
    set: &SelectionSet,
    variables: &Variables,
) -> u64 {
    let mut estimate = Estimate {
        types,
        model,
        fragments,
        variables,
        pooled: 0,
    };
    let bytes = estimate.object(root, set, model.default_page());
    bytes.saturating_add(estimate.pooled)
}

struct Estimate<'a> {
    types: &'a FieldTypes,
    model: &'a dyn CostModel,
    fragments: &'a Fragments,
    variables: &'a Variables,
    /// The largest pool a selected leaf draws on.
    pooled: u64,
}

impl Estimate<'_> {
    /// One object of type `ty` (for an interface, the largest of its objects).
    fn object(&mut self, ty: &str, set: &SelectionSet, page: u64) -> u64 {
        match self.types.implementers(ty) {
            Some(objects) => objects
                .map(|object| self.concrete(object, set, page))
                .max()
                .unwrap_or(2),
            None => self.concrete(ty, set, page),
        }
    }

    fn concrete(&mut self, object: &str, set: &SelectionSet, page: u64) -> u64 {
        let mut fields: Vec<&Field> = Vec::new();
        let collected = walk::fields(self.fragments, self.types, object, set, &mut |field| {
            fields.push(&field.node);
            ControlFlow::<()>::Continue(())
        });
        // Validation refuses unknown fragments; whatever was walked is estimated.
        let _ = collected;
        let mut bytes: u64 = 2;
        for field in fields {
            let key = field.response_key().node.len() as u64 + 4;
            let name = field.name.node.as_str();
            if name == "__typename" {
                bytes = bytes.saturating_add(key + object.len() as u64 + 2);
                continue;
            }
            let Some(ty) = self.types.of(object, name) else {
                continue;
            };
            let cost = self.model.field(object, field, self.variables, page);
            let one = if field.selection_set.node.items.is_empty() {
                match cost.leaf {
                    Leaf::Bytes(b) => b,
                    Leaf::Pooled(pool) => {
                        self.pooled = self.pooled.max(pool);
                        0
                    }
                }
            } else {
                let child = named(ty);
                self.object(child, &field.selection_set.node, cost.page.unwrap_or(page))
            };
            let items = cost.items.max(1);
            let value = one.saturating_add(1).saturating_mul(items);
            bytes = bytes.saturating_add(key).saturating_add(value);
        }
        bytes
    }
}

/// The named type of a type as SDL writes it (`[LivePhoto!]!` → `LivePhoto`).
fn named(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

/// An integer argument of `field`, written or given by a variable.
pub fn int_argument(field: &Field, name: &str, variables: &Variables) -> Option<i64> {
    match argument(field, name, variables)? {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// How many items a list argument of `field` holds, written or given by a variable.
pub fn list_argument_len(field: &Field, name: &str, variables: &Variables) -> Option<u64> {
    match argument(field, name, variables)? {
        Value::List(items) => Some(items.len() as u64),
        _ => Some(1),
    }
}

/// The value of an argument of `field`, its variables put in.
fn argument(field: &Field, name: &str, variables: &Variables) -> Option<Value> {
    let value = field.get_argument(name)?;
    value
        .node
        .clone()
        .into_const_with(|var: Name| variables.get(&var).cloned().ok_or(()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_shares_one_budget_and_building_past_it_is_seen() {
        let budget = AnswerBudget::new(100);
        assert_eq!(budget.reserve(60), Ok(()));
        assert_eq!(budget.reserve(60), Err(120));
        assert_eq!(budget.reserve(40), Ok(()));
        assert!(budget.spend(90) && !budget.exceeded());
        assert!(!budget.spend(11) && budget.exceeded());
        assert!(!budget.spend(0), "once past, always past");
    }

    #[test]
    fn written_bytes_are_what_json_writes_give_or_take_punctuation() {
        let value = Value::String("5f1e0a3c9d2b4a0008a10003".into());
        let json = r#","complyCubeId":"5f1e0a3c9d2b4a0008a10003""#;
        assert_eq!(written_bytes("complyCubeId", &value), json.len() as u64);
        let list = Value::List(vec![Value::String("ab".into()), Value::Null]);
        assert!(written_bytes("k", &list) >= r#","k":["ab",null]"#.len() as u64);
    }
}
