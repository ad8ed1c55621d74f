//! The typed endpoints: what to ask ComplyCube for, and the checks on what comes back.
//! Each goes through the one request path ([`Upstream::call_all`] / `call_one`).

use std::future::Future;

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    wire, ClientDetails, ClientId, Error, LivePhoto, LivePhotoDownload, LivePhotoFilter,
    LivePhotoPage, PhotoId, Session, Upstream,
};
use crate::{
    cache::{EntryKey, Kind},
    pagination::PageRequest,
};

/// One upstream request: which resource, with which parameters.
#[derive(Clone, Copy, Debug)]
pub enum Endpoint<'a> {
    /// `GET /livePhotos?clientId&page&pageSize&filters`
    List {
        client: &'a ClientId,
        filter: &'a LivePhotoFilter,
        page: PageRequest,
    },
    /// `GET /livePhotos/:id`
    Photo(&'a PhotoId),
    /// `GET /livePhotos/:id/download`
    Download(&'a PhotoId),
    /// `GET /clients/:id`
    Client(&'a ClientId),
}

impl Endpoint<'_> {
    /// A short, bounded name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::List { .. } => "list_live_photos",
            Self::Photo(_) => "get_live_photo",
            Self::Download(_) => "download_live_photo",
            Self::Client(_) => "get_client",
        }
    }

    pub(super) fn url(&self, upstream: &Upstream) -> reqwest::Url {
        let (mut url, segments): (_, &[&str]) = match self {
            Self::List {
                client,
                filter,
                page,
            } => {
                let mut url = upstream.list_url.clone();
                url.query_pairs_mut()
                    .append_pair("clientId", client.as_str())
                    .append_pair("page", &page.page.to_string())
                    .append_pair("pageSize", &page.size.to_string())
                    .extend_pairs(filter.query_pairs());
                return url;
            }
            Self::Photo(id) => (upstream.base.clone(), &["livePhotos", id.as_str()]),
            Self::Download(id) => (
                upstream.base.clone(),
                &["livePhotos", id.as_str(), "download"],
            ),
            Self::Client(id) => (upstream.base.clone(), &["clients", id.as_str()]),
        };
        // Each id is one escaped segment: `../x` or `a/b` cannot reach another path.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The largest body accepted from this endpoint. A download carries the image in
    /// base64 (4 characters per 3 bytes) inside a small JSON envelope.
    pub(super) fn max_body_bytes(&self, upstream: &Upstream) -> usize {
        match self {
            Self::Download(_) => upstream.max_download_bytes / 3 * 4 + 64 * 1024,
            _ => upstream.max_body_bytes,
        }
    }
}

impl Upstream {
    /// Pages of a client's live photos, newest first, each checked for consistency, all
    /// sent concurrently. The outer error: the request's call budget cannot cover them
    /// (then none was sent).
    pub async fn list_live_photos(
        &self,
        client: &ClientId,
        filter: &LivePhotoFilter,
        pages: &[PageRequest],
        session: &Session,
    ) -> Result<Vec<Result<LivePhotoPage, Error>>, Error> {
        let endpoints: Vec<_> = pages
            .iter()
            .map(|&page| Endpoint::List {
                client,
                filter,
                page,
            })
            .collect();
        self.call_all(&endpoints, session, |endpoint, body| match endpoint {
            Endpoint::List { page, .. } => {
                let parsed = parse_page(&body, *page)?;
                // A photo of another client in this client's list would be served under
                // this client's id (and its scope): refuse the answer instead.
                if parsed.items.iter().any(|p| p.client_id != client.as_str()) {
                    return Err(Error::InvalidResponse(format!(
                        "the list of client {client} holds another client's photo"
                    )));
                }
                Ok(parsed)
            }
            _ => Err(Error::InvalidResponse("not a list".into())),
        })
        .await
    }

