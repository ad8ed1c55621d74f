//! The demo clients' details, as `GET /v1/clients/:id` answers them: one ComplyCube client
//! object for every client of the demo data (seven persons, three companies).
//!
//! The one thing to know: absent optional fields are left out, as ComplyCube leaves them
//! out, and some persons carry identity numbers (`ssn`, `socialInsuranceNumber`,
//! `nationalIdentityNumber`, `taxIdentificationNumber`) so tests can check the facade never
//! passes them on; the documented client John Doe has all four. Clients that only exist
//! because photos were added to them at run time have no details (404 here).

use std::{collections::HashMap, sync::LazyLock};

use serde_json::{json, Value};

use super::data::DOCUMENTED_CLIENT;

/// The demo clients that are companies; every other demo client is a person.
pub const COMPANIES: &[&str] = &[
    "5f1e0a3c9d2b4a0008a10003",
    "5f1e0a3c9d2b4a0008a104e2",
    "5f1e0a3c9d2b4a0008a10064",
];

/// The client object ComplyCube's `GET /v1/clients/:id` would answer for a demo client.
pub fn demo_client(id: &str) -> Option<&'static Value> {
    CLIENTS.get(id)
}

/// Every demo client's id.
pub fn demo_client_ids() -> impl Iterator<Item = &'static str> {
    CLIENTS.keys().map(String::as_str)
}

static CLIENTS: LazyLock<HashMap<String, Value>> = LazyLock::new(|| {
    all()
        .into_iter()
        .filter_map(|client| Some((client["id"].as_str()?.to_owned(), client)))
        .collect()
});

