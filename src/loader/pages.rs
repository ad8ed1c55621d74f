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

use std::{collections::HashMap, sync::Arc};

use dataloader::{cached::Loader, BatchFn};
use futures::future::join_all;

use super::{
    fetch::{Fetched, Fetcher, ListId},
    Listed,
};
use crate::{
    pagination::{
        anchor::{self, TIE_SLACK},
        Anchored, Ask, Window, WindowSpec,
    },
    upstream::{self, LivePhoto, LivePhotoFilter, Session, Upstream},
};

/// One window of one list, with its cursors' anchors: the loader's key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub list: ListId,
    pub ask: Ask,
}

/// Short on purpose: the `dataloader` crate formats every key it loads, for an error it
/// raises only when a batch leaves a key out (which `Batcher` never does), so this runs on
/// every page; the whole key's `Debug` cost 1% of a W1 request.
impl std::fmt::Debug for PageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageKey")
            .field("client", &self.list.client.as_str())
            .finish_non_exhaustive()
    }
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
            let known = self.lists.remove(list);
            async move {
                let mut fetched = match known {
                    Some(fetched) => fetched,
                    None => fetcher.seed(list).await,
                };
                let specs: Vec<WindowSpec> = asks.iter().map(|a| a.spec).collect();
                let anchors: Vec<Window> = asks.iter().flat_map(|a| a.anchor_windows()).collect();
                let mut outcome = fetcher
                    .fetch_list(list, &mut fetched, &specs, anchors.clone())
                    .await;
                // A cursor's photo not where a cached list says: the cache is stale, or
                // the list moved. Ask ComplyCube before concluding it moved.
                if outcome.is_ok()
                    && fetched.seeded
                    && !asks.iter().all(|ask| anchors_hold(&fetched, ask))
                {
                    fetched.drop_seed();
                    outcome = fetcher
                        .fetch_list(list, &mut fetched, &specs, anchors)
                        .await;
                }
                fetcher.keep(list, &mut fetched).await;
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
    /// the anchors; more of it is fetched when that room was too small. Positions are then
    /// those of the caller's list: the narrowed list starts after every photo newer than
    /// the `after` anchor, which is `total` minus the length of the list from that anchor
    /// on.
    async fn relocate(&mut self, key: &PageKey, total: u64) -> SliceResult {
        let ask = &key.ask;
        let (after, mut before) = (ask.after.as_ref(), ask.before.as_ref());
        let (mut first, mut last) = (ask.first, ask.last);
        // Cursors the wrong way round (`before` not after `after`): nothing lies between,
        // and the empty page stands where `after` does. Narrowing to both milliseconds
        // would leave out the photos of `after`'s millisecond that come before its place
        // (and with `before`'s newer, every photo), so find that place alone.
        if let (Some(a), Some(b)) = (after, before) {
            if !anchor::precedes(&a.anchor.id, a.anchor.created_at, &b.anchor) {
                (before, first, last) = (None, Some(0), None);
            }
        }
        let from_after = |filter: LivePhotoFilter, a: &Anchored| LivePhotoFilter {
            created_before: Some(bound(
                filter.created_before,
                a.anchor.created_at.saturating_add(1),
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
                b.anchor.created_at.saturating_sub(1),
                i64::max,
            ));
        }
        let slack = (1 + TIE_SLACK) * (u64::from(after.is_some()) + u64::from(before.is_some()));
        let cut = anchor::Cut {
            after: after.map(|a| &a.anchor),
            before: before.map(|b| &b.anchor),
            first,
            last,
        };
        let narrowed_list = ListId {
            filter,
            ..key.list.clone()
        };
        // From the start of the narrowed list when `first` cuts, else from its end; when
        // that does not reach far enough (more photos share an anchor's millisecond than
        // the slack allows for), twice as much, until it does: at worst the whole narrowed
        // list, on which `between_part` always answers.
        let mut size = first.or(last).unwrap_or(0) + slack;
        let (narrowed, kept) = loop {
            let spec = match (first, last) {
                (None, Some(_)) => WindowSpec::Tail {
                    from: 0,
                    last: size,
                    before: None,
                    first_end: None,
                },
                _ => WindowSpec::Range(Window::new(0, size)),
            };
            let narrowed = self.list_slice(narrowed_list.clone(), spec).await?;
            let reach = anchor::Reach {
                start: narrowed.window.start == 0,
                end: narrowed.window.end >= narrowed.total,
            };
            if let Some(kept) = anchor::between_part(&narrowed.items, id_and_ms, &cut, reach) {
                break (narrowed, kept);
            }
            if reach == anchor::Reach::WHOLE {
                // Cannot happen (property-tested); answer the definition rather than loop.
                let kept = anchor::between(
                    &narrowed.items,
                    id_and_ms,
                    cut.after,
                    cut.before,
                    cut.first,
                    cut.last,
                );
                break (narrowed, kept);
            }
            size = size.saturating_mul(2);
        };
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

    /// One window of any list, through what this request has fetched already (never from
    /// the cache: it serves finding a cursor's photo again, which must be fresh).
    async fn list_slice(&mut self, list: ListId, spec: WindowSpec) -> SliceResult {
        let mut fetched = self.lists.remove(&list).unwrap_or_default();
        if fetched.seeded {
            fetched.drop_seed();
        }
        let fetcher = self.fetcher();
        // Not kept in the cache: these narrowed lists serve one cursor's move, and a forged
        // cursor could otherwise fill the cache with lists nobody reads.
        let outcome = fetcher
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

/// A photo's id and `createdAt` (ms): what anchors are compared with.
fn id_and_ms(photo: &Arc<LivePhoto>) -> (&str, i64) {
    (&photo.id, photo.created_at.timestamp_millis())
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
