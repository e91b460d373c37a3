//! Where a ledger lives: a SQLite file, or a schema of a PostgreSQL database named by
//! a `postgresql://` URL (docs/POSTGRES.md). `--ledger`, `CONSENT_LEDGER` and the
//! arguments of `consent copy` take either; this is the one place that tells them
//! apart, so no command checks a URL for existence on disk, looks for a key file
//! beside it, or prints its password.

use std::fmt;
use std::path::{Path, PathBuf};

use consent_core::{default_key_path, is_postgres_url, redact_url, KeySource};

use crate::exit::{CliResult, Failure, KEY};

/// A ledger's location, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A ledger file (SQLite).
    File(PathBuf),
    /// A PostgreSQL URL, its `schema=` parameter included.
    Postgres(String),
}

impl Location {
    /// Reads a location as given: a `postgresql://` (or `postgres://`) URL, else a path.
    pub(crate) fn new(given: PathBuf) -> Location {
        match given.to_str().filter(|s| is_postgres_url(s)) {
            Some(url) => Location::Postgres(url.to_string()),
            None => Location::File(given),
        }
    }

    /// What `Ledger::open_with` and `Ledger::copy_to` take: the path, or the URL.
    pub(crate) fn as_path(&self) -> &Path {
        match self {
            Location::File(p) => p,
            Location::Postgres(url) => Path::new(url),
        }
    }

    /// Whether the ledger is in PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }

    /// Where the pseudonym key comes from: the file given, else for a ledger file its
    /// default beside it (`<path>.key`, found by the core next to the real file). A
    /// PostgreSQL ledger has no "beside": its key must be given, and saying which
    /// option gives it is the whole message.
    pub(crate) fn key_source(&self, given: Option<&Path>) -> CliResult<KeySource> {
        match (given, self) {
            (Some(k), _) => Ok(KeySource::File(k.to_path_buf())),
            (None, Location::File(_)) => Ok(KeySource::Beside),
            (None, Location::Postgres(_)) => Err(Failure::new(
                KEY,
                format!(
                    "{self}: a PostgreSQL ledger keeps no key file beside it; pass its pseudonym key file with --key-file PATH (or CONSENT_KEY_FILE), the same file on every host"
                ),
            )),
        }
    }

    /// The key file a ledger opened with `given` uses, for people (`init`).
    pub(crate) fn key_file(&self, given: Option<&Path>) -> Option<PathBuf> {
        match (given, self) {
            (Some(k), _) => Some(k.to_path_buf()),
            (None, Location::File(p)) => Some(default_key_path(p)),
            (None, Location::Postgres(_)) => None,
        }
    }
}

/// For people and JSON: the path, or the URL with its password hidden.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths_and_never_shown_with_their_password() {
        let pg = Location::new("postgresql://app:s3cret@db/l?schema=uni".into());
        assert!(pg.is_postgres());
        assert_eq!(pg.to_string(), "postgresql://app:***@db/l?schema=uni");
        let failure = pg.key_source(None).unwrap_err();
        assert_eq!(failure.code, KEY);
        assert!(
            failure.message.contains("--key-file"),
            "{}",
            failure.message
        );
        assert!(!failure.message.contains("s3cret"), "{}", failure.message);
        assert_eq!(
            pg.key_source(Some(Path::new("k"))).unwrap(),
            KeySource::File("k".into())
        );
        assert_eq!(pg.key_file(None), None);

        let file = Location::new("postgresql.db".into());
        assert!(!file.is_postgres());
        assert_eq!(file.key_source(None).unwrap(), KeySource::Beside);
        assert_eq!(file.key_file(None), Some("postgresql.db.key".into()));
    }
}
