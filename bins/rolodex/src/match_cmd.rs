//! `rolodex match`: record linkage between two CSV files, or deduplication of one, with the
//! explainable matcher of `rolodex_domain::matching`. Writes one JSON decision per incoming record
//! and, optionally, the matched pairs as CSV.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use rolodex_domain::diff::{ContactDiff, diff};
use rolodex_domain::matching::index::BlockLimits;
use rolodex_domain::matching::linker::Linker;
use rolodex_domain::matching::{Action, Decision, MatchPolicy, MatchProfile, finalize_with_diff};
use rolodex_domain::{ContactId, IncomingContact, Region};
use rolodex_files::{ColumnMap, CsvContacts, CsvOptions};
use serde::Serialize;

use crate::progress;

/// Arguments of `rolodex match`.
#[derive(Debug, Args)]
#[command(
    after_help = "Fields: id, name, given_name, family_name, email, phone, company, street, street2, city, state, postcode, country, birthday.\n\
Columns are recognised by common spellings (first_name, surname, suburb, zip, dob, ...); unknown columns are kept as custom properties.\n\n\
Examples:\n  rolodex match --existing crm.csv --incoming export.csv --out decisions.jsonl --pairs pairs.csv --default-region AU\n  \
rolodex match --dedupe --input people.csv --map street=street_number+address_1 --pairs pairs.csv"
)]
pub struct MatchArgs {
    /// The contacts already held (linkage mode).
    #[arg(long, value_name = "FILE", required_unless_present = "dedupe", conflicts_with = "dedupe")]
    existing: Option<PathBuf>,
    /// The contacts to match against --existing (linkage mode).
    #[arg(long, value_name = "FILE", required_unless_present = "dedupe", conflicts_with = "dedupe")]
    incoming: Option<PathBuf>,
    /// Find duplicates within one file (--input) instead of linking two.
    #[arg(long, requires = "input")]
    dedupe: bool,
    /// The file to deduplicate (with --dedupe).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write one JSON object per incoming record: incoming_id, action, matched_id, confidence,
    /// score, reasons, warnings, diff. `-` writes to standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the matched pairs as CSV: `existing_id,incoming_id` for every update, merge and
    /// up-to-date skip; with --dedupe `id_a,id_b` for every pair of records in one cluster.
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// Column overrides, `FIELD=COLUMN[+COLUMN],...`; `+` joins columns with a space
    /// (e.g. `street=street_number+address_1,birthday=by+bm+bd`). Applies to every file read.
    #[arg(long, value_name = "SPEC")]
    map: Option<String>,
    /// Region (ISO 3166 alpha-2) for phone numbers written without a country code.
    #[arg(long, value_name = "CC", default_value = "US")]
    default_region: String,
    /// Cells that count as missing, comma separated (in addition to blank cells).
    #[arg(long, value_name = "LIST", default_value = "NA,N/A,n/a,NULL,null,-")]
    null_values: String,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

struct Loaded {
    ids: Vec<String>,
    contacts: Vec<IncomingContact>,
}

fn load(path: &Path, options: &CsvOptions, region: Region) -> Result<Loaded> {
    let len = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    let bar = progress::bar(len, "reading", true);
    let mut reader = CsvContacts::open(path, options).with_context(|| format!("reading {}", path.display()))?;
    let mut loaded = Loaded { ids: vec![], contacts: vec![] };
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(record) = reader.next() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        let mut incoming = record.raw.into_incoming(region);
        let id = incoming.external_id.take().unwrap_or_else(|| record.row.to_string());
        if let Some(first) = seen.insert(id.clone(), record.line) {
            bail!("{}: line {}: column `id`: `{id}` was already used on line {first}", path.display(), record.line);
        }
        loaded.ids.push(id);
        loaded.contacts.push(incoming);
        if loaded.ids.len().is_multiple_of(1024) {
            bar.set_position(reader.bytes_read());
        }
    }
    bar.finish_and_clear();
    Ok(loaded)
}

#[derive(Serialize)]
struct DecisionLine<'a> {
    incoming_id: &'a str,
    action: &'static str,
    matched_id: Option<&'a str>,
    confidence: rolodex_domain::matching::Confidence,
    score: f64,
    reasons: &'a [String],
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alternatives: Vec<&'a str>,
    diff: &'a ContactDiff,
}

fn position_of(id: ContactId) -> usize {
    usize::try_from(id.as_uuid().as_u128()).unwrap_or(usize::MAX).saturating_sub(1)
}

fn id_for(position: usize) -> ContactId {
    ContactId::from_uuid(uuid::Uuid::from_u128(position as u128 + 1))
}

fn writer(path: &Path) -> Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    }
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

