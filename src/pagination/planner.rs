//! The planner: the fewest upstream `page`/`pageSize` requests that cover a set of windows.
//!
//! Upstream only serves aligned blocks: request `(page P, pageSize S)` returns positions
//! `[(P-1)*S, P*S)`, with `S <= 1000`. Covering a set of positions with the fewest such
//! blocks is interval point cover, and the greedy rule is optimal for it: take the leftmost
//! position still needed; some block must contain it; of those, the one reaching furthest
//! right leaves a subset of what any other would leave. So the greedy count is the minimum.
//!
//! Among plans of that minimum count we then prefer small blocks (less over-fetch): going
//! backwards, each block shrinks to the smallest one that still contains its greedy anchor
//! and reaches the next block's start. When one request can cover everything, that is the
//! smallest `S` with `floor(start / S) == floor((end - 1) / S)`.
//!
//! Both passes are linear in the number of blocks (times at most 1000 sizes), so windows
//! at forged far-apart offsets cannot make planning expensive. Pure integer code; property
//! tests compare it with an exhaustive search.

/// Upstream's largest `pageSize`: the one place the number is written.
pub const MAX_UPSTREAM_PAGE_SIZE: u32 = 1000;

/// Positions `[start, end)` of the newest-first list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

impl Window {
    pub fn new(start: u64, end: u64) -> Self {
        Self {
            start,
            end: end.max(start),
        }
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// This window cut to a list of `total` items.
    pub fn cut_to(&self, total: u64) -> Self {
        Self::new(self.start.min(total), self.end.min(total))
    }
}

/// Whether one upstream request can cover `window`.
pub fn one_request_covers(window: Window) -> bool {
    plan(&[window], MAX_UPSTREAM_PAGE_SIZE).len() <= 1
}

/// One upstream request: `page` is 1-based, `size` is `pageSize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageRequest {
    pub page: u64,
    pub size: u32,
}

impl PageRequest {
    /// The block of size `size` that contains `position`.
    pub fn containing(position: u64, size: u32) -> Self {
        Self {
            page: position / u64::from(size) + 1,
            size,
        }
    }

    /// Position of the first item this request returns.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * u64::from(self.size)
    }

    /// The positions this request returns (in a list long enough).
    pub fn window(&self) -> Window {
        Window::new(self.offset(), self.offset() + u64::from(self.size))
    }
}

/// Sorts windows and merges overlapping or touching ones; drops empty ones.
pub fn normalize(mut windows: Vec<Window>) -> Vec<Window> {
    windows.retain(|w| !w.is_empty());
    windows.sort_unstable();
    let mut out: Vec<Window> = Vec::with_capacity(windows.len());
    for w in windows {
        match out.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => out.push(w),
        }
    }
    out
}

/// The positions of `needed` that are not in `have`; both normalised, and so is the result.
pub fn subtract(needed: &[Window], have: &[Window]) -> Vec<Window> {
    let mut out = Vec::new();
    for &w in needed {
        let mut start = w.start;
        for h in have.iter().filter(|h| h.end > w.start && h.start < w.end) {
            if h.start > start {
                out.push(Window::new(start, h.start));
            }
            start = start.max(h.end);
        }
        if start < w.end {
            out.push(Window::new(start, w.end));
        }
    }
    out
}

/// The fewest requests, each of size at most `max_size`, that cover every position of
/// `needed` (normalised windows), with little over-fetch.
///
/// Two passes, each linear in the number of blocks: the greedy pass fixes, for each block,
/// the needed position it must contain (`p_i`) and so the minimum count; the backward pass
/// then shrinks every block to the smallest one that contains `p_i` and reaches the start
/// of the block after it (the last block: the end of what is needed).
pub fn plan(needed: &[Window], max_size: u32) -> Vec<PageRequest> {
    let max_size = max_size.max(1);
    let Some(first) = needed.first() else {
        return Vec::new();
    };
    // Forward: the greedy cover, keeping each block's first needed position.
    let mut anchors = Vec::new();
    let mut from = first.start;
    while let Some(p) = first_needed_at(needed, from) {
        anchors.push(p);
        from = furthest_reach(p, max_size);
    }
    // Backward: the smallest block that contains the anchor and covers every needed
    // position before the next block's start.
    let mut out = vec![PageRequest { page: 1, size: 1 }; anchors.len()];
    let mut limit = u64::MAX; // where the next block starts
    for (i, &p) in anchors.iter().enumerate().rev() {
        let last = last_needed_before(needed, limit).unwrap_or(p).max(p);
        let block = smallest_single(p, last, max_size).unwrap_or_else(|| {
            // Cannot happen (the greedy block itself covers that span); stay correct anyway.
            PageRequest::containing(p, max_size)
        });
        out[i] = block;
        limit = block.offset();
    }
    out
}

