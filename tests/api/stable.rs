//! Stable cursors end to end: paging while photos arrive at the head of the list and are
//! deleted between pages.
//!
//! Every page is held to an oracle computed from the simulator's list at the moment the page
//! is read: the photos strictly after (or before) the place of the cursor's photo in
//! upstream order (newest `createdAt` first, ties within one millisecond by id descending),
//! where that photo stands, or stood if it was deleted; `totalCount` and both `pageInfo`
//! flags as that list says. A traversal made of such pages shows every photo at most once,
//! and skips none that existed when it started and still exists; the tests check that too.
//!
//! The oracle orders photos of one millisecond as the simulator does, by id descending. The
//! service assumes ComplyCube does the same; ComplyCube does not document it (see the
//! limits in docs/pagination.md).

use std::collections::{HashMap, HashSet};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use complycube_graphql::{pagination::anchor::TIE_SLACK, upstream::format_millis};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// A photo's place in upstream order: `(createdAt ms, id)`.
type Key = (i64, String);

/// Whether `a` is listed before `b`: newer first, then the greater id.
fn precedes(a: &Key, b: &Key) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
}

/// Relay arguments, with the photo each cursor was minted on.
#[derive(Clone, Debug, Default)]
struct Args {
    first: Option<usize>,
    after: Option<(Value, Key)>,
    last: Option<usize>,
    before: Option<(Value, Key)>,
}

/// What a page must hold in `list` (the list when it was read): its ids, then
/// `hasPreviousPage` and `hasNextPage`. The Relay algorithm, with each cursor standing where
/// its photo stands in `list`, or stood if it was deleted.
fn oracle(list: &[Key], args: &Args) -> (Vec<String>, bool, bool) {
    let after = args.after.as_ref().map(|(_, k)| k);
    let before = args.before.as_ref().map(|(_, k)| k);
    let mut start = after.map_or(0, |a| list.partition_point(|x| precedes(x, a) || x == a));
    let mut end = before
        .map_or(list.len(), |b| list.partition_point(|x| precedes(x, b)))
        .max(start);
    // Neither `first` nor `last`: the first 20.
    let first = args.first.or(args.last.is_none().then_some(20));
    if let Some(first) = first {
        end = end.min(start + first);
    }
    if let Some(last) = args.last {
        start = start.max(end.saturating_sub(last));
    }
    let ids = list[start..end].iter().map(|k| k.1.clone()).collect();
    (ids, start > 0, end < list.len())
}

/// One traversal of one client's list, in one direction, every page checked against the
/// oracle; photos are added and deleted through it so that it knows every photo's date.
struct Pager<'a> {
    app: &'a TestApp,
    client: String,
    forward: bool,
    /// Shown with every failed assertion (the seed of a random case, the test's name).
    label: String,
    /// `createdAfter` and `createdBefore` (ms, strict) of the `filter` argument, if any.
    bounds: (Option<i64>, Option<i64>),
    /// `createdAt` of every photo this traversal has known, deleted ones included.
    created: HashMap<String, i64>,
    /// The cursor to go on from, and its photo.
    cursor: Option<(Value, Key)>,
    /// Every cursor a page has handed out, and its photo.
    minted: Vec<(Value, Key)>,
    /// Pages so far, in the order they were read.
    pages: Vec<Vec<String>>,
    /// Photos deleted before this traversal showed them.
    deleted_unseen: Vec<String>,
    /// Photos added while it ran.
    added: Vec<String>,
    done: bool,
}

impl<'a> Pager<'a> {
    fn new(app: &'a TestApp, client: &str, forward: bool, label: impl Into<String>) -> Self {
        let mut pager = Self {
            app,
            client: client.to_owned(),
            forward,
            label: label.into(),
            bounds: (None, None),
            created: HashMap::new(),
            cursor: None,
            minted: Vec::new(),
            pages: Vec::new(),
            deleted_unseen: Vec::new(),
            added: Vec::new(),
            done: false,
        };
        pager.list();
        pager
    }

    fn forward(app: &'a TestApp, client: &str, label: impl Into<String>) -> Self {
        Self::new(app, client, true, label)
    }

    fn backward(app: &'a TestApp, client: &str, label: impl Into<String>) -> Self {
        Self::new(app, client, false, label)
    }

