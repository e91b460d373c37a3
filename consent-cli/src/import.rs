//! `consent import`: CSV or JSON Lines extracts (e.g. the registration feed).
//!
//! Columns / keys: `source_id, subject, purpose, kind, recipient, notice (ID@VERSION),
//! notice_id, notice_version, explicit, method, recorded_by, effective_at, expires_at,
//! validity_from, evidence (JSON object), target`. Only `subject`, `purpose` and `kind`
//! are required. Times are read like the command line's: RFC 3339 with an offset, or a
//! date or time without one, local to the ledger's time zone.
//!
//! Every row is tried inside one batch, so the report names every bad row; then the
//! batch is committed only if no row failed (or `--skip-invalid` was given).

use std::path::Path;

use consent_core::{Actor, Calendar, EventKind, Ledger, Method, NewEvent, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cli::{ImportArgs, ImportFormat};
use crate::exit::{CliResult, Failure, NOT_FOUND, USAGE};

/// A rejected row.
#[derive(Debug, Serialize)]
pub struct Rejected {
    /// Line number in the file (1-based; for CSV, the line where the record starts).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// The file.
    pub file: String,
    /// Data rows read.
    pub rows: usize,
    /// Events appended.
    pub new: usize,
    /// Rows whose source id was already on record with the same content.
    pub already_recorded: usize,
    /// Rows rejected, with line numbers.
    pub rejected: Vec<Rejected>,
    /// Whether anything was written.
    pub committed: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Transactions committed (one unless the file was longer than `--chunk`).
    pub chunks_committed: usize,
    /// For a chunked import that stopped: the first line not imported. Every row
    /// before it is on record; nothing from it on is.
    pub stopped_at_line: Option<u64>,
}

/// Rows as (line number, object).
pub type Rows = Vec<(u64, Map<String, Value>)>;

/// Reads the rows of `file` as (line, object) pairs; malformed lines become rejections.
fn read_rows(file: &Path, format: ImportFormat) -> CliResult<(Rows, Vec<Rejected>)> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", file.display())))?;
    parse_rows(&text, format).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))
}

