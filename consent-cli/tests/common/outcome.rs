//! What a run of the `consent` binary is expected to have done, checked the same way
//! by every test file's harness: exit 0 and its stdout, or one exit code and its
//! stderr; the failure message shows the arguments and both streams.

use std::process::Output;

/// Expects exit 0; returns stdout.
pub fn expect_ok(out: Output, args: &[&str]) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "consent {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Expects exit `code`; returns stderr.
pub fn expect_code(out: Output, code: i32, args: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "consent {args:?}:\nstdout {}\nstderr {err}",
        String::from_utf8_lossy(&out.stdout)
    );
    err
}
