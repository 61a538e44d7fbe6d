//! [`Linker`]: the matching pipeline over in-memory collections, for `rolodex match`, benchmarks and
//! embedders who hold their contacts in memory. Build it once over the existing contacts' profiles
//! (blocking index + value frequencies), then decide incoming contacts (linkage) or cluster one
//! collection against itself (deduplication). Work is split over threads with
//! `std::thread::scope`; results are identical whatever the thread count.

use super::decide::{Action, Candidate, Decision, MatchPolicy, classify, decide};
use super::index::{BlockLimits, CandidateIndex, IndexBuilder, key_hash};
use super::keys::profile_keys;
use super::profile::{Frequencies, MatchProfile};
use super::score::{score_pair, score_pair_fast};
use crate::contact::ContactFields;
use crate::ids::ContactId;

/// Matches against a fixed set of existing contacts.
#[derive(Debug)]
pub struct Linker {
    ids: Vec<ContactId>,
    profiles: Vec<MatchProfile>,
    index: CandidateIndex,
    freqs: Frequencies,
    policy: MatchPolicy,
}

/// One pair found by [`Linker::dedupe`].
#[derive(Debug, Clone, PartialEq)]
pub struct DedupeResult {
    /// Per record, its decision against the others (best partner as `matched_id`).
    pub decisions: Vec<Decision>,
    /// Cluster number of each record (records alone in their cluster have their own number).
    pub cluster_of: Vec<usize>,
}

fn run_parallel<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    run_chunks(n, threads, |range| range.map(&f).collect::<Vec<T>>()).into_iter().flatten().collect()
}

