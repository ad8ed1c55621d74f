//! The root `Query` and `livePhotos`' filter argument.
//!
//! The one thing to know: resolvers never talk to upstream themselves; they ask the
//! per-request [`Loaders`] (put in the request's data by the HTTP layer), which fetch each
//! id once per request.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, ID};

use super::{
    client::Client,
    error::{data, error, upstream_error, FieldResult},
    photo::LivePhoto,
    scalars::DateTime,
};
use crate::{
    auth::Caller,
    code::Code,
    executor::Shaped,
    loader::Loaders,
    upstream::{self, ClientId, PhotoId},
};

pub struct Query;

/// Root of all queries.
#[Object]
impl Query {
    /// A ComplyCube client, by id. Selecting only `id` and `livePhotos` costs no lookup
    /// (an unknown id then shows up as a `NOT_FOUND` error on `livePhotos`); selecting any
    /// of its details fetches them once, and an unknown id is then `null`.
    async fn client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ComplyCube client id, e.g. `5eb1276d96be4a0008713af5`.")] id: ID,
    ) -> FieldResult<Option<Shaped<Client>>> {
        let id = ClientId::parse(&id).map_err(|m| error(Code::BadUserInput, m))?;
        // A client the caller's token does not list: FORBIDDEN here, before any upstream call.
        let caller = data::<Caller>(ctx)?;
        if !caller.may_read(id.as_str()) {
            crate::metrics::auth_refused("client_out_of_scope");
            return Err(error(
                Code::Forbidden,
                format!("this token may not read client `{id}`"),
            ));
        }
        let client = Client::new(id);
        if Client::selects_details(ctx) && client.lookup(ctx).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(Shaped(client)))
    }

    /// A live photo, by id (`GET /v1/livePhotos/:id`); `null` when ComplyCube has no such
    /// photo. A photo that a list of the same request already brought costs no call.
    async fn live_photo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The live photo id, e.g. `5eb1b5f231778a0008d1c3f6`.")] id: ID,
    ) -> FieldResult<Option<Shaped<LivePhoto>>> {
        let id = PhotoId::parse(&id).map_err(|m| error(Code::BadUserInput, m))?;
        let loaders = data::<Arc<Loaders>>(ctx)?;
        let Some(photo) = loaders.photo(id).await.map_err(|e| upstream_error(&e))? else {
            return Ok(None);
        };
        // The owner is known only now: a photo of a client the token does not list is
        // withheld (a scoped caller pays for the lookup that tells).
        let caller = data::<Caller>(ctx)?;
        if !caller.may_read(&photo.client_id) {
            crate::metrics::auth_refused("client_out_of_scope");
            return Err(error(Code::Forbidden, "this token may not read this photo"));
        }
        Ok(Some(Shaped(LivePhoto(photo))))
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
