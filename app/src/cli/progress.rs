//! Progress bars for long work on the terminal.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` units, drawn on stderr only when it is a terminal.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{msg:>12} [{bar:40.cyan/blue}] {pos}/{len} ({per_sec}, {eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}
