//! What this request has fetched of each list, and fetching what the windows of one list
//! need: planned into the fewest upstream calls, seeded from and kept to the cache, each
//! photo announced to the request's lookups.

use std::{collections::BTreeMap, sync::Arc};

use super::Listed;
use crate::{
    cache::{EntryKey, Kind},
    pagination::{
        planner::{self, PageRequest},
        Window, WindowSpec,
    },
    upstream::{self, ClientId, LivePhoto, LivePhotoFilter, Session, Upstream},
};

/// What a list is a list of: one client's photos under one filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListId {
    pub client: ClientId,
    pub filter: LivePhotoFilter,
}

/// What has been fetched of one list during this request.
#[derive(Default)]
pub(super) struct Fetched {
    /// The first `totalItems` seen; later answers do not change it, so one request sees
    /// one consistent length.
    pub(super) total: Option<u64>,
    /// Positions fetched so far (normalised), and their items.
    pub(super) windows: Vec<Window>,
    pub(super) items: BTreeMap<u64, Arc<LivePhoto>>,
    /// Came from the cache (and may be stale): dropped at the first sign of it.
    pub(super) seeded: bool,
    /// A cached seed was dropped during this fetch: plan again from what is fresh.
    pub(super) reseeded: bool,
    /// Holds answers the cache does not have yet.
    pub(super) dirty: bool,
}

/// A list as the cache keeps it: items by position, and the list's length.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct CachedList {
    pub(super) total: u64,
    pub(super) windows: Vec<(u64, u64)>,
    pub(super) items: Vec<(u64, LivePhoto)>,
}

impl Fetched {
    pub(super) fn from_cache(cached: CachedList) -> Self {
        Self {
            total: Some(cached.total),
            windows: planner::normalize(
                cached
                    .windows
                    .into_iter()
                    .map(|(start, end)| Window::new(start, end))
                    .collect(),
            ),
            items: cached
                .items
                .into_iter()
                .map(|(position, item)| (position, Arc::new(item)))
                .collect(),
            seeded: true,
            reseeded: false,
            dirty: false,
        }
    }

    pub(super) fn to_cache(&self) -> Option<CachedList> {
        Some(CachedList {
            total: self.total?,
            windows: self.windows.iter().map(|w| (w.start, w.end)).collect(),
            items: self
                .items
                .iter()
                .map(|(&position, item)| (position, LivePhoto::clone(item)))
                .collect(),
        })
    }

    /// Forgets a cached seed (stale, or not enough alone). Called before this request
    /// fetches anything of the list, so nothing fresh is lost.
    pub(super) fn drop_seed(&mut self) {
        *self = Self {
            reseeded: true,
            ..Self::default()
        };
    }
}

/// The upstream client and this request's session.
#[derive(Clone, Copy)]
pub(super) struct Fetcher<'a> {
    pub(super) upstream: &'a Upstream,
    pub(super) session: &'a Session,
    pub(super) listed: &'a Listed,
}