    /// From now on, pages only of the photos created strictly between these instants (ms).
    fn filter(&mut self, created_after: Option<i64>, created_before: Option<i64>) {
        self.bounds = (created_after, created_before);
    }

    /// The client's list as the simulator holds it now, under the filter.
    fn list(&mut self) -> Vec<Key> {
        let list: Vec<Key> = self
            .app
            .sim
            .photos(&self.client)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.created_at.timestamp_millis(), p.id))
            .collect();
        assert!(
            list.windows(2).all(|w| precedes(&w[0], &w[1])),
            "the simulator's order is the oracle's"
        );
        for (ms, id) in &list {
            self.created.insert(id.clone(), *ms);
        }
        let (after, before) = self.bounds;
        list.into_iter()
            .filter(|(ms, _)| after.is_none_or(|t| *ms > t) && before.is_none_or(|t| *ms < t))
            .collect()
    }

    fn ids(&mut self) -> Vec<String> {
        self.list().into_iter().map(|k| k.1).collect()
    }

    fn key(&self, id: &str) -> Key {
        (self.created[id], id.to_owned())
    }

    /// Every photo shown so far, in list order.
    fn seen(&self) -> Vec<String> {
        if self.forward {
            self.pages.iter().flatten().cloned().collect()
        } else {
            self.pages.iter().rev().flatten().cloned().collect()
        }
    }

    fn exists(&self, id: &str) -> bool {
        self.app.sim.photo(id).is_some()
    }

    /// Photos shown so far that still exist, in list order.
    fn seen_alive(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|id| self.exists(id))
            .collect()
    }

    /// The photo the current cursor was minted on, if it still exists.
    fn cursor_photo(&self) -> Option<String> {
        let (_, (_, id)) = self.cursor.as_ref()?;
        self.app.sim.photo(id).map(|p| p.id)
    }

    /// Adds `count` photos at the head of the list.
    fn add(&mut self, count: u32, same_millisecond: bool) {
        let added = self
            .app
            .sim
            .add_photos(&self.client, count, same_millisecond);
        self.added.extend(added.into_iter().map(|p| p.id));
        self.list();
    }

    /// Deletes one photo, remembering whether this traversal had shown it.
    fn delete(&mut self, id: &str) {
        self.list();
        assert!(
            self.app.sim.delete_photo(id),
            "{}: no photo {id}",
            self.label
        );
        if !self.pages.iter().flatten().any(|seen| seen == id) {
            self.deleted_unseen.push(id.to_owned());
        }
    }

    /// The next page of the traversal, `first: n` forward or `last: n` backward.
    async fn page(&mut self, n: usize) -> Vec<String> {
        assert!(!self.done, "{}: the traversal is over", self.label);
        let conn = self.checked(self.onward(self.forward, n)).await;
        let ids = edge_ids(&conn);
        let info = &conn["pageInfo"];
        let more = if self.forward {
            &info["hasNextPage"]
        } else {
            &info["hasPreviousPage"]
        };
        if ids.is_empty() || more == false {
            self.done = true;
        } else {
            let (cursor, id) = if self.forward {
                (&info["endCursor"], &ids[ids.len() - 1])
            } else {
                (&info["startCursor"], &ids[0])
            };
            self.cursor = Some((cursor.clone(), self.key(id)));
        }
        self.pages.push(ids.clone());
        ids
    }

    /// `n` photos from the current cursor: `first`/`after` or `last`/`before`.
    fn onward(&self, forward: bool, n: usize) -> Args {
        if forward {
            Args {
                first: Some(n),
                after: self.cursor.clone(),
                ..Args::default()
            }
        } else {
            Args {
                last: Some(n),
                before: self.cursor.clone(),
                ..Args::default()
            }
        }
    }

    /// A page in the other direction from the current cursor, checked, not counted.
    async fn peek(&mut self, n: usize) {
        self.checked(self.onward(!self.forward, n)).await;
    }

    /// One page, compared with the oracle on the list as it is now.
    async fn checked(&mut self, args: Args) -> Value {
        let list = self.list();
        let cursor = |c: &Option<(Value, Key)>| c.as_ref().map_or(Value::Null, |c| c.0.clone());
        let variables = json!({
            "id": self.client,
            "first": args.first,
            "after": cursor(&args.after),
            "last": args.last,
            "before": cursor(&args.before),
            "filter": {
                "createdAfter": self.bounds.0.map(format_millis),
                "createdBefore": self.bounds.1.map(format_millis),
            },
        });
        let conn = page(self.app, variables).await;
        let (want, has_previous, has_next) = oracle(&list, &args);
        let context = format!(
            "{} page {} (first {:?} after {:?} last {:?} before {:?})",
            self.label,
            self.pages.len() + 1,
            args.first,
            args.after.as_ref().map(|c| &c.1),
            args.last,
            args.before.as_ref().map(|c| &c.1),
        );
        assert_eq!(edge_ids(&conn), want, "{context}");
        assert_eq!(conn["totalCount"], list.len(), "{context}");
        let info = &conn["pageInfo"];
        assert_eq!(info["hasPreviousPage"], has_previous, "{context}");
        assert_eq!(info["hasNextPage"], has_next, "{context}");
        let edges = conn["edges"].as_array().unwrap();
        // Each cursor names its photo and that photo's position in the list as it is.
        for edge in edges {
            let id = edge["node"]["id"].as_str().unwrap();
            let position = list.iter().position(|k| k.1 == id).unwrap();
            let (offset, anchor) = read_cursor(edge["cursor"].as_str().unwrap());
            assert_eq!(offset, position, "{context}: {id}'s cursor");
            assert_eq!(anchor, self.key(id), "{context}: {id}'s cursor");
            self.minted.push((edge["cursor"].clone(), anchor));
        }
        if let (Some(first), Some(last)) = (edges.first(), edges.last()) {
            assert_eq!(info["startCursor"], first["cursor"], "{context}");
            assert_eq!(info["endCursor"], last["cursor"], "{context}");
        } else {
            assert_eq!(info["startCursor"], Value::Null, "{context}");
            assert_eq!(info["endCursor"], Value::Null, "{context}");
        }
        conn
    }

    /// The traversal's promise, once it is over: no photo twice, in list order, and every
    /// photo of `at_start` that still exists shown.
    fn assert_complete(&mut self, at_start: &[String]) {
        assert!(self.done, "{}: the traversal is not over", self.label);
        let seen = self.seen();
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{}: repeated photos {seen:?}",
            self.label
        );
        let keys: Vec<Key> = seen.iter().map(|id| self.key(id)).collect();
        assert!(
            keys.windows(2).all(|w| precedes(&w[0], &w[1])),
            "{}: out of order {seen:?}",
            self.label
        );
        let now: HashSet<String> = self.ids().into_iter().collect();
        let skipped: Vec<&String> = at_start
            .iter()
            .filter(|id| now.contains(*id) && !unique.contains(id))
            .collect();
        assert!(skipped.is_empty(), "{}: skipped {skipped:?}", self.label);
    }
}

