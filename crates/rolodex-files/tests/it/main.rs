//! Integration tests of `rolodex-files`: CSV column recognition and `--map`, CSV and vCard reading
//! against the shared fixtures (`../shared/data`), error messages, the `FileSource` port adapter,
//! and property tests that arbitrary bytes never make a reader panic.

// clippy.toml allows unwrap in `#[test]` functions; the helpers here are test code too.
#![allow(clippy::unwrap_used)]

mod csv_columns;
mod csv_read;
mod fuzz;
mod source;
mod vcard;

use std::path::PathBuf;

/// A file of the shared test data (`<repo>/../shared/data/<rel>`).
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel)
}

/// A fresh temporary directory for one test.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolodex-files-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
