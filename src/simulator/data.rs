//! The simulator's demo data: deterministic, the same on every machine and every run.
//!
//! Clients cover the shapes that matter for pagination: the documented example client with
//! its documented photo, an empty client, a few small ones, one with a few dozen photos and
//! one with more than one upstream page (1000) of them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::upstream::LivePhoto;

/// The documented example client and photo of ComplyCube's "List live photos" page.
pub const DOCUMENTED_CLIENT: &str = "5eb1276d96be4a0008713af5";
pub const DOCUMENTED_PHOTO: &str = "5eb1b5f231778a0008d1c3f6";

/// The generated demo clients and how many photos each has. The last hex digits of each id
/// spell its photo count.
pub const DEMO_CLIENTS: &[(&str, u32)] = &[
    ("5f1e0a3c9d2b4a0008a10000", 0),
    ("5f1e0a3c9d2b4a0008a10003", 3),
    ("5f1e0a3c9d2b4a0008a10007", 7),
    ("5f1e0a3c9d2b4a0008a1000c", 12),
    ("5f1e0a3c9d2b4a0008a10025", 37),
    ("5f1e0a3c9d2b4a0008a104e2", 1250),
    // Added after the rest, so their photos' dates and ids leave the others' unchanged.
    ("5f1e0a3c9d2b4a0008a10014", 20),
    ("5f1e0a3c9d2b4a0008a10032", 50),
    ("5f1e0a3c9d2b4a0008a10064", 100),
];

/// Every demo client's photos, newest first (the order upstream lists them in).
pub fn demo_photos() -> HashMap<String, Vec<LivePhoto>> {
    let mut clients = HashMap::new();
    clients.insert(DOCUMENTED_CLIENT.to_owned(), vec![documented_photo()]);
    for (index, &(client, count)) in DEMO_CLIENTS.iter().enumerate() {
        let mut photos: Vec<LivePhoto> = (0..count)
            .map(|k| generated_photo(client, index as u32, k))
            .collect();
        photos.sort_by(newest_first);
        clients.insert(client.to_owned(), photos);
    }
    clients
}

/// Upstream's order: newest `createdAt` first; ties within one millisecond by id descending.
pub fn newest_first(a: &LivePhoto, b: &LivePhoto) -> std::cmp::Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| b.id.cmp(&a.id))
}

fn documented_photo() -> LivePhoto {
    let at = instant(1_577_887_604_756); // 2020-01-01T14:06:44.756Z
    LivePhoto {
        id: DOCUMENTED_PHOTO.to_owned(),
        client_id: DOCUMENTED_CLIENT.to_owned(),
        download_link: format!("/livePhotos/{DOCUMENTED_PHOTO}/download"),
        content_type: "images/jpg".to_owned(),
        perform_liveness_check: true,
        size: 44_896,
        created_at: at,
        updated_at: at,
    }
}

/// Photo `k` (0 = oldest) of demo client number `client_index`.
fn generated_photo(client: &str, client_index: u32, k: u32) -> LivePhoto {
    const BASE_MS: i64 = 1_614_556_800_000; // 2021-03-01T00:00:00.000Z
    const STEP_MS: i64 = 15_180_000; // 4h13m between photos, more than the jitter below
    let k64 = i64::from(k);
    let jitter_ms = (k64 * 104_729) % 3_600_000 + (k64 * 7_919) % 1000;
    let created_ms = BASE_MS + i64::from(client_index) * 86_400_000 + k64 * STEP_MS + jitter_ms;
    // Every third photo was updated a few days after upload, so updated* filters differ
    // from created* ones.
    let updated_ms = if k.is_multiple_of(3) {
        created_ms + i64::from(k % 7 + 1) * 86_400_000
    } else {
        created_ms
    };
    let id = format!(
        "{:08x}31778a0008{:06x}",
        created_ms / 1000,
        client_index * 0x1_0000 + k
    );
    LivePhoto {
        download_link: format!("/livePhotos/{id}/download"),
        id,
        client_id: client.to_owned(),
        content_type: if k % 5 == 4 {
            "image/png"
        } else {
            "images/jpg"
        }
        .to_owned(),
        perform_liveness_check: k % 4 != 3,
        size: 34_816 + ((u64::from(k) * 2_654_435_761) % 3_900_000) as u32,
        created_at: instant(created_ms),
        updated_at: instant(updated_ms),
    }
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_has_the_promised_shapes() {
        let data = demo_photos();
        assert_eq!(data[DOCUMENTED_CLIENT][0].id, DOCUMENTED_PHOTO);
        let sizes: Vec<usize> = DEMO_CLIENTS.iter().map(|(c, _)| data[*c].len()).collect();
        assert_eq!(sizes, vec![0, 3, 7, 12, 37, 1250, 20, 50, 100]);
        for photos in data.values() {
            assert!(photos.windows(2).all(|w| w[0].created_at > w[1].created_at));
            let mut ids: Vec<_> = photos.iter().map(|p| &p.id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), photos.len());
            assert!(photos.iter().all(|p| p.id.len() == 24));
        }
    }

    #[test]
    fn demo_data_is_deterministic() {
        assert_eq!(demo_photos(), demo_photos());
    }
}
