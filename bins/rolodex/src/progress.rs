//! Progress bars for long work: shown on a terminal (stderr), hidden otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` units with a message; hidden when stderr is not a terminal.
pub fn bar(len: u64, message: &str, bytes: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    shown_bar(len, message, bytes)
}

/// A bar of `len` units, shown only when `show` (the caller knows whether stderr is a terminal).
pub fn bar_if(show: bool, len: u64, message: &str) -> ProgressBar {
    if show { shown_bar(len, message, false) } else { ProgressBar::hidden() }
}

/// A spinner counting units of unknown total, shown only when `show`.
pub fn counter_if(show: bool, message: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg:>12} {pos} ({per_sec})") {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn shown_bar(len: u64, message: &str, bytes: bool) -> ProgressBar {
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