/// The position and the photo a cursor (version 3) names: `[3][offset u32 BE][scope 8]
/// [createdAt ms i64 BE][id length][id][check 4]`, as `src/pagination/cursor.rs` lays it out.
fn read_cursor(cursor: &str) -> (usize, Key) {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    assert_eq!(bytes[0], 3, "a version 3 cursor");
    let offset = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
    let ms = i64::from_be_bytes(bytes[13..21].try_into().unwrap());
    let len = usize::from(bytes[21]);
    let id = std::str::from_utf8(&bytes[22..22 + len])
        .unwrap()
        .to_owned();
    assert_eq!(bytes.len(), 22 + len + 4);
    (offset as usize, (ms, id))
}

/// A client the simulator makes up for one test, its photos `batches` added oldest first:
/// `(count, all in one millisecond)`.
fn made_up_client(app: &TestApp, name: &str, batches: &[(u32, bool)]) -> String {
    let client = format!("stable-{name}");
    for &(count, same_millisecond) in batches {
        app.sim.add_photos(&client, count, same_millisecond);
    }
    client
}

fn ids_now(app: &TestApp, client: &str) -> Vec<String> {
    app.sim
        .photos(client)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.id)
        .collect()
}

/// The issue's own report: `first: 10` over 40 photos, 3 arriving at the head between
/// pages, repeated photos while cursors were positions only.
#[tokio::test]
async fn paging_forward_while_photos_arrive_at_the_head_shows_every_photo_once_in_order() {
    let app = TestApp::spawn().await;
    let forty = made_up_client(&app, "forty", &[(40, false)]);
    for (client, size, pages) in [(forty.as_str(), 10, 4), (THIRTY_SEVEN, 7, 6)] {
        let original = ids_now(&app, client);
        let mut pager = Pager::forward(&app, client, format!("{client} first {size}"));
        while !pager.done {
            pager.page(size).await;
            pager.add(3, false);
        }
        assert_eq!(pager.seen(), original, "{client} first {size}");
        assert_eq!(pager.pages.len(), pages);
        assert_eq!(ids_now(&app, client).len(), original.len() + 3 * pages);
    }
}

