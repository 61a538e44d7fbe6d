//! Progress bars for long work: shown on a terminal (stderr), hidden otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` units with a message; hidden when stderr is not a terminal.
pub fn bar(len: u64, message: &str, bytes: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "{msg:>12} [{bar:40}] {bytes}/{total_bytes} ({eta})"
    } else {
        "{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})"
    };
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_owned());
    bar
}
