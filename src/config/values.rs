//! How the settings' values are read from their text, where clap's own parsers do not say
//! enough: every bound is refused at start with what it must be.

use std::time::Duration;

use humantime::Duration as HumanDuration;

pub(super) fn parse_fallback_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 1.0 => Ok(p),
        _ => Err(format!("`{text}` is not a share above 0 and at most 1")),
    }
}

/// A timeout or a lifetime: zero would fail everything it bounds, so it is refused at start.
pub(super) fn longer_than_zero(text: &str) -> Result<HumanDuration, String> {
    match text.parse::<HumanDuration>() {
        Ok(duration) if duration.is_zero() => Err("must be longer than zero".to_owned()),
        Ok(duration) => Ok(duration),
        Err(e) => Err(e.to_string()),
    }
}

/// A size or a count below which nothing would get through (`usize` settings).
pub(super) fn at_least<const MINIMUM: usize>(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= MINIMUM => Ok(n),
        Ok(_) => Err(format!("must be at least {MINIMUM}")),
        Err(e) => Err(e.to_string()),
    }
}

pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate in requests per second above zero (e.g. `10`)"
        )),
    }
}

pub(super) fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a share between 0 and 1")),
    }
}

pub(super) fn parse_period(text: &str) -> Result<Duration, String> {
    longer_than_zero(text).map(Into::into)
}
