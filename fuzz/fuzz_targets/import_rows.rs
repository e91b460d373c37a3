//! The `consent import` parser on arbitrary bytes, read both as CSV and as JSON Lines,
//! then every row turned into an event and appended to an in-memory ledger inside a
//! batch that is rolled back. Nothing may panic; every row is either parsed or rejected,
//! and every rejection carries a line number inside the input.

#![no_main]

use std::sync::OnceLock;

use consent_cli::{parse_rows, row_to_event, ImportFormat};
use consent_core::{Ledger, NoticeDef, PurposeDef};
use libfuzzer_sys::fuzz_target;

/// One ledger for the whole run, with a purpose and a notice so that rows can succeed.
/// Every input's appends are rolled back, so inputs do not see each other.
fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| {
        let l = Ledger::in_memory().expect("in-memory ledger");
        l.register_purpose(PurposeDef::new("p", "A purpose", "Org"))
            .expect("purpose");
        l.register_notice(
            NoticeDef::from_text("n", "1", "A notice", "text").covering("Org", ["p"]),
        )
        .expect("notice");
        l
    })
}

fuzz_target!(|data: &[u8]| {
    // `consent import` refuses a file that is not UTF-8 before parsing it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Lines as CSV counts them: `\n`, `\r` and `\r\n` each end one.
    let max_line = 1 + text.replace("\r\n", "\n").matches(['\n', '\r']).count() as u64;
    for format in [ImportFormat::Csv, ImportFormat::Jsonl] {
        let Ok((rows, rejected)) = parse_rows(text, format) else {
            continue; // an unreadable CSV header: the whole file is refused
        };
        for r in &rejected {
            assert!(
                (1..=max_line).contains(&r.line),
                "{format:?}: rejection at line {} of {max_line}: {}",
                r.line,
                r.reason
            );
        }
        let ledger = ledger();
        ledger.begin_batch().expect("begin");
        for (line, row) in &rows {
            assert!(
                (1..=max_line).contains(line),
                "{format:?}: row at line {line} of {max_line}"
            );
            if let Ok(event) = row_to_event(row) {
                let _ = ledger.append(event);
            }
        }
        ledger.rollback_batch().expect("rollback");
    }
});
