//! The objects [`super::Shaped`] builds in place, with their keys hashed once per thread
//! rather than once per object.
//!
//! async-graphql's objects are `IndexMap<Name, Value>` with std's `RandomState`: SipHash,
//! and a new key for every map, so every field of every object of an answer is hashed
//! again (a page of 20 photos: over 200 SipHashes, about a twentieth of a request's
//! instructions). Here every object built in place shares one `RandomState`, so a key
//! hashes to the same value in all of them, and each thread keeps the hash of the keys it
//! has seen, found by the key's address in the document.
//!
//! The one thing to know: the maps stay ordinary `IndexMap`s with their own hasher. The
//! hash handed to indexmap's raw entry API is that hasher's own hash of the key, so a
//! later `get` or `entry` by anyone finds every key; the test below fails if indexmap ever
//! hashes a key differently.

use std::{
    cell::RefCell,
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::LazyLock,
};

use async_graphql::{
    indexmap::{
        map::raw_entry_v1::{RawEntryApiV1, RawEntryMut},
        IndexMap,
    },
    Name, Value,
};

/// The hasher state of every object built in place.
static STATE: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// Keys a thread remembers before it starts over: the response keys of the documents in
/// use, a few dozen each.
const REMEMBERED: usize = 4096;

thread_local! {
    /// A key's hash under [`STATE`], by the address of the key's text. The entry holds the
    /// key itself, so that text cannot be freed, and its address reused by other text,
    /// while the entry stands.
    static HASHES: RefCell<HashMap<usize, (Name, u64), foldhash::fast::RandomState>> =
        RefCell::default();
}

/// `key`'s hash under [`STATE`].
fn hash(key: &Name) -> u64 {
    let address = key.as_str().as_ptr() as usize;
    HASHES.with_borrow_mut(|hashes| {
        if let Some((_, hash)) = hashes.get(&address) {
            return *hash;
        }
        if hashes.len() >= REMEMBERED {
            hashes.clear();
        }
        let hash = STATE.hash_one(key);
        hashes.insert(address, (key.clone(), hash));
        hash
    })
}

/// An object being built, its fields in the order they are added.
pub(super) struct Object(IndexMap<Name, Value>);

impl Object {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self(IndexMap::with_capacity_and_hasher(capacity, STATE.clone()))
    }

    /// Adds a field's value under its response key; a key added before gets the new
    /// value's sub-selections merged into it (see [`super::merge`]).
    pub(super) fn insert(&mut self, key: Name, value: Value) {
        let hash = hash(&key);
        match self
            .0
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(hash, &key)
        {
            RawEntryMut::Vacant(slot) => {
                slot.insert_hashed_nocheck(hash, key, value);
            }
            RawEntryMut::Occupied(slot) => super::merge(slot.into_mut(), value),
        }
    }

    pub(super) fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::new(text)
    }

    #[test]
    fn every_key_is_found_by_the_maps_own_hasher() {
        // Keys of one document (the same `Name`s, again and again) and fresh ones.
        let shared: Vec<Name> = ["id", "cursor", "node", "createdAt"]
            .into_iter()
            .map(name)
            .collect();
        for round in 0..3 {
            let mut object = Object::with_capacity(2);
            for key in &shared {
                object.insert(key.clone(), Value::from(round));
            }
            for i in 0..50 {
                object.insert(name(&format!("field{i}")), Value::from(i));
            }
            let Value::Object(map) = object.into_value() else {
                unreachable!()
            };
            assert_eq!(map.len(), shared.len() + 50);
            for key in &shared {
                assert_eq!(map.get(key.as_str()), Some(&Value::from(round)), "{key}");
            }
            for i in 0..50 {
                assert_eq!(map.get(format!("field{i}").as_str()), Some(&Value::from(i)));
            }
            let expected: Vec<&str> = shared.iter().map(Name::as_str).collect();
            let first: Vec<&str> = map.keys().take(4).map(Name::as_str).collect();
            assert_eq!(first, expected, "fields keep the order they were added in");
        }
    }

    #[test]
    fn a_key_added_twice_merges_and_keeps_its_place() {
        let key = name("node");
        let mut object = Object::with_capacity(2);
        object.insert(
            key.clone(),
            Value::from_json(serde_json::json!({"a": 1})).unwrap(),
        );
        object.insert(name("cursor"), Value::from("c"));
        object.insert(key, Value::from_json(serde_json::json!({"b": 2})).unwrap());
        assert_eq!(
            object.into_value().into_json().unwrap(),
            serde_json::json!({"node": {"a": 1, "b": 2}, "cursor": "c"})
        );
    }

    #[test]
    fn a_full_thread_cache_starts_over_and_stays_right() {
        let keys: Vec<Name> = (0..REMEMBERED + 10)
            .map(|i| name(&format!("k{i}")))
            .collect();
        for key in &keys {
            assert_eq!(hash(key), STATE.hash_one(key));
        }
        assert!(HASHES.with_borrow(|h| h.len()) <= REMEMBERED);
        assert_eq!(hash(&keys[0]), STATE.hash_one(&keys[0]));
    }
}
