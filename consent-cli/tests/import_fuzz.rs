//! Property tests of the `consent import` parser, in-process: random bytes and
//! structured but hostile CSV and JSON Lines (SQL metacharacters, NUL and other control
//! characters, very long fields, bad times, unknown purposes and columns). The parser
//! must never panic, and every row must come out either parsed or rejected with its line
//! number. Parsed rows then go through `row_to_event` and into an in-memory ledger inside
//! a batch that is rolled back, as `consent import --dry-run` does.
//!
//! The cargo-fuzz target `fuzz/fuzz_targets/import_rows.rs` does the same with coverage
//! guidance; this runs in `make test`.

use consent_cli::{parse_rows, row_to_event, ImportFormat, Rejected, Rows, COLUMNS};
use consent_core::{Ledger, NoticeDef, PurposeDef};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A ledger that knows purpose `p` and notice `n@1`, so that some rows succeed.
fn ledger() -> Ledger {
    let l = Ledger::in_memory().unwrap();
    l.register_purpose(PurposeDef::new("p", "A purpose", "Org"))
        .unwrap();
    l.register_notice(NoticeDef::from_text("n", "1", "A notice", "text").covering("Org", ["p"]))
        .unwrap();
    l
}

/// Number of lines in `text` as the CSV reader counts them (`\n`, `\r`, `\r\n`).
fn line_count(text: &str) -> u64 {
    1 + text.replace("\r\n", "\n").matches(['\n', '\r']).count() as u64
}

/// Parses `text`, checks every line number, then tries every row against `ledger` in a
/// batch that is rolled back. Returns the rows and rejections for further checks.
fn parse_and_try(
    ledger: &Ledger,
    text: &str,
    format: ImportFormat,
) -> Option<(Rows, Vec<Rejected>)> {
    let (rows, rejected) = parse_rows(text, format).ok()?;
    let max = line_count(text);
    for r in &rejected {
        assert!(
            (1..=max).contains(&r.line),
            "{format:?}: rejection at line {} of {max}: {}",
            r.line,
            r.reason
        );
        assert!(!r.reason.is_empty());
    }
    let before = ledger.head().unwrap();
    let batch = ledger.batch().unwrap();
    for (line, row) in &rows {
        assert!(
            (1..=max).contains(line),
            "{format:?}: row at line {line} of {max}"
        );
        match row_to_event(row) {
            Ok(event) => {
                // Accepted or refused by the core; either way no panic.
                let _ = batch.append(event);
            }
            Err(reason) => assert!(!reason.is_empty()),
        }
    }
    batch.rollback().unwrap();
    assert_eq!(ledger.head().unwrap(), before, "the batch was rolled back");
    Some((rows, rejected))
}

/// A hostile or ordinary field value.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        // Values that make a good row.
        Just("p".to_string()),
        Just("given".to_string()),
        Just("withdrawn".to_string()),
        Just("n@1".to_string()),
        Just("portal".to_string()),
        Just("subject".to_string()),
        Just("system:it".to_string()),
        Just("2024-09-16T09:00:00Z".to_string()),
        Just("yes".to_string()),
        Just(String::new()),
        // SQL and shell metacharacters.
        Just("'; DROP TABLE events; --".to_string()),
        Just("\" OR 1=1 --".to_string()),
        Just("p'); DELETE FROM tree; --".to_string()),
        Just("$(rm -rf /)`id`|&;".to_string()),
        // Bad times, unknown purposes, bad notices, actors and ids.
        Just("last tuesday".to_string()),
        Just("2024-13-45T25:61:61Z".to_string()),
        Just("10000-01-01".to_string()),
        Just("0000-12-31T23:59:59-23:59".to_string()),
        Just("-62135596800001".to_string()),
        Just("no.such.purpose".to_string()),
        Just("@".to_string()),
        Just("n@".to_string()),
        Just("staff:".to_string()),
        Just("subject:x".to_string()),
        Just("robot:r2".to_string()),
        Just("00000000-0000-0000-0000-000000000000".to_string()),
        Just("{\"form\": [1, {\"deep\": null}]}".to_string()),
        Just("{oops".to_string()),
        // NUL, control characters, quotes, separators, line breaks, non-ASCII.
        "[\\x00-\\x1f\\x7f\",@:;{}\\[\\]' a-z0-9]{0,24}",
        "\\PC{0,16}",
        any::<String>().prop_map(|s| s.chars().take(32).collect()),
        // Very long fields (the core's id limit is 1024 bytes).
        (1000usize..5000, any::<char>()).prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
    ]
}

