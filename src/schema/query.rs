//! The root `Query` and `livePhotos`' filter argument.
//!
//! The one thing to know: resolvers never talk to upstream themselves; they ask the
//! per-request [`Loaders`] (put in the request's data by the HTTP layer), which fetch each
//! id once per request.

use async_graphql::{Context, Object, ID};

use super::{
    client::Client,
    error::{error, FieldResult},
    global_id::{own_id, Kind},
    node::{self, AnyNode, NodeSlot},
    photo::LivePhoto,
};
use crate::{
    code::Code,
    executor::Shaped,
    upstream::{ClientId, PhotoId},
};

pub struct Query;

/// Root of all queries.
#[Object]
impl Query {
    /// A ComplyCube client, by its ComplyCube id or its global id. Selecting only `id`,
    /// `complyCubeId` and `livePhotos` costs no lookup (an unknown id then shows up as a
    /// `NOT_FOUND` error on `livePhotos`); selecting any of its details fetches them once,
    /// and an unknown id is then `null`. A client outside the caller's scope is `FORBIDDEN`.
    async fn client(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The client's ComplyCube id (e.g. `5eb1276d96be4a0008713af5`) or its global `id`."
        )]
        id: ID,
    ) -> FieldResult<Option<Shaped<Client>>> {
        let id = own_id(Kind::Client, &id)?;
        let id = ClientId::parse(&id).map_err(|m| error(Code::BadUserInput, m))?;
        Ok(Client::reach(ctx, id).await?.map(Shaped))
    }

    /// A live photo, by its ComplyCube id or its global id (`GET /v1/livePhotos/:id`);
    /// `null` when ComplyCube has no such photo, or when it belongs to a client outside
    /// the caller's scope. A photo that a list of the same request already brought costs
    /// no call.
    async fn live_photo(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The photo's ComplyCube id (e.g. `5eb1b5f231778a0008d1c3f6`) or its global `id`."
        )]
        id: ID,
    ) -> FieldResult<Option<Shaped<LivePhoto>>> {
        let id = own_id(Kind::LivePhoto, &id)?;
        let id = PhotoId::parse(&id).map_err(|m| error(Code::BadUserInput, m))?;
        Ok(LivePhoto::reach(ctx, id).await?.map(Shaped))
    }

    /// The object with this global id (a `Client` or a `LivePhoto`), as `client(id:)` and
    /// `livePhoto(id:)` answer it: `null` when there is none (or it is withheld), an error
    /// when the id is not a global id or names a client outside the caller's scope.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id: the `id` of a `Client` or a `LivePhoto`.")] id: ID,
    ) -> FieldResult<Option<AnyNode>> {
        node::node(ctx, &id).await
    }

    /// The objects with these global ids, in order: each as `node(id:)` answers it, `null`
    /// (with that item's own error, if any) where it cannot be had. At most 100 ids; the
    /// lookups are made together, one upstream call per distinct id not already loaded.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> FieldResult<Vec<NodeSlot>> {
        node::nodes(ctx, &ids).await
    }
}
