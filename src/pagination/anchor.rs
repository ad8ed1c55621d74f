//! Finding a cursor's place again after the list moved: photos added at the head shift
//! every offset down, deleted ones shift them up, and a cursor's own photo may be gone.
//!
//! The list is ordered newest `createdAt` first. ComplyCube does not document how photos of
//! the same millisecond are ordered; the simulator orders them by id, greatest first, and
//! so does [`precedes`]. That rule is only consulted when the anchor itself is not among the
//! items fetched (deleted, or further on than they reach): where it is, its place is found
//! by its id, whatever upstream's tie order.
//!
//! The loader narrows the list with the date filters to the anchors' milliseconds
//! (`createdBefore = after.createdAt + 1`, `createdAfter = before.createdAt - 1`), fetches a
//! head (or tail) of that narrowed list, and hands the items to [`between_part`], which keeps
//! what lies strictly between the anchors and then applies `first` and `last`, as
//! [`between`] defines it on the whole list; or says that the answer depends on items not
//! fetched yet (more photos share an anchor's millisecond than [`TIE_SLACK`] allowed for),
//! and the loader fetches more. Pure code, property-tested against a direct definition.

use std::ops::Range;

use super::cursor::Anchor;

/// Extra items fetched around an anchor's millisecond: photos that share it and stand on
/// the near side. When more photos than this share a cursor's millisecond, the first fetch
/// may not reach the cursor's place: [`between_part`] says so, and the loader fetches
/// twice as much, and again, until it does (more requests, never a wrong page).
pub const TIE_SLACK: u64 = 16;

/// Whether an item (`id`, created at `created_at` ms) stands before `anchor` in the list.
pub fn precedes(id: &str, created_at: i64, anchor: &Anchor) -> bool {
    created_at > anchor.created_at || (created_at == anchor.created_at && id > &*anchor.id)
}

/// The range of `items` (consecutive, in list order, identified by `key`) that lies
/// strictly after `after` and strictly before `before`, cut by `first` then `last` as the
/// Relay spec applies them.
pub fn between<T>(
    items: &[T],
    key: impl Fn(&T) -> (&str, i64),
    after: Option<&Anchor>,
    before: Option<&Anchor>,
    first: Option<u64>,
    last: Option<u64>,
) -> Range<usize> {
    // Where an anchor stands: at its id while it exists, else where the order puts it.
    let place = |anchor: &Anchor| match items.iter().position(|x| key(x).0 == &*anchor.id) {
        Some(at) => (at, true),
        None => {
            let at = items
                .iter()
                .position(|x| {
                    let (id, created_at) = key(x);
                    !precedes(id, created_at, anchor)
                })
                .unwrap_or(items.len());
            (at, false)
        }
    };
    let mut start = after.map_or(0, |a| match place(a) {
        (at, true) => at + 1,
        (at, false) => at,
    });
    let mut end = before.map_or(items.len(), |b| place(b).0).max(start);
    if let Some(first) = first {
        end = end.min(start.saturating_add(usize::try_from(first).unwrap_or(usize::MAX)));
    }
    if let Some(last) = last {
        start = start.max(end.saturating_sub(usize::try_from(last).unwrap_or(usize::MAX)));
    }
    start..end
}

/// Which ends of the list a fetched part of it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    /// The part's first item is the list's first.
    pub start: bool,
    /// The part's last item is the list's last.
    pub end: bool,
}

impl Reach {
    pub const WHOLE: Self = Self {
        start: true,
        end: true,
    };
}

/// What to keep: the anchors to keep strictly between, then `first` and `last`.
#[derive(Clone, Copy, Debug)]
pub struct Cut<'a> {
    pub after: Option<&'a Anchor>,
    pub before: Option<&'a Anchor>,
    pub first: Option<u64>,
    pub last: Option<u64>,
}

/// Far enough outside any part to stand for "somewhere before it" or "after it".
const FAR: i64 = i64::MAX / 4;

