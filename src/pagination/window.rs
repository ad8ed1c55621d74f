//! Relay arguments to a window of positions, the way the Relay Cursor Connections spec
//! applies them: cursors first, then `first`, then `last`.
//!
//! The one thing to know: a window is only fully known once the list's length `n` is.
//! `first` alone gives a [`WindowSpec::Range`] that only needs cutting to `n`. `last` counts
//! back from an end that is `n` itself (no `before`, no `first`) or may lie past `n`, so it
//! gives a [`WindowSpec::Tail`], resolved once `n` is known; when its end is bounded, the
//! loader fetches the likely window straight away, and that answer brings `n` with it.

use super::{
    cursor::{self, Anchor, CursorError, Scope},
    planner::{self, Window},
};

/// A window as far as it can be known before the list's length is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowSpec {
    /// Known bounds; the end may lie past the list.
    Range(Window),
    /// The last `last` items at or after position `from`, before `before` and before
    /// `first_end` (the end that `first` set), and before the end of the list.
    Tail {
        from: u64,
        last: u64,
        before: Option<u64>,
        first_end: Option<u64>,
    },
}

impl WindowSpec {
    /// The concrete window in a list of `total` items.
    pub fn resolve(&self, total: u64) -> Window {
        match *self {
            Self::Range(window) => window.cut_to(total),
            Self::Tail {
                from,
                last,
                before,
                first_end,
            } => {
                let end = [before, first_end, Some(total)].into_iter().flatten().min();
                let end = end.unwrap_or(total);
                Window::new(end.saturating_sub(last).max(from), end).cut_to(total)
            }
        }
    }

    /// What to fetch before the list's length is known, so that one request is most
    /// likely all this window costs; `None` when only the length can tell.
    ///
    /// A `before` cursor names a position that existed, so `[before - last, before)` is the
    /// window unless the list shrank. An end set by `first` may lie past the list: then the
    /// whole `[from, first_end)` holds the answer wherever the list ends, and is fetched
    /// if one request can cover it; if not, the last `last` before `first_end` are.
    pub fn likely(&self) -> Option<Window> {
        match *self {
            Self::Range(window) => Some(window),
            Self::Tail {
                from,
                last,
                before,
                first_end,
            } => match (before, first_end) {
                (Some(b), None) => Some(Window::new(b.saturating_sub(last).max(from), b)),
                (Some(b), Some(f)) if b <= f => {
                    Some(Window::new(b.saturating_sub(last).max(from), b))
                }
                (_, Some(f)) => {
                    let whole = Window::new(from, f);
                    if planner::one_request_covers(whole) {
                        Some(whole)
                    } else {
                        Some(Window::new(f.saturating_sub(last).max(from), f))
                    }
                }
                (None, None) => None,
            },
        }
    }
}

/// The page sizes a connection allows.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Items when neither `first` nor `last` is given.
    pub default_page_size: u32,
    /// The largest `first` or `last` accepted.
    pub max_page_size: u32,
}

impl Limits {
    /// The contract's defaults: 20 by default, at most 100.
    pub const DEFAULT: Self = Self {
        default_page_size: 20,
        max_page_size: 100,
    };
    /// No configuration may raise the maximum beyond one upstream page.
    pub const CEILING: u32 = planner::MAX_UPSTREAM_PAGE_SIZE;
}

/// The Relay pagination arguments as they arrive.
#[derive(Clone, Debug, Default)]
pub struct RelayArgs<'a> {
    pub first: Option<i32>,
    pub after: Option<&'a str>,
    pub last: Option<i32>,
    pub before: Option<&'a str>,
}

/// Why arguments were refused; shown to the caller as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("`{name}` must not be negative (got {value})")]
    Negative { name: &'static str, value: i32 },
    #[error("`{name}` must be at most {max} (got {value})")]
    TooLarge {
        name: &'static str,
        value: i32,
        max: u32,
    },
    #[error("the `{name}` cursor {error}")]
    Cursor {
        name: &'static str,
        error: CursorError,
    },
}

/// A cursor argument's anchor and the position it was minted at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Anchored {
    pub position: u64,
    pub anchor: Anchor,
}

