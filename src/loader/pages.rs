//! The page loader: every window asked for during one GraphQL request (aliases, repeated
//! fragments, the operations of a batch) is collected, merged per client and filter,
//! planned, and fetched with the fewest upstream calls; cursors' anchors are checked on
//! the way, and a cursor whose item moved is found again.
//!
//! The one thing to know: the batch function keeps what it has fetched for the rest of the
//! request (items by position, and the first `totalItems` seen per client and filter), so a
//! later batch only fetches positions nobody has fetched yet, and `last` without `before`
//! pays for its total at most once. A loader must never outlive its GraphQL request: its
//! caches never expire.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use dataloader::{cached::Loader, BatchFn};
use futures::future::join_all;

use super::Listed;
use crate::{
    pagination::{
        anchor::{self, TIE_SLACK},
        planner::{self, PageRequest},
        Anchored, Ask, Window, WindowSpec,
    },
    upstream::{self, ClientId, LivePhoto, LivePhotoFilter, Session, Upstream},
};

/// What a list is a list of: one client's photos under one filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListId {
    pub client: ClientId,
    pub filter: LivePhotoFilter,
}

/// One window of one list, with its cursors' anchors: the loader's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub list: ListId,
    pub ask: Ask,
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

/// The loader's value; the error is shared by every key of the list that failed.
pub type SliceResult = Result<Slice, Arc<upstream::Error>>;

/// The per-request page loader.
pub type PageLoader = Loader<PageKey, SliceResult, Batcher>;