/// A column name: mostly known, sometimes unknown or hostile.
fn column() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(COLUMNS).prop_map(String::from),
        1 => Just("subject; DROP TABLE events".to_string()),
        1 => "[a-z_\\x00-\\x1f]{0,12}",
    ]
}

/// A CSV field, quoted as a CSV writer would, so the record structure survives.
fn quote(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}

/// One generated CSV file: a header and rows of the header's width (or not).
fn csv_file() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>, bool)> {
    proptest::collection::vec(column(), 1..8).prop_flat_map(|header| {
        let width = header.len();
        (
            Just(header),
            proptest::collection::vec(
                prop_oneof![
                    6 => proptest::collection::vec(value(), width),
                    1 => proptest::collection::vec(value(), 0..10),
                ],
                0..12,
            ),
            any::<bool>(),
        )
    })
}

/// One JSON Lines line: an object of hostile values, some other JSON, or garbage.
fn jsonl_line() -> impl Strategy<Value = String> {
    let json_value = prop_oneof![
        6 => value().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => proptest::collection::vec(value(), 0..3)
            .prop_map(|v| Value::Array(v.into_iter().map(Value::String).collect())),
        1 => (value(), value()).prop_map(|(id, version)| {
            serde_json::json!({ "id": id, "version": version })
        }),
    ];
    prop_oneof![
        6 => proptest::collection::vec((column(), json_value), 0..10).prop_map(|kv| {
            let m: Map<String, Value> = kv.into_iter().collect();
            serde_json::to_string(&Value::Object(m)).unwrap()
        }),
        1 => Just("[1, 2, 3]".to_string()),
        1 => Just("\"just a string\"".to_string()),
        1 => Just("{\"subject\": \"s\", ".to_string()),
        1 => "[^\\n]{0,40}",
    ]
}

/// The lines of `text` as `consent import` numbers them, with the blank ones dropped.
fn nonblank_lines(text: &str) -> Vec<u64> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random bytes, as CSV and as JSON Lines. `consent import` refuses a file that is
    /// not UTF-8 before parsing it; here the bytes are decoded lossily so that every
    /// case reaches the parser.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let ledger = ledger();
        let text = String::from_utf8_lossy(&bytes);
        parse_and_try(&ledger, &text, ImportFormat::Csv);
        if let Some((rows, rejected)) = parse_and_try(&ledger, &text, ImportFormat::Jsonl) {
            let lines = nonblank_lines(&text);
            prop_assert_eq!(rows.len() + rejected.len(), lines.len());
        }
    }

    /// Random text with many line breaks, quotes and commas.
    #[test]
    fn random_csvish_text_never_panics(text in "[\",\\r\\n\\x00a-z0-9 {}:\\\\]{0,400}") {
        let ledger = ledger();
        parse_and_try(&ledger, &text, ImportFormat::Csv);
        parse_and_try(&ledger, &text, ImportFormat::Jsonl);
    }

    /// Hostile CSV, with LF or CRLF line ends: every written record is one parsed row or one rejection, in order,
    /// each at the line where its record starts.
    #[test]
    fn hostile_csv_rows_are_each_parsed_or_rejected(
        (header, records, quoted) in csv_file(),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let ledger = ledger();
        let join = |fields: &[String]| -> String {
            if quoted {
                fields.iter().map(|f| quote(f)).collect::<Vec<_>>().join(",")
            } else {
                fields.join(",")
            }
        };
        let mut text = join(&header);
        text.push_str(eol);
        let mut starts = Vec::new(); // where each non-blank record starts
        for r in &records {
            if !r.is_empty() {
                starts.push(text.len());
            }
            text.push_str(&join(r));
            text.push_str(eol);
        }
        let Some((rows, rejected)) = parse_and_try(&ledger, &text, ImportFormat::Csv) else {
            return Ok(()); // an unreadable header refuses the whole file
        };
        if quoted {
            // Records of the wrong width are rejected, the others parsed; a record of
            // no fields is a blank line, which CSV skips. Quoted fields may hold line
            // breaks, so a record starts at the line its first byte is on.
            let expected: Vec<u64> = starts.iter().map(|&b| line_count(&text[..b])).collect();
            let mut got: Vec<u64> = rows.iter().map(|(n, _)| *n)
                .chain(rejected.iter().map(|r| r.line)).collect();
            got.sort_unstable();
            prop_assert_eq!(got, expected, "{:?}", text);
        }
    }

    /// Hostile JSON Lines: every non-blank line is one parsed row or one rejection,
    /// with its own line number.
    #[test]
    fn hostile_jsonl_lines_are_each_parsed_or_rejected(
        lines in proptest::collection::vec(jsonl_line(), 0..16),
        crlf in any::<bool>(),
    ) {
        let ledger = ledger();
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let (rows, rejected) = parse_and_try(&ledger, &text, ImportFormat::Jsonl)
            .expect("JSON Lines has no header to refuse");
        let mut got: Vec<u64> = rows.iter().map(|(n, _)| *n)
            .chain(rejected.iter().map(|r| r.line)).collect();
        got.sort_unstable();
        prop_assert_eq!(got, nonblank_lines(&text));
    }
}

