//! The registry: registering purposes and notices (each an event in the log plus a
//! row in its table), and the cache of their definitions that every answer reads.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ledger::{Inner, Ledger};
use crate::materialize;
use crate::notice::{Notice, NoticeDef};
use crate::purpose::{Purpose, PurposeDef, PurposeVersions};
use crate::store::RawRow;

/// What a registration did ([`Ledger::register_purpose_outcome`],
/// [`Ledger::register_notice_outcome`], [`Ledger::register_downstream_outcome`], and
/// the same on a [`crate::Batch`]): the definition on record, and whether this call
/// appended it — decided inside the registration's transaction, so a concurrent writer
/// cannot make the answer wrong (a caller comparing the log's size before and after
/// could be). The registration's counterpart of [`crate::Appended`].
#[derive(Debug, Clone, PartialEq)]
pub struct Registered<T> {
    /// What is on record: the version just registered, or the unchanged one already
    /// current.
    pub value: T,
    /// Whether this call appended it; `false`: the same definition was already current
    /// and nothing was written.
    pub new: bool,
}

impl<T> Registered<T> {
    pub(crate) fn new(value: T) -> Self {
        Registered { value, new: true }
    }

    pub(crate) fn unchanged(value: T) -> Self {
        Registered { value, new: false }
    }
}

impl Ledger {
    /// Registers a purpose or a new version of it. Registering an unchanged definition
    /// returns the current version and appends nothing.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a definition that
    /// is malformed (a bad id or recipient id, a recipient listed twice, no title or
    /// controller, a special category outside a..j, an impossible validity), checked
    /// before anything is read; the [ledger's errors](crate#errors) and [write errors](crate#errors).
    pub fn register_purpose(&self, def: PurposeDef) -> Result<Purpose> {
        self.register_purpose_as(None, def).map(|r| r.value)
    }

    /// [`Ledger::register_purpose`], saying whether a new version was appended or the
    /// unchanged definition was already current.
    ///
    /// # Errors
    /// Those of [`Ledger::register_purpose`]: a malformed definition
    /// ([`Error::InvalidArgument`]) and the storage's errors ([`Error::Busy`],
    /// [`Error::Full`], [`Error::ReadOnly`], [`Error::Storage`], [`Error::Closed`]).
    pub fn register_purpose_outcome(&self, def: PurposeDef) -> Result<Registered<Purpose>> {
        self.register_purpose_as(None, def)
    }

    pub(crate) fn register_purpose_as(
        &self,
        owner: Option<u64>,
        def: PurposeDef,
    ) -> Result<Registered<Purpose>> {
        def.validate()?;
        self.write(owner, |inner, now| {
            let previous = inner.purpose(&def.id)?;
            if let Some(p) = &previous {
                if p.latest().def == def {
                    return Ok(Registered::unchanged(p.latest().clone()));
                }
            }
            let store = &inner.store;
            let version = store.next_purpose_version(&def.id)?;
            let details = serde_json::to_string(&def).map_err(|e| Error::invalid(e.to_string()))?;
            let seq = store.append(&mut RawRow {
                kind: EventKind::PurposeDefined.as_str().into(),
                purpose: Some(def.id.clone()),
                purpose_version: Some(version.into()),
                details: Some(details.clone()),
                ..inner.blank_row(now)
            })?;
            store.insert_purpose(&def.id, version, seq, now, &details)?;
            let material_change = previous
                .as_ref()
                .map(|p| crate::purpose::material_changes(&p.latest().def, &def))
                .unwrap_or_default();
            let purpose = Purpose {
                def,
                version,
                seq,
                registered_at: now,
                material_change,
            };
            inner.forget_purposes();
            if version > 1 {
                // A new basis changes what every subject's events mean.
                inner.rematerialize(&purpose)?;
            }
            Ok(Registered::new(purpose))
        })
    }