fn all() -> Vec<Value> {
    vec![
        json!({
            "id": DOCUMENTED_CLIENT,
            "type": "person",
            "entityName": "John Doe",
            "email": "john.doe@example.com",
            "mobile": "+447900900123",
            "telephone": "+442079460123",
            "externalId": "crm-0001",
            "joinedDate": "2020-01-01",
            "personDetails": {
                "firstName": "John",
                "lastName": "Doe",
                "dob": "1990-01-01",
                "gender": "male",
                "nationality": "GB",
                "birthCountry": "GB",
                "ssn": "111-22-3333",
                "socialInsuranceNumber": "046 454 286",
                "nationalIdentityNumber": "QQ123456C",
                "taxIdentificationNumber": "1234567890"
            },
            "metadata": { "source": "ComplyCube documentation" },
            "createdAt": "2020-01-01T13:58:12.318Z",
            "updatedAt": "2020-01-01T13:58:12.318Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10000",
            "type": "person",
            "entityName": "Amara Okafor",
            "email": "amara.okafor@example.com",
            "joinedDate": "2021-02-20",
            "personDetails": {
                "firstName": "Amara",
                "lastName": "Okafor",
                "dob": "1988-07-14",
                "gender": "female",
                "nationality": "NG"
            },
            "createdAt": "2021-02-20T09:12:40.101Z",
            "updatedAt": "2021-02-20T09:12:40.101Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10003",
            "type": "company",
            "entityName": "Northwind Traders Ltd",
            "email": "compliance@northwind.example.com",
            "telephone": "+442079460000",
            "externalId": "crm-0003",
            "joinedDate": "2021-02-21",
            "companyDetails": {
                "name": "Northwind Traders Ltd",
                "website": "https://northwind.example.com",
                "registrationNumber": "09876543",
                "incorporationCountry": "GB",
                "incorporationType": "private_limited_company"
            },
            "metadata": { "segment": "wholesale" },
            "createdAt": "2021-02-21T10:30:00.250Z",
            "updatedAt": "2021-02-25T16:02:11.907Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10007",
            "type": "person",
            "entityName": "Lukas Schneider",
            "email": "lukas.schneider@example.com",
            "mobile": "+4915112345678",
            "joinedDate": "2021-02-22",
            "personDetails": {
                "firstName": "Lukas",
                "lastName": "Schneider",
                "dob": "1979-11-03",
                "gender": "male",
                "nationality": "DE",
                "birthCountry": "AT",
                "nationalIdentityNumber": "T22000129",
                "taxIdentificationNumber": "65929970489"
            },
            "metadata": { "tier": "gold" },
            "createdAt": "2021-02-22T08:45:19.333Z",
            "updatedAt": "2021-02-22T08:45:19.333Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a1000c",
            "type": "person",
            "entityName": "Sofía Elena Márquez",
            "email": "sofia.marquez@example.com",
            "mobile": "+34612345678",
            "externalId": "crm-000c",
            "joinedDate": "2021-02-23",
            "personDetails": {
                "firstName": "Sofía",
                "middleName": "Elena",
                "lastName": "Márquez",
                "dob": "1995-05-28",
                "gender": "female",
                "nationality": "ES",
                "birthCountry": "AR"
            },
            "createdAt": "2021-02-23T12:00:05.004Z",
            "updatedAt": "2021-03-02T07:41:56.620Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10025",
            "type": "person",
            "entityName": "Kenji Tanaka",
            "email": "kenji.tanaka@example.com",
            "mobile": "+819012345678",
            "joinedDate": "2021-02-24",
            "personDetails": {
                "firstName": "Kenji",
                "lastName": "Tanaka",
                "dob": "1983-02-09",
                "gender": "male",
                "nationality": "JP"
            },
            "createdAt": "2021-02-24T03:17:52.718Z",
            "updatedAt": "2021-02-24T03:17:52.718Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a104e2",
            "type": "company",
            "entityName": "Globex Corporation",
            "email": "kyc@globex.example.com",
            "telephone": "+15555550100",
            "externalId": "crm-04e2",
            "joinedDate": "2021-02-25",
            "companyDetails": {
                "name": "Globex Corporation",
                "website": "https://globex.example.com",
                "registrationNumber": "C0806592",
                "incorporationCountry": "US",
                "incorporationType": "corporation"
            },
            "metadata": { "segment": "enterprise", "region": "NA" },
            "createdAt": "2021-02-25T15:20:33.871Z",
            "updatedAt": "2021-02-25T15:20:33.871Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10014",
            "type": "person",
            "entityName": "Chloé Martin",
            "email": "chloe.martin@example.com",
            "joinedDate": "2021-02-26",
            "personDetails": {
                "firstName": "Chloé",
                "lastName": "Martin",
                "dob": "2001-09-17",
                "gender": "female",
                "nationality": "FR",
                "nationalIdentityNumber": "880692310285"
            },
            "createdAt": "2021-02-26T11:11:11.111Z",
            "updatedAt": "2021-02-26T11:11:11.111Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10032",
            "type": "person",
            "entityName": "Liam O'Brien",
            "email": "liam.obrien@example.com",
            "mobile": "+16135550199",
            "telephone": "+16135550100",
            "joinedDate": "2021-02-27",
            "personDetails": {
                "firstName": "Liam",
                "middleName": "Patrick",
                "lastName": "O'Brien",
                "dob": "1972-12-31",
                "gender": "male",
                "nationality": "CA",
                "birthCountry": "IE",
                "socialInsuranceNumber": "130 692 544"
            },
            "metadata": {},
            "createdAt": "2021-02-27T18:05:44.020Z",
            "updatedAt": "2021-02-27T18:05:44.020Z"
        }),
        json!({
            "id": "5f1e0a3c9d2b4a0008a10064",
            "type": "company",
            "entityName": "Initech AG",
            "email": "onboarding@initech.example.com",
            "joinedDate": "2021-02-28",
            "companyDetails": {
                "name": "Initech AG",
                "registrationNumber": "CHE-123.456.789",
                "incorporationCountry": "CH",
                "incorporationType": "public_limited_company"
            },
            "createdAt": "2021-02-28T06:59:59.999Z",
            "updatedAt": "2021-02-28T06:59:59.999Z"
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::data::{demo_photos, DEMO_CLIENTS};

    #[test]
    fn every_demo_client_has_details_and_nothing_else_does() {
        let mut with_photos: Vec<&str> = DEMO_CLIENTS.iter().map(|(id, _)| *id).collect();
        with_photos.push(DOCUMENTED_CLIENT);
        with_photos.sort();
        let mut with_details: Vec<&str> = demo_client_ids().collect();
        with_details.sort();
        assert_eq!(with_details, with_photos);
        assert_eq!(demo_photos().len(), with_details.len());
        assert!(demo_client("5f1e0a3c9d2b4a0008a1ffff").is_none());
    }

    #[test]
    fn clients_have_the_shape_of_their_type() {
        for id in demo_client_ids() {
            let client = &demo_client(id).unwrap();
            let company = COMPANIES.contains(&id);
            assert_eq!(client["type"], if company { "company" } else { "person" });
            assert_eq!(client.get("companyDetails").is_some(), company, "{id}");
            assert_eq!(client.get("personDetails").is_some(), !company, "{id}");
            assert!(client.as_object().unwrap().values().all(|v| !v.is_null()));
            for field in ["createdAt", "updatedAt"] {
                let text = client[field].as_str().unwrap();
                let parsed = chrono::DateTime::parse_from_rfc3339(text).unwrap();
                assert_eq!(crate::upstream::format_instant(&parsed.to_utc()), text);
            }
            let joined = client["joinedDate"].as_str().unwrap();
            assert!(chrono::NaiveDate::parse_from_str(joined, "%Y-%m-%d").is_ok());
        }
    }

    #[test]
    fn the_documented_client_is_john_doe_with_every_identity_number() {
        let john = demo_client(DOCUMENTED_CLIENT).unwrap();
        assert_eq!(john["entityName"], "John Doe");
        assert_eq!(john["email"], "john.doe@example.com");
        assert_eq!(john["joinedDate"], "2020-01-01");
        assert_eq!(john["personDetails"]["dob"], "1990-01-01");
        assert_eq!(john["personDetails"]["nationality"], "GB");
        for number in [
            "ssn",
            "socialInsuranceNumber",
            "nationalIdentityNumber",
            "taxIdentificationNumber",
        ] {
            assert!(john["personDetails"][number].is_string(), "{number}");
        }
    }
}
