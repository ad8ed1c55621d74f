//! Relay's Global Object Identification: the `Node` interface, and what `node(id:)` and
//! `nodes(ids:)` answer.
//!
//! The one thing to know: `node` and `nodes` take global ids only ([`super::global_id`]),
//! since a bare ComplyCube id does not say what it names, and answer each as `client(id:)`
//! or `livePhoto(id:)` would, scope rules and all.

use std::borrow::Cow;

use async_graphql::{
    parser::types::Field, registry::Registry, Context, ContextSelectionSet, Interface, OutputType,
    Positioned, ServerResult, Value, ID,
};
use futures::future::join_all;

use super::{
    client::Client,
    error::{error, FieldError, FieldResult},
    global_id::{from_global_id, Kind},
    photo::LivePhoto,
};
use crate::{
    code::Code,
    executor::Shaped,
    upstream::{ClientId, PhotoId},
};

/// The most ids `nodes(ids:)` takes at once (as GitHub's API does).
pub const MAX_NODES: usize = 100;

// Only the registry's view of `Node`: values are `AnyNode`s, which the executor resolves
// as the object they are.
/// An object with a global id (Relay's Object Identification), refetchable with
/// `node(id:)`.
#[derive(Interface)]
#[graphql(
    name = "Node",
    field(
        name = "id",
        ty = "ID",
        method = "node_id",
        desc = "The object's global id: opaque, stable across versions, and what `node(id:)` takes."
    )
)]
pub enum Node {
    Client(Client),
    LivePhoto(LivePhoto),
}

/// A `Node` value, resolved as the object it is (so that fragments on `Client` or
/// `LivePhoto` apply by the executor's rule, and fields resolve in place).
pub struct AnyNode(Node);

impl OutputType for AnyNode {
    fn type_name() -> Cow<'static, str> {
        Node::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Node::create_type_info(registry)
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match &self.0 {
            Node::Client(client) => Shaped(client).resolve(ctx, field).await,
            Node::LivePhoto(photo) => Shaped(photo).resolve(ctx, field).await,
        }
    }
}

/// What `node(id:)` answers for `given`, as the caller may see it: `FORBIDDEN` for a
/// client outside the caller's scope; `None` for what ComplyCube does not have, and for a
/// photo of a client outside the scope (one answer for both, as `livePhoto(id:)` gives).
pub async fn node(ctx: &Context<'_>, given: &str) -> FieldResult<Option<AnyNode>> {
    let Some((kind, id)) = from_global_id(given) else {
        return Err(error(
            Code::BadUserInput,
            format!("`{given}` is not a global id (the `id` of a Client or a LivePhoto)"),
        ));
    };
    let invalid = |m: String| error(Code::BadUserInput, m);
    Ok(match kind {
        Kind::Client => Client::reach(ctx, ClientId::parse(&id).map_err(invalid)?)
            .await?
            .map(|c| AnyNode(Node::Client(c))),
        Kind::LivePhoto => LivePhoto::reach(ctx, PhotoId::parse(&id).map_err(invalid)?)
            .await?
            .map(|p| AnyNode(Node::LivePhoto(p))),
    })
}

/// What `nodes(ids:)` answers: each id as [`node`] answers it, looked up together (so the
/// request's loaders batch them), each failure that item's own.
pub async fn nodes(ctx: &Context<'_>, ids: &[ID]) -> FieldResult<Vec<NodeSlot>> {
    if ids.len() > MAX_NODES {
        return Err(error(
            Code::BadUserInput,
            format!("`nodes` takes at most {MAX_NODES} ids (got {})", ids.len()),
        ));
    }
    let answers = join_all(ids.iter().map(|id| node(ctx, id))).await;
    Ok(answers
        .into_iter()
        .map(|answer| match answer {
            Ok(found) => NodeSlot::Answer(found),
            Err(e) => NodeSlot::Failed(e),
        })
        .collect())
}

/// One item of `nodes`: a node, `null`, or `null` with this item's own error.
pub enum NodeSlot {
    Answer(Option<AnyNode>),
    Failed(FieldError),
}

impl OutputType for NodeSlot {
    fn type_name() -> Cow<'static, str> {
        Node::type_name()
    }

    /// A nullable `Node`: `nodes` is `[Node]!`.
    fn qualified_type_name() -> String {
        Node::type_name().into_owned()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Node::create_type_info(registry);
        Self::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        match self {
            Self::Answer(Some(node)) => node.introspection_type_name(),
            _ => Node::type_name(),
        }
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self {
            Self::Answer(Some(node)) => node.resolve(ctx, field).await,
            Self::Answer(None) => Ok(Value::Null),
            Self::Failed(e) => {
                let error = async_graphql::Error::from(e.clone());
                ctx.add_error(ctx.set_error_path(error.into_server_error(field.pos)));
                Ok(Value::Null)
            }
        }
    }
}
