//! What opening a ledger settles once: creating a new one, migrating an old one, its
//! hashed configuration (the `ledger_configured` event) and its pseudonym key.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, DEFAULT_TIME_ZONE};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::key::{self, KeySource, PseudonymKey};
use crate::ledger::Inner;
use crate::options::LedgerOptions;
use crate::store::{Found, RawRow, FORMAT_NAME, SCHEMA_VERSION};

/// The configuration a ledger committed to in its `ledger_configured` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LedgerConfig {
    pub format: String,
    pub schema_version: i64,
    /// `system` or `simulated`.
    pub clock: String,
    /// SHA-256 of the pseudonym key with its domain prefix, hex.
    pub pseudonym_key_id: String,
    /// The institution's time zone (IANA); absent in ledgers created before ledgers
    /// named one, which use [`crate::DEFAULT_TIME_ZONE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Set on the event a migration appends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<i64>,
    /// Migration: every blanked version-1 row, as `[row seq, erasure seq]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_before_migration: Option<Vec<[u64; 2]>>,
}

/// The time zone a new ledger commits to: the option's, checked against the bundled
/// database, or Europe/London.
fn new_time_zone(options: &LedgerOptions) -> Result<String> {
    let zone = options.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
    Calendar::new(zone).map(|c| c.name().to_string())
}

impl Inner {
    /// Creates a fresh ledger, migrates a version-1 one, loads the configuration and
    /// the key, and checks the key against the ledger's commitment.
    pub(crate) fn setup(
        &mut self,
        found: Found,
        options: &LedgerOptions,
        key_path: Option<&Path>,
    ) -> Result<()> {
        let fresh = match found {
            Found::Fresh => {
                // Another process may have created the ledger while we waited.
                let created = self.in_setup_tx(|me| {
                    if me.store.is_empty()? {
                        me.create(options, key_path)?;
                        Ok(true)
                    } else {
                        Ok(false)
                    }
                })?;
                if !created {
                    self.store.check_schema(SCHEMA_VERSION)?;
                }
                created
            }
            Found::Ledger(old) if old < SCHEMA_VERSION => {
                if options.read_only {
                    return Err(Error::ReadOnly(format!(
                        "a schema-{old} ledger must be migrated by opening it for writing once"
                    )));
                }
                self.in_setup_tx_then(
                    |me| {
                        // Another process may have migrated it while we waited for the lock.
                        let version = me.store.schema_version()?;
                        if version == SCHEMA_VERSION {
                            return me.store.check_schema(version);
                        }
                        me.store.check_schema(version)?;
                        match version {
                            1 => me.migrate_v1(options, key_path),
                            2 => me.store.migrate_v2_tables(),
                            _ => me.store.migrate_v3_tables(),
                        }
                    },
                    true,
                )?;
                false
            }
            Found::Ledger(_) => false,
        };
        self.store.remember_schema()?;
        let config = self.config()?;
        self.simulated = config.clock == "simulated";
        let zone = config.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
        self.calendar = Calendar::new(zone)
            .map_err(|e| Error::Corrupt(format!("the ledger's time zone: {e}")))?;
        if options.time_zone.as_deref().is_some_and(|z| z != zone) {
            return Err(Error::invalid(format!(
                "this ledger keeps its calendar in {zone}, set when it was created; it cannot be opened as another time zone"
            )));
        }
        if self.clock.is_some() && !self.simulated {
            return Err(Error::invalid(
                "a clock can only be set on a ledger created as a simulation: a real ledger's record times come from the system clock",
            ));
        }
        if !fresh {
            self.key = self.load_key(&options.pseudonym_key, key_path, options.read_only)?;
        }
        if let Some(k) = &self.key {
            if k.id() != config.pseudonym_key_id {
                return Err(Error::Key(
                    "this is not the key the ledger was created with (its id differs from the one in the ledger's first event)"
                        .into(),
                ));
            }
        }
        self.legacy_markers = config.migrated_from.is_some()
            && self
                .store
                .has_kind_in_encoding(EventKind::SubjectErased, 1)?;
        Ok(())
    }

    /// Runs `f` in a write transaction under the lock file (creation, migration).
    fn in_setup_tx<T>(&mut self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        self.in_setup_tx_then(f, false)
    }

    /// [`Inner::in_setup_tx`], then, when `truncate` and committed, the WAL checkpointed
    /// and truncated while the lock is still held (after a migration: the old pages,
    /// a schema-1 pepper among them, leave the WAL).
    fn in_setup_tx_then<T>(
        &mut self,
        f: impl FnOnce(&mut Inner) -> Result<T>,
        truncate: bool,
    ) -> Result<T> {
        self.store.begin_write()?;
        let result = f(self).and_then(|v| self.store.commit().map(|()| v));
        if result.is_err() {
            self.store.rollback();
        } else if truncate {
            self.store.truncate_wal_quietly();
        }
        self.store.end_write();
        result
    }

    /// Loads an existing ledger's key; `None` only for a read-only open without one.
    fn load_key(
        &self,
        source: &KeySource,
        key_path: Option<&Path>,
        read_only: bool,
    ) -> Result<Option<PseudonymKey>> {
        match (source, key_path) {
            (KeySource::Bytes(b), _) => Ok(Some(PseudonymKey::from_bytes(*b))),
            (KeySource::None, _) if read_only => Ok(None),
            (KeySource::None, _) => Err(Error::Key(
                "a ledger opened for writing needs its pseudonym key".into(),
            )),
            (_, Some(p)) => match key::read_key_file(p) {
                Ok(k) => Ok(Some(k)),
                Err(_) if read_only && !p.exists() => Ok(None),
                Err(e) => Err(e),
            },
            (_, None) => Err(Error::Key("no key file for a ledger in memory".into())),
        }
    }

