//! The live photos the simulator serves, and how they change while it runs (photos added
//! at the head of a list, photos deleted, the demo data restored).
//!
//! The one thing to know: every client's list is kept in upstream order, newest `createdAt`
//! first and ties within one millisecond by id descending ([`data::newest_first`]). A photo
//! added at run time sorts first: its `createdAt` is `max(now, newest createdAt + 1 ms)`,
//! and its id (`<createdAt seconds, 8 hex><5e1f><serial, 12 hex>`) grows with a serial
//! number, so of photos added in one millisecond the last added is listed first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::data;
use crate::upstream::LivePhoto;

/// Every client's photos, newest first, and which client owns each photo id.
pub(super) struct PhotoStore {
    clients: HashMap<String, Vec<LivePhoto>>,
    owners: HashMap<String, String>,
    /// The serial number of the next added photo; never reset, so an id is never reused.
    next_serial: u64,
}

impl PhotoStore {
    /// The deterministic demo data of [`data::demo_photos`].
    pub fn demo() -> Self {
        let mut store = Self {
            clients: HashMap::new(),
            owners: HashMap::new(),
            next_serial: 1,
        };
        store.restore_demo();
        store
    }

    /// Back to the demo data; photo ids added later still continue the serial numbers.
    pub fn restore_demo(&mut self) {
        self.clients = data::demo_photos();
        self.owners = self
            .clients
            .iter()
            .flat_map(|(client, photos)| photos.iter().map(|p| (p.id.clone(), client.clone())))
            .collect();
    }

    /// A known client's photos, newest first.
    pub fn list(&self, client: &str) -> Option<&[LivePhoto]> {
        self.clients.get(client).map(Vec::as_slice)
    }

    pub fn get(&self, id: &str) -> Option<&LivePhoto> {
        let client = self.owners.get(id)?;
        self.clients.get(client)?.iter().find(|p| p.id == id)
    }

    /// Adds `count` photos at the head of `client`'s list (making the client known), each
    /// one millisecond after the one before, or all in one millisecond. Returns them in list
    /// order, newest first.
    pub fn add(
        &mut self,
        client: &str,
        count: u32,
        same_millisecond: bool,
        now: DateTime<Utc>,
    ) -> Vec<LivePhoto> {
        let photos = self.clients.entry(client.to_owned()).or_default();
        let newest = photos.first().map(|p| p.created_at.timestamp_millis());
        let start = newest.map_or(now.timestamp_millis(), |ms| {
            now.timestamp_millis().max(ms + 1)
        });
        let mut added: Vec<LivePhoto> = (0..count)
            .map(|k| {
                let created_ms = if same_millisecond {
                    start
                } else {
                    start + i64::from(k)
                };
                let serial = self.next_serial;
                self.next_serial += 1;
                new_photo(client, serial, created_ms)
            })
            .collect();
        added.reverse();
        for photo in &added {
            self.owners.insert(photo.id.clone(), client.to_owned());
        }
        photos.splice(0..0, added.iter().cloned());
        debug_assert!(photos
            .windows(2)
            .all(|w| data::newest_first(&w[0], &w[1]).is_lt()));
        added
    }

    /// Removes one photo; `None` when no photo has that id.
    pub fn delete(&mut self, id: &str) -> Option<LivePhoto> {
        let client = self.owners.remove(id)?;
        let photos = self.clients.get_mut(&client)?;
        let index = photos.iter().position(|p| p.id == id)?;
        Some(photos.remove(index))
    }

    /// One step of churn: a new photo at the head of `client`'s list and its oldest photo
    /// gone, in one step, so the list keeps its length. Returns the added and removed ids.
    pub fn churn(&mut self, client: &str, now: DateTime<Utc>) -> (String, Option<String>) {
        let added = self.add(client, 1, false, now).remove(0);
        let oldest = self
            .clients
            .get(client)
            .filter(|photos| photos.len() > 1)
            .and_then(|photos| photos.last())
            .map(|p| p.id.clone());
        let removed = oldest.and_then(|id| self.delete(&id)).map(|p| p.id);
        (added.id, removed)
    }
}