#[tokio::test]
async fn paging_forward_while_photos_are_deleted_skips_none_of_the_rest() {
    let app = TestApp::spawn().await;
    let original = photo_ids(THIRTY_SEVEN);
    let mut pager = Pager::forward(&app, THIRTY_SEVEN, "deleting");
    let mut kinds = HashSet::new();
    let mut round = 0;
    while !pager.done {
        pager.page(5).await;
        if pager.done {
            break;
        }
        round += 1;
        let seen = pager.seen_alive();
        let cursor = pager.cursor.as_ref().unwrap().1.clone();
        let unseen: Vec<String> = pager
            .list()
            .into_iter()
            .filter(|k| precedes(&cursor, k))
            .map(|k| k.1)
            .collect();
        match round % 4 {
            // Not seen yet: the next photo, and one further on.
            1 => {
                pager.delete(&unseen[0]);
                if let Some(later) = unseen.get(3) {
                    pager.delete(later);
                }
                kinds.insert("unseen");
            }
            // Seen already: the cursor's photo moves towards the head.
            2 => {
                pager.delete(&seen[0]);
                pager.delete(&seen[seen.len() - 2]);
                kinds.insert("seen");
            }
            // The cursor's own photo: go on from where it stood.
            3 => {
                let own = pager.cursor_photo().unwrap();
                pager.delete(&own);
                kinds.insert("own");
            }
            // All at once, with photos added at the head too.
            _ => {
                let own = pager.cursor_photo().unwrap();
                pager.delete(&own);
                pager.delete(&unseen[0]);
                pager.delete(&seen[1]);
                pager.add(2, false);
                kinds.insert("all");
            }
        }
    }
    assert_eq!(kinds.len(), 4, "every kind of deletion happened: {kinds:?}");
    let want: Vec<String> = original
        .iter()
        .filter(|id| !pager.deleted_unseen.contains(id))
        .cloned()
        .collect();
    assert!(pager.deleted_unseen.len() >= 4);
    assert_eq!(pager.seen(), want);
    pager.assert_complete(&original);
}

/// Photos of one millisecond are told apart by id: a cursor on one of them finds its place
/// among the others after the list moved, and when its own photo is gone.
#[tokio::test]
async fn photos_sharing_a_millisecond_page_exactly_around_a_moved_or_deleted_cursor() {
    let app = TestApp::spawn().await;
    for size in [1, 2] {
        // Newest first: 4 photos a millisecond apart, 7 in one millisecond, 4 more apart.
        let client = made_up_client(
            &app,
            &format!("ties-{size}"),
            &[(4, false), (7, true), (4, false)],
        );
        let original = ids_now(&app, &client);
        let tied: HashSet<String> = original[4..11].iter().cloned().collect();
        let mut pager = Pager::forward(&app, &client, format!("ties first {size}"));
        let mut kinds = HashSet::new();
        let mut round = 0;
        while !pager.done {
            pager.page(size).await;
            if pager.done {
                break;
            }
            round += 1;
            // Always several photos in one new millisecond at the head: the cursor moves.
            pager.add(3, true);
            let own = pager.cursor_photo().unwrap();
            if !tied.contains(&own) {
                continue;
            }
            let cursor = pager.cursor.as_ref().unwrap().1.clone();
            let list = pager.list();
            let next_tied = list
                .iter()
                .find(|k| precedes(&cursor, k) && tied.contains(&k.1))
                .cloned();
            match round % 3 {
                // The cursor's own photo, inside its millisecond.
                0 => {
                    pager.delete(&own);
                    kinds.insert("own");
                }
                // The next photo of the same millisecond, not seen yet.
                1 => {
                    if let Some((_, id)) = next_tied {
                        pager.delete(&id);
                        kinds.insert("unseen");
                    }
                }
                // A photo of the same millisecond, seen already.
                _ => {
                    let seen_tied = pager
                        .seen_alive()
                        .into_iter()
                        .find(|id| tied.contains(id) && *id != own);
                    if let Some(id) = seen_tied {
                        pager.delete(&id);
                        kinds.insert("seen");
                    }
                }
            }
        }
        assert_eq!(kinds.len(), 3, "first {size}: {kinds:?}");
        let want: Vec<String> = original
            .iter()
            .filter(|id| !pager.deleted_unseen.contains(id))
            .cloned()
            .collect();
        assert!(!pager.deleted_unseen.is_empty());
        assert_eq!(pager.seen(), want, "first {size}");
        pager.assert_complete(&original);

        // Backward through the same millisecond.
        let original = ids_now(&app, &client);
        let mut pager = Pager::backward(&app, &client, format!("ties last {size}"));
        while !pager.done {
            pager.page(size).await;
            if let Some(own) = pager.cursor_photo().filter(|id| tied.contains(id)) {
                pager.delete(&own);
            }
            // Photos added at the head are ahead of a backward traversal: a few, so it ends.
            if pager.pages.len() < 8 {
                pager.add(2, true);
            }
        }
        pager.assert_complete(&original);
    }
}