/// What one connection field asks for: its window as positions, and the anchors of its
/// cursors, which the loader checks against what it fetches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ask {
    pub spec: WindowSpec,
    /// `first`, or the default page size when neither `first` nor `last` was given.
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// The `after` cursor's anchor (cursors of version 3 and later).
    pub after: Option<Anchored>,
    /// The `before` cursor's anchor.
    pub before: Option<Anchored>,
}

impl Ask {
    /// The positions the anchors stand at: fetched with the window, to check them.
    pub fn anchor_windows(&self) -> impl Iterator<Item = Window> + '_ {
        [&self.after, &self.before]
            .into_iter()
            .flatten()
            .map(|a| Window::new(a.position, a.position + 1))
    }
}

/// Turns Relay arguments into a window of the list named by `scope`.
pub fn window(args: &RelayArgs<'_>, scope: Scope, limits: Limits) -> Result<WindowSpec, ArgsError> {
    ask(args, scope, limits).map(|ask| ask.spec)
}

/// Turns Relay arguments into what the loader is asked for.
pub fn ask(args: &RelayArgs<'_>, scope: Scope, limits: Limits) -> Result<Ask, ArgsError> {
    let mut first = count("first", args.first, limits)?;
    let last = count("last", args.last, limits)?;
    let after = position("after", args.after, scope)?;
    let before = position("before", args.before, scope)?;
    if first.is_none() && last.is_none() {
        first = Some(u64::from(limits.default_page_size));
    }
    let (after, after_anchor) = split(after);
    let (before, before_anchor) = split(before);

    // ApplyCursorsToEdges: drop everything up to and including `after`, and from `before` on.
    let start = after.map_or(0, |a| a + 1);
    // Then `first` keeps the first items...
    let first_end = first.map(|f| start + f);
    let spec = match last {
        // ...then `last` the last of those, counting back from an end that only the
        // list's length settles.
        Some(last) => WindowSpec::Tail {
            from: start,
            last,
            before,
            first_end,
        },
        None => {
            let end = [before, first_end].into_iter().flatten().min();
            WindowSpec::Range(Window::new(start, end.unwrap_or(start)))
        }
    };
    Ok(Ask {
        spec,
        first,
        last,
        after: after_anchor,
        before: before_anchor,
    })
}

/// A decoded cursor as its position and, when it has one, its anchor.
fn split(position: Option<cursor::Position>) -> (Option<u64>, Option<Anchored>) {
    let Some(cursor::Position { offset, anchor }) = position else {
        return (None, None);
    };
    let position = u64::from(offset);
    (
        Some(position),
        anchor.map(|anchor| Anchored { position, anchor }),
    )
}

fn count(name: &'static str, value: Option<i32>, limits: Limits) -> Result<Option<u64>, ArgsError> {
    match value {
        None => Ok(None),
        Some(v) if v < 0 => Err(ArgsError::Negative { name, value: v }),
        Some(v) if v as u32 > limits.max_page_size => Err(ArgsError::TooLarge {
            name,
            value: v,
            max: limits.max_page_size,
        }),
        Some(v) => Ok(Some(v as u64)),
    }
}

fn position(
    name: &'static str,
    cursor: Option<&str>,
    scope: Scope,
) -> Result<Option<cursor::Position>, ArgsError> {
    cursor
        .map(|c| cursor::decode(c, scope))
        .transpose()
        .map_err(|error| ArgsError::Cursor { name, error })
}