fn new_photo(client: &str, serial: u64, created_ms: i64) -> LivePhoto {
    let seconds = (created_ms / 1000) & 0xffff_ffff;
    let id = format!("{seconds:08x}5e1f{:012x}", serial & 0xffff_ffff_ffff);
    let at = DateTime::from_timestamp_millis(created_ms).unwrap_or_default();
    LivePhoto {
        download_link: format!("/livePhotos/{id}/download"),
        id,
        client_id: client.to_owned(),
        content_type: "images/jpg".to_owned(),
        perform_liveness_check: true,
        size: 34_816 + ((serial * 2_654_435_761) % 3_900_000) as u32,
        created_at: at,
        updated_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "5f1e0a3c9d2b4a0008a10003";

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn is_upstream_order(photos: &[LivePhoto]) -> bool {
        photos
            .windows(2)
            .all(|w| data::newest_first(&w[0], &w[1]).is_lt())
    }

    #[test]
    fn added_photos_come_first_in_upstream_order() {
        let mut store = PhotoStore::demo();
        let now = at(1_700_000_000_000);
        let spread = store.add(CLIENT, 3, false, now);
        let created: Vec<i64> = spread
            .iter()
            .map(|p| p.created_at.timestamp_millis())
            .collect();
        assert_eq!(
            created,
            vec![1_700_000_000_002, 1_700_000_000_001, 1_700_000_000_000]
        );
        let tied = store.add(CLIENT, 4, true, now);
        assert!(tied
            .iter()
            .all(|p| p.created_at.timestamp_millis() == 1_700_000_000_003));
        let list = store.list(CLIENT).unwrap();
        assert_eq!(list.len(), 3 + 3 + 4);
        assert_eq!(&list[..4], &tied[..]);
        assert_eq!(&list[4..7], &spread[..]);
        assert!(is_upstream_order(list));
        for photo in tied.iter().chain(&spread) {
            assert_eq!(photo.id.len(), 24);
            assert!(photo.id.chars().all(|c| c.is_ascii_hexdigit()));
            assert_eq!(
                photo.download_link,
                format!("/livePhotos/{}/download", photo.id)
            );
            assert_eq!(photo.updated_at, photo.created_at);
            assert_eq!(store.get(&photo.id), Some(photo));
        }
    }

    #[test]
    fn a_clock_behind_the_newest_photo_still_adds_at_the_head() {
        let mut store = PhotoStore::demo();
        let newest = store.list(CLIENT).unwrap()[0].created_at.timestamp_millis();
        let added = store.add(CLIENT, 1, false, at(0));
        assert_eq!(added[0].created_at.timestamp_millis(), newest + 1);
    }

    #[test]
    fn unknown_clients_become_known_and_deleted_photos_are_gone() {
        let mut store = PhotoStore::demo();
        assert!(store.list("new-client").is_none());
        let added = store.add("new-client", 2, false, at(1_000));
        assert_eq!(store.list("new-client").unwrap().len(), 2);
        assert_eq!(
            store.delete(&added[0].id).map(|p| p.id),
            Some(added[0].id.clone())
        );
        assert!(store.delete(&added[0].id).is_none());
        assert!(store.get(&added[0].id).is_none());
        assert_eq!(store.list("new-client").unwrap(), &added[1..]);
    }

    #[test]
    fn churn_keeps_the_length_and_restore_brings_back_the_demo_data() {
        let mut store = PhotoStore::demo();
        let before = store.list(CLIENT).unwrap().to_vec();
        let (added, removed) = store.churn(CLIENT, at(1_700_000_000_000));
        let after = store.list(CLIENT).unwrap();
        assert_eq!(after.len(), before.len());
        assert_eq!(after[0].id, added);
        assert_eq!(removed.as_deref(), Some(before[2].id.as_str()));
        assert_eq!(&after[1..], &before[..2]);
        store.restore_demo();
        assert_eq!(store.list(CLIENT).unwrap(), &before[..]);
        assert!(store.get(&added).is_none());
        let again = store.add(CLIENT, 1, false, at(1_700_000_000_000));
        assert_ne!(again[0].id, added, "serial numbers go on after a restore");
    }
}