    /// The key a new ledger commits to: supplied, read from an existing key file, or
    /// made and written to a new one.
    fn new_key(&self, source: &KeySource, key_path: Option<&Path>) -> Result<PseudonymKey> {
        match (source, key_path) {
            (KeySource::Bytes(b), _) => Ok(PseudonymKey::from_bytes(*b)),
            (KeySource::None, _) => Err(Error::Key("a new ledger needs a pseudonym key".into())),
            (_, Some(p)) if p.exists() => key::read_key_file(p),
            (_, Some(p)) => {
                let k = PseudonymKey::random();
                key::write_key_file(p, &k)?;
                Ok(k)
            }
            (_, None) => Ok(PseudonymKey::random()),
        }
    }

    fn create(&mut self, options: &LedgerOptions, key_path: Option<&Path>) -> Result<()> {
        self.store.create_schema()?;
        let key = self.new_key(&options.pseudonym_key, key_path)?;
        let config = LedgerConfig {
            format: FORMAT_NAME.into(),
            schema_version: SCHEMA_VERSION,
            clock: if options.clock.is_some() {
                "simulated"
            } else {
                "system"
            }
            .into(),
            pseudonym_key_id: key.id(),
            time_zone: Some(new_time_zone(options)?),
            migrated_from: None,
            erased_before_migration: None,
        };
        self.key = Some(key);
        self.append_config(&config)
    }

    fn migrate_v1(&mut self, options: &LedgerOptions, key_path: Option<&Path>) -> Result<()> {
        let pepper = self.store.migrate_v1_tables()?;
        // Version 2 to 3 before anything is appended: the append writes version-3 rows.
        self.store.migrate_v2_tables()?;
        let key = PseudonymKey::from_bytes(pepper.try_into().expect("checked: 32 bytes"));
        // The old pepper becomes the key and leaves the file.
        match (&options.pseudonym_key, key_path) {
            (KeySource::Bytes(b), _) if b != key.bytes() => {
                return Err(Error::Key(
                    "migrating a schema-1 ledger: its key is the file's old pepper; supply that or none".into(),
                ))
            }
            (KeySource::Bytes(_), _) => {}
            (KeySource::None, _) => return Err(Error::Key("migration needs a key file".into())),
            (_, Some(p)) if p.exists() => {
                if key::read_key_file(p)?.bytes() != key.bytes() {
                    return Err(Error::Key(format!(
                        "{} exists and holds another key; move it away to migrate",
                        p.display()
                    )));
                }
            }
            (_, Some(p)) => key::write_key_file(p, &key)?,
            (_, None) => {}
        }
        // Source ids keep working for idempotency through their keyed pseudonyms.
        for (seq, src) in self.store.source_ids()? {
            self.store.set_source_key(seq, &key.source_key(&src))?;
        }
        // Bind every blanked version-1 row to its erasure, in a hashed event.
        let erasures = self.store.pseudonyms_of_kind(EventKind::SubjectErased)?;
        let mut bound = Vec::new();
        for (eseq, marker) in &erasures {
            let rows = self.store.blanked_seqs(marker, *eseq)?;
            bound.extend(rows.into_iter().map(|r| [r as u64, *eseq as u64]));
        }
        bound.sort_unstable();
        let config = LedgerConfig {
            format: FORMAT_NAME.into(),
            schema_version: SCHEMA_VERSION,
            clock: "system".into(),
            pseudonym_key_id: key.id(),
            time_zone: Some(new_time_zone(options)?),
            // An empty schema-1 log migrates to a ledger like a new one: the
            // configuration is its event 0.
            migrated_from: (self.store.size()? > 0).then_some(1),
            erased_before_migration: (self.store.size()? > 0).then_some(bound),
        };
        self.key = Some(key);
        self.append_config(&config)?;
        // `current` is rebuilt under the version-2 rules.
        self.store.clear_current()?;
        let purposes = self.all_purposes(None)?;
        for p in purposes.iter().filter(|p| {
            purposes
                .iter()
                .all(|q| q.def.id != p.def.id || q.version <= p.version)
        }) {
            self.rematerialize(p)?;
        }
        Ok(())
    }

    fn append_config(&self, config: &LedgerConfig) -> Result<()> {
        // Still set up as a real ledger here: the time is clamped to the log's last.
        let now = self.record_time()?;
        let details = serde_json::to_string(config).map_err(|e| Error::invalid(e.to_string()))?;
        self.store.append(&mut RawRow {
            kind: EventKind::LedgerConfigured.as_str().into(),
            details: Some(details),
            ..self.blank_row(now)
        })?;
        Ok(())
    }

    /// The configuration from the `ledger_configured` event.
    fn config(&self) -> Result<LedgerConfig> {
        let row = self
            .store
            .first_of_kind(EventKind::LedgerConfigured)
            .map_err(|e| Error::Corrupt(format!("configuration unreadable: {e}")))?
            .ok_or_else(|| Error::Corrupt("the ledger has no `ledger_configured` event".into()))?;
        let details = row.details.unwrap_or_default();
        serde_json::from_str(&details)
            .map_err(|e| Error::Corrupt(format!("the ledger's configuration is malformed: {e}")))
    }
}