/// [`between`] on a part of the list: `items` are consecutive in list order, and `reach`
/// says which ends of the list they include. The range is in `items`, and equals what
/// [`between`] gives on the whole list; `None` when that depends on items outside the part
/// (an anchor's place, or the end of a page, lies beyond it). Never `None` for the whole
/// list.
///
/// Each bound is worked out as the interval of places it can have given what lies outside
/// (exact when the part shows it); every step after that is monotone in the bounds, so the
/// answer is known exactly when both ends of those intervals give the same one.
pub fn between_part<T>(
    items: &[T],
    key: impl Fn(&T) -> (&str, i64),
    cut: &Cut<'_>,
    reach: Reach,
) -> Option<Range<usize>> {
    let len = i64::try_from(items.len()).ok()?;
    // The places an anchor's cut may have: at its id while it is here, else before the
    // first item the order does not put before it, which may lie outside the part.
    let place = |anchor: &Anchor, after: bool| {
        if let Some(at) = items.iter().position(|x| key(x).0 == &*anchor.id) {
            let at = at as i64 + i64::from(after);
            return (at, at);
        }
        let at = items
            .iter()
            .position(|x| {
                let (id, created_at) = key(x);
                !precedes(id, created_at, anchor)
            })
            .map_or(len, |at| at as i64);
        let lo = if at == 0 && !reach.start { -FAR } else { at };
        let hi = if at == len && !reach.end { FAR } else { at };
        (lo, hi)
    };
    let start = cut
        .after
        .map_or((if reach.start { 0 } else { -FAR }, 0), |a| place(a, true));
    let end = cut
        .before
        .map_or((len, if reach.end { len } else { FAR }), |b| {
            place(b, false)
        });
    let count = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(FAR).min(FAR));
    let (first, last) = (count(cut.first), count(cut.last));
    let apply = |start: i64, end: i64| {
        let mut end = end.max(start);
        if let Some(first) = first {
            end = end.min(start + first);
        }
        let start = last.map_or(start, |last| start.max(end - last));
        (start, end)
    };
    let low = apply(start.0, end.0);
    if low != apply(start.1, end.1) || low.0 < 0 || low.1 > len {
        return None;
    }
    Some(low.0 as usize..low.1 as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Item = (String, i64);

    fn key(x: &Item) -> (&str, i64) {
        (&x.0, x.1)
    }

    fn anchor(item: &Item) -> Anchor {
        Anchor {
            id: item.0.as_str().into(),
            created_at: item.1,
        }
    }

    /// In list order, each id once.
    fn sorted(items: Vec<Item>) -> Vec<Item> {
        let unique: std::collections::BTreeMap<String, i64> = items.into_iter().collect();
        let mut items: Vec<Item> = unique.into_iter().collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
        items
    }

    #[test]
    fn a_present_anchor_is_found_by_id_even_out_of_tie_order() {
        // Upstream put the same-millisecond photos in the other order: ids still decide.
        let items: Vec<Item> = vec![("a".into(), 5), ("b".into(), 5), ("c".into(), 4)];
        let after = anchor(&items[0]);
        let r = between(&items, |x| (&x.0, x.1), Some(&after), None, Some(10), None);
        assert_eq!(r, 1..3);
    }

    #[test]
    fn a_deleted_anchor_continues_from_where_it_stood() {
        let items: Vec<Item> = vec![("d".into(), 6), ("b".into(), 5), ("a".into(), 4)];
        let gone = Anchor {
            id: "c".into(),
            created_at: 5,
        };
        let r = between(&items, |x| (&x.0, x.1), Some(&gone), None, Some(10), None);
        assert_eq!(r, 1..3); // "b" shares the millisecond and has a smaller id: after "c"
        let r = between(&items, |x| (&x.0, x.1), None, Some(&gone), None, Some(10));
        assert_eq!(r, 0..1);
    }

    /// The photos of `universe` that still exist (`kept`), in list order.
    fn present(universe: &[Item], kept: &[bool]) -> Vec<Item> {
        universe
            .iter()
            .zip(kept)
            .filter(|(_, &k)| k)
            .map(|(x, _)| x.clone())
            .collect()
    }

    /// Every photo that ever existed (ids unique), in list order.
    fn universe() -> impl Strategy<Value = Vec<Item>> {
        proptest::collection::vec(("[a-f]{1,2}", 0i64..8), 1..30).prop_map(sorted)
    }

    proptest! {
        /// Whatever was added or deleted around them (the list is any subset of every photo
        /// that existed, the anchors any two of those), the result is exactly the items
        /// that the order puts strictly between the anchors, cut by first and last.
        #[test]
        fn keeps_exactly_what_lies_between(
            (universe, kept, after, before) in universe().prop_flat_map(|u| {
                let n = u.len();
                (
                    Just(u),
                    proptest::collection::vec(any::<bool>(), n),
                    proptest::option::of(0..n),
                    proptest::option::of(0..n),
                )
            }),
            first in proptest::option::of(0u64..10),
            last in proptest::option::of(0u64..10),
        ) {
            let items = present(&universe, &kept);
            let after = after.map(|a| anchor(&universe[a]));
            let before = before.map(|b| anchor(&universe[b]));
            let r = between(&items, |x| (&x.0, x.1), after.as_ref(), before.as_ref(), first, last);
            let mut want: Vec<&Item> = items
                .iter()
                .filter(|x| after.as_ref().is_none_or(|a| !precedes(&x.0, x.1, a) && *x.0 != *a.id))
                .filter(|x| before.as_ref().is_none_or(|b| precedes(&x.0, x.1, b)))
                .collect();
            if let Some(f) = first {
                want.truncate(f as usize);
            }
            if let Some(l) = last {
                let skip = want.len().saturating_sub(l as usize);
                want.drain(..skip);
            }
            let got: Vec<&Item> = items[r].iter().collect();
            prop_assert_eq!(got, want);
        }

        /// On any consecutive part of the list, the answer is the whole list's, or none;
        /// on the whole list, always the answer.
        #[test]
        fn a_part_gives_the_whole_lists_answer_or_none(
            (universe, kept, after, before, from, to) in universe().prop_flat_map(|u| {
                let n = u.len();
                (
                    Just(u),
                    proptest::collection::vec(any::<bool>(), n),
                    proptest::option::of(0..n),
                    proptest::option::of(0..n),
                    0..=n,
                    0..=n,
                )
            }),
            first in proptest::option::of(0u64..10),
            last in proptest::option::of(0u64..10),
        ) {
            let items = present(&universe, &kept);
            let (from, to) = (from.min(items.len()), to.min(items.len()));
            let (from, to) = (from.min(to), from.max(to));
            let after = after.map(|a| anchor(&universe[a]));
            let before = before.map(|b| anchor(&universe[b]));
            let whole = between(&items, key, after.as_ref(), before.as_ref(), first, last);
            let cut = Cut { after: after.as_ref(), before: before.as_ref(), first, last };
            prop_assert_eq!(between_part(&items, key, &cut, Reach::WHOLE), Some(whole.clone()));
            let reach = Reach { start: from == 0, end: to == items.len() };
            if let Some(r) = between_part(&items[from..to], key, &cut, reach) {
                prop_assert_eq!(r.start + from..r.end + from, whole);
            }
        }
    }

    #[test]
    fn a_part_that_stops_short_of_the_anchor_asks_for_more() {
        // Three photos of one millisecond before the anchor; the part holds two of them.
        let items: Vec<Item> = vec![
            ("e".into(), 5),
            ("d".into(), 5),
            ("c".into(), 5),
            ("b".into(), 5),
            ("a".into(), 4),
        ];
        let after = anchor(&items[3]);
        let cut = Cut {
            after: Some(&after),
            before: None,
            first: Some(1),
            last: None,
        };
        let head = Reach {
            start: true,
            end: false,
        };
        assert_eq!(between_part(&items[..2], key, &cut, head), None);
        assert_eq!(between_part(&items[..4], key, &cut, head), None);
        assert_eq!(
            between_part(&items[..5], key, &cut, Reach::WHOLE),
            Some(4..5)
        );
        // The anchor deleted: its place is known once a photo it does not precede is here.
        let gone = Anchor {
            id: "bb".into(),
            created_at: 5,
        };
        let cut = Cut {
            after: Some(&gone),
            ..cut
        };
        assert_eq!(between_part(&items[..3], key, &cut, head), None);
        assert_eq!(between_part(&items[..4], key, &cut, head), Some(3..4));
    }
}
