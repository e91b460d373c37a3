//! Output for people (aligned tables, short times) and for scripts (JSON).

use std::io::{IsTerminal, Write};

use consent_core::Timestamp;
use serde::Serialize;

use crate::exit::{CliResult, Failure, USAGE};

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
    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
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

/// Key/value lines, keys padded.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("  {k:<w$}  {v}\n"))
        .collect()
}

/// Pretty JSON on stdout.
pub fn print_json<T: Serialize>(v: &T) -> CliResult {
    let s = serde_json::to_string_pretty(v).map_err(|e| Failure::new(USAGE, e.to_string()))?;
    println!("{s}");
    Ok(())
}

/// Writes a document to `path` (private and atomic: see [`crate::outfile`]), or to
/// stdout when `None`.
pub fn write_out(path: Option<&std::path::Path>, text: &str) -> CliResult {
    match path {
        Some(p) => crate::outfile::write(p, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// Whether progress bars may be drawn (stderr is a terminal).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}
