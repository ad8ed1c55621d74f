//! Instants as ComplyCube prints them: RFC 3339, UTC, whole milliseconds, `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// An instant with ComplyCube's precision (whole milliseconds, UTC).
pub type Millis = i64;

/// An instant as ComplyCube prints dates, and as our `DateTime` scalar does:
/// `2020-01-01T14:06:44.756Z` (RFC 3339, UTC, milliseconds).
/// A page of photos prints forty of these, so years 0 to 9999 are written digit by digit
/// rather than through `chrono`'s formatter, which costs several times more.
pub fn format_instant(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // The accessors of a `DateTime` apply its offset on every call; the naive ones do not.
    let t = t.naive_utc();
    let (year, ms) = (t.year(), t.nanosecond() / 1_000_000);
    // Leap seconds show as 1000 ms and more; `chrono` prints those as second 60.
    let (Ok(year @ 0..=9999), 0..=999) = (u32::try_from(year), ms) else {
        return t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true);
    };
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 3, ms);
    // Digits and ASCII punctuation only, so always UTF-8.
    std::str::from_utf8(&text).unwrap_or_default().to_owned()
}

/// Milliseconds since the epoch, formatted by [`format_instant`].
pub fn format_millis(ms: Millis) -> String {
    format_instant(&DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn instants_print_as_chrono_prints_them(
            secs in -70_000_000_000i64..=260_000_000_000i64,
            nanos in 0u32..2_000_000_000,
        ) {
            // Nanoseconds past 999,999,999 are how chrono represents a leap second.
            if let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) {
                proptest::prop_assert_eq!(
                    format_instant(&t),
                    t.to_rfc3339_opts(SecondsFormat::Millis, true)
                );
            }
        }
    }
}
