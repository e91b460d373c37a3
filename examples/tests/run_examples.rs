//! Runs the Rust example so it cannot rot.

#[test]
fn rust_scenario_answers_every_question_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rust_scenario"))
        .arg(dir.path().join("ledger.db"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().filter(|l| l.starts_with("ok")).count() >= 28,
        "{stdout}"
    );
    assert!(!stdout.contains("FAIL"));
}