/// The smallest single request covering `[first, last]`, if one exists.
fn smallest_single(first: u64, last: u64, max_size: u32) -> Option<PageRequest> {
    let len = last - first + 1;
    if len > u64::from(max_size) {
        return None;
    }
    (len as u32..=max_size)
        .find(|&s| first / u64::from(s) == last / u64::from(s))
        .map(|s| PageRequest::containing(first, s))
}

/// The end of the block reaching furthest right among those containing `p`. A block of
/// size `s` reaches `p - p % s + s`, never more than `p + s`; so only sizes above
/// `max - p % max` can beat the largest size, and the scan stops early.
fn furthest_reach(p: u64, max_size: u32) -> u64 {
    let max = u64::from(max_size);
    let mut best = p - p % max + max;
    for s in (1..max).rev() {
        if p + s <= best {
            break;
        }
        best = best.max(p - p % s + s);
    }
    best
}

/// The first needed position at or after `from`.
fn first_needed_at(needed: &[Window], from: u64) -> Option<u64> {
    let i = needed.partition_point(|w| w.end <= from);
    needed.get(i).map(|w| w.start.max(from))
}

/// The last needed position before `limit`.
fn last_needed_before(needed: &[Window], limit: u64) -> Option<u64> {
    let i = needed.partition_point(|w| w.start < limit);
    let w = needed.get(i.checked_sub(1)?)?;
    Some(w.end.min(limit) - 1)
}

