//! `match-bench`: matches N incoming contacts (raw, as a provider sends them) against M existing
//! ones (parsed, as the store holds them) and reports the split (index build, normalisation,
//! comparison), peak memory, a fingerprint of every decision (identical on every run), the
//! decisions' accuracy against the generator's truth, and the speed of the naive alternative
//! (scoring every existing contact for each incoming one) measured on a sample in the same run.
//!
//! `cargo run --release -p rolodex-bench --bin match-bench -- --existing 1000000 --incoming 100000`

use std::collections::HashMap;
use std::time::Instant;

use clap::Parser;
use rolodex_bench::{Fingerprint, cpu_seconds, peak_rss_mib, rss_mib};
use rolodex_domain::matching::index::BlockLimits;
use rolodex_domain::matching::linker::Linker;
use rolodex_domain::matching::{Action, Confidence, MatchPolicy, MatchProfile, score_pair_fast};
use rolodex_domain::{ContactFields, ContactId, Region};
use rolodex_testkit::generate::{GeneratorConfig, generate};

#[derive(Debug, Parser)]
struct Args {
    /// Existing contacts.
    #[arg(long, default_value_t = 1_000_000)]
    existing: usize,
    /// Incoming contacts.
    #[arg(long, default_value_t = 100_000)]
    incoming: usize,
    /// Share of incoming contacts that are variants of existing ones.
    #[arg(long, default_value_t = 0.5)]
    duplicate_rate: f64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print this many wrong high-confidence decisions with their evidence (for tuning).
    #[arg(long, default_value_t = 0)]
    show_errors: usize,
    /// Name keys shared by more existing contacts than this are skipped as uninformative.
    #[arg(long, default_value_t = BlockLimits::default().max_name_block)]
    max_name_block: usize,
    /// Incoming contacts to time the naive full scan on (0 to skip).
    #[arg(long, default_value_t = 20)]
    naive_sample: usize,
}

fn cpu() -> f64 {
    cpu_seconds().unwrap_or(0.0)
}

