//! `consent completions SHELL` and `consent man`: shell completions and manual pages
//! generated from the clap definitions themselves (`clap_complete`, `clap_mangen`), so
//! they never fall behind the commands. `make install` installs both (bash, zsh, fish
//! completions; a page for `consent` and one per command).

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::{CliResult, Failure, STORAGE};
use crate::output;

/// Prints the completion script for `shell` on stdout.
pub(crate) fn completions(shell: clap_complete::Shell) -> CliResult {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "consent", &mut buf);
    output::emit(&String::from_utf8_lossy(&buf))
}

/// Prints `consent(1)` on stdout, or writes it and a page per command
/// (`consent-give.1`, `consent-witness-cosign.1`, ...) into `dir`.
pub(crate) fn man(dir: Option<&Path>) -> CliResult {
    let fail = |e: std::io::Error| Failure::new(STORAGE, format!("cannot write the manual: {e}"));
    match dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .map_err(fail)?;
            output::emit(&String::from_utf8_lossy(&buf))
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(fail)?;
            clap_mangen::generate_to(Cli::command(), dir).map_err(fail)?;
            let pages = std::fs::read_dir(dir).map_err(fail)?.count();
            output::outln!("{pages} manual pages in {}", dir.display())
        }
    }
}
