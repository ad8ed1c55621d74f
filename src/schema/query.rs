//! The root `Query` and `livePhotos`' filter argument.
//!
//! The one thing to know: resolvers never talk to upstream themselves; they ask the
//! per-request [`Loaders`] (put in the request's data by the HTTP layer), which fetch each
//! id once per request.

use async_graphql::{Context, InputObject, Object, ID};

use super::{
    client::Client,
    error::{error, FieldResult},
    node::{self, own_id, AnyNode, Kind, NodeSlot},
    photo::LivePhoto,
    scalars::DateTime,
};
use crate::{
    code::Code,
    executor::Shaped,
    upstream::{self, ClientId, PhotoId},
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

/// Bounds on a live photo's dates. Every bound is strict: `createdAfter: T` keeps photos
/// created after `T`, not at `T`.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct LivePhotoFilter {
    /// Only photos created strictly after this instant.
    created_after: Option<DateTime>,
    /// Only photos created strictly before this instant.
    created_before: Option<DateTime>,
    /// Only photos last updated strictly after this instant.
    updated_after: Option<DateTime>,
    /// Only photos last updated strictly before this instant.
    updated_before: Option<DateTime>,
}

impl LivePhotoFilter {
    /// Upstream compares whole milliseconds. A strict bound with a finer instant keeps the
    /// same photos when rounded away from the kept side: down for `after`, up for `before`.
    pub(super) fn normalize(self) -> upstream::LivePhotoFilter {
        let floor = |d: Option<DateTime>| d.map(|d| d.0.timestamp_millis());
        let ceil = |d: Option<DateTime>| {
            d.map(|d| {
                let ms = d.0.timestamp_millis();
                if d.0.timestamp_subsec_nanos() % 1_000_000 == 0 {
                    ms
                } else {
                    ms + 1
                }
            })
        };
        upstream::LivePhotoFilter {
            created_after: floor(self.created_after),
            created_before: ceil(self.created_before),
            updated_after: floor(self.updated_after),
            updated_before: ceil(self.updated_before),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::scalars::dt;

    #[test]
    fn sub_millisecond_bounds_round_away_from_the_kept_side() {
        let f = LivePhotoFilter {
            created_after: dt("2020-01-01T14:06:44.7561Z"),
            created_before: dt("2020-01-01T14:06:44.7561Z"),
            updated_after: dt("2020-01-01T14:06:44.756Z"),
            updated_before: dt("2020-01-01T14:06:44.756Z"),
        }
        .normalize();
        assert_eq!(f.created_after, Some(1_577_887_604_756));
        assert_eq!(f.created_before, Some(1_577_887_604_757));
        assert_eq!(f.updated_after, Some(1_577_887_604_756));
        assert_eq!(f.updated_before, Some(1_577_887_604_756));
    }
}
