//! `consent status --from-file`: many questions answered from one snapshot of the
//! ledger (`Ledger::status_many`), printed one row per question.
//!
//! The file is CSV with a header row naming the columns `subject`, `purpose` and,
//! optionally, `recipient`; `-` reads stdin. A malformed file is a usage error naming
//! its line; so is the first question the ledger refuses (an unknown purpose, a
//! missing or unlisted recipient), with that error's own exit code.

use std::io::Read;
use std::path::Path;

use consent_core::{Error, ErrorKind, Ledger, Status};
use serde_json::{json, Value};

use crate::cli::AnswersFormat;
use crate::ctx::Ctx;
use crate::exit::{code_of, CliResult, Failure, NOT_FOUND, NOT_PERMITTED, USAGE};
use crate::import::LineCounter;
use crate::output::{self, print_json};

/// One question of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Line number in the file (1-based, where the record starts).
    pub line: u64,
    /// Data subject.
    pub subject: String,
    /// Purpose id.
    pub purpose: String,
    /// Recipient asked about, if any.
    pub recipient: Option<String>,
}

/// The columns a questions file may have.
const COLUMNS: [&str; 3] = ["subject", "purpose", "recipient"];

/// `consent status --from-file FILE`.
pub fn status_file(ctx: &Ctx, file: &Path, format: AnswersFormat, check: bool) -> CliResult {
    let text = read_input(file)?;
    let questions =
        parse_questions(&text).map_err(|e| Failure::usage(format!("{}: {e}", name(file))))?;
    let ledger = ctx.open()?;
    let asked: Vec<(&str, &str, Option<&str>)> = questions
        .iter()
        .map(|q| {
            (
                q.subject.as_str(),
                q.purpose.as_str(),
                q.recipient.as_deref(),
            )
        })
        .collect();
    let answers = ledger
        .status_many(&asked)
        .map_err(|e| refused(&ledger, file, &questions, e))?;
    let format = if ctx.json {
        AnswersFormat::Json
    } else {
        format
    };
    // A reader that closed stdout early must not turn "not permitted" into exit 141.
    let printed = match format {
        AnswersFormat::Table => output::status::answers(ctx.times(), &asked, &answers),
        AnswersFormat::Csv => print_csv(&questions, &answers),
        AnswersFormat::Json => print_json(
            &questions
                .iter()
                .zip(&answers)
                .map(|(q, s)| answer_json(q, s))
                .collect::<CliResult<Vec<_>>>()?,
        ),
    };
    if check && !answers.iter().all(Status::permits) {
        return Err(Failure::new(NOT_PERMITTED, ""));
    }
    printed
}

fn name(file: &Path) -> String {
    if file == Path::new("-") {
        "stdin".into()
    } else {
        file.display().to_string()
    }
}

/// The text of `file`, or of stdin for `-`.
fn read_input(file: &Path) -> CliResult<String> {
    let mut text = String::new();
    let read = if file == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    read.map_err(|e| {
        let code = match e.kind() {
            std::io::ErrorKind::InvalidData => USAGE,
            _ => NOT_FOUND,
        };
        Failure::new(code, format!("cannot read {}: {e}", name(file)))
    })?;
    Ok(text)
}

/// The questions of a CSV text: a header row naming `subject`, `purpose` and
/// optionally `recipient` (in any order), then a question a row. An empty recipient
/// cell means none; cells are trimmed, as in an import. Errors name the line.
pub fn parse_questions(text: &str) -> Result<Vec<Question>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| format!("header: {e}"))?.clone();
    if headers.iter().all(str::is_empty) {
        return Err(format!(
            "no header row: the first line names the columns ({})",
            COLUMNS.join(", ")
        ));
    }
    let mut columns = [None; COLUMNS.len()];
    for (i, h) in headers.iter().enumerate() {
        let Some(c) = COLUMNS.iter().position(|c| *c == h) else {
            return Err(format!(
                "header: unknown column `{h}` (the columns are {})",
                COLUMNS.join(", ")
            ));
        };
        if columns[c].replace(i).is_some() {
            return Err(format!("header: column `{h}` appears twice"));
        }
    }
    let [Some(subject), Some(purpose), recipient] = columns else {
        return Err("header: the columns `subject` and `purpose` are required".into());
    };
    let mut lines = LineCounter::new(text);
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| lines.line_at(p));
            let what = match e.kind() {
                csv::ErrorKind::UnequalLengths { len, .. } => {
                    format!("{len} fields, but the header has {}", headers.len())
                }
                _ => format!("malformed CSV: {e}"),
            };
            match line {
                Some(n) => format!("line {n}: {what}"),
                None => what,
            }
        })?;
        let line = rec.position().map_or(0, |p| lines.line_at(p));
        let cell = |i: usize| rec.get(i).unwrap_or_default().to_string();
        let q = Question {
            line,
            subject: cell(subject),
            purpose: cell(purpose),
            recipient: recipient.map(cell).filter(|r| !r.is_empty()),
        };
        for (what, value) in [("subject", &q.subject), ("purpose", &q.purpose)] {
            if value.is_empty() {
                return Err(format!("line {line}: no {what}"));
            }
        }
        out.push(q);
    }
    Ok(out)
}

