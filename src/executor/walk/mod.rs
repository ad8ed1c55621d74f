//! The one walker over a query document, and the one fragment rule.
//!
//! Every pass of the executor that looks at selections goes through here:
//!
//! - [`fields`]: the fields a selection set selects on an object of a given type, in
//!   document order, fragments expanded where they apply (the spec's CollectFields, before
//!   merging). Resolving in place, restoring an object's shape and finding introspection
//!   at the root all use it.
//! - [`collect`]: the same, merged by response key (CollectFields itself).
//! - [`written`]: every field and directive as written, once, with the type it is
//!   written on: for checking the values a document writes, and counting aliases.
//! - [`measure`]: what the document amounts to once every fragment is expanded, counted
//!   without expanding anything.
//! - [`spreads`]: the fragments a selection set spreads, at any depth: for dropping the
//!   ones a rewrite left unused.
//!
//! The one thing to know: a fragment applies to an object when its type condition is the
//! object's own type, an interface the object implements, or a union it belongs to
//! ([`applies`], the spec's DoesFragmentTypeApply). Nothing else in the crate decides that.

use std::{
    collections::{HashMap, HashSet},
    ops::ControlFlow,
};

use async_graphql::{
    parser::types::{
        Directive, ExecutableDocument, Field, FragmentDefinition, OperationType, Selection,
        SelectionSet,
    },
    Name, Pos, Positioned,
};

/// A document's fragment definitions, by name.
pub type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// What the walker needs to know of a schema: which object types an abstract type
/// (interface or union) stands for.
pub trait PossibleTypes {
    /// Whether `object` is one of the possible types of the interface or union `of`.
    fn is_possible(&self, of: &str, object: &str) -> bool;
}

impl PossibleTypes for async_graphql::registry::Registry {
    fn is_possible(&self, of: &str, object: &str) -> bool {
        self.types
            .get(of)
            .is_some_and(|ty| ty.is_possible_type(object))
    }
}

/// The spec's DoesFragmentTypeApply: whether a fragment with this type condition (none:
/// an inline fragment without one) applies to an object of type `object`.
pub fn applies(schema: &impl PossibleTypes, condition: Option<&str>, object: &str) -> bool {
    condition.is_none_or(|condition| condition == object || schema.is_possible(condition, object))
}

/// A fragment spread that names no fragment of the document (validation refuses such a
/// document; a walk over one that was not validated says where).
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownFragment {
    pub name: Name,
    pub pos: Pos,
}

/// Calls `f` with every field that `set` selects on an object of type `object`, in
/// document order, fragments expanded where [`applies`] says. A fragment already being
/// expanded on the way here is not expanded again, so even a cycle (which validation
/// refuses) ends. `f` may stop the walk early.
pub fn fields<'d, B>(
    fragments: &'d Fragments,
    schema: &impl PossibleTypes,
    object: &str,
    set: &'d SelectionSet,
    f: &mut impl FnMut(&'d Positioned<Field>) -> ControlFlow<B>,
) -> Result<ControlFlow<B>, UnknownFragment> {
    let mut open = Vec::new();
    fields_in(fragments, schema, object, set, &mut open, f)
}

fn fields_in<'d, B>(
    fragments: &'d Fragments,
    schema: &impl PossibleTypes,
    object: &str,
    set: &'d SelectionSet,
    open: &mut Vec<&'d Name>,
    f: &mut impl FnMut(&'d Positioned<Field>) -> ControlFlow<B>,
) -> Result<ControlFlow<B>, UnknownFragment> {
    for selection in &set.items {
        let (condition, inner, spread) = match &selection.node {
            Selection::Field(field) => {
                if let ControlFlow::Break(b) = f(field) {
                    return Ok(ControlFlow::Break(b));
                }
                continue;
            }
            Selection::InlineFragment(inline) => (
                inline
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str()),
                &inline.node.selection_set.node,
                None,
            ),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = fragments.get(name) else {
                    return Err(UnknownFragment {
                        name: name.clone(),
                        pos: spread.pos,
                    });
                };
                if open.contains(&name) {
                    continue;
                }
                (
                    Some(fragment.node.type_condition.node.on.node.as_str()),
                    &fragment.node.selection_set.node,
                    Some(name),
                )
            }
        };
        if !applies(schema, condition, object) {
            continue;
        }
        open.extend(spread);
        let flow = fields_in(fragments, schema, object, inner, open, f)?;
        if spread.is_some() {
            open.pop();
        }
        if flow.is_break() {
            return Ok(flow);
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// A field of an object's response, as the query selects it: its response key and the
/// field it names (the first selection of that key).
#[derive(Clone, Copy, Debug)]
pub struct Selected<'d> {
    pub key: &'d Name,
    pub name: &'d Name,
}

/// The spec's CollectFields: the fields `set` selects on an object of type `object`, one
/// per response key, in the order of each key's first selection. Unknown fragments are
/// left out (validation reports them).
pub fn collect<'d>(
    fragments: &'d Fragments,
    schema: &impl PossibleTypes,
    object: &str,
    set: &'d SelectionSet,
) -> Vec<Selected<'d>> {
    let mut selected: Vec<Selected<'d>> = Vec::with_capacity(set.items.len());
    let _ = fields(fragments, schema, object, set, &mut |field| {
        let key = &field.node.response_key().node;
        if !selected.iter().any(|s| s.key == key) {
            selected.push(Selected {
                key,
                name: &field.node.name.node,
            });
        }
        ControlFlow::<()>::Continue(())
    });
    selected
}

