use super::*;

const SECRET: &str = "an-image-url-secret-of-at-least-32-bytes";

fn urls(secrets: &[&str]) -> ImageUrls {
    ImageUrls::new(
        &ImageUrlSettings {
            secrets: secrets.iter().map(|s| Secret::new(*s)).collect(),
            ..ImageUrlSettings::default()
        },
        Fallback::Forwarding,
    )
    .unwrap()
}

fn token(url: &str) -> &str {
    url.strip_prefix(PATH).unwrap()
}

#[test]
fn a_url_grants_its_photo_and_width_until_it_expires() {
    let urls = urls(&[SECRET]);
    let now = SystemTime::now();
    let url = urls.mint("photo-1", Some(256), None, now);
    assert!(url.starts_with("/images/v1."), "{url}");
    let grant = urls.verify(token(&url), now).unwrap();
    assert_eq!(
        (grant.photo.as_str(), grant.width, &grant.key),
        ("photo-1", Some(256), &None)
    );
    assert_eq!(grant.seconds_left(now), DEFAULT_IMAGE_URL_TTL.as_secs());
    let later = now + DEFAULT_IMAGE_URL_TTL;
    assert_eq!(urls.verify(token(&url), later), Err(Refusal::Expired));
    assert_ne!(
        grant.etag(),
        urls.verify(token(&urls.mint("photo-1", None, None, now)), now)
            .unwrap()
            .etag()
    );
}

#[test]
fn any_change_to_a_url_is_refused() {
    let urls = urls(&[SECRET]);
    let now = SystemTime::now();
    let url = urls.mint("photo-1", Some(256), None, now);
    let token = token(&url);
    for i in 0..token.len() {
        let mut tampered = token.as_bytes().to_vec();
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        if tampered != token {
            assert_eq!(urls.verify(&tampered, now), Err(Refusal::Invalid), "at {i}");
        }
    }
    // Another photo's claims under this signature, an expired URL made fresh: refused.
    let other = urls.mint("photo-2", Some(256), None, now);
    let (head, _) = token.rsplit_once('.').unwrap();
    let (_, other_tag) = other.rsplit_once('.').unwrap();
    assert_eq!(
        urls.verify(&format!("{head}.{other_tag}"), now),
        Err(Refusal::Invalid)
    );
    for junk in ["", "v1.", "v1..", "v2.e30.AAAA", "nope"] {
        assert_eq!(urls.verify(junk, now), Err(Refusal::Invalid), "{junk}");
    }
    // Another service's secret signs nothing here.
    let theirs =
        self::urls(&["another-secret-that-is-32-bytes-long!!"]).mint("photo-1", None, None, now);
    assert_eq!(
        urls.verify(self::token(&theirs), now),
        Err(Refusal::Invalid)
    );
}

#[test]
fn the_old_secret_still_verifies_during_rotation() {
    let old = urls(&[SECRET]);
    let rotated = urls(&["the-new-image-url-secret-of-32-bytes!!", SECRET]);
    let now = SystemTime::now();
    let url = old.mint("p", None, None, now);
    assert!(rotated.verify(token(&url), now).is_ok());
    let new = rotated.mint("p", None, None, now);
    assert!(
        old.verify(token(&new), now).is_err(),
        "the old one never learned the new"
    );
}

#[test]
fn a_forwarded_key_is_sealed_bound_and_never_in_clear() {
    let urls = urls(&[SECRET]);
    let now = SystemTime::now();
    let key = ApiKey::new("live_callers_own_key_0123456789");
    let url = urls.mint("photo-1", None, Some(&key), now);
    assert!(!url.contains("live_callers"), "{url}");
    let decoded: String = url
        .split('.')
        .filter_map(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(!decoded.contains("live_callers"), "{decoded}");
    assert_eq!(urls.verify(token(&url), now).unwrap().key, Some(key));
}

#[test]
fn secrets_are_long_enough_or_derived_and_urls_absolute_when_asked() {
    let short = ImageUrlSettings {
        secrets: vec![Secret::new("short")],
        ..ImageUrlSettings::default()
    };
    assert!(ImageUrls::new(&short, Fallback::Forwarding)
        .unwrap_err()
        .contains("32 bytes"));
    let none = ImageUrlSettings::default();
    let refused = ImageUrls::new(&none, Fallback::Forwarding).unwrap_err();
    assert!(refused.contains("IMAGE_URL_SECRET"), "{refused}");
    // Two replicas with the same server key agree without a secret.
    let key = ApiKey::new("live_server_key");
    let a = ImageUrls::new(&none, Fallback::ServerKey(&key)).unwrap();
    let b = ImageUrls::new(&none, Fallback::ServerKey(&key)).unwrap();
    let now = SystemTime::now();
    assert!(b.verify(token(&a.mint("p", None, None, now)), now).is_ok());
    let public = ImageUrlSettings {
        public_url: Some("https://kyc.example.com/".into()),
        ..ImageUrlSettings::default()
    };
    let absolute = ImageUrls::new(&public, Fallback::ServerKey(&key)).unwrap();
    assert!(absolute
        .mint("p", None, None, now)
        .starts_with("https://kyc.example.com/images/v1."));
    for bad in ["kyc.example.com", "ftp://x", "https://x/?a=b"] {
        let settings = ImageUrlSettings {
            public_url: Some(bad.into()),
            ..ImageUrlSettings::default()
        };
        assert!(
            ImageUrls::new(&settings, Fallback::ServerKey(&key)).is_err(),
            "{bad}"
        );
    }
}
