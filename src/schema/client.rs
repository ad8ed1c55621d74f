//! `Client`: a ComplyCube client, its live photos, and its details.
//!
//! The one thing to know: `id` and `livePhotos` need nothing but the id, so they cost no
//! lookup; every other field reads the one `GET /clients/:id` the request's loaders make
//! for this client, whatever the aliases and fragments that select it. Identity numbers
//! (`ssn` and the like) are not fields: they are not even read from ComplyCube's answer.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, ID};

use super::{
    connection::LivePhotoConnection,
    connection_cost,
    error::{data, error, upstream_error, FieldResult},
    query::LivePhotoFilter,
    scalars::DateTime,
};
use crate::{
    code::Code,
    executor::{Immediate, Shaped},
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

    /// Whether the query reads any of the client's details (anything but `id` and
    /// `livePhotos`), which cost a `GET /clients/:id`.
    pub(super) fn selects_details(ctx: &Context<'_>) -> bool {
        ctx.field()
            .selection_set()
            .any(|f| !matches!(f.name(), "id" | "livePhotos" | "__typename"))
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

/// A ComplyCube client: a person or company being verified. `id` and `livePhotos` cost no
/// lookup; the other fields come from one `GET /clients/:id` per client and request.
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
    ) -> FieldResult<Shaped<LivePhotoConnection>> {
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
        Ok(Shaped(LivePhotoConnection { slice, scope }))
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

    /// The day the client joined, `YYYY-MM-DD`, as ComplyCube sends it.
    async fn joined_date(&self, ctx: &Context<'_>) -> FieldResult<Option<String>> {
        Ok(self.details(ctx).await?.joined_date.clone())
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

/// `id` needs nothing but the id; `livePhotos` waits for its page and every other field
/// for the client's details.
impl Immediate for Client {
    fn waits(field: &str) -> bool {
        field != "id"
    }
}

/// What kind of entity a client is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    /// A natural person.
    Person,
    /// A company.
    Company,
}

/// A person's details. Identity numbers (`ssn`, `socialInsuranceNumber`,
/// `nationalIdentityNumber`, `taxIdentificationNumber`) are never exposed.
pub struct PersonDetails(Arc<ClientDetails>);

impl PersonDetails {
    fn get(
        &self,
        field: impl Fn(&crate::upstream::PersonDetails) -> &Option<String>,
    ) -> Option<&str> {
        self.0
            .person_details
            .as_ref()
            .and_then(|p| field(p).as_deref())
    }
}

/// A person's details as ComplyCube holds them, without identity numbers.
#[Object]
impl PersonDetails {
    /// First name.
    async fn first_name(&self) -> Option<&str> {
        self.get(|p| &p.first_name)
    }

    /// Middle name.
    async fn middle_name(&self) -> Option<&str> {
        self.get(|p| &p.middle_name)
    }

    /// Last name.
    async fn last_name(&self) -> Option<&str> {
        self.get(|p| &p.last_name)
    }

    /// Date of birth, `YYYY-MM-DD`, as ComplyCube sends it.
    async fn dob(&self) -> Option<&str> {
        self.get(|p| &p.dob)
    }

    /// Gender, as ComplyCube sends it (`male`, `female`, `other`).
    async fn gender(&self) -> Option<&str> {
        self.get(|p| &p.gender)
    }

    /// Nationality, an ISO 3166-1 alpha-2 country code.
    async fn nationality(&self) -> Option<&str> {
        self.get(|p| &p.nationality)
    }

    /// Country of birth, an ISO 3166-1 alpha-2 country code.
    async fn birth_country(&self) -> Option<&str> {
        self.get(|p| &p.birth_country)
    }
}

/// Read from the details already fetched.
impl Immediate for PersonDetails {}

/// A company's details.
pub struct CompanyDetails(Arc<ClientDetails>);

impl CompanyDetails {
    fn get(
        &self,
        field: impl Fn(&crate::upstream::CompanyDetails) -> &Option<String>,
    ) -> Option<&str> {
        self.0
            .company_details
            .as_ref()
            .and_then(|c| field(c).as_deref())
    }
}

/// A company's details as ComplyCube holds them.
#[Object]
impl CompanyDetails {
    /// The company's registered name.
    async fn name(&self) -> Option<&str> {
        self.get(|c| &c.name)
    }

    /// The company's website.
    async fn website(&self) -> Option<&str> {
        self.get(|c| &c.website)
    }

    /// The company's registration number.
    async fn registration_number(&self) -> Option<&str> {
        self.get(|c| &c.registration_number)
    }

    /// Where the company is incorporated, an ISO 3166-1 alpha-2 country code.
    async fn incorporation_country(&self) -> Option<&str> {
        self.get(|c| &c.incorporation_country)
    }

    /// The company's legal form, as ComplyCube sends it.
    async fn incorporation_type(&self) -> Option<&str> {
        self.get(|c| &c.incorporation_type)
    }
}

/// Read from the details already fetched.
impl Immediate for CompanyDetails {}
