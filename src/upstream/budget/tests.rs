//! How the budget's settings resolve from flags and the key.

use super::*;
use crate::secrets::ApiKey;

#[test]
fn a_real_key_gets_the_documented_rate_and_each_caller_half_of_it() {
    let resolve = |rate: Option<&str>, caller: Option<&str>, key: Option<&str>| {
        let key = key.map(ApiKey::new);
        let settings = RateBudgetSettings::default().resolve(
            rate.map(|r| r.parse().unwrap()),
            caller.map(|r| r.parse().unwrap()),
            key.as_ref(),
        );
        (settings.rate, settings.caller_rate)
    };
    assert_eq!(
        resolve(None, None, Some("live_abc")),
        (Some(10.0), Some(5.0))
    );
    assert_eq!(
        resolve(None, None, Some("test_abc")),
        (Some(5.0), Some(2.5))
    );
    assert_eq!(resolve(None, None, Some("sk_other")), (None, None));
    assert_eq!(resolve(None, None, None), (None, None), "forwarding, demo");
    assert_eq!(resolve(Some("off"), None, Some("live_abc")), (None, None));
    assert_eq!(
        resolve(None, Some("off"), Some("live_abc")),
        (Some(10.0), None)
    );
    assert_eq!(resolve(Some("3"), Some("1"), None), (Some(3.0), Some(1.0)));
    assert!("0".parse::<RateChoice>().is_err() && "fast".parse::<RateChoice>().is_err());
    let shared = RateBudgetSettings::default().resolve(None, None, Some(&ApiKey::new("live_x")));
    assert_eq!(shared.per_caller().and_then(|c| c.rate), Some(5.0));
    let unshared = RateBudgetSettings::default().resolve(None, Some(RateChoice::Off), None);
    assert!(unshared.per_caller().is_none());
}
