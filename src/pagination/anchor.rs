//! Finding a cursor's place again after the list moved: photos added at the head shift
//! every offset down, deleted ones shift them up, and a cursor's own photo may be gone.
//!
//! The list is ordered newest `createdAt` first. ComplyCube does not document how photos of
//! the same millisecond are ordered; the simulator orders them by id, greatest first, and
//! so does [`precedes`]. That rule is only consulted when the anchor itself is gone: while
//! it exists, its place is found by its id, whatever upstream's tie order.
//!
//! The loader narrows the list with the date filters to the anchors' milliseconds
//! (`createdBefore = after.createdAt + 1`, `createdAfter = before.createdAt - 1`) and hands
//! the items it fetched to [`between`], which keeps what lies strictly between the anchors
//! and then applies `first` and `last`. Pure code, property-tested against a direct
//! definition.

use std::ops::Range;

use super::cursor::Anchor;

/// Extra items fetched around an anchor's millisecond: photos that share it and stand on
/// the near side. More than this many photos in one millisecond next to a cursor shorten
/// a page (never repeat or skip an item: the next cursor is anchored again).
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Item = (String, i64);

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
            let items: Vec<Item> = universe
                .iter()
                .zip(&kept)
                .filter(|(_, &k)| k)
                .map(|(x, _)| x.clone())
                .collect();
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
    }
}