pub(super) fn page_loader(
    upstream: Upstream,
    session: Arc<Session>,
    listed: Arc<Listed>,
) -> PageLoader {
    Loader::new(Batcher {
        upstream,
        session,
        listed,
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
    session: Arc<Session>,
    /// Where fetched photos are announced, so lookups of them cost nothing.
    listed: Arc<Listed>,
    lists: HashMap<ListId, Fetched>,
}

impl BatchFn<PageKey, SliceResult> for Batcher {
    async fn load(&mut self, keys: &[PageKey]) -> HashMap<PageKey, SliceResult> {
        crate::metrics::loader_batch("pages", keys.len());
        let mut by_list: HashMap<&ListId, Vec<&Ask>> = HashMap::new();
        for key in keys {
            by_list.entry(&key.list).or_default().push(&key.ask);
        }
        let fetcher = Fetcher {
            upstream: &self.upstream,
            session: &self.session,
            listed: &self.listed,
        };
        let work = by_list.into_iter().map(|(list, asks)| {
            let mut fetched = self.lists.remove(list).unwrap_or_default();
            async move {
                let specs: Vec<WindowSpec> = asks.iter().map(|a| a.spec).collect();
                let anchors: Vec<Window> = asks.iter().flat_map(|a| a.anchor_windows()).collect();
                let outcome = fetcher
                    .fetch_list(list, &mut fetched, &specs, anchors)
                    .await;
                (list, asks, fetched, outcome)
            }
        });
        let mut out = HashMap::with_capacity(keys.len());
        let mut moved = Vec::new();
        for (list, asks, fetched, outcome) in join_all(work).await {
            for ask in asks {
                let key = PageKey {
                    list: list.clone(),
                    ask: ask.clone(),
                };
                match &outcome {
                    Err(e) => {
                        out.insert(key, Err(e.clone()));
                    }
                    Ok(()) if anchors_hold(&fetched, ask) => {
                        out.insert(key, slice(&fetched, ask.spec));
                    }
                    Ok(()) => moved.push((key, fetched.total.unwrap_or(0))),
                }
            }
            self.lists.insert(list.clone(), fetched);
        }
        // Cursors whose item is no longer where they say: rare, found one by one.
        for (key, total) in moved {
            let value = self.relocate(&key, total).await;
            out.insert(key, value);
        }
        out
    }
}

impl Batcher {
    fn fetcher(&self) -> Fetcher<'_> {
        Fetcher {
            upstream: &self.upstream,
            session: &self.session,
            listed: &self.listed,
        }
    }

    /// The answer to `key` when a cursor's item has moved since the cursor was minted.
    ///
    /// The list is narrowed with the date filters to what lies between the anchors'
    /// milliseconds (see [`anchor`]); its first (or last) items, with room for photos
    /// sharing an anchor's millisecond, are fetched and cut to what lies strictly between
    /// the anchors. Positions are then those of the caller's list: the narrowed list starts
    /// after every photo newer than the `after` anchor, which is `total` minus the length
    /// of the list from that anchor on.
    async fn relocate(&mut self, key: &PageKey, total: u64) -> SliceResult {
        let ask = &key.ask;
        let (after, before) = (ask.after.as_ref(), ask.before.as_ref());
        let from_after = |filter: LivePhotoFilter, a: &Anchored| LivePhotoFilter {
            created_before: Some(bound(
                filter.created_before,
                a.anchor.created_at + 1,
                i64::min,
            )),
            ..filter
        };
        let mut filter = key.list.filter;
        if let Some(a) = after {
            filter = from_after(filter, a);
        }
        if let Some(b) = before {
            filter.created_after = Some(bound(
                filter.created_after,
                b.anchor.created_at - 1,
                i64::max,
            ));
        }
        let slack = (1 + TIE_SLACK) * (u64::from(after.is_some()) + u64::from(before.is_some()));
        // From the start of the narrowed list when `first` cuts, else from its end.
        let spec = match (ask.first, ask.last) {
            (Some(n), _) => WindowSpec::Range(Window::new(0, n + slack)),
            (None, Some(n)) => WindowSpec::Tail {
                from: 0,
                last: n + slack,
                before: None,
                first_end: None,
            },
            (None, None) => WindowSpec::Range(Window::new(0, slack)),
        };
        let narrowed = self
            .list_slice(
                ListId {
                    filter,
                    ..key.list.clone()
                },
                spec,
            )
            .await?;
        let offset = match after {
            None => 0,
            Some(a) => {
                let from_anchor = match before {
                    // The narrowed list is exactly the list from the anchor on.
                    None => narrowed.total,
                    Some(_) => {
                        let list = ListId {
                            filter: from_after(key.list.filter, a),
                            ..key.list.clone()
                        };
                        self.list_slice(list, WindowSpec::Range(Window::new(0, 0)))
                            .await?
                            .total
                    }
                };
                total.saturating_sub(from_anchor)
            }
        };
        let kept = anchor::between(
            &narrowed.items,
            |p| (p.id.as_str(), p.created_at.timestamp_millis()),
            after.map(|a| &a.anchor),
            before.map(|b| &b.anchor),
            ask.first,
            ask.last,
        );
        let start = offset + narrowed.window.start + kept.start as u64;
        let items = narrowed.items[kept].to_vec();
        let window = Window::new(start, start + items.len() as u64);
        // The two lists were read moments apart; keep the answer self-consistent.
        Ok(Slice {
            window,
            items,
            total: total.max(window.end),
        })
    }

    /// One window of any list, through what this request has fetched already.
    async fn list_slice(&mut self, list: ListId, spec: WindowSpec) -> SliceResult {
        let mut fetched = self.lists.remove(&list).unwrap_or_default();
        let outcome = self
            .fetcher()
            .fetch_list(&list, &mut fetched, &[spec], Vec::new())
            .await;
        let value = outcome.and_then(|()| slice(&fetched, spec));
        self.lists.insert(list, fetched);
        value
    }
}

/// `value` combined with an existing bound by `pick` (the tighter of the two).
fn bound(existing: Option<i64>, value: i64, pick: fn(i64, i64) -> i64) -> i64 {
    existing.map_or(value, |e| pick(e, value))
}

/// Whether every cursor's item is still at the position its cursor names.
fn anchors_hold(fetched: &Fetched, ask: &Ask) -> bool {
    [&ask.after, &ask.before].into_iter().flatten().all(|a| {
        fetched
            .items
            .get(&a.position)
            .is_some_and(|item| *item.id == *a.anchor.id)
    })
}

/// The upstream client and this request's session.
#[derive(Clone, Copy)]
struct Fetcher<'a> {
    upstream: &'a Upstream,
    session: &'a Session,
    listed: &'a Listed,
}

impl Fetcher<'_> {
    /// Fetches whatever the windows of one list (and the positions of its cursors' anchors)
    /// need that this request has not fetched yet.
    async fn fetch_list(
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
        let windows = match fetched.total {
            Some(total) => windows.into_iter().map(|w| w.cut_to(total)).collect(),
            None => windows,
        };
        let missing = planner::subtract(&planner::normalize(windows), &fetched.windows);
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

/// The items of one window from what was fetched.
fn slice(fetched: &Fetched, spec: WindowSpec) -> SliceResult {
    let total = fetched.total.unwrap_or(0);
    let window = spec.resolve(total);
    let items = (window.start..window.end)
        .map(|p| fetched.items.get(&p).cloned())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            Arc::new(upstream::Error::InvalidResponse(
                "the list changed while it was being read (items missing below totalItems)".into(),
            ))
        })?;
    Ok(Slice {
        window,
        items,
        total,
    })
}
