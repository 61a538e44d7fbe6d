//! [`CandidateIndex`]: an in-memory inverted index from blocking keys to contact positions, built
//! once and then read-only. Keys are hashed to 64 bits (FNV-1a) and kept as one sorted array of
//! `(hash, position)` pairs: compact (12 bytes an entry), cache friendly, and deterministic.
//! Posting lists longer than the block cap (a name key shared by thousands, such as `smith j`) are
//! skipped as uninformative; email and phone keys have a higher cap.

use super::keys::{BlockingKey, KeyKind};

/// FNV-1a over the key kind and value.
#[must_use]
pub fn key_hash(key: &BlockingKey) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::iter::once(key.kind as u8).chain(key.value.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Limits on how many candidates a key may contribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLimits {
    /// Name keys shared by more contacts than this are skipped.
    pub max_name_block: usize,
    /// Email / phone keys shared by more contacts than this are skipped (a role address such as
    /// `info@` shared by a whole company).
    pub max_identifier_block: usize,
}

impl Default for BlockLimits {
    fn default() -> Self {
        Self { max_name_block: 100, max_identifier_block: 50 }
    }
}

/// Bits of the hash that pick a bucket in the lookup table in front of the sorted entries.
const BUCKET_BITS: u32 = 20;

/// A read-only blocking index.
#[derive(Debug, Clone, Default)]
pub struct CandidateIndex {
    entries: Vec<(u64, u32)>,
    /// `buckets[b]..buckets[b + 1]`: the entries whose hash starts with the bits `b`, so a lookup
    /// is one table read and a short search instead of a binary search over everything.
    buckets: Vec<u32>,
    limits: BlockLimits,
}

/// Collects `(key hash, position)` pairs, then builds the index.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    entries: Vec<(u64, u32)>,
}

impl IndexBuilder {
    /// An empty builder with room for `n` entries.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self { entries: Vec::with_capacity(n) }
    }

    /// A builder over pre-hashed `(key hash, position)` entries.
    #[must_use]
    pub fn from_entries(entries: Vec<(u64, u32)>) -> Self {
        Self { entries }
    }

    /// Adds the keys of the contact at `position`.
    pub fn add(&mut self, position: u32, keys: &[BlockingKey]) {
        self.entries.extend(keys.iter().map(|k| (key_hash(k), position)));
    }

    /// Adds pre-hashed entries (from [`key_hash`]); lets callers hash in parallel.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (u64, u32)>) {
        self.entries.extend(entries);
    }

    /// Sorts and freezes.
    #[must_use]
    pub fn build(mut self, limits: BlockLimits) -> CandidateIndex {
        self.entries.sort_unstable();
        self.entries.dedup();
        self.entries.shrink_to_fit();
        let mut buckets = Vec::with_capacity((1 << BUCKET_BITS) + 1);
        let mut at = 0usize;
        for b in 0..=(1u64 << BUCKET_BITS) {
            while at < self.entries.len() && (self.entries[at].0 >> (64 - BUCKET_BITS)) < b {
                at += 1;
            }
            buckets.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        CandidateIndex { entries: self.entries, buckets, limits }
    }
}

impl CandidateIndex {
    /// Number of `(key, contact)` entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn postings(&self, hash: u64) -> &[(u64, u32)] {
        let b = usize::try_from(hash >> (64 - BUCKET_BITS)).unwrap_or(0);
        let (Some(&lo), Some(&hi)) = (self.buckets.get(b), self.buckets.get(b + 1)) else {
            return &[];
        };
        let bucket = &self.entries[lo as usize..hi as usize];
        let start = bucket.partition_point(|&(h, _)| h < hash);
        let end = start + bucket[start..].partition_point(|&(h, _)| h == hash);
        &bucket[start..end]
    }

    /// Appends to `out` the positions of every contact sharing a key with `keys`, sorted and
    /// without duplicates. Returns how many keys were skipped for exceeding the block limits.
    pub fn candidates(&self, keys: &[BlockingKey], out: &mut Vec<u32>) -> usize {
        let start = out.len();
        let mut skipped = 0;
        for key in keys {
            let postings = self.postings(key_hash(key));
            let cap = match key.kind {
                KeyKind::Name => self.limits.max_name_block,
                KeyKind::Email | KeyKind::Phone => self.limits.max_identifier_block,
            };
            if postings.len() > cap {
                skipped += 1;
                continue;
            }
            out.extend(postings.iter().map(|&(_, p)| p));
        }
        out[start..].sort_unstable();
        let mut w = start;
        for r in start..out.len() {
            if w == start || out[r] != out[w - 1] {
                out[w] = out[r];
                w += 1;
            }
        }
        out.truncate(w);
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(kind: KeyKind, v: &str) -> BlockingKey {
        BlockingKey { kind, value: v.into() }
    }

    #[test]
    fn finds_dedups_and_caps() {
        let mut b = IndexBuilder::default();
        b.add(0, &[k(KeyKind::Email, "a@x.io"), k(KeyKind::Name, "common")]);
        b.add(1, &[k(KeyKind::Name, "common"), k(KeyKind::Name, "rare")]);
        b.add(2, &[k(KeyKind::Name, "common")]);
        let idx = b.build(BlockLimits { max_name_block: 2, max_identifier_block: 5 });
        let mut out = vec![];
        let skipped = idx
            .candidates(&[k(KeyKind::Email, "a@x.io"), k(KeyKind::Name, "common"), k(KeyKind::Name, "rare")], &mut out);
        assert_eq!(out, vec![0, 1]);
        assert_eq!(skipped, 1);
        // An email and a name key with the same text are different keys.
        out.clear();
        idx.candidates(&[k(KeyKind::Name, "a@x.io")], &mut out);
        assert!(out.is_empty());
    }
}