fn main() {
    let args = Args::parse();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let region = Region::parse("AU").unwrap_or_default();
    let t = Instant::now();
    let generated = generate(&GeneratorConfig {
        seed: args.seed,
        existing: args.existing,
        incoming: args.incoming,
        duplicate_rate: args.duplicate_rate,
    });
    let (truth, incoming_raw, mut existing_raw) = (generated.truth, generated.incoming, generated.existing);
    let n = existing_raw.len();
    eprintln!("generated {} existing + {} incoming in {:.1?}", n, incoming_raw.len(), t.elapsed());
    let setup_peak = peak_rss_mib().unwrap_or(f64::NAN);

    // The store holds parsed contacts. Parse them outside the timed part, a chunk at a time from the
    // end, freeing the raw records as we go; time only the profile construction (part of the
    // index build).
    let mut profile_time = std::time::Duration::ZERO;
    let mut profile_cpu = 0.0;
    let mut chunks: Vec<Vec<(ContactId, MatchProfile)>> = Vec::new();
    let mut existing: Vec<ContactFields> = Vec::new();
    while !existing_raw.is_empty() {
        let at = existing_raw.len().saturating_sub(50_000);
        let tail = existing_raw.split_off(at);
        let fields: Vec<ContactFields> = tail.into_iter().map(|r| r.into_incoming(region).fields).collect();
        let with_ids: Vec<(ContactId, &ContactFields)> = fields
            .iter()
            .enumerate()
            .map(|(k, f)| (ContactId::from_uuid(uuid::Uuid::from_u128((at + k) as u128 + 1)), f))
            .collect();
        let (t, c) = (Instant::now(), cpu());
        chunks.push(Linker::profiles_from_fields(&with_ids, threads));
        profile_time += t.elapsed();
        profile_cpu += cpu() - c;
        drop(with_ids);
        if args.show_errors > 0 {
            let mut rest = fields;
            rest.append(&mut existing);
            existing = rest;
        }
    }
    drop(existing_raw);
    let profiles: Vec<(ContactId, MatchProfile)> = chunks.into_iter().rev().flatten().collect();
    let rss_before = rss_mib().unwrap_or(f64::NAN);

    // 1. Index build: profiles of the existing contacts (timed above), blocking keys, sorted index,
    //    frequencies.
    let (t, c) = (Instant::now(), cpu());
    let limits = BlockLimits { max_name_block: args.max_name_block, ..BlockLimits::default() };
    let linker = Linker::build(profiles, MatchPolicy::default(), limits, threads);
    let index_build = t.elapsed() + profile_time;
    let index_cpu = cpu() - c + profile_cpu;

    // 2. Normalisation: raw incoming -> parsed contact -> profile.
    let (t, c) = (Instant::now(), cpu());
    let incoming: Vec<MatchProfile> =
        incoming_raw.iter().map(|r| MatchProfile::from_fields(&r.clone().into_incoming(region).fields)).collect();
    let normalisation = t.elapsed();
    let normalisation_cpu = cpu() - c;

    // 3. Comparison: candidates from the index, scoring, decisions.
    let (t, c) = (Instant::now(), cpu());
    let decisions = linker.decide_all(&incoming, threads);
    let comparison = t.elapsed();
    let comparison_cpu = cpu() - c;
    let total = index_build + normalisation + comparison;
    let sample = incoming.len().min(2000);
    let candidates: usize = incoming[..sample].iter().map(|p| linker.candidates(p).len()).sum();

    let mut fp = Fingerprint::default();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for d in &decisions {
        fp.add(d.action.as_str().as_bytes());
        fp.add(&d.matched_id.map_or(0, |id| id.as_uuid().as_u128()).to_le_bytes());
        fp.add(&d.bits.to_bits().to_le_bytes());
        *counts.entry(d.action.as_str()).or_default() += 1;
    }
    // Accuracy against the generator's truth.
    let truth: HashMap<usize, usize> = truth.into_iter().collect();
    let (mut linked, mut linked_ok, mut high, mut high_ok) = (0usize, 0usize, 0usize, 0usize);
    for (i, d) in decisions.iter().enumerate() {
        let Some(m) = d.matched_id.filter(|_| matches!(d.action, Action::Update | Action::Merge)) else { continue };
        let pos = usize::try_from(m.as_uuid().as_u128()).unwrap_or(usize::MAX) - 1;
        let ok = truth.get(&i) == Some(&pos);
        linked += 1;
        linked_ok += usize::from(ok);
        if !ok && d.confidence != Confidence::High && linked - linked_ok <= args.show_errors {
            eprintln!(
                "WRONG {}: incoming {:?}\n  matched {:?}\n  reasons {:?}",
                d.action.as_str(),
                incoming_raw[i],
                existing[pos],
                d.reasons
            );
        }
        if d.confidence == Confidence::High {
            high += 1;
            high_ok += usize::from(ok);
            if !ok && high - high_ok <= args.show_errors {
                eprintln!(
                    "WRONG HIGH: incoming {:?}\n  matched {:?}\n  truth {:?}\n  reasons {:?}",
                    incoming_raw[i],
                    existing[pos],
                    truth.get(&i).map(|t| &existing[*t]),
                    d.reasons
                );
            }
        }
    }
    let pct = |a: usize, b: usize| if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 };

    println!("existing: {}  incoming: {}  threads: {threads}", linker.profiles().len(), incoming.len());
    println!(
        "index build:   {:>8.2} s  ({index_cpu:.2} CPU s; {} index entries)",
        index_build.as_secs_f64(),
        linker.index_len()
    );
    println!("normalisation: {:>8.2} s  ({normalisation_cpu:.2} CPU s)", normalisation.as_secs_f64());
    println!(
        "comparison:    {:>8.2} s  ({comparison_cpu:.2} CPU s; {:.1} candidates per incoming)",
        comparison.as_secs_f64(),
        candidates as f64 / sample.max(1) as f64
    );
    let total_cpu = index_cpu + normalisation_cpu + comparison_cpu;
    println!(
        "total:         {:>8.2} s  ({:.0} incoming/s end to end; {total_cpu:.2} CPU s, so about {:.1} s on {threads} idle cores)",
        total.as_secs_f64(),
        incoming.len() as f64 / total.as_secs_f64(),
        total_cpu / threads as f64
    );
    let rss_after = rss_mib().unwrap_or(f64::NAN);
    println!(
        "memory:        peak {:.0} MiB for the whole process; {:.0} MiB after generating; \
         {:.0} MiB resident before the index build, {:.0} MiB after matching",
        peak_rss_mib().unwrap_or(f64::NAN),
        setup_peak,
        rss_before,
        rss_after
    );
    let mut c: Vec<_> = counts.into_iter().collect();
    c.sort();
    println!("decisions:     {c:?}");
    println!("fingerprint:   {:016x}", fp.value());
    println!(
        "accuracy:      linked precision {:.4} ({linked_ok}/{linked}), recall {:.4} ({linked_ok}/{}), high-confidence precision {:.4} ({high_ok}/{high})",
        pct(linked_ok, linked) / 100.0,
        pct(linked_ok, truth.len()) / 100.0,
        truth.len(),
        pct(high_ok, high) / 100.0
    );

    if args.naive_sample > 0 {
        // The obvious alternative: score every existing contact for each incoming one.
        let sample = &incoming[..args.naive_sample.min(incoming.len())];
        let t = Instant::now();
        let mut best = 0.0f64;
        for p in sample {
            for q in linker.profiles() {
                best = best.max(score_pair_fast(p, q, linker.frequencies()).total);
            }
        }
        let per_incoming = t.elapsed().as_secs_f64() / sample.len() as f64;
        let naive_total = per_incoming * incoming.len() as f64;
        let ours_per_incoming = comparison.as_secs_f64() * threads as f64 / incoming.len() as f64;
        println!(
            "naive scan:    {:.3} s per incoming on one thread (best score {best:.1}) -> {:.0} s for all {} on one thread; indexed: {:.6} s per incoming per thread; ratio {:.0}x",
            per_incoming,
            naive_total,
            incoming.len(),
            ours_per_incoming,
            per_incoming / ours_per_incoming
        );
    }
}
