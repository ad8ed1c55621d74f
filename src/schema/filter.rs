//! `livePhotos`' filter argument, and how it reaches ComplyCube.
//!
//! The one thing to know: every bound is strict, as ComplyCube's are, and an instant finer
//! than ComplyCube's milliseconds is rounded away from the kept side, so the same photos
//! are kept.

use async_graphql::InputObject;

use super::scalars::DateTime;
use crate::upstream;

/// Bounds on a live photo's dates. Every bound is strict: `createdAfter: T` keeps photos
/// created after `T`, not at `T`.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct LivePhotoFilter {
    /// Only photos created strictly after this instant.
    created_after: Option<DateTime>,
    /// Only photos created strictly before this instant.
    created_before: Option<DateTime>,
    /// Only photos last updated strictly after this instant.
    updated_after: Option<DateTime>,
    /// Only photos last updated strictly before this instant.
    updated_before: Option<DateTime>,
}

impl LivePhotoFilter {
    /// Upstream compares whole milliseconds. A strict bound with a finer instant keeps the
    /// same photos when rounded away from the kept side: down for `after`, up for `before`.
    pub(super) fn normalize(self) -> upstream::LivePhotoFilter {
        let floor = |d: Option<DateTime>| d.map(|d| d.0.timestamp_millis());
        let ceil = |d: Option<DateTime>| {
            d.map(|d| {
                let ms = d.0.timestamp_millis();
                if d.0.timestamp_subsec_nanos() % 1_000_000 == 0 {
                    ms
                } else {
                    ms + 1
                }
            })
        };
        upstream::LivePhotoFilter {
            created_after: floor(self.created_after),
            created_before: ceil(self.created_before),
            updated_after: floor(self.updated_after),
            updated_before: ceil(self.updated_before),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::scalars::dt;

    #[test]
    fn sub_millisecond_bounds_round_away_from_the_kept_side() {
        let f = LivePhotoFilter {
            created_after: dt("2020-01-01T14:06:44.7561Z"),
            created_before: dt("2020-01-01T14:06:44.7561Z"),
            updated_after: dt("2020-01-01T14:06:44.756Z"),
            updated_before: dt("2020-01-01T14:06:44.756Z"),
        }
        .normalize();
        assert_eq!(f.created_after, Some(1_577_887_604_756));
        assert_eq!(f.created_before, Some(1_577_887_604_757));
        assert_eq!(f.updated_after, Some(1_577_887_604_756));
        assert_eq!(f.updated_before, Some(1_577_887_604_756));
    }
}