/// More photos in one millisecond than the loader fetches around a cursor in one go: the
/// relocation fetches further instead of returning a short or empty page (it did return
/// an empty one forward, which ended the traversal there, and short ones backward).
#[tokio::test]
async fn a_millisecond_shared_by_more_photos_than_the_slack_still_pages_exactly() {
    let app = TestApp::spawn().await;
    let crowd = 3 * TIE_SLACK as u32;
    let client = made_up_client(&app, "crowd", &[(3, false), (crowd, true), (3, false)]);
    let original = ids_now(&app, &client);
    let mut pager = Pager::forward(&app, &client, "crowd forward");
    let mut calls = Vec::new();
    while !pager.done {
        app.reset_calls();
        pager.page(4).await;
        calls.push(app.calls());
        pager.add(1, false);
    }
    assert_eq!(pager.seen(), original);
    // Every page after the first relocates (a photo arrived at the head). With its cursor
    // among the 48, the first look at the cursor's millisecond takes 4 + 1 + 16 photos of
    // it; when more than 16 of them come before the cursor that is not far enough, and
    // each doubling (42, then 84) costs one more request. Past the 48: 2 again.
    assert_eq!(calls, [1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 2]);

    let original = ids_now(&app, &client);
    let mut pager = Pager::backward(&app, &client, "crowd backward");
    let mut calls = Vec::new();
    while !pager.done {
        app.reset_calls();
        pager.page(4).await;
        calls.push(app.calls());
        if let Some(own) = pager.cursor_photo() {
            pager.delete(&own);
        }
        pager.add(1, true);
    }
    pager.assert_complete(&original);
    // `last` without `before` first (the total, then the window); then 3 a page (window,
    // the narrowed list's length, its tail of 4 + 1 + 16), and 4 while more than 16 photos
    // of the cursor's millisecond stand after it (a tail of 42).
    assert_eq!(
        calls,
        [2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
    );
}

#[tokio::test]
async fn paging_backward_while_photos_are_added_and_deleted_shows_each_at_most_once() {
    let app = TestApp::spawn().await;
    let original = photo_ids(THIRTY_SEVEN);
    let mut pager = Pager::backward(&app, THIRTY_SEVEN, "backward");
    let mut round = 0;
    while !pager.done {
        pager.page(6).await;
        if pager.done {
            break;
        }
        round += 1;
        pager.add(2, round % 2 == 0);
        let cursor = pager.cursor.as_ref().unwrap().1.clone();
        let list = pager.list();
        // Towards the head: not seen yet.
        let unseen: Vec<String> = list
            .iter()
            .filter(|k| precedes(k, &cursor) && original.contains(&k.1))
            .map(|k| k.1.clone())
            .collect();
        match round % 3 {
            0 => {
                let own = pager.cursor_photo().unwrap();
                pager.delete(&own);
            }
            1 => {
                if let Some(id) = unseen.last() {
                    pager.delete(id);
                }
            }
            _ => {
                let seen = pager.seen_alive();
                pager.delete(&seen[seen.len() / 2]);
                if let Some(id) = unseen.first() {
                    pager.delete(id);
                }
            }
        }
    }
    assert!(round >= 6);
    assert!(pager.deleted_unseen.len() >= 3);
    pager.assert_complete(&original);
    // Going towards the head, a backward traversal also reaches the photos added meanwhile.
    let added_alive: Vec<String> = pager
        .added
        .iter()
        .filter(|id| app.sim.photo(id).is_some())
        .cloned()
        .collect();
    let seen: HashSet<String> = pager.seen().into_iter().collect();
    assert!(!added_alive.is_empty());
    assert!(added_alive.iter().all(|id| seen.contains(id)));
}

/// A model test: random page sizes in either direction, sometimes under a date filter,
/// photos added (some in one millisecond, up to 24 at once: more than the slack) and deleted
/// (sometimes the cursor's own) between pages, a look the other way now and then, and any
/// combination of `first`, `after`, `last` and `before` with cursors minted earlier. Every
/// answer is checked against the oracle, and every traversal's promise at its end.
/// Deterministic: each case has its own seed, shown when it fails.
#[tokio::test]
async fn random_paging_among_random_additions_and_deletions_keeps_its_promise() {
    let app = TestApp::spawn().await;
    for case in 0..32u64 {
        let seed = 0x57AB_1E00 + case;
        let mut rng = StdRng::seed_from_u64(seed);
        let batches: Vec<(u32, bool)> = (0..rng.random_range(1..=6))
            .map(|_| (rng.random_range(1..=24), rng.random_bool(0.4)))
            .collect();
        let client = made_up_client(&app, &format!("random-{case}"), &batches);
        let forward = rng.random_bool(0.5);
        let mut pager = Pager::new(&app, &client, forward, format!("seed {seed:#x}"));
        // Now and then under a filter, bounded at a photo's own millisecond.
        if rng.random_bool(0.3) {
            let list = pager.list();
            let mut at = || {
                rng.random_bool(0.6)
                    .then(|| list[rng.random_range(0..list.len())].0)
            };
            let (after, before) = (at(), at());
            pager.filter(after, before);
        }
        let at_start = pager.ids();
        let mut steps = 0;
        while !pager.done {
            steps += 1;
            assert!(steps < 500, "seed {seed:#x}: the traversal does not end");
            match rng.random_range(0..12) {
                0..=3 => {
                    pager.page(rng.random_range(1..=15)).await;
                }
                4 | 5 => pager.add(rng.random_range(1..=4), rng.random_bool(0.5)),
                6 | 7 => {
                    let own = pager.cursor_photo().filter(|_| rng.random_bool(0.3));
                    let ids = pager.ids();
                    let victim = own.or_else(|| {
                        (!ids.is_empty()).then(|| ids[rng.random_range(0..ids.len())].clone())
                    });
                    if let Some(id) = victim {
                        pager.delete(&id);
                    }
                }
                8 => pager.peek(rng.random_range(1..=15)).await,
                _ => {
                    // Any combination, with cursors minted earlier in this case, their
                    // photos maybe moved or deleted since.
                    let pick = |rng: &mut StdRng| {
                        let minted = &pager.minted;
                        (!minted.is_empty() && rng.random_bool(0.7))
                            .then(|| minted[rng.random_range(0..minted.len())].clone())
                    };
                    let after = pick(&mut rng);
                    let before = pick(&mut rng);
                    let count =
                        |rng: &mut StdRng| rng.random_bool(0.6).then(|| rng.random_range(0..=15));
                    let args = Args {
                        first: count(&mut rng),
                        after,
                        last: count(&mut rng),
                        before,
                    };
                    pager.checked(args).await;
                }
            }
        }
        pager.assert_complete(&at_start);
    }
}

/// The common case, nothing moved, costs one request a page; a moved cursor a few more.
#[tokio::test]
async fn a_cursor_that_held_costs_one_request_and_a_moved_one_a_few_more() {
    let app = TestApp::spawn().await;
    let list = |client: &str, page: u32, size: u32, filter: Option<(&str, i64)>| {
        let mut pairs = vec![
            ("clientId", client.to_owned()),
            ("page", page.to_string()),
            ("pageSize", size.to_string()),
        ];
        if let Some((name, ms)) = filter {
            pairs.push((name, format_millis(ms)));
        }
        serde_urlencoded::to_string(pairs).unwrap()
    };
    let ms = |id: &str| app.sim.photo(id).unwrap().created_at.timestamp_millis();

    // Forward and backward, nothing moved: one request per page, the cursor's check included.
    let mut after = Value::Null;
    for _ in 0..4 {
        app.reset_calls();
        let conn = page(
            &app,
            json!({ "id": THIRTY_SEVEN, "first": 10, "after": after }),
        )
        .await;
        assert_eq!(app.calls(), 1, "{:?}", app.sim.request_log());
        after = conn["pageInfo"]["endCursor"].clone();
    }
    let mut before = page(&app, json!({ "id": THIRTY_SEVEN, "last": 10 })).await["pageInfo"]
        ["startCursor"]
        .clone();
    for _ in 0..3 {
        app.reset_calls();
        let conn = page(
            &app,
            json!({ "id": THIRTY_SEVEN, "last": 10, "before": before }),
        )
        .await;
        assert_eq!(app.calls(), 1, "{:?}", app.sim.request_log());
        before = conn["pageInfo"]["startCursor"].clone();
    }

    // Forward, 3 photos added at the head: the cursor's photo (position 9) is now at 12.
    let original = photo_ids(THIRTY_SEVEN);
    let first = page(&app, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
    app.sim.add_photos(THIRTY_SEVEN, 3, false);
    app.reset_calls();
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(edge_ids(&conn), original[10..20]);
    assert_eq!(
        app.sim.request_log(),
        vec![
            // The page and the cursor's position in one request, as always: it moved.
            list(THIRTY_SEVEN, 1, 20, None),
            // The list from the cursor's millisecond on, its first 10 photos with room for
            // the cursor's own and for TIE_SLACK photos sharing its millisecond.
            list(
                THIRTY_SEVEN,
                1,
                10 + 1 + TIE_SLACK as u32,
                Some(("createdBefore", ms(&original[9]) + 1))
            ),
        ]
    );

    // The cursors of a page found again name today's positions: the next page, nothing
    // moved, is one request again.
    app.reset_calls();
    let next = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": conn["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(edge_ids(&next), original[20..30]);
    assert_eq!(app.calls(), 1, "{:?}", app.sim.request_log());

    // Forward, the cursor's own photo deleted: the same two requests.
    let cursor = conn["pageInfo"]["endCursor"].clone();
    let own_ms = ms(&original[19]);
    assert!(app.sim.delete_photo(&original[19]));
    app.reset_calls();
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": cursor }),
    )
    .await;
    assert_eq!(edge_ids(&conn), original[20..30]);
    assert_eq!(
        app.sim.request_log(),
        vec![
            // Positions 22..33 (the cursor, then the page): the photo at 22 is not the cursor's.
            list(THIRTY_SEVEN, 3, 11, None),
            list(THIRTY_SEVEN, 1, 27, Some(("createdBefore", own_ms + 1))),
        ]
    );

    // Backward, 3 more photos added at the head.
    app.sim.reset_data();
    let last = page(&app, json!({ "id": THIRTY_SEVEN, "last": 10 })).await; // 27..37
    app.sim.add_photos(THIRTY_SEVEN, 3, false);
    app.reset_calls();
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "last": 10, "before": last["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(edge_ids(&conn), original[17..27]);
    let since = Some(("createdAfter", ms(&original[27]) - 1));
    assert_eq!(
        app.sim.request_log(),
        vec![
            // The page (17..27) and the cursor's position (27), positions 14..28: it moved.
            list(THIRTY_SEVEN, 2, 14, None),
            // The list up to the cursor's millisecond: its length first (31 photos), as
            // `last` without `before` always needs...
            list(THIRTY_SEVEN, 1, 1, since),
            // ...then its last 10 + 1 + TIE_SLACK photos, positions 4..31.
            list(THIRTY_SEVEN, 1, 31, since),
        ]
    );
    app.reset_calls();
    let next = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "last": 10, "before": conn["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(edge_ids(&next), original[7..17]);
    assert_eq!(app.calls(), 1, "{:?}", app.sim.request_log());

    // Both cursors moved: one more request than with one, the length of the list from
    // `after`'s millisecond on (where the list narrowed to both milliseconds starts).
    app.sim.reset_data();
    let twenty = page(&app, json!({ "id": THIRTY_SEVEN, "first": 20 })).await;
    let (after, before) = (
        &twenty["edges"][4]["cursor"],
        &twenty["edges"][15]["cursor"],
    );
    app.sim.add_photos(THIRTY_SEVEN, 2, false);
    for (first, last, want, calls) in [(Some(5), None, 5..10, 3), (None, Some(5), 10..15, 4)] {
        app.reset_calls();
        let conn = page(
            &app,
            json!({ "id": THIRTY_SEVEN, "first": first, "last": last, "after": after, "before": before }),
        )
        .await;
        assert_eq!(edge_ids(&conn), original[want]);
        assert_eq!(app.calls(), calls, "{:?}", app.sim.request_log());
    }
}

/// `after` and `before` the wrong way round: nothing lies between them, and the empty page
/// stands where `after`'s photo does, also once both moved. (Found by the model test: the
/// page stood before `after`'s photo, so `hasNextPage` said there was more after the last
/// photo.)
#[tokio::test]
async fn cursors_the_wrong_way_round_give_an_empty_page_where_after_stands() {
    let app = TestApp::spawn().await;
    let all = page(&app, json!({ "id": THIRTY_SEVEN, "first": 37 })).await;
    let (newest, oldest) = (&all["edges"][0]["cursor"], &all["pageInfo"]["endCursor"]);
    app.sim.add_photos(THIRTY_SEVEN, 1, false);
    for (first, last) in [(Some(1), None), (None, Some(1)), (Some(2), Some(1))] {
        app.reset_calls();
        let conn = page(
            &app,
            json!({ "id": THIRTY_SEVEN, "first": first, "last": last, "after": oldest, "before": newest }),
        )
        .await;
        assert_eq!(edge_ids(&conn), Vec::<String>::new());
        assert_eq!(conn["totalCount"], 38);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(conn["pageInfo"]["hasNextPage"], false, "{first:?} {last:?}");
        // The window and both cursors' positions, then `after`'s place from its millisecond.
        assert_eq!(app.calls(), 2, "{:?}", app.sim.request_log());
    }
}

/// Cursors of versions 1 and 2 carry a position only; they still work, as positions.
#[tokio::test]
async fn old_cursors_are_still_accepted_as_positions() {
    const DOMAIN: &[u8] = b"complycube-graphql/livePhotos/cursor"; // as src/pagination/cursor.rs
    let app = TestApp::spawn().await;
    // Versions 1 and 2: `[version][offset u32 BE][scope 8][check 4]`; the scope is taken from
    // a current cursor of the same client and filter, which has it at the same place.
    let minted = page(&app, json!({ "id": THIRTY_SEVEN, "first": 1 })).await["pageInfo"]
        ["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let scope = URL_SAFE_NO_PAD.decode(&minted).unwrap()[5..13].to_vec();
    let old = |version: u8, offset: u32| {
        let mut bytes = vec![version];
        bytes.extend_from_slice(&offset.to_be_bytes());
        bytes.extend_from_slice(&scope);
        let check: [u8; 4] = if version == 1 {
            let digest = Sha256::new()
                .chain_update(DOMAIN)
                .chain_update(&bytes)
                .finalize();
            digest[..4].try_into().unwrap()
        } else {
            let mut crc = crc32fast::Hasher::new();
            crc.update(DOMAIN);
            crc.update(&bytes);
            crc.finalize().to_be_bytes()
        };
        bytes.extend_from_slice(&check);
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let original = photo_ids(THIRTY_SEVEN);
    for version in [1, 2] {
        let conn = page(
            &app,
            json!({ "id": THIRTY_SEVEN, "first": 10, "after": old(version, 9) }),
        )
        .await;
        assert_eq!(edge_ids(&conn), original[10..20], "v{version}");
        let conn = page(
            &app,
            json!({ "id": THIRTY_SEVEN, "last": 5, "before": old(version, 20) }),
        )
        .await;
        assert_eq!(edge_ids(&conn), original[15..20], "v{version}");
    }

    // Positions only: after 3 photos at the head, offset 9 is another photo's place, and an
    // old cursor goes on from there. The cursors it hands back are anchored (version 3).
    app.sim.add_photos(THIRTY_SEVEN, 3, false);
    let now = ids_now(&app, THIRTY_SEVEN);
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": old(2, 9) }),
    )
    .await;
    assert_eq!(edge_ids(&conn), now[10..20]);
    let end = conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(&end).unwrap()[0], 3);
    app.sim.add_photos(THIRTY_SEVEN, 3, false);
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": end }),
    )
    .await;
    assert_eq!(edge_ids(&conn), now[20..30]);
}
