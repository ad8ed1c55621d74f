//! The root `Query`, the `Client` it leads to, and `livePhotos`' arguments.
//!
//! The one thing to know: resolvers never talk to upstream themselves. `livePhotos` turns
//! its arguments into a window ([`crate::pagination`]) and asks the per-request
//! [`PageLoader`] (put in the request's data by the HTTP layer) for it.

use async_graphql::{Context, InputObject, Object, ID};

use super::{
    connection::LivePhotoConnection,
    connection_cost,
    eager::Eager,
    error::{data, error, upstream_error, FieldResult},
    scalars::DateTime,
    Code,
};
use crate::{
    loader::{ListId, LoadError, PageKey, PageLoader},
    pagination::{window, Limits, RelayArgs, Scope},
    upstream::{self, ClientId},
};

pub struct Query;

/// Root of all queries.
#[Object]
impl Query {
    /// A ComplyCube client, by id. Looking a client up costs no upstream call; an unknown
    /// id shows up as a `NOT_FOUND` error on the fields that read its data.
    async fn client(
        &self,
        #[graphql(desc = "The ComplyCube client id, e.g. `5eb1276d96be4a0008713af5`.")] id: ID,
    ) -> FieldResult<Option<Client>> {
        let id = ClientId::parse(&id).map_err(|m| error(Code::BadUserInput, m))?;
        Ok(Some(Client { id }))
    }
}

pub struct Client {
    id: ClientId,
}

/// A ComplyCube client: a person or company being verified.
#[Object]
impl Client {
    /// The ComplyCube client id.
    async fn id(&self) -> ID {
        ID(self.id.as_str().to_owned())
    }

    /// The client's live photos (selfies taken for liveness checks), newest first, as a
    /// Relay cursor connection. Without `first` or `last`, the first 20.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn live_photos(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return at most this many photos from the start of the list (after `after`). At most the configured maximum (default 100)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return only photos after this cursor (an `endCursor` or edge `cursor` from the same client and filter)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Return at most this many photos from the end of the list (before `before`). At most the configured maximum (default 100)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return only photos before this cursor (a `startCursor` or edge `cursor` from the same client and filter)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Only photos created or updated within these bounds. Cursors belong to the filter they were made under."
        )]
        filter: Option<LivePhotoFilter>,
    ) -> FieldResult<Eager<LivePhotoConnection>> {
        let filter = filter.map(LivePhotoFilter::normalize).unwrap_or_default();
        let scope = Scope::of(&[self.id.as_str().as_bytes(), &filter.fingerprint_bytes()]);
        let args = RelayArgs {
            first,
            after: after.as_deref(),
            last,
            before: before.as_deref(),
        };
        let limits = *data::<Limits>(ctx)?;
        let window = window::window(&args, scope, limits)
            .map_err(|e| error(Code::BadUserInput, e.to_string()))?;
        let loader = data::<PageLoader>(ctx)?;
        let key = PageKey {
            list: ListId {
                client: self.id.clone(),
                filter,
            },
            window,
        };
        let slice = loader
            .try_load(key)
            .await
            .map_err(|e| error(Code::InternalServerError, e.to_string()))?
            .map_err(|e| match &*e {
                LoadError::Upstream(e) => upstream_error(e),
                too_many @ LoadError::TooManyCalls { .. } => {
                    error(Code::BadUserInput, too_many.to_string())
                }
            })?;
        Ok(Eager(LivePhotoConnection { slice, scope }))
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
    fn normalize(self) -> upstream::LivePhotoFilter {
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