/// `hasPreviousPage` and `hasNextPage`, exact: items exist before and after the window.
pub fn page_flags(window: Window, total: u64) -> (bool, bool) {
    (window.start > 0, window.end < total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scope() -> Scope {
        Scope::of(&[b"client"])
    }

    /// The spec's algorithm run on a real list of `n` items, as graphql-relay-js does for
    /// in-range cursors: the oracle our window arithmetic must agree with.
    fn reference(
        n: u64,
        first: Option<u64>,
        after: Option<u64>,
        last: Option<u64>,
        before: Option<u64>,
    ) -> Vec<u64> {
        let mut edges: Vec<u64> = (0..n).collect();
        if let Some(a) = after {
            edges.retain(|&i| i > a);
        }
        if let Some(b) = before {
            edges.retain(|&i| i < b);
        }
        let first = if first.is_none() && last.is_none() {
            Some(20)
        } else {
            first
        };
        if let Some(f) = first {
            edges.truncate(f as usize);
        }
        if let Some(l) = last {
            let skip = edges.len().saturating_sub(l as usize);
            edges.drain(..skip);
        }
        edges
    }

    proptest! {
        #[test]
        fn agrees_with_the_spec_for_every_combination(
            n in 0u64..60,
            first in proptest::option::of(0u64..30),
            last in proptest::option::of(0u64..30),
            after in proptest::option::of(0u64..60),
            before in proptest::option::of(0u64..60),
        ) {
            // Cursors name positions that exist.
            let after = after.filter(|&a| a < n);
            let before = before.filter(|&b| b < n);
            let after_c = after.map(|a| cursor::encode(a as u32, scope(), "a", 0));
            let before_c = before.map(|b| cursor::encode(b as u32, scope(), "b", 0));
            let args = RelayArgs {
                first: first.map(|v| v as i32),
                after: after_c.as_deref(),
                last: last.map(|v| v as i32),
                before: before_c.as_deref(),
            };
            let spec = window(&args, scope(), Limits::DEFAULT).unwrap();
            let got = spec.resolve(n);
            let want = reference(n, first, after, last, before);
            let got_positions: Vec<u64> = (got.start..got.end).collect();
            prop_assert_eq!(&got_positions, &want);
            if let (Some(&lo), Some(&hi)) = (want.first(), want.last()) {
                prop_assert_eq!(page_flags(got, n), (lo > 0, hi + 1 < n));
            }
        }
    }

    #[test]
    fn defaults_to_the_first_twenty() {
        let spec = window(&RelayArgs::default(), scope(), Limits::DEFAULT).unwrap();
        assert_eq!(spec, WindowSpec::Range(Window::new(0, 20)));
    }

    #[test]
    fn last_without_before_needs_the_total() {
        let args = RelayArgs {
            last: Some(5),
            ..Default::default()
        };
        let spec = window(&args, scope(), Limits::DEFAULT).unwrap();
        assert_eq!(
            spec,
            WindowSpec::Tail {
                from: 0,
                last: 5,
                before: None,
                first_end: None
            }
        );
        assert_eq!(spec.likely(), None);
        assert_eq!(spec.resolve(37), Window::new(32, 37));
        assert_eq!(spec.resolve(3), Window::new(0, 3));
    }

    #[test]
    fn counts_are_bounded_and_the_error_names_the_limit() {
        let args = RelayArgs {
            first: Some(101),
            ..Default::default()
        };
        let err = window(&args, scope(), Limits::DEFAULT).unwrap_err();
        assert_eq!(err.to_string(), "`first` must be at most 100 (got 101)");
        let args = RelayArgs {
            last: Some(-1),
            ..Default::default()
        };
        let err = window(&args, scope(), Limits::DEFAULT).unwrap_err();
        assert_eq!(err.to_string(), "`last` must not be negative (got -1)");
    }

    #[test]
    fn first_then_last_counts_back_from_the_real_end() {
        let args = RelayArgs {
            first: Some(23),
            last: Some(1),
            ..Default::default()
        };
        let spec = window(&args, scope(), Limits::DEFAULT).unwrap();
        // One request holds the answer wherever the list ends.
        assert_eq!(spec.likely(), Some(Window::new(0, 23)));
        assert_eq!(spec.resolve(100), Window::new(22, 23));
        assert_eq!(spec.resolve(1), Window::new(0, 1));
    }

    #[test]
    fn an_after_cursor_past_the_end_gives_an_empty_page_not_the_first() {
        let after = cursor::encode(50, scope(), "x", 0);
        let args = RelayArgs {
            first: Some(10),
            after: Some(&after),
            ..Default::default()
        };
        let spec = window(&args, scope(), Limits::DEFAULT).unwrap();
        assert!(spec.resolve(30).is_empty());
        assert_eq!(page_flags(spec.resolve(30), 30), (true, false));
    }
}
