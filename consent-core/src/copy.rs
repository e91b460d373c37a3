//! Copying a ledger between backends (`consent copy FROM TO`): a SQLite file into a
//! PostgreSQL schema, a PostgreSQL ledger into a file that the independent checker of
//! docs/FORMAT.md §8 can read, or a file into another file.
//!
//! The copy is of the ledger as stored, not as interpreted: every event row with its
//! bytes as they are (blanked rows stay blanked), the registry tables, the
//! materialized state, the erasure markers and the signed checkpoints, read in one
//! snapshot of the source. The destination rebuilds its tree from the rows, so its
//! head is computed, not copied: the copy is refused unless it equals the source's.
//! Nothing is interpreted, so a copy of a damaged ledger is as damaged (`verify`
//! says where).

use std::path::Path;

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::lockfile::WriteLock;
use crate::options::LedgerOptions;
use crate::proofs::Head;
use crate::store::postgres::{is_postgres_url, redact_url};
use crate::store::{Found, RegistryTable, Store};
use crate::timestamp::Timestamp;

/// What [`Ledger::copy_to`] copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The head of the copy, the same as the source's at the moment it was read.
    pub head: Head,
    /// Rows copied per table: events, purposes, notices, current, erased, checkpoints.
    pub rows: [u64; 6],
}

/// Opens the destination, which must hold no ledger yet.
fn open_destination(dest: &Path, options: &LedgerOptions) -> Result<Store> {
    let mut options = options.clone();
    options.create = true;
    options.read_only = false;
    let (mut store, found) = match dest.to_str().filter(|d| is_postgres_url(d)) {
        Some(url) => Store::open_postgres(url, &options)?,
        None => {
            let (mut store, found) = Store::open_file(dest, &options)?;
            if found == Found::Fresh {
                store.set_lock(Some(WriteLock::open(&std::fs::canonicalize(dest)?)?));
            }
            (store, found)
        }
    };
    if found != Found::Fresh {
        let shown = match dest.to_str().filter(|d| is_postgres_url(d)) {
            Some(url) => redact_url(url),
            None => dest.display().to_string(),
        };
        return Err(Error::Conflict(format!(
            "{shown} already holds a ledger: a copy goes into a new file or an empty schema"
        )));
    }
    store.begin_write()?;
    Ok(store)
}

impl Ledger {
    /// Copies this ledger, as stored, into a new ledger at `dest`: a file path or a
    /// PostgreSQL URL (docs/POSTGRES.md). `options` open the destination (its busy
    /// timeout, durability); the pseudonym key is not needed and not copied — it is
    /// the same key for the copy, kept where the institution keeps it.
    ///
    /// # Errors
    /// - [`Conflict`](crate::ErrorKind::Conflict): `dest` already holds a ledger;
    /// - [`Corrupt`](crate::ErrorKind::Corrupt): the copy's head differs from the
    ///   source's (nothing is left behind in the destination's transaction);
    /// - opening the destination: as [`Ledger::open_with`] for a new ledger
    ///   ([`NotALedger`](crate::ErrorKind::NotALedger), [`Io`](crate::ErrorKind::Io),
    ///   [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a malformed URL,
    ///   ...), and the destination's write errors;
    /// - the source's [ledger's errors](crate#errors).
    pub fn copy_to(&self, dest: impl AsRef<Path>, options: &LedgerOptions) -> Result<CopyReport> {
        self.copy_to_with_progress(dest, options, |_, _| {})
    }

