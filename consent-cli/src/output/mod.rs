//! Output for people (aligned tables, short times) and for scripts (JSON).
//!
//! Every rendering for people lives here, whatever command prints it: the primitives
//! below ([`Table`], [`fields`], [`short_hash`], [`Times`]) and one submodule per kind
//! of thing shown (`events`, `registry`, `status`, `integrity`, `downstream`, `erasure`,
//! `checkpoint`, `witness`, `copy`, `ledger`, and `report` with its `chart`s). One module
//! rather than a separate `render` one, because rendering and printing share those
//! primitives and the terminal escaping, and the renderers take plain values (a
//! [`Times`], not the command context), so this module depends on no command.
//!
//! Everything reaches stdout through [`print`] (people: escaped, see
//! [`crate::terminal`]) or [`emit`] (scripts: as is), never `println!`, which panics
//! when the reader has gone (`consent consenting … | head`). A closed stdout becomes
//! [`Failure::closed_pipe`]: a quiet exit 141, like any tool killed by SIGPIPE.

use std::io::{self, Write};

use consent_core::{Calendar, Timestamp};
use serde::Serialize;

use crate::exit::{CliResult, Failure, STORAGE, USAGE};
use crate::terminal;

pub mod chart;
pub mod checkpoint;
pub mod copy;
pub mod downstream;
pub mod erasure;
pub mod events;
pub mod integrity;
pub mod ledger;
pub mod registry;
pub mod report;
pub mod status;
pub mod witness;

/// `println!` for people: through [`print`], so escaped, and an error instead of a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::print(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// A time for people: `2024-10-01 09:30Z`, seconds and milliseconds shown only when set.
pub fn time(t: Timestamp) -> String {
    let s = t.to_string();
    let s = s
        .strip_suffix(".000Z")
        .map(|x| format!("{x}Z"))
        .unwrap_or(s);
    let s = s.strip_suffix(":00Z").map(|x| format!("{x}Z")).unwrap_or(s);
    s.replacen('T', " ", 1)
}

/// A local time for people, with its offset: `2025-08-01 00:30+01:00`, seconds and
/// milliseconds shown only when set.
pub fn local_time(cal: &Calendar, t: Timestamp) -> String {
    // `2025-08-01T00:30:00+01:00` or `2025-08-01T00:30:00.250+01:00`
    let s = cal.format(t).replacen('T', " ", 1);
    match s.get(16..19) {
        Some(":00") if s.len() == 25 => format!("{}{}", &s[..16], &s[19..]),
        _ => s,
    }
}

/// How times are shown to people: in a ledger's calendar with its offset
/// ([`local_time`]), or in UTC ([`time`]) before a ledger is open and with `--utc`.
/// What the renderers take instead of the whole command context.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times<'c> {
    /// The calendar of the open ledger; `None`: UTC.
    pub zone: Option<&'c Calendar>,
}

impl Times<'_> {
    /// `t` for people.
    pub fn show(&self, t: Timestamp) -> String {
        match self.zone {
            Some(c) => local_time(c, t),
            None => time(t),
        }
    }
}

/// The first 12 hex digits of a hash, for tables.
pub fn short_hash(h: &[u8]) -> String {
    let mut s = hex::encode(h);
    s.truncate(12);
    s + "…"
}

/// A plain text table: a header row, then rows, columns padded to fit.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    /// Adds a row, each cell escaped for the terminal (widths count what is shown).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| terminal::value(&c).into_owned())
                .collect(),
        );
    }
    /// Renders with two spaces between columns.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut width = vec![0usize; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate().take(n) {
                if i + 1 == n {
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(width[i] - c.chars().count() + 2));
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&line(&rule));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// Key/value lines, keys padded, values escaped for the terminal.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("  {k:<w$}  {}\n", terminal::value(v)))
        .collect()
}

/// Human text on stdout, escaped for the terminal.
pub fn print(text: &str) -> CliResult {
    emit(&terminal::text(text))
}

/// Machine output (JSON, CSV) on stdout, byte for byte.
pub fn emit(text: &str) -> CliResult {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => Failure::closed_pipe(),
            _ => Failure::new(STORAGE, format!("cannot write to stdout: {e}")),
        })
}

/// A line for stderr (errors, import rejections), escaped. Nothing is left to report
/// a failure to write it to, so that is ignored rather than a panic as in `eprintln!`.
pub fn warn(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", terminal::text(line));
}

/// CSV text: a header and the rows, every cell neutralised for spreadsheets
/// ([`crate::spreadsheet`]) and nothing else (no comment or trailer line), so that
/// spreadsheets and `pandas.read_csv` read it as it is.
pub fn csv<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> CliResult<String> {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    let io = |e: ::csv::Error| Failure::new(STORAGE, e.to_string());
    crate::spreadsheet::write_record(&mut w, header).map_err(io)?;
    for row in rows {
        let cells: Vec<&str> = row.as_ref().iter().map(String::as_str).collect();
        crate::spreadsheet::write_record(&mut w, &cells).map_err(io)?;
    }
    let body = w.into_inner().map_err(|e| Failure::usage(e.to_string()))?;
    String::from_utf8(body).map_err(|e| Failure::usage(e.to_string()))
}

/// Pretty JSON on stdout.
pub fn print_json<T: Serialize>(v: &T) -> CliResult {
    let s = serde_json::to_string_pretty(v).map_err(|e| Failure::new(USAGE, e.to_string()))?;
    emit(&(s + "\n"))
}

/// Writes a document to `path` (private and atomic: see [`crate::outfile`]), or to
/// stdout when `None`.
pub fn write_out(path: Option<&std::path::Path>, text: &str) -> CliResult {
    match path {
        Some(p) => crate::outfile::write(p, text.as_bytes()),
        None => emit(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_carry_their_offset() {
        let london = Calendar::new("Europe/London").unwrap();
        let t = |s: &str| Timestamp::parse(s).unwrap();
        assert_eq!(
            local_time(&london, t("2025-07-31T23:30:00Z")),
            "2025-08-01 00:30+01:00"
        );
        assert_eq!(
            local_time(&london, t("2025-01-15T09:30:15Z")),
            "2025-01-15 09:30:15+00:00"
        );
        assert_eq!(
            local_time(&london, t("2025-01-15T09:30:00.250Z")),
            "2025-01-15 09:30:00.250+00:00"
        );
        assert_eq!(time(t("2025-07-31T23:30:00Z")), "2025-07-31 23:30Z");
    }
}
