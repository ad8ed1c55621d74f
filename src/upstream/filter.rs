//! The date filters of a list call, normalised to whole milliseconds.

use super::{format_millis, Millis};

/// The date filters of a list call, normalised to whole milliseconds. Bounds are strict,
/// as upstream applies them: `createdAfter` keeps items with `createdAt > created_after`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LivePhotoFilter {
    pub created_after: Option<Millis>,
    pub created_before: Option<Millis>,
    pub updated_after: Option<Millis>,
    pub updated_before: Option<Millis>,
}

impl LivePhotoFilter {
    /// The filter as upstream query parameters, dates formatted the way upstream prints them
    /// (upstream answers a badly formatted date with an empty 200, so we never send one).
    pub(super) fn query_pairs(&self) -> impl Iterator<Item = (&'static str, String)> {
        [
            ("createdAfter", self.created_after),
            ("createdBefore", self.created_before),
            ("updatedAfter", self.updated_after),
            ("updatedBefore", self.updated_before),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|ms| (name, format_millis(ms))))
    }

    /// Bytes that identify this filter, for binding cursors to it.
    pub fn fingerprint_bytes(&self) -> [u8; 36] {
        let mut out = [0u8; 36];
        for (i, bound) in [
            self.created_after,
            self.created_before,
            self.updated_after,
            self.updated_before,
        ]
        .into_iter()
        .enumerate()
        {
            let chunk = &mut out[i * 9..(i + 1) * 9];
            if let Some(ms) = bound {
                chunk[0] = 1;
                chunk[1..].copy_from_slice(&ms.to_be_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_dates_are_sent_as_complycube_prints_them() {
        let filter = LivePhotoFilter {
            created_after: Some(1_577_887_604_756),
            ..Default::default()
        };
        let pairs: Vec<_> = filter.query_pairs().collect();
        assert_eq!(
            pairs,
            vec![("createdAfter", "2020-01-01T14:06:44.756Z".to_string())]
        );
    }
}
