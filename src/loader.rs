//! The per-request dataloader: every window asked for during one GraphQL request (aliases,
//! repeated fragments, the operations of a batch) is collected, merged per client and
//! filter, planned, and fetched with the fewest upstream calls.
//!
//! The one thing to know: the batch function keeps what it has fetched for the rest of the
//! request (items by position, and the first `totalItems` seen per client and filter), so a
//! later batch only fetches positions nobody has fetched yet, and `last` without `before`
//! pays for its total at most once. A loader must never outlive its GraphQL request: its
//! caches never expire.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use dataloader::{cached::Loader, BatchFn};
use futures::future::join_all;
use tokio::time::Instant;

use crate::{
    pagination::{
        planner::{self, PageRequest},
        Window, WindowSpec,
    },
    upstream::{self, ClientId, LivePhoto, LivePhotoFilter, Upstream},
};

/// What a list is a list of: one client's photos under one filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListId {
    pub client: ClientId,
    pub filter: LivePhotoFilter,
}

/// One window of one list: the loader's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub list: ListId,
    pub window: WindowSpec,
}

/// The items of one window and the list's length.
#[derive(Clone, Debug)]
pub struct Slice {
    /// The window, resolved and clamped to `total`.
    pub window: Window,
    /// Exactly the items at `window`'s positions, in order.
    pub items: Vec<Arc<LivePhoto>>,
    /// `totalItems` of the list.
    pub total: u64,
}

/// Why a window could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Upstream(#[from] upstream::Error),
    /// The request's windows would take more upstream calls than one request may make.
    #[error(
        "this request needs more than {limit} calls to ComplyCube; ask for fewer or nearer pages"
    )]
    TooManyCalls { limit: usize },
}

/// The loader's value; the error is shared by every key of the list that failed.
pub type SliceResult = Result<Slice, Arc<LoadError>>;

/// The per-request loader handed to resolvers through the GraphQL context.
pub type PageLoader = Loader<PageKey, SliceResult, Batcher>;

/// Builds a loader for one GraphQL request, whose upstream calls end by `deadline`
/// (retries included) and number at most `max_calls` (retries not counted).
pub fn page_loader(upstream: Upstream, deadline: Instant, max_calls: usize) -> PageLoader {
    Loader::new(Batcher {
        upstream,
        deadline,
        max_calls,
        calls_left: AtomicUsize::new(max_calls),
        lists: HashMap::new(),
    })
    .with_max_batch_size(1024)
    // The first `load` of a request waits one scheduler turn before fetching. Every field
    // of the request lives in one task, and the pass that reached this field goes on to
    // poll its siblings, which add their windows in that same turn. Each further yield
    // would re-poll the whole resolver tree for nothing.
    .with_yield_count(1)
}

/// What has been fetched of one list during this request.
#[derive(Default)]
struct Fetched {
    /// The first `totalItems` seen; later answers do not change it, so one request sees
    /// one consistent length.
    total: Option<u64>,
    /// Positions fetched so far (normalised), and their items.
    windows: Vec<Window>,
    items: BTreeMap<u64, Arc<LivePhoto>>,
}

/// The batch function: groups keys by list, fetches lists concurrently (the upstream
/// client bounds how many calls are in flight).
pub struct Batcher {
    upstream: Upstream,
    deadline: Instant,
    max_calls: usize,
    /// Shared by the lists fetched concurrently in one batch.
    calls_left: AtomicUsize,
    lists: HashMap<ListId, Fetched>,
}

impl BatchFn<PageKey, SliceResult> for Batcher {
    async fn load(&mut self, keys: &[PageKey]) -> HashMap<PageKey, SliceResult> {
        let mut by_list: HashMap<&ListId, Vec<WindowSpec>> = HashMap::new();
        for key in keys {
            by_list.entry(&key.list).or_default().push(key.window);
        }
        let upstream = Fetcher {
            upstream: &self.upstream,
            deadline: self.deadline,
            max_calls: self.max_calls,
            calls_left: &self.calls_left,
        };
        let work = by_list.into_iter().map(|(list, specs)| {
            let mut fetched = self.lists.remove(list).unwrap_or_default();
            async move {
                let outcome = fetch_list(upstream, list, &mut fetched, &specs).await;
                (list, specs, fetched, outcome)
            }
        });
        let mut out = HashMap::with_capacity(keys.len());
        for (list, specs, fetched, outcome) in join_all(work).await {
            for spec in specs {
                let value = match &outcome {
                    Ok(()) => slice(&fetched, spec),
                    Err(e) => Err(e.clone()),
                };
                out.insert(
                    PageKey {
                        list: list.clone(),
                        window: spec,
                    },
                    value,
                );
            }
            self.lists.insert(list.clone(), fetched);
        }
        out
    }
}