impl Fetcher<'_> {
    /// Fetches whatever the windows of one list (and the positions of its cursors' anchors)
    /// need that this request has not fetched yet.
    pub(super) async fn fetch_list(
        self,
        list: &ListId,
        fetched: &mut Fetched,
        specs: &[WindowSpec],
        anchors: Vec<Window>,
    ) -> Result<(), Arc<upstream::Error>> {
        fetched.reseeded = false;
        self.fetch_list_once(list, fetched, specs, anchors.clone())
            .await?;
        if fetched.reseeded {
            // The cached seed was stale and is gone: plan again on fresh answers only.
            self.fetch_list_once(list, fetched, specs, anchors).await?;
        }
        Ok(())
    }

    /// The list as the cache holds it for this request's key, or nothing.
    pub(super) async fn seed(self, list: &ListId) -> Fetched {
        let Some(cache) = self.upstream.cache() else {
            return Fetched::default();
        };
        let key = self.cache_key(list);
        match cache
            .get::<CachedList>(key, self.upstream.seal_key(self.session))
            .await
        {
            Some(cached) => Fetched::from_cache(cached),
            None => Fetched::default(),
        }
    }

    /// Writes what this request fetched of a list back to the cache.
    pub(super) async fn keep(self, list: &ListId, fetched: &mut Fetched) {
        let Some(cache) = self.upstream.cache() else {
            return;
        };
        if !fetched.dirty {
            return;
        }
        if let Some(cached) = fetched.to_cache() {
            let seal = self.upstream.seal_key(self.session);
            cache.put(self.cache_key(list), seal, &cached).await;
            fetched.dirty = false;
        }
    }

    fn cache_key(self, list: &ListId) -> EntryKey {
        EntryKey::new(
            self.upstream.key_id(self.session),
            Kind::List,
            &[
                list.client.as_str().as_bytes(),
                &list.filter.fingerprint_bytes(),
            ],
        )
    }

    async fn fetch_list_once(
        self,
        list: &ListId,
        fetched: &mut Fetched,
        specs: &[WindowSpec],
        anchors: Vec<Window>,
    ) -> Result<(), Arc<upstream::Error>> {
        // The windows that can be guessed before the total is known: their answers bring
        // the total for free, and are right unless the list ends inside them.
        let mut likely: Vec<Window> = specs.iter().filter_map(WindowSpec::likely).collect();
        likely.extend_from_slice(&anchors);
        self.fetch_windows(list, fetched, likely).await?;
        if fetched.total.is_none() {
            // Every answer needs the total (totalCount, hasNextPage); learn it as cheaply as
            // upstream allows. Only `last` without `before` (or empty windows) get here.
            self.fetch_requests(list, fetched, vec![PageRequest { page: 1, size: 1 }])
                .await?;
        }
        let total = fetched.total.unwrap_or(0);
        let exact = specs.iter().map(|s| s.resolve(total)).collect();
        self.fetch_windows(list, fetched, exact).await
    }

    async fn fetch_windows(
        self,
        list: &ListId,
        fetched: &mut Fetched,
        windows: Vec<Window>,
    ) -> Result<(), Arc<upstream::Error>> {
        let cut = |fetched: &Fetched, windows: &[Window]| match fetched.total {
            Some(total) => windows.iter().map(|w| w.cut_to(total)).collect(),
            None => windows.to_vec(),
        };
        let mut missing = planner::subtract(
            &planner::normalize(cut(fetched, &windows)),
            &fetched.windows,
        );
        if fetched.seeded && !missing.is_empty() {
            // A cached list is only ever read whole: fresh answers next to cached positions
            // could repeat or skip a photo when the list changed (even where its length did
            // not). So what the cache cannot answer alone is all fetched afresh.
            fetched.drop_seed();
            missing = planner::normalize(windows);
        }
        let requests = planner::plan(&missing, planner::MAX_UPSTREAM_PAGE_SIZE);
        self.fetch_requests(list, fetched, requests).await
    }

    async fn fetch_requests(
        self,
        list: &ListId,
        fetched: &mut Fetched,
        requests: Vec<PageRequest>,
    ) -> Result<(), Arc<upstream::Error>> {
        if requests.is_empty() {
            return Ok(());
        }
        let answers = self
            .upstream
            .list_live_photos(&list.client, &list.filter, &requests, self.session)
            .await
            .map_err(Arc::new)?;
        let mut first_error = None;
        for (request, answer) in requests.into_iter().zip(answers) {
            let page = match answer {
                Ok(page) => page,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            fetched.dirty = true;
            fetched.total.get_or_insert(page.total_items);
            let offset = request.offset();
            let items: Vec<Arc<LivePhoto>> = page.items.into_iter().map(Arc::new).collect();
            self.listed.announce(&items);
            for (i, item) in items.into_iter().enumerate() {
                fetched.items.insert(offset + i as u64, item);
            }
            // What this answer proves: its positions, and with the total, the end of the list.
            fetched
                .windows
                .push(request.window().cut_to(page.total_items));
        }
        fetched.windows = planner::normalize(std::mem::take(&mut fetched.windows));
        first_error.map_or(Ok(()), |e| Err(Arc::new(e)))
    }
}
