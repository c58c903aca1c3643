//! A map keyed by random 128-bit ids (tokens, UUIDs), split into shards so
//! concurrent requests rarely touch the same lock, and hashed with a cheap
//! mixer because the keys are already random (SipHash would buy nothing).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;

const SHARDS: usize = 32;

/// Folds the 128-bit key into 64 bits and runs MurmurHash3's finaliser, so
/// every output bit depends on every input bit (UUIDs have fixed version bits;
/// the table's bucket index must not land on them).
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write_u128(&mut self, key: u128) {
        self.0 ^= (key as u64) ^ ((key >> 64) as u64);
    }

    // Only u128 keys are hashed here; this keeps any other input correct too.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Shard<V> = RwLock<HashMap<u128, V, BuildHasherDefault<IdHasher>>>;

/// Concurrent map from a random id to `V`; readers of one shard never block each other.
pub struct ShardedMap<V> {
    shards: Box<[Shard<V>]>,
}

impl<V> Default for ShardedMap<V> {
    fn default() -> Self {
        ShardedMap {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }
}

impl<V> ShardedMap<V> {
    fn shard(&self, key: u128) -> &Shard<V> {
        // The key's top bits pick the shard; the hasher mixes all of them for
        // the table, so shard choice and bucket choice stay independent.
        &self.shards[(key >> 120) as usize % SHARDS]
    }

    pub fn insert(&self, key: u128, value: V) {
        // A poisoned lock only means another request panicked mid-insert;
        // the map itself is still consistent, so keep serving.
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        shard.insert(key, value);
    }

    /// Runs `read` on the value under the shard's read lock.
    pub fn with<R>(&self, key: u128, read: impl FnOnce(&V) -> R) -> Option<R> {
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        shard.get(&key).map(read)
    }

    /// The value under `key`, made by `make` if there is none yet; two
    /// racing callers get the same value (the check and the insert share
    /// one write lock).
    pub fn get_or_insert_with(&self, key: u128, make: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        if let Some(value) = self.with(key, V::clone) {
            return value;
        }
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        shard.entry(key).or_insert_with(make).clone()
    }

    pub fn contains(&self, key: u128) -> bool {
        self.with(key, |_| ()).is_some()
    }

    pub fn remove(&self, key: u128) -> Option<V> {
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        shard.remove(&key)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove() {
        let map = ShardedMap::default();
        let keys: Vec<u128> = (0..1000u128).map(|i| i << 100 | i).collect();
        for (i, key) in keys.iter().enumerate() {
            map.insert(*key, i);
        }
        assert_eq!(map.len(), 1000);
        assert_eq!(map.with(keys[7], |v| *v), Some(7));
        assert!(map.contains(keys[999]));
        assert_eq!(map.remove(keys[7]), Some(7));
        assert!(!map.contains(keys[7]));
        assert_eq!(map.with(12345, |v| *v), None);
        assert_eq!(map.len(), 999);
        assert_eq!(map.get_or_insert_with(keys[8], || 0), 8);
        assert_eq!(map.get_or_insert_with(5, || 50), 50);
        assert_eq!(map.get_or_insert_with(5, || 51), 50);
    }
}
