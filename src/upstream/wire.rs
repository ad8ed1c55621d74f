//! ComplyCube's wire format: the live photo, the list envelope, the error body.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Error;
use crate::pagination::PageRequest;

/// One live photo as ComplyCube sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePhoto {
    pub id: String,
    pub client_id: String,
    pub download_link: String,
    pub content_type: String,
    /// Absent in older API versions, where it meant `true`.
    #[serde(default = "default_true")]
    pub perform_liveness_check: bool,
    pub size: u32,
    #[serde(with = "millis_rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "millis_rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn default_true() -> bool {
    true
}

/// An instant ComplyCube sent, or `chrono`'s word on why it is none.
fn instant<E: serde::de::Error>(text: &str) -> Result<DateTime<Utc>, E> {
    crate::upstream::parse_instant(text).map_err(E::custom)
}

/// ComplyCube's date format on the wire: RFC 3339, UTC, milliseconds.
pub mod millis_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::upstream::format_instant(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::instant(&text)
    }
}

/// The list envelope: `{"page","pageSize","totalItems","pages","items"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePhotoPage {
    pub page: u64,
    pub page_size: u32,
    pub total_items: u64,
    pub pages: u64,
    pub items: Vec<LivePhoto>,
}

/// `GET /livePhotos/:id/download`: the image, base64-encoded (standard alphabet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePhotoDownload {
    pub file_name: String,
    pub content_type: String,
    pub data: String,
}

/// `GET /clients/:id`, as far as this service exposes it.
///
/// Identity numbers (`ssn`, `socialInsuranceNumber`, `nationalIdentityNumber`,
/// `taxIdentificationNumber`) and `metadata` are deliberately not fields here: what is
/// never read cannot leak, under any name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientDetails {
    pub id: String,
    /// `person` or `company`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub entity_name: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub telephone: Option<String>,
    pub external_id: Option<String>,
    /// `YYYY-MM-DD`, as ComplyCube sends it.
    pub joined_date: Option<String>,
    pub person_details: Option<PersonDetails>,
    pub company_details: Option<CompanyDetails>,
    #[serde(default, with = "optional_millis")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, with = "optional_millis")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A person's details, without identity numbers (see [`ClientDetails`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonDetails {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<String>,
    pub gender: Option<String>,
    pub nationality: Option<String>,
    pub birth_country: Option<String>,
}

/// A company's details.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyDetails {
    pub name: Option<String>,
    pub website: Option<String>,
    pub registration_number: Option<String>,
    pub incorporation_country: Option<String>,
    pub incorporation_type: Option<String>,
}

/// An optional date in ComplyCube's format; `null` or absent is `None`.
mod optional_millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.serialize_str(&crate::upstream::format_instant(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(text) = Option::<std::borrow::Cow<'de, str>>::deserialize(d)? else {
            return Ok(None);
        };
        super::instant(&text).map(Some)
    }
}

/// ComplyCube's error body: `{"type","message","param"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// A page must hold exactly the items its own `totalItems` says are at its positions, and
/// sizes must fit GraphQL's `Int`.
pub(super) fn check_page(body: &LivePhotoPage, asked: PageRequest) -> Result<(), Error> {
    // Positions and `totalCount` are 32-bit; no client has two billion selfies.
    if i32::try_from(body.total_items).is_err() {
        return Err(Error::InvalidResponse(format!(
            "totalItems {} is not a plausible count",
            body.total_items
        )));
    }
    let start = asked.offset();
    let expected = body
        .total_items
        .saturating_sub(start)
        .min(u64::from(asked.size));
    let got = body.items.len() as u64;
    if got != expected {
        return Err(Error::InvalidResponse(format!(
            "page {} of size {} held {got} items where totalItems {} means {expected}",
            asked.page, asked.size, body.total_items
        )));
    }
    if let Some(item) = body.items.iter().find(|i| i32::try_from(i.size).is_err()) {
        return Err(Error::InvalidResponse(format!(
            "live photo {} has an impossible size {}",
            item.id, item.size
        )));
    }
    Ok(())
}