/// Splits the text of an extract into rows as (line, object) pairs (lines 1-based);
/// malformed lines become rejections with their line number. The only error is a CSV
/// header that cannot be read or names a column not in [`COLUMNS`]. Turn each row into an event with [`row_to_event`].
pub fn parse_rows(text: &str, format: ImportFormat) -> Result<(Rows, Vec<Rejected>), String> {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    match format {
        ImportFormat::Jsonl => {
            for (i, line) in text.lines().enumerate() {
                let n = i as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(Value::Object(m)) => rows.push((n, m)),
                    Ok(_) => bad.push(Rejected {
                        line: n,
                        reason: "not a JSON object".into(),
                    }),
                    Err(e) => bad.push(Rejected {
                        line: n,
                        reason: format!("malformed JSON: {e}"),
                    }),
                }
            }
        }
        ImportFormat::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(false)
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let headers = rdr.headers().map_err(|e| format!("header: {e}"))?.clone();
            // A column the import does not know is refused at the header line, before
            // any row: its values would otherwise be dropped without a word.
            if let Some(k) = headers.iter().find(|k| !COLUMNS.contains(k)) {
                return Err(format!(
                    "line 1: unknown column `{}` (the columns are: {})",
                    k.chars().take(64).collect::<String>(),
                    COLUMNS.join(", ")
                ));
            }
            let mut lines = LineCounter::new(text);
            let mut rec = csv::StringRecord::new();
            loop {
                match rdr.read_record(&mut rec) {
                    Ok(false) => break,
                    Ok(true) => {
                        let n = lines.line_at(rec.position().unwrap_or(rdr.position()));
                        let m = headers
                            .iter()
                            .zip(rec.iter())
                            .filter(|(_, v)| !v.is_empty())
                            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                            .collect();
                        rows.push((n, m));
                    }
                    Err(e) => {
                        let n = lines.line_at(e.position().unwrap_or(rdr.position()));
                        // csv's own message names its (wrong) line number: say it anew.
                        let (reason, go_on) = match e.kind() {
                            csv::ErrorKind::UnequalLengths { len, .. } => (
                                format!(
                                    "malformed CSV: {len} fields, but the header has {}",
                                    headers.len()
                                ),
                                true,
                            ),
                            _ => (format!("malformed CSV: {e}"), false),
                        };
                        bad.push(Rejected { line: n, reason });
                        if !go_on {
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok((rows, bad))
}

/// Line numbers of CSV records, counted here from byte offsets. The csv crate's own
/// `Position::line` is one too low after a blank line and for every record of a CRLF
/// file (rust-csv issues #208 and #395), and its byte offset can point at the end of
/// the line before the record, so the offset is first moved past line breaks (a
/// record never starts with one: blank lines are skipped). `\n`, `\r\n` and a lone
/// `\r` each end a line, as they each end a CSV record.
pub(crate) struct LineCounter<'a> {
    text: &'a [u8],
    /// Byte offset up to which lines have been counted.
    at: usize,
    /// Line number at `at`.
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the record that csv places at `pos`. Records come in order, so the
    /// counting resumes where the previous call stopped.
    pub(crate) fn line_at(&mut self, pos: &csv::Position) -> u64 {
        let mut start =
            usize::try_from(pos.byte()).map_or(self.text.len(), |b| b.min(self.text.len()));
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.at {
            (self.at, self.line) = (0, 1);
        }
        for i in self.at..start {
            match self.text[i] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.at = start;
        self.line
    }
}

/// The columns an import row may have (CSV header names or JSON Lines keys).
pub const COLUMNS: &[&str] = &[
    "source_id",
    "subject",
    "purpose",
    "kind",
    "recipient",
    "notice",
    "notice_id",
    "notice_version",
    "explicit",
    "method",
    "recorded_by",
    "effective_at",
    "expires_at",
    "validity_from",
    "evidence",
    "target",
];

fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(format!("`{k}` must be text")),
    }
}

fn time(m: &Map<String, Value>, k: &str, cal: &Calendar) -> Result<Option<Timestamp>, String> {
    text(m, k)?
        .map(|s| cal.parse(s).map_err(|e| format!("`{k}`: {e}")))
        .transpose()
}

/// Turns one row into an event, or says why it cannot be one. Times without an offset
/// are read in Europe/London (see [`row_to_event_in`]).
pub fn row_to_event(m: &Map<String, Value>) -> Result<NewEvent, String> {
    row_to_event_in(m, &Calendar::default_zone())
}

/// [`row_to_event`] reading times without an offset in `cal` (the ledger's calendar).
pub fn row_to_event_in(m: &Map<String, Value>, cal: &Calendar) -> Result<NewEvent, String> {
    if let Some(k) = m.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
        return Err(format!(
            "unknown column `{}` (the columns are: {})",
            k.chars().take(64).collect::<String>(),
            COLUMNS.join(", ")
        ));
    }
    let subject = text(m, "subject")?.ok_or("`subject` is missing")?;
    let purpose = text(m, "purpose")?.ok_or("`purpose` is missing")?;
    let kind: EventKind = text(m, "kind")?
        .ok_or("`kind` is missing")?
        .parse()
        .map_err(|e: consent_core::Error| e.to_string())?;
    let mut e = NewEvent::new(kind, subject, purpose);
    e.recipient = text(m, "recipient")?.map(String::from);
    e.source_id = text(m, "source_id")?.map(String::from);
    e.notice = match (
        m.get("notice"),
        text(m, "notice_id")?,
        text(m, "notice_version")?,
    ) {
        (Some(Value::Object(o)), None, None) => {
            let id = o
                .get("id")
                .and_then(Value::as_str)
                .ok_or("`notice.id` is missing")?;
            let v = o
                .get("version")
                .and_then(Value::as_str)
                .ok_or("`notice.version` is missing")?;
            Some((id.to_string(), v.to_string()))
        }
        (_, Some(id), Some(v)) if text(m, "notice")?.is_none() => {
            Some((id.to_string(), v.to_string()))
        }
        (_, None, None) => text(m, "notice")?
            .map(crate::cli::values::notice)
            .transpose()?,
        _ => {
            return Err(
                "give `notice` as ID@VERSION, or both `notice_id` and `notice_version`".into(),
            )
        }
    };
    e.explicit = match m.get("explicit") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "n" | "0" => false,
            "true" | "yes" | "y" | "1" => true,
            other => return Err(format!("`explicit` must be true or false, not `{other}`")),
        },
        Some(_) => return Err("`explicit` must be true or false".into()),
    };
    e.method = text(m, "method")?
        .map(|s| s.parse::<Method>().map_err(|e| e.to_string()))
        .transpose()?;
    if let Some(a) = text(m, "recorded_by")? {
        e.recorded_by = a.parse::<Actor>().map_err(|e| e.to_string())?;
    }
    e.effective_at = time(m, "effective_at", cal)?;
    e.expires_at = time(m, "expires_at", cal)?;
    e.validity_from = time(m, "validity_from", cal)?;
    e.evidence = match m.get("evidence") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(serde_json::from_str(s).map_err(|err| format!("`evidence` is not JSON: {err}"))?)
        }
        Some(v) => Some(v.clone()),
    };
    e.target = text(m, "target")?
        .map(|s| {
            s.parse::<uuid::Uuid>()
                .map_err(|_| format!("`target` is not an event id: `{s}`"))
        })
        .transpose()?;
    Ok(e)
}

