//! Text for terminals. Stored strings (a title, a withdrawal method, an erasure reason,
//! an id with a bidi override) and echoed arguments can hold escape sequences: shown
//! raw they could recolour, retitle, clear or reorder what staff read. Human output
//! shows them escaped (`\x1b`, `\u{202e}`); JSON output is left alone, because its own
//! escaping is exact and scripts need the stored value.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as itself: C0 and C1 controls and DEL, and
/// the bidirectional embeddings, overrides, isolates and marks.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let escaped = |c: char| unsafe_char(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            c if !escaped(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// One value (a table cell, a field, an echoed id): line breaks are escaped too, so a
/// value cannot start a line of its own that looks like the tool's.
pub fn value(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// A block of human output: everything unsafe escaped except its line breaks.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(value("\x1b[31mred\x07"), "\\x1b[31mred\\x07");
        assert_eq!(value("a\u{9b}b\u{7f}"), "a\\u{9b}b\\x7f");
        assert_eq!(
            value("\u{202e}cod.exe\u{2066}"),
            "\\u{202e}cod.exe\\u{2066}"
        );
        assert_eq!(value("one\ntwo\r\tx"), "one\\ntwo\\r\\tx");
        assert_eq!(text("one\ntwo\x1b"), "one\ntwo\\x1b");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for s in ["student-1", "Stéphane · 学生 — ok", "a\\x1b"] {
            assert!(matches!(value(s), Cow::Borrowed(_)), "{s}");
        }
    }
}
