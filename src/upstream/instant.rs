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

/// An RFC 3339 instant, in UTC: what `chrono`'s `parse_from_rfc3339` reads, and its error
/// where it refuses. ComplyCube's own form (`2020-01-01T14:06:44.756Z`, forty to a page)
/// is read digit by digit; any other form goes to `chrono`.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    use chrono::NaiveDate;
    let b = text.as_bytes();
    let digits = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, d| match d {
            b'0'..=b'9' => Some(n * 10 + u32::from(d - b'0')),
            _ => None,
        })
    };
    let fast = (b.len() == 24
        && (b[4], b[7], b[10], b[13], b[16], b[19], b[23])
            == (b'-', b'-', b'T', b':', b':', b'.', b'Z'))
        .then(|| {
            // A second of 60 (a leap second) is chrono's to judge.
            let second @ 0..=59 = digits(17, 19)? else {
                return None;
            };
            NaiveDate::from_ymd_opt(digits(0, 4)? as i32, digits(5, 7)?, digits(8, 10)?)?
                .and_hms_milli_opt(digits(11, 13)?, digits(14, 16)?, second, digits(20, 23)?)
        })
        .flatten();
    match fast {
        Some(t) => Ok(t.and_utc()),
        None => DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)),
    }
}

/// Milliseconds since the epoch, formatted by [`format_instant`].
pub fn format_millis(ms: Millis) -> String {
    format_instant(&DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `chrono` reads from `text`, as [`parse_instant`] should.
    fn chrono(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn instants_read_as_chrono_reads_them() {
        for text in [
            "2020-01-01T14:06:44.756Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2016-12-31T23:59:60.000Z",
            "2021-02-29T00:00:00.000Z",
            "2020-02-29T24:00:00.000Z",
            "2020-13-01T00:00:00.000Z",
            "2020-01-01T00:60:00.000Z",
            "2020-01-01t14:06:44.756z",
            "2020-01-01 14:06:44.756Z",
            "2020-01-01T14:06:44.756+01:00",
            "2020-01-01T14:06:44Z",
            "2020-01-01T14:06:44.7560Z",
            "+020-01-01T14:06:44.756Z",
            "2020-01-01T14:06:44.75xZ",
            "2020-01-01T14:06:44.756",
            "",
        ] {
            assert_eq!(parse_instant(text), chrono(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn printed_instants_read_back_as_chrono_reads_them(
            ms in -62_000_000_000_000i64..=253_000_000_000_000i64,
        ) {
            let text = format_millis(ms);
            proptest::prop_assert_eq!(parse_instant(&text), chrono(&text));
        }

        #[test]
        fn any_text_of_that_length_reads_as_chrono_reads_it(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[Zz]",
        ) {
            proptest::prop_assert_eq!(parse_instant(&text), chrono(&text));
        }

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
