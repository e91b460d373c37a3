//! `consent key`: signing keys in their own, private files.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_consent");

fn consent(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run consent")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

#[test]
fn keys_are_generated_private_shown_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.key");
    let log_s = log.to_str().unwrap();
    let made = consent(&[
        "key",
        "generate",
        "--name",
        "ljmu.ac.uk/consent",
        "-o",
        log_s,
    ]);
    assert_eq!(code(&made), 0, "{made:?}");
    let vkey = String::from_utf8(made.stdout).unwrap();
    let parsed = consent_core::parse_verifier_key(&vkey).unwrap();
    assert_eq!(parsed.name(), "ljmu.ac.uk/consent");
    // The private key is in the file only, and the file is the owner's.
    let private = std::fs::read_to_string(&log).unwrap();
    assert!(private.starts_with("PRIVATE+KEY+ljmu.ac.uk/consent+"));
    assert!(!vkey.contains("PRIVATE"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&log).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let shown = consent(&["key", "show", log_s]);
    assert_eq!(String::from_utf8(shown.stdout).unwrap(), vkey);

    // Never replaced, never read with the wrong role.
    let again = consent(&["key", "generate", "--name", "other", "-o", log_s]);
    assert_eq!(code(&again), 9);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), private);
    assert_eq!(code(&consent(&["key", "show", "--witness", log_s])), 9);

    // A witness key, as JSON.
    let w = dir.path().join("w.key");
    let out = consent(&[
        "--json",
        "key",
        "generate",
        "--witness",
        "--name",
        "dpo.ljmu.ac.uk/witness",
        "-o",
        w.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "dpo.ljmu.ac.uk/witness");
    assert!(v["verifier_key"]
        .as_str()
        .unwrap()
        .starts_with("dpo.ljmu.ac.uk/witness+"));

    // Bad names are refused before anything is written.
    let bad = dir.path().join("bad.key");
    let o = consent(&[
        "key",
        "generate",
        "--name",
        "has space",
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(!bad.exists());
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.key");
    let log_s = log.to_str().unwrap();
    assert_eq!(
        code(&consent(&["key", "generate", "--name", "l", "-o", log_s])),
        0
    );
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = consent(&["key", "show", log_s]);
    assert_eq!(code(&o), 9);
    assert!(String::from_utf8_lossy(&o.stderr).contains("chmod 600"));
}
