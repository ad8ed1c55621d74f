//! `Client`: a ComplyCube client, its live photos, and its details.
//!
//! The one thing to know: `id`, `complyCubeId` and `livePhotos` need nothing but the id,
//! so they cost no lookup; every other field reads the one `GET /clients/:id` the
//! request's loaders make for this client, whatever the aliases and fragments that select
//! it. Identity numbers (`ssn` and the like) are not fields: they are not even read from
//! ComplyCube's answer.

use std::sync::Arc;

use async_graphql::{Context, Object, ID};

use super::{
    connection::LivePhotoConnection,
    connection_cost,
    details::{ClientType, CompanyDetails, PersonDetails},
    error::{data, error, upstream_error, FieldResult},
    filter::LivePhotoFilter,
    global_id::{global_id, Kind},
    scalars::{upstream_day, Date, DateTime},
};
use crate::{
    auth::Caller,
    code::Code,
    executor::{walk, Immediate, Shaped},
    loader::{ListId, Loaders, PageKey},
    pagination::{window, Limits, RelayArgs, Scope},
    upstream::{ClientDetails, ClientId},
};

pub struct Client {
    id: ClientId,
}

impl Client {
    pub(super) fn new(id: ClientId) -> Self {
        Self { id }
    }

    /// The client `id` names, as the caller may see it: `FORBIDDEN` for a client outside
    /// the caller's scope, before any upstream call; `None` when the field resolved in
    /// `ctx` reads any of the client's details and ComplyCube has no such client.
    /// Selecting only what needs no lookup costs none: an unknown id then shows as
    /// `NOT_FOUND` on `livePhotos`.
    pub(super) async fn reach(ctx: &Context<'_>, id: ClientId) -> FieldResult<Option<Self>> {
        if !data::<Caller>(ctx)?.may_read(id.as_str()) {
            crate::metrics::auth_refused("client_out_of_scope");
            return Err(error(
                Code::Forbidden,
                format!("this token may not read client `{id}`"),
            ));
        }
        let client = Self::new(id);
        if Self::selects_details(ctx) && client.lookup(ctx).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(client))
    }

    /// Whether the field resolved in `ctx` reads, on a `Client`, anything that costs the
    /// `GET /clients/:id` (what [`Immediate::waits`] names, but `livePhotos`). Fragments
    /// count by the executor's rule: one on `LivePhoto` inside `node` does not.
    fn selects_details(ctx: &Context<'_>) -> bool {
        let selection = &ctx.item.node.selection_set.node;
        let fragments = &ctx.query_env.fragments;
        let registry = &ctx.schema_env.registry;
        let found = walk::fields(
            fragments,
            registry,
            "Client",
            selection,
            &mut |field| match field.node.name.node.as_str() {
                "livePhotos" | "__typename" => std::ops::ControlFlow::Continue(()),
                name if Self::waits(name) => std::ops::ControlFlow::Break(()),
                _ => std::ops::ControlFlow::Continue(()),
            },
        );
        matches!(found, Ok(std::ops::ControlFlow::Break(())))
    }

    /// Its global id, for `Node.id`.
    pub(super) async fn node_id(&self, _: &Context<'_>) -> async_graphql::Result<ID> {
        Ok(global_id(Kind::Client, self.id.as_str()))
    }

    /// The client's details, fetched once per request; `None` when ComplyCube has no
    /// such client.
    pub(super) async fn lookup(
        &self,
        ctx: &Context<'_>,
    ) -> FieldResult<Option<Arc<ClientDetails>>> {
        let loaders = data::<Arc<Loaders>>(ctx)?;
        loaders
            .client(self.id.clone())
            .await
            .map_err(|e| upstream_error(&e))
    }

    /// The client's details, or `NOT_FOUND` when ComplyCube has no such client.
    async fn details(&self, ctx: &Context<'_>) -> FieldResult<Arc<ClientDetails>> {
        self.lookup(ctx).await?.ok_or_else(|| {
            error(
                Code::NotFound,
                format!("ComplyCube has no client '{}'", self.id),
            )
        })
    }
}

/// A ComplyCube client: a person or company being verified. `id`, `complyCubeId` and
/// `livePhotos` cost no lookup; the other fields come from one `GET /clients/:id` per
/// client and request.
#[Object]
impl Client {
    /// The client's global id (Relay's Object Identification): opaque, stable, and what
    /// `node(id:)` takes. ComplyCube's own id is `complyCubeId`.
    async fn id(&self) -> ID {
        global_id(Kind::Client, self.id.as_str())
    }

