//! A client's details: what kind of entity it is, and a person's or a company's particulars.
//!
//! The one thing to know: everything here reads the details the client's one lookup
//! brought; identity numbers are never exposed (not even read).

use std::sync::Arc;

use async_graphql::{Enum, Object};

use super::{
    error::FieldResult,
    scalars::{upstream_day, Date},
};
use crate::{executor::Immediate, upstream::ClientDetails};

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
pub struct PersonDetails(pub(super) Arc<ClientDetails>);

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

    /// Date of birth.
    async fn dob(&self) -> FieldResult<Option<Date>> {
        upstream_day(self.get(|p| &p.dob))
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
pub struct CompanyDetails(pub(super) Arc<ClientDetails>);

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
