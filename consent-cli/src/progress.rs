//! Progress bars on stderr for long commands (verify, report, import, copy): apart from
//! the renderers of results (`output`), so that the engines that report progress
//! (the import) need nothing of the renderers.

use std::io::IsTerminal;

/// Whether progress bars may be drawn (stderr is a terminal).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// The amount of work (events, rows) from which a long command shows its progress.
pub const PROGRESS_MIN: u64 = 10_000;

/// A progress bar on stderr for `len` units of work, labelled `what`, drawn only when
/// `worth` it and stderr is a terminal: piped or redirected, a command stays quiet,
/// so logs and scripts get no progress noise.
pub fn bar(len: u64, what: &str, worth: bool) -> Option<indicatif::ProgressBar> {
    if !worth || !interactive() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{msg}} {{bar:40}} {{pos}}/{{len}} ({{eta}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}
