//! CSV cells for spreadsheets. Excel, LibreOffice and Google Sheets run a cell that
//! starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a
//! formula, so a subject id like `=HYPERLINK(…)` in the feed would run on the union's
//! machine (CSV injection). As OWASP advises, such cells get a leading `'`, which
//! spreadsheets show as text; every other cell is written as it is.

use std::borrow::Cow;

/// Writes one CSV record, every cell through [`cell`].
pub fn write_record<W: std::io::Write>(w: &mut csv::Writer<W>, cells: &[&str]) -> csv::Result<()> {
    for c in cells {
        w.write_field(cell(c).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)
}

/// `s`, prefixed with `'` when a spreadsheet would read it as a formula.
pub fn cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_quoted() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(cell(s), format!("'{s}"));
        }
        for s in ["student-1", "2024-09-01T00:00:00.000Z", "", "a=b", "'=x"] {
            assert_eq!(cell(s), s);
        }
    }
}