/// Runs an import.
pub fn run(ledger: &Ledger, args: &ImportArgs, cal: &Calendar) -> CliResult<ImportReport> {
    let format = match args.format {
        Some(f) => f,
        None => match args
            .file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => ImportFormat::Csv,
            Some("jsonl" | "ndjson" | "json") => ImportFormat::Jsonl,
            _ => {
                return Err(Failure::new(
                    USAGE,
                    "cannot tell the format from the extension: pass --format csv|jsonl",
                ))
            }
        },
    };
    let (rows, mut rejected) = read_rows(&args.file, format)?;
    let total = rows.len() + rejected.len();
    let bar = crate::progress::bar(rows.len() as u64, "importing", rows.len() >= 1000);
    let (mut new, mut already) = (0, 0);
    let chunk = args.chunk as usize;
    // A short file is one transaction: all or nothing. A long one is cut into chunks,
    // and only when no row failed to parse (unless invalid rows are to be skipped).
    let chunked = rows.len() > chunk && !args.dry_run;
    if chunked && !rejected.is_empty() && !args.skip_invalid {
        // Rows of a long file failed to parse: report them all, write nothing.
        return Ok(ImportReport {
            file: args.file.display().to_string(),
            rows: total,
            new: 0,
            already_recorded: 0,
            rejected: sorted(rejected),
            committed: false,
            dry_run: false,
            chunks_committed: 0,
            stopped_at_line: None,
        });
    }
    let (mut chunks_committed, mut stopped_at_line) = (0, None);
    for part in rows.chunks(if chunked { chunk } else { rows.len().max(1) }) {
        let batch = ledger.batch()?;
        let (mut part_new, mut part_already, mut failed) = (0, 0, false);
        for (line, m) in part {
            if let Some(b) = &bar {
                b.inc(1);
            }
            let result = row_to_event_in(m, cal)
                .and_then(|e| batch.append_outcome(e).map_err(|err| err.to_string()));
            match result {
                // Already on record: before the import, or earlier in it (a row given
                // twice with one source id).
                Ok(a) if !a.new => part_already += 1,
                Ok(_) => part_new += 1,
                Err(reason) => {
                    rejected.push(Rejected {
                        line: *line,
                        reason,
                    });
                    failed = true;
                }
            }
        }
        already += part_already;
        let keep = !args.dry_run
            && (args.skip_invalid
                || if chunked {
                    !failed
                } else {
                    rejected.is_empty()
                });
        if keep {
            batch.commit()?;
            chunks_committed += 1;
            new += part_new;
            // Let a waiting writer take the lock before the next chunk.
            std::thread::sleep(consent_core::CHUNK_PAUSE);
        } else {
            batch.rollback()?;
            if args.dry_run {
                new += part_new;
            }
            if chunked {
                stopped_at_line = part.first().map(|(line, _)| *line);
                break;
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(ImportReport {
        file: args.file.display().to_string(),
        rows: total,
        new,
        already_recorded: already,
        rejected: sorted(rejected),
        committed: chunks_committed > 0,
        dry_run: args.dry_run,
        chunks_committed,
        stopped_at_line,
    })
}

fn sorted(mut rejected: Vec<Rejected>) -> Vec<Rejected> {
    rejected.sort_by_key(|r| r.line);
    rejected
}
