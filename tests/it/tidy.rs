//! Tidy checks over the repository: architecture invariants that a reviewer would otherwise have
//! to remember.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every crate and module opens with a `//!` doc saying what it owns (house style 2).
#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let root = repo_root();
    let mut files = vec![];
    for dir in ["crates", "bins", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} files under {}", files.len(), root.display());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let first = text.lines().find(|l| !l.trim().is_empty() && !l.starts_with("#!")).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` doc: {missing:#?}");
}

/// `rolodex-domain` is pure: nothing of tokio, reqwest, diesel, axum or lettre in its dependency
/// tree (house style 5).
#[test]
fn domain_pulls_in_no_io_crates() {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1"])
        .current_dir(repo_root())
        .output()
        .expect("running cargo metadata");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata JSON");
    let nodes = meta["resolve"]["nodes"].as_array().expect("resolve.nodes");
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let deps: HashMap<&str, Vec<&str>> = nodes
        .iter()
        .filter_map(|n| {
            let id = n["id"].as_str()?;
            // Normal (non-dev, non-build) dependencies only.
            let normal = n["deps"]
                .as_array()?
                .iter()
                .filter(|d| d["dep_kinds"].as_array().is_some_and(|k| k.iter().any(|k| k["kind"].is_null())))
                .filter_map(|d| d["pkg"].as_str())
                .collect();
            Some((id, normal))
        })
        .collect();
    let domain = names.iter().find(|(_, n)| **n == "rolodex-domain").map(|(id, _)| *id).expect("rolodex-domain");
    let mut seen = BTreeSet::new();
    let mut stack = vec![domain];
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(deps.get(id).into_iter().flatten().copied());
        }
    }
    let forbidden: Vec<&str> = seen
        .iter()
        .filter_map(|id| names.get(id).copied())
        .filter(|n| ["tokio", "reqwest", "diesel", "diesel-async", "axum", "lettre", "hyper"].contains(n))
        .collect();
    assert!(forbidden.is_empty(), "rolodex-domain depends on I/O crates: {forbidden:?}");
    // The check itself must see the domain's real dependencies.
    assert!(seen.iter().filter_map(|id| names.get(id)).any(|n| *n == "phonenumber"));
}