/// Regression: the line numbers were csv's own `Position::line`, which is one too low
/// for the record after a blank line and for every record of a CRLF file (Excel's
/// export), so rejections pointed at the wrong line.
#[test]
fn csv_line_numbers_count_blank_lines_and_crlf() {
    let lines = |text: &str| -> Vec<(u64, bool)> {
        let (rows, rejected) = parse_rows(text, ImportFormat::Csv).unwrap();
        let mut v: Vec<(u64, bool)> = rows
            .iter()
            .map(|(n, _)| (*n, true))
            .chain(rejected.iter().map(|r| (r.line, false)))
            .collect();
        v.sort_unstable();
        v
    };
    let ok = true;
    let bad = false;
    assert_eq!(lines("subject\na\n\nb\n"), [(2, ok), (4, ok)]);
    assert_eq!(lines("subject\na\n\n\n\nb,c\n"), [(2, ok), (6, bad)]);
    assert_eq!(lines("subject\r\na\r\nb\r\n"), [(2, ok), (3, ok)]);
    assert_eq!(lines("subject\r\n\r\na,b\r\nc\r\n"), [(3, bad), (4, ok)]);
    assert_eq!(lines("subject\ra\r\rb\r"), [(2, ok), (4, ok)]);
    assert_eq!(lines("subject\n\"x\ny\"\nb\n"), [(2, ok), (4, ok)]);
    assert_eq!(
        lines("subject\n\"x\r\ny\"\r\n\r\nb\r\n"),
        [(2, ok), (5, ok)]
    );
    assert_eq!(lines("\n\nsubject\na\n"), [(4, ok)]);
    // The message names no line of its own (csv's would be the wrong one).
    let (_, rejected) = parse_rows("subject,purpose\r\n1,2,3\r\n", ImportFormat::Csv).unwrap();
    assert_eq!(rejected[0].line, 2);
    assert_eq!(
        rejected[0].reason,
        "malformed CSV: 3 fields, but the header has 2"
    );
}

/// The properties above would pass on a parser that rejects everything; this pins
/// down that good rows do get through, in both formats, with their line numbers.
#[test]
fn good_rows_parse_and_append() {
    let ledger = ledger();
    let before = ledger.head().unwrap().size;
    let csv = "subject,purpose,kind,notice,method,recorded_by,effective_at\n\
               s1,p,given,n@1,portal,system:it,2024-09-16T09:00:00Z\n\
               \n\
               s2,p,withdrawn,,portal,subject,2024-09-17\n";
    let (rows, rejected) = parse_rows(csv, ImportFormat::Csv).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 4]);
    for (_, row) in &rows {
        ledger.append(row_to_event(row).unwrap()).unwrap();
    }
    let jsonl = "{\"subject\":\"s3\",\"purpose\":\"p\",\"kind\":\"given\",\"notice\":{\"id\":\"n\",\"version\":\"1\"},\"method\":\"portal\"}\n\
                 not json\n";
    let (rows, rejected) = parse_rows(jsonl, ImportFormat::Jsonl).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, 1);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].line, 2);
    ledger.append(row_to_event(&rows[0].1).unwrap()).unwrap();
    assert_eq!(ledger.head().unwrap().size, before + 3);
}