/// Adds to `out` the name of every fragment `set` spreads, at any depth (inside the
/// fragments it spreads: not).
pub fn spreads<'d>(set: &'d SelectionSet, out: &mut HashSet<&'d Name>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => spreads(&field.node.selection_set.node, out),
            Selection::InlineFragment(inline) => spreads(&inline.node.selection_set.node, out),
            Selection::FragmentSpread(named) => {
                out.insert(&named.node.fragment_name.node);
            }
        }
    }
}

/// What a pass over every selection as written sees.
pub trait Written<'d> {
    type Error;

    /// A field as written on `parent` (`None`: a type the walk could not tell).
    fn field(&mut self, parent: Option<&str>, field: &'d Field) -> Result<(), Self::Error>;

    /// The directives of an operation, fragment, spread, inline fragment or field.
    fn directives(&mut self, directives: &'d [Positioned<Directive>]) -> Result<(), Self::Error>;
}

/// Every field and directive of `document` as written, once (fragments where they are
/// defined, not where they are spread), each field with the type it is written on:
/// `root` for a query's top level, the type condition inside a fragment, and
/// `child_type(parent, field name)` below a field.
pub fn written<'d, W: Written<'d>>(
    document: &'d ExecutableDocument,
    root: &str,
    child_type: &impl Fn(&str, &str) -> Option<&'d str>,
    pass: &mut W,
) -> Result<(), W::Error> {
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        let parent = match operation.ty {
            OperationType::Query => Some(root),
            // Not served: their fields are no type of this schema.
            OperationType::Mutation | OperationType::Subscription => None,
        };
        pass.directives(&operation.directives)?;
        written_in(&operation.selection_set.node, parent, child_type, pass)?;
    }
    for fragment in document.fragments.values() {
        let fragment = &fragment.node;
        pass.directives(&fragment.directives)?;
        let on = fragment.type_condition.node.on.node.as_str();
        written_in(&fragment.selection_set.node, Some(on), child_type, pass)?;
    }
    Ok(())
}

fn written_in<'d, W: Written<'d>>(
    set: &'d SelectionSet,
    parent: Option<&str>,
    child_type: &impl Fn(&str, &str) -> Option<&'d str>,
    pass: &mut W,
) -> Result<(), W::Error> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                pass.directives(&field.directives)?;
                pass.field(parent, field)?;
                let child = parent.and_then(|p| child_type(p, &field.name.node));
                written_in(&field.selection_set.node, child, child_type, pass)?;
            }
            Selection::FragmentSpread(spread) => pass.directives(&spread.node.directives)?,
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                pass.directives(&inline.directives)?;
                let on = inline
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str());
                written_in(&inline.selection_set.node, on.or(parent), child_type, pass)?;
            }
        }
    }
    Ok(())
}

/// What a document amounts to with every fragment spread expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// Field selections, fragments expanded (saturating).
    pub fields: usize,
    /// Aliased field selections, fragments expanded (saturating).
    pub aliases: usize,
}

/// [`Measure`] of `document`, counted without expanding anything (each fragment's count
/// is kept), or the name of a fragment that spreads itself. Every operation counts, and a
/// fragment no operation spreads is still checked for cycles.
pub fn measure(document: &ExecutableDocument) -> Result<Measure, Name> {
    let mut counter = Counter {
        fragments: &document.fragments,
        done: HashMap::new(),
        open: Vec::new(),
    };
    let mut total = Measure::ZERO;
    for (_, operation) in document.operations.iter() {
        total = total.plus(counter.set(&operation.node.selection_set.node)?);
    }
    for name in document.fragments.keys() {
        counter.fragment(name)?;
    }
    Ok(total)
}

impl Measure {
    const ZERO: Self = Self {
        fields: 0,
        aliases: 0,
    };

    fn plus(self, other: Self) -> Self {
        Self {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
        }
    }
}

struct Counter<'d> {
    fragments: &'d Fragments,
    done: HashMap<&'d Name, Measure>,
    open: Vec<&'d Name>,
}

impl<'d> Counter<'d> {
    fn set(&mut self, set: &'d SelectionSet) -> Result<Measure, Name> {
        let mut total = Measure::ZERO;
        for selection in &set.items {
            let n = match &selection.node {
                Selection::Field(f) => Measure {
                    fields: 1,
                    aliases: usize::from(f.node.alias.is_some()),
                }
                .plus(self.set(&f.node.selection_set.node)?),
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node)?,
                Selection::FragmentSpread(s) => self.fragment(&s.node.fragment_name.node)?,
            };
            total = total.plus(n);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'d Name) -> Result<Measure, Name> {
        if let Some(&n) = self.done.get(name) {
            return Ok(n);
        }
        if self.open.contains(&name) {
            return Err(name.clone());
        }
        // An unknown fragment counts nothing here; validation reports it.
        let Some(fragment) = self.fragments.get(name) else {
            return Ok(Measure::ZERO);
        };
        self.open.push(name);
        let n = self.set(&fragment.node.selection_set.node)?;
        self.open.pop();
        self.done.insert(name, n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