    /// ComplyCube's client id, e.g. `5eb1276d96be4a0008713af5`.
    async fn comply_cube_id(&self) -> ID {
        ID(self.id.as_str().to_owned())
    }

    /// The client's live photos (selfies taken for liveness checks), newest first, as a
    /// Relay cursor connection. Without `first` or `last`, the first 20. Null, with an
    /// error, when the page cannot be had: the client's other fields still answer.
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
    ) -> FieldResult<Option<Shaped<LivePhotoConnection>>> {
        let filter = filter.map(LivePhotoFilter::normalize).unwrap_or_default();
        let scope = Scope::of(&[self.id.as_str().as_bytes(), &filter.fingerprint_bytes()]);
        let args = RelayArgs {
            first,
            after: after.as_deref(),
            last,
            before: before.as_deref(),
        };
        let limits = *data::<Limits>(ctx)?;
        let ask = window::ask(&args, scope, limits)
            .map_err(|e| error(Code::BadUserInput, e.to_string()))?;
        let loaders = data::<Arc<Loaders>>(ctx)?;
        let key = PageKey {
            list: ListId {
                client: self.id.clone(),
                filter,
            },
            ask,
        };
        let slice = loaders.page(key).await.map_err(|e| upstream_error(&e))?;
        Ok(Some(Shaped(LivePhotoConnection { slice, scope })))
    }

    /// Whether the client is a person or a company.
    #[graphql(name = "type")]
    async fn kind(&self, ctx: &Context<'_>) -> FieldResult<Option<ClientType>> {
        Ok(match self.details(ctx).await?.kind.as_deref() {
            Some("person") => Some(ClientType::Person),
            Some("company") => Some(ClientType::Company),
            _ => None,
        })
    }

    /// The person's or company's name as ComplyCube shows it.
    async fn entity_name(&self, ctx: &Context<'_>) -> FieldResult<Option<String>> {
        Ok(self.details(ctx).await?.entity_name.clone())
    }

    /// The client's email address.
    async fn email(&self, ctx: &Context<'_>) -> FieldResult<Option<String>> {
        Ok(self.details(ctx).await?.email.clone())
    }

    /// The client's mobile number.
    async fn mobile(&self, ctx: &Context<'_>) -> FieldResult<Option<String>> {
        Ok(self.details(ctx).await?.mobile.clone())
    }

    /// The client's telephone number.
    async fn telephone(&self, ctx: &Context<'_>) -> FieldResult<Option<String>> {
        Ok(self.details(ctx).await?.telephone.clone())
    }

    /// Your own id for this client, as given to ComplyCube.
    async fn external_id(&self, ctx: &Context<'_>) -> FieldResult<Option<String>> {
        Ok(self.details(ctx).await?.external_id.clone())
    }

    /// The day the client joined.
    async fn joined_date(&self, ctx: &Context<'_>) -> FieldResult<Option<Date>> {
        upstream_day(self.details(ctx).await?.joined_date.as_deref())
    }

    /// A person's details (identity numbers are never exposed); null for a company.
    async fn person_details(
        &self,
        ctx: &Context<'_>,
    ) -> FieldResult<Option<Shaped<PersonDetails>>> {
        let details = self.details(ctx).await?;
        Ok(details
            .person_details
            .is_some()
            .then_some(Shaped(PersonDetails(details))))
    }

    /// A company's details; null for a person.
    async fn company_details(
        &self,
        ctx: &Context<'_>,
    ) -> FieldResult<Option<Shaped<CompanyDetails>>> {
        let details = self.details(ctx).await?;
        Ok(details
            .company_details
            .is_some()
            .then_some(Shaped(CompanyDetails(details))))
    }

    /// When the client was created in ComplyCube.
    async fn created_at(&self, ctx: &Context<'_>) -> FieldResult<Option<DateTime>> {
        Ok(self.details(ctx).await?.created_at.map(DateTime))
    }

    /// When the client was last changed in ComplyCube.
    async fn updated_at(&self, ctx: &Context<'_>) -> FieldResult<Option<DateTime>> {
        Ok(self.details(ctx).await?.updated_at.map(DateTime))
    }
}

/// `id` and `complyCubeId` need nothing but the id; `livePhotos` waits for its page and
/// every other field for the client's details.
impl Immediate for Client {
    fn waits(field: &str) -> bool {
        !matches!(field, "id" | "complyCubeId")
    }
}
