//! Helpers shared by the benchmark binaries in `src/bin/`: peak memory and a stable hash.

use std::hash::Hasher;

use rolodex_domain::fastmap::Fnv;

fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Peak resident memory of this process (VmHWM) in MiB, when the OS tells (Linux).
#[must_use]
pub fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// Current resident memory of this process (VmRSS) in MiB.
#[must_use]
pub fn rss_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// CPU time (user + system) this process has used so far, in seconds (Linux; 10 ms resolution).
/// Unlike wall-clock time it does not grow when other processes compete for the cores.
#[must_use]
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// FNV-1a (the domain's [`Fnv`] hasher), for fingerprinting outputs (identical output, identical
/// hash).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fingerprint(Fnv);

impl Fingerprint {
    /// Adds bytes.
    pub fn add(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
    /// The hash so far.
    #[must_use]
    pub fn value(&self) -> u64 {
        self.0.finish()
    }
}