    /// One live photo; `None` when ComplyCube answers 404.
    pub async fn live_photo(
        &self,
        id: &PhotoId,
        session: &Session,
    ) -> Result<Option<LivePhoto>, Error> {
        let fetch = self.fetch_live_photo(id, session);
        self.cached(session, Kind::Photo, id.as_str(), fetch).await
    }

    async fn fetch_live_photo(
        &self,
        id: &PhotoId,
        session: &Session,
    ) -> Result<Option<LivePhoto>, Error> {
        let endpoint = Endpoint::Photo(id);
        self.fetch_by_id(&endpoint, session, id.as_str(), |p: &LivePhoto| &p.id)
            .await
    }

    /// A live photo's image, its base64 checked and its decoded size within
    /// [`Upstream::max_download_bytes`].
    pub async fn download_live_photo(
        &self,
        id: &PhotoId,
        session: &Session,
    ) -> Result<LivePhotoDownload, Error> {
        // A 404 evicts like any lookup's, and is still the caller's error.
        let mut gone = None;
        let fetch = async {
            match self.fetch_download(id, session).await {
                Err(e) if e.is_not_found() => {
                    gone = Some(e);
                    Ok(None)
                }
                other => other.map(Some),
            }
        };
        let cached = self
            .cached(session, Kind::Download, id.as_str(), fetch)
            .await?;
        cached.ok_or_else(|| {
            gone.unwrap_or_else(|| Error::InvalidResponse("the download vanished".into()))
        })
    }

    async fn fetch_download(
        &self,
        id: &PhotoId,
        session: &Session,
    ) -> Result<LivePhotoDownload, Error> {
        let limit = self.max_download_bytes;
        let read = |body: Vec<u8>| {
            let download: LivePhotoDownload = parse(&body, "the download")?;
            let bytes = STANDARD.decode(download.data.as_bytes()).map_err(|e| {
                Error::InvalidResponse(format!("the image data is not base64: {e}"))
            })?;
            if bytes.len() > limit {
                return Err(Error::ImageTooLarge { limit });
            }
            Ok(download)
        };
        match self.call_one(&Endpoint::Download(id), session, read).await {
            Err(Error::TooLarge { .. }) => Err(Error::ImageTooLarge { limit }),
            other => other,
        }
    }

    /// A client's details; `None` when ComplyCube answers 404.
    pub async fn client(
        &self,
        id: &ClientId,
        session: &Session,
    ) -> Result<Option<ClientDetails>, Error> {
        let fetch = self.fetch_client(id, session);
        self.cached(session, Kind::Client, id.as_str(), fetch).await
    }

    /// Through the cache, when there is one: a cached answer costs no call; a fresh one is
    /// kept; a 404 (`None`) evicts what was kept for that id (for a photo, its image too).
    async fn cached<T: Serialize + DeserializeOwned>(
        &self,
        session: &Session,
        kind: Kind,
        id: &str,
        fetch: impl Future<Output = Result<Option<T>, Error>>,
    ) -> Result<Option<T>, Error> {
        let Some(cache) = &self.cache else {
            return fetch.await;
        };
        let key_id = self.key_id(session);
        let seal = self.seal_key(session);
        let key = EntryKey::new(key_id, kind, &[id.as_bytes()]);
        if let Some(hit) = cache.get(key, seal).await {
            return Ok(Some(hit));
        }
        let fresh = fetch.await?;
        match &fresh {
            Some(value) => cache.put(key, seal, value).await,
            None => {
                cache.evict(key).await;
                if kind == Kind::Photo {
                    cache
                        .evict(EntryKey::new(key_id, Kind::Download, &[id.as_bytes()]))
                        .await;
                }
            }
        }
        Ok(fresh)
    }

    async fn fetch_client(
        &self,
        id: &ClientId,
        session: &Session,
    ) -> Result<Option<ClientDetails>, Error> {
        let endpoint = Endpoint::Client(id);
        self.fetch_by_id(&endpoint, session, id.as_str(), |c: &ClientDetails| &c.id)
            .await
    }