    /// [`Ledger::copy_to`], calling `progress(events copied, events)` every 4096 events.
    ///
    /// # Errors
    /// As [`Ledger::copy_to`].
    pub fn copy_to_with_progress(
        &self,
        dest: impl AsRef<Path>,
        options: &LedgerOptions,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<CopyReport> {
        let dest = dest.as_ref();
        self.read(None, |inner, _| {
            let from = &inner.store;
            let total = from.size()?;
            let mut to = open_destination(dest, options)?;
            let copied = (|| {
                to.create_schema()?;
                let mut rows = [0u64; 6];
                from.each_row(|row| {
                    let mut row = row.clone();
                    let seq = row.seq;
                    if to.append(&mut row)? as i64 != seq {
                        return Err(Error::Corrupt(format!(
                            "the source's log skips a position before event {seq}"
                        )));
                    }
                    rows[0] += 1;
                    if rows[0] % 4096 == 0 {
                        progress(rows[0], total);
                    }
                    Ok(true)
                })?;
                progress(rows[0], total);
                copy_registry(from, &to, &mut rows)?;
                let mut failed = None;
                from.each_current_row(|r| {
                    let (Some(row), [purpose, subject, _]) = (r.row, r.key) else {
                        failed.get_or_insert_with(|| {
                            Error::Corrupt("a materialized row has values of the wrong type".into())
                        });
                        return;
                    };
                    let (Ok(purpose), Ok(subject)) = (purpose.as_str(), subject.as_str()) else {
                        failed.get_or_insert_with(|| {
                            Error::Corrupt("a materialized row's key is not text".into())
                        });
                        return;
                    };
                    if failed.is_none() {
                        failed = to.write_current(subject, purpose, &row).err();
                        rows[3] += 1;
                    }
                })?;
                from.each_erased_row(|marker, seq| {
                    match (marker, seq.and_then(|s| u64::try_from(s).ok())) {
                        (Some(m), Some(s)) if failed.is_none() => {
                            failed = to.insert_erased(m, s).err();
                            rows[4] += 1;
                        }
                        _ => {
                            failed.get_or_insert_with(|| {
                                Error::Corrupt(
                                    "an erasure marker has values of the wrong type".into(),
                                )
                            });
                        }
                    }
                })?;
                from.each_checkpoint_row(|r| {
                    match (r.size.and_then(|s| u64::try_from(s).ok()), r.note) {
                        (Some(size), Some(note)) if failed.is_none() => {
                            failed = to.put_checkpoint(size, &note).err();
                            rows[5] += 1;
                        }
                        _ => {
                            failed.get_or_insert_with(|| {
                                Error::Corrupt(
                                    "a stored checkpoint has values of the wrong type".into(),
                                )
                            });
                        }
                    }
                    failed.is_none()
                })?;
                if let Some(e) = failed {
                    return Err(e);
                }
                let size = from.size()?;
                let head = Head {
                    size,
                    root: from.root(size)?,
                };
                let copied = Head {
                    size: to.size()?,
                    root: to.root(size)?,
                };
                if copied != head {
                    return Err(Error::Corrupt(format!(
                        "the copy's head {copied} differs from the source's {head}"
                    )));
                }
                to.commit()?;
                Ok(CopyReport { head, rows })
            })();
            if copied.is_err() {
                to.rollback();
            }
            to.end_write();
            let closed = to.close();
            let report = copied?;
            closed?;
            Ok(report)
        })
    }
}

/// Copies the `purposes` and `notices` rows as stored.
fn copy_registry(from: &Store, to: &Store, rows: &mut [u64; 6]) -> Result<()> {
    for (table, n) in [(RegistryTable::Purposes, 1), (RegistryTable::Notices, 2)] {
        let mut failed = None;
        from.each_registry_row(table, |r| {
            if failed.is_some() {
                return;
            }
            let (Some(id), Some(version), Some(seq), Some(at), Some(def)) =
                (r.id, r.version, r.seq, r.registered_at, r.def)
            else {
                failed = Some(Error::Corrupt(format!(
                    "a row of `{}` has values of the wrong type",
                    table.name()
                )));
                return;
            };
            let at = match Timestamp::from_millis(at) {
                Ok(at) => at,
                Err(e) => {
                    failed = Some(e);
                    return;
                }
            };
            let seq = seq as u64;
            failed = match table {
                RegistryTable::Purposes => match version.parse() {
                    Ok(v) => to.insert_purpose(&id, v, seq, at, &def).err(),
                    Err(_) => Some(Error::Corrupt("a purpose version is not a number".into())),
                },
                RegistryTable::Notices => to.insert_notice(&id, &version, seq, at, &def).err(),
            };
            rows[n] += 1;
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(())
}