/// Splits `0..n` into one range per thread and maps each range on its own thread; results in
/// range order.
fn run_chunks<T: Send>(n: usize, threads: usize, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, 64).min(n.max(1));
    let chunk = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> =
            (0..threads).map(|t| scope.spawn(move || f(t * chunk..((t + 1) * chunk).min(n)))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

impl Linker {
    /// Builds the index over `existing` using `threads` threads for key hashing.
    #[must_use]
    pub fn build(
        existing: Vec<(ContactId, MatchProfile)>,
        policy: MatchPolicy,
        limits: BlockLimits,
        threads: usize,
    ) -> Self {
        let (ids, profiles): (Vec<ContactId>, Vec<MatchProfile>) = existing.into_iter().unzip();
        let freqs = Frequencies::from_profiles(&profiles);
        let policy = policy.for_population(profiles.len() as u64);
        let hashed: Vec<Vec<(u64, u32)>> = run_chunks(profiles.len(), threads, |range| {
            let mut out = Vec::with_capacity(range.len() * 12);
            for i in range {
                let pos = u32::try_from(i).unwrap_or(u32::MAX);
                out.extend(profile_keys(&profiles[i]).iter().map(|k| (key_hash(k), pos)));
            }
            out
        });
        let mut chunks = hashed.into_iter();
        let mut entries = chunks.next().unwrap_or_default();
        for mut chunk in chunks {
            entries.append(&mut chunk);
        }
        Self { ids, index: IndexBuilder::from_entries(entries).build(limits), profiles, freqs, policy }
    }

    /// Builds profiles from parsed contacts (in parallel) and then the index: the whole index
    /// build from contacts as a store holds them.
    #[must_use]
    pub fn build_from_fields(
        existing: &[(ContactId, &ContactFields)],
        policy: MatchPolicy,
        limits: BlockLimits,
        threads: usize,
    ) -> Self {
        Self::build(Self::profiles_from_fields(existing, threads), policy, limits, threads)
    }

    /// The profiles of parsed contacts, built on `threads` threads (the first half of
    /// [`Linker::build_from_fields`], for callers that want to free the contacts before the index
    /// is built).
    #[must_use]
    pub fn profiles_from_fields(
        existing: &[(ContactId, &ContactFields)],
        threads: usize,
    ) -> Vec<(ContactId, MatchProfile)> {
        run_parallel(existing.len(), threads, |i| (existing[i].0, MatchProfile::from_fields(existing[i].1)))
    }

    /// The existing contacts' profiles, by position.
    #[must_use]
    pub fn profiles(&self) -> &[MatchProfile] {
        &self.profiles
    }

    /// The id at a position.
    #[must_use]
    pub fn id(&self, position: usize) -> ContactId {
        self.ids[position]
    }

    /// Entries in the blocking index.
    #[must_use]
    pub fn index_len(&self) -> usize {
        self.index.len()
    }

    /// The value frequencies of the existing contacts.
    #[must_use]
    pub fn frequencies(&self) -> &Frequencies {
        &self.freqs
    }

    /// Positions of the candidates of `incoming`.
    #[must_use]
    pub fn candidates(&self, incoming: &MatchProfile) -> Vec<u32> {
        let mut out = Vec::new();
        self.index.candidates(&profile_keys(incoming), &mut out);
        out
    }

    /// Decides one incoming contact. `linked` is the position of a contact linked to it by a
    /// provider id, if any.
    #[must_use]
    pub fn decide(&self, incoming: &MatchProfile, linked: Option<usize>) -> Decision {
        let mut positions = self.candidates(incoming);
        if let Some(l) = linked.and_then(|l| u32::try_from(l).ok())
            && !positions.contains(&l)
        {
            positions.push(l);
        }
        let candidates: Vec<Candidate<'_>> = positions
            .iter()
            .map(|&p| Candidate {
                id: self.ids[p as usize],
                profile: &self.profiles[p as usize],
                linked: linked == Some(p as usize),
            })
            .collect();
        decide(incoming, &candidates, &self.freqs, &self.policy)
    }

    /// Decides many incoming contacts on `threads` threads; results in input order.
    #[must_use]
    pub fn decide_all(&self, incoming: &[MatchProfile], threads: usize) -> Vec<Decision> {
        run_parallel(incoming.len(), threads, |i| self.decide(&incoming[i], None))
    }

    /// Deduplicates the existing contacts among themselves: every pair the rules would `update` or
    /// `merge` joins one cluster (transitively).
    #[must_use]
    pub fn dedupe(&self, threads: usize) -> DedupeResult {
        let n = self.profiles.len();
        // Per record: its accepted partners (pairs scored once, from the lower position).
        let per_record: Vec<(Decision, Vec<u32>)> = run_parallel(n, threads, |i| {
            let p = &self.profiles[i];
            let mut positions = self.candidates(p);
            positions.retain(|&j| j as usize != i);
            let candidates: Vec<Candidate<'_>> = positions
                .iter()
                .map(|&j| Candidate { id: self.ids[j as usize], profile: &self.profiles[j as usize], linked: false })
                .collect();
            let mut decision = decide(p, &candidates, &self.freqs, &self.policy);
            let mut accepted = Vec::new();
            for &j in positions.iter().filter(|&&j| j as usize > i) {
                let s = score_pair_fast(p, &self.profiles[j as usize], &self.freqs);
                if matches!(classify(&s, &self.policy).0, Action::Update | Action::Merge) {
                    accepted.push(j);
                }
            }
            // In a collection with duplicates, several strong candidates are the same cluster,
            // not an ambiguity: judge the best partner on its own.
            if decision.action == Action::Review
                && decision.warnings.iter().any(|w| w.starts_with("several plausible"))
                && let Some(best) =
                    decision.matched_id.and_then(|id| positions.iter().find(|&&j| self.ids[j as usize] == id))
            {
                {
                    let s = score_pair(p, &self.profiles[*best as usize], &self.freqs);
                    let (action, confidence, warnings) = classify(&s, &self.policy);
                    decision.action = action;
                    decision.confidence = confidence;
                    decision.warnings = warnings;
                }
            }
            (decision, accepted)
        });
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for (i, (_, accepted)) in per_record.iter().enumerate() {
            for &j in accepted {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j as usize));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
        let cluster_of = (0..n).map(|i| find(&mut parent, i)).collect();
        DedupeResult { decisions: per_record.into_iter().map(|(d, _)| d).collect(), cluster_of }
    }
}