    /// Registers a notice. The same id and version with a different text hash is a conflict.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a malformed
    /// definition (a bad id or version, no title, controller or purposes, a wildcard
    /// other than a trailing `.*`); [`Conflict`](crate::ErrorKind::Conflict) when the
    /// id and version are registered with other content; the [ledger's errors](crate#errors) and [write errors](crate#errors).
    pub fn register_notice(&self, def: NoticeDef) -> Result<Notice> {
        self.register_notice_as(None, def).map(|r| r.value)
    }

    /// [`Ledger::register_notice`], saying whether the notice was appended or the same
    /// one was already registered.
    ///
    /// # Errors
    /// Those of [`Ledger::register_notice`]: a malformed definition
    /// ([`Error::InvalidArgument`]), the same id and version with different content
    /// ([`Error::Conflict`]), and the storage's errors ([`Error::Busy`],
    /// [`Error::Full`], [`Error::ReadOnly`], [`Error::Storage`], [`Error::Closed`]).
    pub fn register_notice_outcome(&self, def: NoticeDef) -> Result<Registered<Notice>> {
        self.register_notice_as(None, def)
    }

    pub(crate) fn register_notice_as(
        &self,
        owner: Option<u64>,
        def: NoticeDef,
    ) -> Result<Registered<Notice>> {
        def.validate()?;
        self.write(owner, |inner, now| {
            if let Some(n) = inner.notice(&def.id, &def.version)? {
                if n.def == def {
                    return Ok(Registered::unchanged(n));
                }
                return Err(Error::Conflict(format!(
                    "notice {} version {} is already registered with different content",
                    def.id, def.version
                )));
            }
            let details = serde_json::to_string(&def).map_err(|e| Error::invalid(e.to_string()))?;
            let seq = inner.store.append(&mut RawRow {
                kind: EventKind::NoticeDefined.as_str().into(),
                notice_id: Some(def.id.clone()),
                notice_version: Some(def.version.clone()),
                notice_sha256: Some(def.sha256.to_vec()),
                details: Some(details.clone()),
                ..inner.blank_row(now)
            })?;
            inner
                .store
                .insert_notice(&def.id, &def.version, seq, now, &details)?;
            Ok(Registered::new(Notice {
                def,
                seq,
                registered_at: now,
            }))
        })
    }

    /// The current version of a purpose.
    ///
    /// # Errors
    /// [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose) when the id is not
    /// registered; the [ledger's errors](crate#errors).
    pub fn purpose(&self, id: &str) -> Result<Purpose> {
        self.read(None, |inner, _| {
            inner
                .purpose(id)?
                .map(|p| p.latest().clone())
                .ok_or_else(|| Error::UnknownPurpose(id.into()))
        })
    }

    /// Every version of one purpose, oldest first.
    ///
    /// # Errors
    /// [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose) when the id is not
    /// registered; the [ledger's errors](crate#errors).
    pub fn purpose_versions(&self, id: &str) -> Result<Vec<Purpose>> {
        self.read(None, |inner, _| {
            inner
                .purpose(id)?
                .map(|p| p.all().to_vec())
                .ok_or_else(|| Error::UnknownPurpose(id.into()))
        })
    }

    /// One version of a purpose: what a status or an event names by
    /// `purpose_version`.
    ///
    /// # Errors
    /// [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose) for an id never
    /// registered, [`NotFound`](crate::ErrorKind::NotFound) for a version it does not
    /// have; the [ledger's errors](crate#errors).
    pub fn purpose_version(&self, id: &str, version: u32) -> Result<Purpose> {
        self.read(None, |inner, _| {
            let versions = inner
                .purpose(id)?
                .ok_or_else(|| Error::UnknownPurpose(id.into()))?;
            versions
                .all()
                .iter()
                .find(|p| p.version == version)
                .cloned()
                .ok_or_else(|| Error::NotFound(format!("purpose `{id}` has no version {version}")))
        })
    }

