//! Lookups by id: photos, clients, downloads. ComplyCube has no batch endpoint for them,
//! so a batch is the distinct ids of one tick, fetched concurrently (the upstream client
//! bounds how many calls are in flight), each once per request.

use std::{collections::HashMap, future::Future, marker::PhantomData, sync::Arc};

use dataloader::{cached::Loader, BatchFn};
use futures::future::join_all;

use super::{Listed, Loaded};
use crate::upstream::{
    self, ClientDetails, ClientId, LivePhoto, LivePhotoDownload, PhotoId, Session, Upstream,
};

/// What one kind of lookup fetches, and how.
pub trait Lookup: Send + Sync + 'static {
    /// The loader's name in metrics.
    const NAME: &'static str;
    type Key: Clone + Eq + std::hash::Hash + std::fmt::Debug + Send + Sync;
    type Value: Clone + Send + Sync;

    fn fetch(
        on: &On<'_>,
        key: &Self::Key,
    ) -> impl Future<Output = Result<Self::Value, upstream::Error>> + Send;
}

/// What a lookup may use: the upstream client, the request's session, what lists brought.
pub struct On<'a> {
    upstream: &'a Upstream,
    session: &'a Session,
    listed: &'a Listed,
}

/// `GET /livePhotos/:id`, unless a list of this request brought the photo.
pub struct PhotoLookup;

impl Lookup for PhotoLookup {
    const NAME: &'static str = "photos";
    type Key = PhotoId;
    type Value = Option<Arc<LivePhoto>>;

    async fn fetch(on: &On<'_>, id: &PhotoId) -> Result<Self::Value, upstream::Error> {
        // Lists of the same request may be fetching it right now: wait for them.
        on.listed.settled().await;
        if let Some(photo) = on.listed.find(id.as_str()) {
            return Ok(Some(photo));
        }
        Ok(on.upstream.live_photo(id, on.session).await?.map(Arc::new))
    }
}

/// `GET /clients/:id`.
pub struct ClientLookup;

impl Lookup for ClientLookup {
    const NAME: &'static str = "clients";
    type Key = ClientId;
    type Value = Option<Arc<ClientDetails>>;

    async fn fetch(on: &On<'_>, id: &ClientId) -> Result<Self::Value, upstream::Error> {
        Ok(on.upstream.client(id, on.session).await?.map(Arc::new))
    }
}

/// `GET /livePhotos/:id/download`.
pub struct DownloadLookup;

impl Lookup for DownloadLookup {
    const NAME: &'static str = "downloads";
    type Key = PhotoId;
    type Value = Arc<LivePhotoDownload>;

    async fn fetch(on: &On<'_>, id: &PhotoId) -> Result<Self::Value, upstream::Error> {
        Ok(Arc::new(
            on.upstream.download_live_photo(id, on.session).await?,
        ))
    }
}

pub type LookupLoader<L> =
    Loader<<L as Lookup>::Key, Loaded<<L as Lookup>::Value>, LookupBatcher<L>>;

pub(super) fn lookup_loader<L: Lookup>(
    upstream: Upstream,
    session: Arc<Session>,
    listed: Arc<Listed>,
) -> LookupLoader<L> {
    Loader::new(LookupBatcher {
        upstream,
        session,
        listed,
        lookup: PhantomData,
    })
    .with_max_batch_size(1024)
    .with_yield_count(1)
}

pub struct LookupBatcher<L> {
    upstream: Upstream,
    session: Arc<Session>,
    listed: Arc<Listed>,
    lookup: PhantomData<fn() -> L>,
}

impl<L: Lookup> BatchFn<L::Key, Loaded<L::Value>> for LookupBatcher<L> {
    async fn load(&mut self, keys: &[L::Key]) -> HashMap<L::Key, Loaded<L::Value>> {
        crate::metrics::loader_batch(L::NAME, keys.len());
        let on = On {
            upstream: &self.upstream,
            session: &self.session,
            listed: &self.listed,
        };
        let on = &on;
        join_all(
            keys.iter()
                .map(|key| async move { (key.clone(), L::fetch(on, key).await.map_err(Arc::new)) }),
        )
        .await
        .into_iter()
        .collect()
    }
}