/// The failure of a refused `status_many`, naming the line of the question refused.
/// The core fails the call with the first invalid question's error without saying
/// which it was, so the questions are asked again one by one (only on this path) until
/// one fails the same way.
fn refused(ledger: &Ledger, file: &Path, questions: &[Question], e: Error) -> Failure {
    let kind = e.kind();
    let about_one_question = matches!(
        kind,
        ErrorKind::InvalidArgument
            | ErrorKind::InvalidTime
            | ErrorKind::UnknownPurpose
            | ErrorKind::UnknownRecipient
            | ErrorKind::NotFound
    );
    if !about_one_question {
        return e.into();
    }
    let line = questions.iter().find_map(|q| {
        match ledger.status(&q.subject, &q.purpose, q.recipient.as_deref()) {
            Err(again) if again.kind() == kind => Some(q.line),
            _ => None,
        }
    });
    match line {
        Some(n) => Failure::new(code_of(&e), format!("{}, line {n}: {e}", name(file))),
        None => e.into(),
    }
}

/// The CSV columns of an answer.
const CSV_HEADER: &[&str] = &[
    "subject",
    "purpose",
    "recipient",
    "state",
    "permits",
    "since",
    "until",
    "effect_deadline",
    "purpose_version",
    "granted_under_version",
    "event_seq",
    "event_id",
    "notice",
    "at",
];

fn print_csv(questions: &[Question], answers: &[Status]) -> CliResult {
    let time = |t: Option<consent_core::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    let rows: Vec<[String; 14]> = questions
        .iter()
        .zip(answers)
        .map(|(q, s)| {
            [
                q.subject.clone(),
                s.purpose.clone(),
                q.recipient.clone().unwrap_or_default(),
                s.state.to_string(),
                s.permits().to_string(),
                time(s.since),
                time(s.until),
                time(s.effect_deadline),
                s.purpose_version.to_string(),
                s.granted_under_version
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                s.event_seq.map(|n| n.to_string()).unwrap_or_default(),
                s.event_id.map(|id| id.to_string()).unwrap_or_default(),
                s.notice
                    .as_ref()
                    .map(|n| format!("{}@{}", n.id, n.version))
                    .unwrap_or_default(),
                s.at.to_string(),
            ]
        })
        .collect();
    output::emit(&output::csv(CSV_HEADER, &rows)?)
}

/// An answer as JSON: the status (as `consent status --json` prints it) with the
/// subject asked about.
fn answer_json(q: &Question, s: &Status) -> CliResult<Value> {
    let mut v = serde_json::to_value(s).map_err(|e| Failure::usage(e.to_string()))?;
    v["subject"] = json!(q.subject);
    v["permits"] = json!(s.permits());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(line: u64, s: &str, p: &str, r: Option<&str>) -> Question {
        Question {
            line,
            subject: s.into(),
            purpose: p.into(),
            recipient: r.map(Into::into),
        }
    }

    #[test]
    fn questions_are_read_with_their_lines() {
        let text = "\u{feff}purpose,subject,recipient\r\njmsu.marketing,s1,\r\n\r\njmsu.data-sharing, s2 ,JMSU\r\n";
        assert_eq!(
            parse_questions(text).unwrap(),
            [
                q(2, "s1", "jmsu.marketing", None),
                q(4, "s2", "jmsu.data-sharing", Some("JMSU"))
            ]
        );
        assert_eq!(
            parse_questions("subject,purpose\ns1,p\n").unwrap(),
            [q(2, "s1", "p", None)]
        );
        assert!(parse_questions("subject,purpose\n").unwrap().is_empty());
    }

    #[test]
    fn malformed_files_name_the_line() {
        let err = |t: &str| parse_questions(t).unwrap_err();
        assert!(err("").contains("no header row"), "{}", err(""));
        assert!(err("subject,recipent\n").contains("unknown column `recipent`"));
        assert!(err("subject,subject,purpose\n").contains("appears twice"));
        assert!(err("subject,recipient\n").contains("`subject` and `purpose` are required"));
        let e = err("subject,purpose\ns1,p\n\ns2,p,extra\n");
        assert!(e.starts_with("line 4: 3 fields"), "{e}");
        let e = err("subject,purpose\ns1,p\n,p\n");
        assert_eq!(e, "line 3: no subject");
        let e = err("subject,purpose,recipient\ns1,,x\n");
        assert_eq!(e, "line 2: no purpose");
    }
}