    /// One notice by id and version.
    ///
    /// # Errors
    /// [`UnknownNotice`](crate::ErrorKind::UnknownNotice) when that id and version
    /// are not registered; the [ledger's errors](crate#errors).
    pub fn notice(&self, id: &str, version: &str) -> Result<Notice> {
        self.read(None, |inner, _| {
            inner
                .notice(id, version)?
                .ok_or_else(|| Error::UnknownNotice(format!("{id} version {version}")))
        })
    }

    /// Every version of every purpose, by id then version.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn purposes(&self) -> Result<Vec<Purpose>> {
        self.read(None, |inner, _| inner.all_purposes(None))
    }

    /// Every registered notice.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn notices(&self) -> Result<Vec<Notice>> {
        self.read(None, |inner, _| inner.store.notices())
    }
}

impl Inner {
    /// Every version of a purpose, shared from the cache (no copy per call).
    pub(crate) fn purpose(&self, id: &str) -> Result<Option<Arc<PurposeVersions>>> {
        let version = self.store.data_version()?;
        let mut cache = self.purposes.borrow_mut();
        if cache.data_version != version {
            cache.by_id.clear();
            cache.data_version = version;
        }
        if let Some(p) = cache.by_id.get(id) {
            return Ok(Some(Arc::clone(p)));
        }
        let found = PurposeVersions::new(self.all_purposes(Some(id))?).map(Arc::new);
        if let Some(p) = &found {
            cache.by_id.insert(id.to_string(), Arc::clone(p));
        }
        Ok(found)
    }

    pub(crate) fn forget_purposes(&self) {
        let mut cache = self.purposes.borrow_mut();
        cache.by_id.clear();
        cache.notices.clear();
    }

    /// The purpose a question names, after checking the recipient it asks about: one
    /// the purpose lists (or once listed), and one at all when the purpose lists any.
    pub(crate) fn asked_purpose(
        &self,
        id: &str,
        recipient: Option<&str>,
    ) -> Result<Arc<PurposeVersions>> {
        let p = self
            .purpose(id)?
            .ok_or_else(|| Error::UnknownPurpose(id.into()))?;
        let def = &p.latest().def;
        match recipient {
            Some(r) if p.ever_lists(r) => Ok(p),
            None if def.recipients.is_empty() => Ok(p),
            r => Err(Error::UnknownRecipient {
                purpose: def.id.clone(),
                recipient: r.map(Into::into),
                listed: def.recipients.clone(),
            }),
        }
    }

    /// Every version of one purpose (`Some(id)`) or of all, by id then version, with
    /// their material changes.
    pub(crate) fn all_purposes(&self, id: Option<&str>) -> Result<Vec<Purpose>> {
        let mut all = self.store.purposes(id)?;
        crate::purpose::mark_material_changes(&mut all);
        Ok(all)
    }

    /// A registered notice, from the cache.
    pub(crate) fn notice(&self, id: &str, version: &str) -> Result<Option<Notice>> {
        let key = (id.to_string(), version.to_string());
        if let Some(n) = self.purposes.borrow().notices.get(&key) {
            return Ok(Some(n.clone()));
        }
        let found = self.store.notice(id, version)?;
        if let Some(n) = &found {
            self.purposes.borrow_mut().notices.insert(key, n.clone());
        }
        Ok(found)
    }

    /// Rebuilds every materialized row of one purpose from its events (a new version
    /// changed its lawful basis): one pass over that purpose's events in log order.
    pub(crate) fn rematerialize(&self, purpose: &Purpose) -> Result<()> {
        let id = &purpose.def.id;
        self.store.clear_current_of_purpose(id)?;
        let mut groups: HashMap<String, Vec<materialize::CurrentRow>> = HashMap::new();
        self.store.each_row_of_purpose(id, |row| {
            let subject = row.subject.clone().unwrap_or_default();
            let rows = groups.entry(subject).or_default();
            materialize::apply(rows, &materialize::step_of(row)?, purpose.def.lawful_basis);
            Ok(())
        })?;
        for (subject, rows) in groups {
            for r in &rows {
                self.store.write_current(&subject, id, r)?;
            }
        }
        Ok(())
    }
}