/// The minimum number of blocks covering the needed positions at or after `from` (greedy).
#[cfg(test)]
fn count_from(needed: &[Window], mut from: u64, max_size: u32) -> usize {
    let mut count = 0;
    while let Some(p) = first_needed_at(needed, from) {
        count += 1;
        from = furthest_reach(p, max_size);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn w(start: u64, end: u64) -> Window {
        Window::new(start, end)
    }

    fn covers(plan: &[PageRequest], needed: &[Window]) -> bool {
        needed.iter().flat_map(|w| w.start..w.end).all(|p| {
            plan.iter()
                .any(|r| r.window().start <= p && p < r.window().end)
        })
    }

    /// Exact minimum by exhaustive search: every block that contains the leftmost needed
    /// position is tried, not just the greedy one.
    fn brute_min(needed: &[Window], from: u64, max: u32, memo: &mut HashMap<u64, usize>) -> usize {
        let Some(p) = first_needed_at(needed, from) else {
            return 0;
        };
        if let Some(&m) = memo.get(&p) {
            return m;
        }
        let best = (1..=max)
            .map(|s| {
                1 + brute_min(
                    needed,
                    PageRequest::containing(p, s).window().end,
                    max,
                    memo,
                )
            })
            .min()
            .unwrap();
        memo.insert(p, best);
        best
    }

    fn windows_strategy() -> impl Strategy<Value = Vec<Window>> {
        proptest::collection::vec((0u64..60, 0u64..15), 0..5)
            .prop_map(|v| normalize(v.into_iter().map(|(s, l)| w(s, s + l)).collect()))
    }

    proptest! {
        #[test]
        fn covers_its_windows_within_bounds_and_is_never_beaten(
            needed in windows_strategy(),
            max in 1u32..9,
        ) {
            let plan = plan(&needed, max);
            prop_assert!(covers(&plan, &needed));
            for r in &plan {
                prop_assert!(r.page >= 1 && r.size >= 1 && r.size <= max);
            }
            let minimum = brute_min(&needed, 0, max, &mut HashMap::new());
            prop_assert_eq!(plan.len(), minimum);
        }

        #[test]
        fn one_request_when_one_can_do_and_then_the_smallest(
            start in 0u64..5000,
            len in 1u64..1000,
        ) {
            let needed = [w(start, start + len)];
            let plan = plan(&needed, MAX_UPSTREAM_PAGE_SIZE);
            let single = (len as u32..=MAX_UPSTREAM_PAGE_SIZE)
                .find(|&s| start / s as u64 == (start + len - 1) / s as u64);
            match single {
                Some(s) => prop_assert_eq!(plan, vec![PageRequest::containing(start, s)]),
                None => prop_assert_eq!(plan.len(), 2),
            }
        }

        #[test]
        fn deep_and_long_windows_are_covered_with_the_minimum(
            start in 0u64..200_000,
            len in 1u64..5000,
        ) {
            let needed = [w(start, start + len)];
            let plan = plan(&needed, MAX_UPSTREAM_PAGE_SIZE);
            prop_assert!(covers(&plan, &needed));
            prop_assert_eq!(plan.len(), count_from(&needed, 0, MAX_UPSTREAM_PAGE_SIZE));
            prop_assert!(plan.len() as u64 <= len.div_ceil(1000) + 1);
        }

        #[test]
        fn subtract_keeps_exactly_the_missing_positions(
            needed in windows_strategy(),
            have in windows_strategy(),
        ) {
            let rest = subtract(&needed, &have);
            for p in 0..80 {
                let in_needed = needed.iter().any(|x| x.start <= p && p < x.end);
                let in_have = have.iter().any(|x| x.start <= p && p < x.end);
                let in_rest = rest.iter().any(|x| x.start <= p && p < x.end);
                prop_assert_eq!(in_rest, in_needed && !in_have);
            }
        }
    }

    #[test]
    fn first_pages_cost_one_exact_request() {
        assert_eq!(
            plan(&[w(0, 20)], 1000),
            vec![PageRequest { page: 1, size: 20 }]
        );
        assert_eq!(
            plan(&[w(20, 40)], 1000),
            vec![PageRequest { page: 2, size: 20 }]
        );
        assert_eq!(
            plan(&[w(1000, 1020)], 1000),
            vec![PageRequest { page: 51, size: 20 }]
        );
    }

    #[test]
    fn overlapping_windows_merge_into_one_request() {
        let needed = normalize(vec![w(0, 10), w(5, 15), w(0, 10)]);
        assert_eq!(needed, vec![w(0, 15)]);
        assert_eq!(plan(&needed, 1000), vec![PageRequest { page: 1, size: 15 }]);
    }

    #[test]
    fn a_window_across_every_alignment_splits_in_two() {
        // [500, 1500) fits no single block of size <= 1000.
        let plan = plan(&[w(500, 1500)], 1000);
        assert_eq!(plan.len(), 2);
        assert!(covers(&plan, &[w(500, 1500)]));
    }

    #[test]
    fn furthest_reach_agrees_with_trying_every_size() {
        for p in (0..5000).chain([999_999, 1_000_000, 123_456_789]) {
            let brute = (1..=1000u64).map(|s| p - p % s + s).max().unwrap();
            assert_eq!(furthest_reach(p, 1000), brute, "{p}");
        }
    }

    #[test]
    fn thousands_of_far_apart_windows_plan_quickly_and_minimally() {
        // Forged cursors can ask for windows anywhere; planning stays linear.
        let needed: Vec<Window> = (0..5000u64).map(|i| w(i * 5000, i * 5000 + 1)).collect();
        let plan = plan(&needed, 1000);
        assert_eq!(plan.len(), 5000);
        assert!(covers(&plan, &needed));
        assert!(plan.iter().all(|r| r.size == 1));
    }

    #[test]
    fn nothing_needed_costs_nothing() {
        assert!(plan(&[], 1000).is_empty());
    }
}