    /// One resource by id, checked to be the one asked for; `None` on 404.
    async fn fetch_by_id<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<'_>,
        session: &Session,
        asked: &str,
        id_of: impl Fn(&T) -> &str,
    ) -> Result<Option<T>, Error> {
        let read = |body: Vec<u8>| {
            let value: T = parse(&body, endpoint.name())?;
            if id_of(&value) != asked {
                return Err(Error::InvalidResponse(format!(
                    "{} asked for {asked} and got another",
                    endpoint.name()
                )));
            }
            Ok(value)
        };
        match self.call_one(endpoint, session, read).await {
            Err(e) if e.is_not_found() => Ok(None),
            other => other.map(Some),
        }
    }
}

fn parse_page(body: &[u8], page: PageRequest) -> Result<LivePhotoPage, Error> {
    let parsed: LivePhotoPage = parse(body, "the live-photo list")?;
    wire::check_page(&parsed, page)?;
    Ok(parsed)
}

/// Parses a body with sonic-rs (SIMD; a page is mostly strings). Its message quotes the
/// body around the fault on the lines after the first: photo data stays out of errors.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    sonic_rs::from_slice(body).map_err(|e| {
        let e = e.to_string();
        let e = e.lines().next().unwrap_or_default();
        Error::InvalidResponse(format!("{what} did not parse: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::UpstreamSettings;

    #[test]
    fn documented_example_parses_and_old_versions_default_liveness() {
        let body = br#"{"page":1,"pageSize":100,"totalItems":1,"pages":1,"items":[{
            "id":"5eb1b5f231778a0008d1c3f6","clientId":"5eb1276d96be4a0008713af5",
            "downloadLink":"/livePhotos/5eb1b5f231778a0008d1c3f6/download",
            "contentType":"images/jpg","size":44896,
            "createdAt":"2020-01-01T14:06:44.756Z","updatedAt":"2020-01-01T14:06:44.756Z"}]}"#;
        let page = parse_page(body, PageRequest { page: 1, size: 100 }).unwrap();
        assert!(page.items[0].perform_liveness_check);
        assert_eq!(
            page.items[0].created_at.timestamp_millis(),
            1_577_887_604_756
        );
        let err = parse_page(body, PageRequest { page: 2, size: 100 }).unwrap_err();
        assert!(err.to_string().contains("held 1 items"), "{err}");
    }

    #[test]
    fn ids_are_one_escaped_path_segment() {
        let upstream = Upstream::new(&UpstreamSettings::new("http://x/v1/", None)).unwrap();
        let id = PhotoId::parse("../clients/a b?c").unwrap();
        assert_eq!(
            Endpoint::Download(&id).url(&upstream).as_str(),
            "http://x/v1/livePhotos/..%2Fclients%2Fa%20b%3Fc/download"
        );
        let client = ClientId::parse("5eb1276d96be4a0008713af5").unwrap();
        assert_eq!(
            Endpoint::Client(&client).url(&upstream).as_str(),
            "http://x/v1/clients/5eb1276d96be4a0008713af5"
        );
    }

    #[test]
    fn client_details_never_read_identity_numbers() {
        let body = br#"{"id":"c1","type":"person","entityName":"John Doe",
            "personDetails":{"firstName":"John","lastName":"Doe","ssn":"111-22-3333",
            "socialInsuranceNumber":"1","nationalIdentityNumber":"2","taxIdentificationNumber":"3"},
            "metadata":{"k":"v"},"createdAt":"2020-01-01T14:06:44.756Z"}"#;
        let client: ClientDetails = parse(body, "the client").unwrap();
        assert_eq!(client.kind.as_deref(), Some("person"));
        let printed = format!("{client:?}");
        for secret in [
            "111-22-3333",
            "socialInsurance",
            "nationalIdentity",
            "taxIdent",
        ] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