/// Runs the command.
pub fn run(args: &MatchArgs) -> Result<()> {
    let started = Instant::now();
    let region = Region::parse(&args.default_region).context("--default-region")?;
    let map = match &args.map {
        Some(spec) => ColumnMap::parse(spec)?,
        None => ColumnMap::empty(),
    };
    let options = CsvOptions {
        map,
        null_values: args.null_values.split(',').map(|s| s.trim().to_owned()).collect(),
        ..CsvOptions::default()
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let policy = MatchPolicy::default();

    let (existing, incoming) = if args.dedupe {
        let input = args.input.as_deref().context("--dedupe needs --input FILE")?;
        (load(input, &options, region)?, None)
    } else {
        let (Some(e), Some(i)) = (&args.existing, &args.incoming) else {
            bail!("linkage needs --existing FILE and --incoming FILE (or use --dedupe --input FILE)");
        };
        (load(e, &options, region)?, Some(load(i, &options, region)?))
    };

    let profiles: Vec<(ContactId, MatchProfile)> =
        existing.contacts.iter().enumerate().map(|(i, c)| (id_for(i), MatchProfile::from_fields(&c.fields))).collect();
    let linker = Linker::build(profiles, policy, BlockLimits::default(), threads);

    let mut out = args.out.as_deref().map(writer).transpose()?;
    let mut pairs = args.pairs.as_deref().map(writer).transpose()?.map(csv::Writer::from_writer);
    let mut counts: HashMap<&'static str, usize> = HashMap::new();

    let (incoming_ids, incoming_contacts, decisions, clusters) = match &incoming {
        Some(inc) => {
            let bar = progress::bar(inc.contacts.len() as u64, "matching", false);
            let mut decisions = Vec::with_capacity(inc.contacts.len());
            for chunk in inc.contacts.chunks(2048) {
                let profiles: Vec<MatchProfile> = chunk.iter().map(|c| MatchProfile::from_fields(&c.fields)).collect();
                decisions.extend(linker.decide_all(&profiles, threads));
                bar.inc(chunk.len() as u64);
            }
            bar.finish_and_clear();
            (&inc.ids, &inc.contacts, decisions, None)
        }
        None => {
            let result = linker.dedupe(threads);
            (&existing.ids, &existing.contacts, result.decisions, Some(result.cluster_of))
        }
    };

    if let Some(p) = pairs.as_mut() {
        if clusters.is_some() {
            p.write_record(["id_a", "id_b"])
        } else {
            p.write_record(["existing_id", "incoming_id"])
        }?;
    }
    for (i, mut decision) in decisions.into_iter().enumerate() {
        let matched = decision.matched_id.map(position_of);
        let d = match matched {
            Some(m) => diff(&existing.contacts[m].fields, &incoming_contacts[i].fields),
            None => ContactDiff::default(),
        };
        finalize_with_diff(&mut decision, &d);
        *counts.entry(decision.action.as_str()).or_default() += 1;
        if decision.confidence == rolodex_domain::matching::Confidence::High {
            *counts.entry("high confidence").or_default() += 1;
        }
        if let Some(out) = out.as_mut() {
            write_decision(
                out,
                &incoming_ids[i],
                &decision,
                matched.map(|m| existing.ids[m].as_str()),
                &existing.ids,
                &d,
            )?;
        }
        if let (Some(p), None, Some(m)) = (pairs.as_mut(), &clusters, matched)
            && matches!(decision.action, Action::Update | Action::Merge | Action::Skip)
        {
            p.write_record([existing.ids[m].as_str(), incoming_ids[i].as_str()])?;
        }
    }
    if let (Some(p), Some(cluster_of)) = (pairs.as_mut(), &clusters) {
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, &c) in cluster_of.iter().enumerate() {
            members.entry(c).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = members.into_values().filter(|m| m.len() > 1).collect();
        groups.sort();
        for group in groups {
            for (a, &x) in group.iter().enumerate() {
                for &y in &group[a + 1..] {
                    p.write_record([existing.ids[x].as_str(), existing.ids[y].as_str()])?;
                }
            }
        }
    }
    if let Some(p) = pairs.as_mut() {
        p.flush()?;
    }
    if let Some(out) = out.as_mut() {
        out.flush()?;
    }
    let mut summary: Vec<(&&str, &usize)> = counts.iter().collect();
    summary.sort();
    let summary: Vec<String> = summary.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!("matched {} records in {:.2?} ({})", incoming_ids.len(), started.elapsed(), summary.join(", "));
    Ok(())
}

fn write_decision(
    out: &mut dyn Write,
    incoming_id: &str,
    decision: &Decision,
    matched_id: Option<&str>,
    existing_ids: &[String],
    d: &ContactDiff,
) -> Result<()> {
    let line = DecisionLine {
        incoming_id,
        action: decision.action.as_str(),
        matched_id,
        confidence: decision.confidence,
        score: (decision.score * 10_000.0).round() / 10_000.0,
        reasons: &decision.reasons,
        warnings: &decision.warnings,
        alternatives: decision.alternatives.iter().map(|a| existing_ids[position_of(a.id)].as_str()).collect(),
        diff: d,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: MatchArgs,
    }

    struct Dir(PathBuf);
    impl Dir {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("rolodex-match-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
        fn file(&self, name: &str, text: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        }
        fn path(&self, name: &str) -> String {
            self.0.join(name).display().to_string()
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn run_with(args: &[&str]) -> Result<()> {
        let cli = Cli::try_parse_from(std::iter::once("match").chain(args.iter().copied()))?;
        run(&cli.args)
    }

    const CRM: &str = "id,first name,surname,e-mail,mobile,company\n\
        c1,Jane,Doe,jane.doe@gmail.com,0412 345 678,Acme\n\
        c2,Mark,Lee,mark@lee.io,,\n";

    #[test]
    fn linkage_writes_decisions_and_pairs() {
        let dir = Dir::new();
        let existing = dir.file("crm.csv", CRM);
        let incoming = dir.file(
            "in.csv",
            "id,name,email,phone,company\n\
             s1,\"Doe, Jane\",janedoe@gmail.com,+61412345678,Acme Pty Ltd\n\
             s2,Zoe Quinn,zoe@quinn.io,,\n",
        );
        let (out, pairs) = (dir.path("d.jsonl"), dir.path("p.csv"));
        run_with(&[
            "--existing",
            &existing,
            "--incoming",
            &incoming,
            "--out",
            &out,
            "--pairs",
            &pairs,
            "--default-region",
            "AU",
        ])
        .unwrap();
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["incoming_id"], "s1");
        assert_eq!(lines[0]["matched_id"], "c1");
        assert_eq!(lines[0]["confidence"], "high");
        assert!(lines[0]["reasons"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().contains("same email")));
        assert!(lines[0]["diff"].is_array());
        assert_eq!((lines[1]["action"].as_str(), lines[1]["matched_id"].is_null()), (Some("create"), true));
        assert_eq!(std::fs::read_to_string(&pairs).unwrap(), "existing_id,incoming_id\nc1,s1\n");
    }

    #[test]
    fn dedupe_writes_every_pair_of_a_cluster() {
        let dir = Dir::new();
        let input = dir.file(
            "people.csv",
            "id,given_name,family_name,email,phone\n\
             a,Jane,Doe,jane.doe@gmail.com,+61412345678\n\
             b,Jane,Doe,janedoe@gmail.com,\n\
             c,Jnae,Doe,,0412 345 678\n\
             d,Mark,Lee,mark@lee.io,\n",
        );
        let pairs = dir.path("p.csv");
        run_with(&["--dedupe", "--input", &input, "--pairs", &pairs, "--default-region", "AU"]).unwrap();
        assert_eq!(std::fs::read_to_string(&pairs).unwrap(), "id_a,id_b\na,b\na,c\nb,c\n");
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let dir = Dir::new();
        let existing = dir.file("crm.csv", CRM);
        let bad = dir.file("bad.csv", "id,name,email\nx1,Jane,jane@x.io\nx2,Mark,mark@x.io,extra\n");
        let err = run_with(&["--existing", &existing, "--incoming", &bad]).unwrap_err();
        assert!(format!("{err:#}").contains("line 3"), "{err:#}");

        let dup = dir.file("dup.csv", "id,name\nx1,Jane\nx1,Mark\n");
        let err = run_with(&["--existing", &existing, "--incoming", &dup]).unwrap_err();
        assert!(format!("{err:#}").contains("line 3: column `id`: `x1` was already used on line 2"), "{err:#}");

        let err = run_with(&["--existing", &existing, "--incoming", &dup, "--map", "nickname=name"]).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field `nickname`"), "{err:#}");

        let err = run_with(&["--existing", &existing, "--incoming", &dup, "--map", "email=mail"]).unwrap_err();
        assert!(format!("{err:#}").contains("`mail`"), "{err:#}");

        let err = run_with(&["--existing", &existing, "--incoming", &dup, "--default-region", "XX"]).unwrap_err();
        assert!(format!("{err:#}").contains("--default-region"), "{err:#}");

        let err = run_with(&["--existing", &dir.path("missing.csv"), "--incoming", &dup]).unwrap_err();
        assert!(format!("{err:#}").contains("missing.csv"), "{err:#}");
    }
}
