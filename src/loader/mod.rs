//! One GraphQL request's loaders: pages of lists, photos, clients and downloads, sharing
//! one [`Session`] (deadline and call budget) and what they have fetched.
//!
//! The one thing to know: [`Loaders`] lives exactly as long as one HTTP request (the
//! dataloader crate's caches never expire), and everything in it is per request, so
//! requests never share results. Within a request, every id is fetched once, whatever the
//! aliases, fragments or batched operations that ask for it, and a photo that a list
//! already brought costs no lookup.

mod fetch;
mod lookups;
mod pages;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex, OnceLock,
};

use tokio::sync::Notify;

pub use fetch::ListId;
pub use lookups::{ClientLookup, DownloadLookup, Lookup, PhotoLookup};
pub use pages::{PageKey, PageLoader, Slice, SliceResult};

use crate::upstream::{
    self, ClientDetails, ClientId, LivePhoto, LivePhotoDownload, PhotoId, Session, Upstream,
};

/// What a lookup loads, or why it could not: shared by every field that asked.
pub type Loaded<T> = Result<T, Arc<upstream::Error>>;

/// The loaders of one GraphQL request. Lookup loaders are made on first use: a request
/// that only lists photos pays for none of them.
pub struct Loaders {
    upstream: Upstream,
    session: Arc<Session>,
    listed: Arc<Listed>,
    pages: PageLoader,
    photos: OnceLock<lookups::LookupLoader<PhotoLookup>>,
    clients: OnceLock<lookups::LookupLoader<ClientLookup>>,
    downloads: OnceLock<lookups::LookupLoader<DownloadLookup>>,
    /// Loads asked of any loader, answered from its cache or not.
    asked: AtomicUsize,
    /// Bytes of images that `download` may still put in this request's answer: the sum
    /// over every selection of its `base64Data` and `dataUrl`, not per alias
    /// (`--max-download-bytes`).
    download_bytes_left: AtomicUsize,
}

impl Loaders {
    pub fn new(upstream: Upstream, session: Session) -> Self {
        let session = Arc::new(session);
        let listed = Arc::new(Listed::default());
        Self {
            pages: pages::page_loader(upstream.clone(), session.clone(), listed.clone()),
            session,
            listed,
            photos: OnceLock::new(),
            clients: OnceLock::new(),
            downloads: OnceLock::new(),
            asked: AtomicUsize::new(0),
            download_bytes_left: AtomicUsize::new(upstream.max_download_bytes()),
            upstream,
        }
    }

    /// Takes `bytes` from what this request's downloads may still return, or none of it
    /// (the error says the whole budget) when fewer are left.
    pub fn spend_download(&self, bytes: usize) -> Result<(), usize> {
        self.download_bytes_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(bytes)
            })
            .map(drop)
            .map_err(|_| self.upstream.max_download_bytes())
    }

    /// How many loads this request's resolvers have asked for, whether a loader answered
    /// from what it held or fetched: which fields wait on a loader (`executor::Immediate`
    /// must name them, and the schema's tests check it with this).
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::Relaxed)
    }

    /// The request's session (its deadline, budget and request id).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// One window of a list.
    pub async fn page(&self, key: PageKey) -> SliceResult {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let _pending = self.listed.pending();
        self.pages.try_load(key).await.unwrap_or_else(lost)
    }

    /// Puts a known answer in place, as if fetched (benchmarks measure resolution alone).
    pub async fn prime_page(&self, key: PageKey, value: SliceResult) {
        self.pages.prime(key, value).await;
    }

    /// A live photo by id; `None` when ComplyCube has no such photo.
    pub async fn photo(&self, id: PhotoId) -> Loaded<Option<Arc<LivePhoto>>> {
        self.lookup(&self.photos, id).await
    }

    /// A client's details; `None` when ComplyCube has no such client.
    pub async fn client(&self, id: ClientId) -> Loaded<Option<Arc<ClientDetails>>> {
        self.lookup(&self.clients, id).await
    }

    /// A live photo's image.
    pub async fn download(&self, id: PhotoId) -> Loaded<Arc<LivePhotoDownload>> {
        self.lookup(&self.downloads, id).await
    }

    async fn lookup<L: Lookup>(
        &self,
        loader: &OnceLock<lookups::LookupLoader<L>>,
        key: L::Key,
    ) -> Loaded<L::Value> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let loader = loader.get_or_init(|| {
            lookups::lookup_loader(
                self.upstream.clone(),
                self.session.clone(),
                self.listed.clone(),
            )
        });
        loader.try_load(key).await.unwrap_or_else(lost)
    }
}

/// A key the batch function did not answer: every batch function here answers every key,
/// so this is a bug, reported as an error rather than a panic.
fn lost<T>(e: std::io::Error) -> Loaded<T> {
    tracing::error!(error = %e, "a loader lost a key");
    Err(Arc::new(upstream::Error::InvalidResponse(
        "internal error: an answer was lost".into(),
    )))
}

/// The photos that lists of this request have brought, and how many list loads are still
/// under way, so that a lookup of a listed photo waits for the list instead of calling.
#[derive(Default)]
pub struct Listed {
    photos: Mutex<Vec<Arc<LivePhoto>>>,
    pending: AtomicUsize,
    settled: Notify,
}

impl Listed {
    fn announce(&self, items: &[Arc<LivePhoto>]) {
        self.photos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(items);
    }

    fn find(&self, id: &str) -> Option<Arc<LivePhoto>> {
        let photos = self.photos.lock().unwrap_or_else(|p| p.into_inner());
        photos.iter().find(|p| p.id == id).cloned()
    }

    /// Counts a list load as under way until the guard drops.
    fn pending(&self) -> Pending<'_> {
        self.pending.fetch_add(1, Ordering::SeqCst);
        Pending(self)
    }

    /// Completes once no list load is under way. List loads never wait for lookups, so
    /// this cannot deadlock; the request's deadline bounds it like everything else.
    async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct Pending<'a>(&'a Listed);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.settled.notify_waiters();
        }
    }
}