/// The upstream client and this request's deadline and call budget.
#[derive(Clone, Copy)]
struct Fetcher<'a> {
    upstream: &'a Upstream,
    deadline: Instant,
    max_calls: usize,
    calls_left: &'a AtomicUsize,
}

impl Fetcher<'_> {
    /// Takes `n` calls from the budget, or none if fewer are left.
    fn reserve(&self, n: usize) -> Result<(), Arc<LoadError>> {
        self.calls_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(n)
            })
            .map(drop)
            .map_err(|_| {
                Arc::new(LoadError::TooManyCalls {
                    limit: self.max_calls,
                })
            })
    }
}

/// Fetches whatever the windows of one list need that this request has not fetched yet.
async fn fetch_list(
    upstream: Fetcher<'_>,
    list: &ListId,
    fetched: &mut Fetched,
    specs: &[WindowSpec],
) -> Result<(), Arc<LoadError>> {
    // The windows that can be guessed before the total is known: their answers bring the
    // total for free, and are right unless the list ends inside them.
    let likely = specs.iter().filter_map(WindowSpec::likely).collect();
    fetch_windows(upstream, list, fetched, likely).await?;
    if fetched.total.is_none() {
        // Every answer needs the total (totalCount, hasNextPage); learn it as cheaply as
        // upstream allows. Only `last` without `before` (or empty windows) get here.
        fetch_requests(
            upstream,
            list,
            fetched,
            vec![PageRequest { page: 1, size: 1 }],
        )
        .await?;
    }
    let total = fetched.total.unwrap_or(0);
    let exact = specs.iter().map(|s| s.resolve(total)).collect();
    fetch_windows(upstream, list, fetched, exact).await
}

async fn fetch_windows(
    upstream: Fetcher<'_>,
    list: &ListId,
    fetched: &mut Fetched,
    windows: Vec<Window>,
) -> Result<(), Arc<LoadError>> {
    let windows = match fetched.total {
        Some(total) => windows.into_iter().map(|w| w.cut_to(total)).collect(),
        None => windows,
    };
    let missing = planner::subtract(&planner::normalize(windows), &fetched.windows);
    let requests = planner::plan(&missing, planner::MAX_UPSTREAM_PAGE_SIZE);
    fetch_requests(upstream, list, fetched, requests).await
}

async fn fetch_requests(
    upstream: Fetcher<'_>,
    list: &ListId,
    fetched: &mut Fetched,
    requests: Vec<PageRequest>,
) -> Result<(), Arc<LoadError>> {
    if requests.is_empty() {
        return Ok(());
    }
    upstream.reserve(requests.len())?;
    let calls = requests.iter().map(|&request| async move {
        let page = upstream
            .upstream
            .list_live_photos(&list.client, &list.filter, request, upstream.deadline)
            .await?;
        Ok::<_, upstream::Error>((request, page))
    });
    let mut first_error = None;
    for answer in join_all(calls).await {
        let (request, page) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        fetched.total.get_or_insert(page.total_items);
        let offset = request.offset();
        for (i, item) in page.items.into_iter().enumerate() {
            fetched.items.insert(offset + i as u64, Arc::new(item));
        }
        // What this answer proves: its positions, and with the total, the end of the list.
        fetched
            .windows
            .push(request.window().cut_to(page.total_items));
    }
    fetched.windows = planner::normalize(std::mem::take(&mut fetched.windows));
    first_error.map_or(Ok(()), |e| Err(Arc::new(LoadError::Upstream(e))))
}

/// The items of one window from what was fetched.
fn slice(fetched: &Fetched, spec: WindowSpec) -> SliceResult {
    let total = fetched.total.unwrap_or(0);
    let window = spec.resolve(total);
    let items = (window.start..window.end)
        .map(|p| fetched.items.get(&p).cloned())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            Arc::new(LoadError::Upstream(upstream::Error::InvalidResponse(
                "the list changed while it was being read (items missing below totalItems)".into(),
            )))
        })?;
    Ok(Slice {
        window,
        items,
        total,
    })
}
