//! The scan of `verify`: every row checked in log order, and what the checks of the
//! whole log (erasures, derived tables) need collected on the way.

use std::collections::{HashMap, HashSet};

use super::names::{FastMap, Names};
use super::First;
use crate::canonical::personal_digest;
use crate::downstream::{StoredAck, StoredRegistration};
use crate::event::EventKind;
use crate::key::PseudonymKey;
use crate::materialize::{self, step_of, CurrentRow};
use crate::merkle::Hash;
use crate::purpose::{LawfulBasis, PurposeDef};
use crate::setup::LedgerConfig;
use crate::store::{RawRow, FORMAT_NAME, SCHEMA_VERSION};
use crate::Downstream;

/// A `subject_erased` event as the scan saw it.
struct Erasure {
    seq: u64,
    key: Vec<u8>,
    encoding: i64,
    events_erased: u64,
    /// Version 2: the seqs it blanked, from its hashed details.
    listed: Option<Vec<u64>>,
    /// The readmission of its marker before it, if any: it can blank only what came
    /// after (what came before was the earlier erasure's).
    after: Option<u64>,
}

/// Where one erasure marker stands at the point the scan has reached: erasures and
/// readmissions of a marker alternate, starting with an erasure (E2, E8).
#[derive(Default)]
pub(super) struct Marker {
    /// The erasure in force: not yet ended by a readmission.
    pub(super) erased: Option<u64>,
    /// The latest readmission.
    readmitted: Option<u64>,
}

/// A blanked subject row as the scan saw it.
struct Blanked {
    seq: u64,
    /// Its `subject_key` column.
    key: Option<Vec<u8>>,
    encoding: i64,
    has_source_key: bool,
    /// The erasure of its marker in force when it was appended, if any (E4).
    erased_by: Option<u64>,
}

/// What the scan already knows of a subject, so its later rows cost no HMAC and no
/// map insert.
#[derive(Default)]
struct Seen {
    /// Its pseudonym under the key, once computed.
    pseudonym: Option<Hash>,
    /// The marker of its last row with personal fields (in `live_keys` already).
    marker: Option<Vec<u8>>,
}

/// What the scan collects for the checks that need the whole log.
#[derive(Default)]
pub(super) struct Scan {
    pub(super) config: Option<(u64, LedgerConfig)>,
    last_recorded: Option<i64>,
    pub(super) purposes: HashMap<(String, i64), (u64, i64, String)>,
    pub(super) notices: HashMap<(String, String), (u64, i64, String)>,
    /// Latest lawful basis per purpose id.
    pub(super) basis: FastMap<String, (i64, LawfulBasis)>,
    /// Subjects and purposes of the subject events with personal fields.
    pub(super) subjects: Names,
    pub(super) purpose_names: Names,
    /// Per subject id.
    seen: Vec<Seen>,
    /// Per (subject id, purpose id): rows under a consent basis and under any other.
    pub(super) groups: FastMap<(u32, u32), [Vec<CurrentRow>; 2]>,
    blanked: Vec<Blanked>,
    /// Pseudonyms of subjects with personal fields present: (key, first such seq).
    live_keys: HashMap<Vec<u8>, u64>,
    erasures: Vec<Erasure>,
    /// Every erasure marker seen so far, with its standing.
    pub(super) markers: HashMap<Vec<u8>, Marker>,
    pub(super) simulated: bool,
    /// Every registered version of every downstream system, in order.
    pub(super) downstreams: HashMap<String, Vec<Downstream>>,
    /// Acknowledgements of one event: (the acknowledgement's seq, downstream, target).
    pub(super) ack_targets: Vec<(u64, String, uuid::Uuid)>,
}

/// Values every row must hold, whatever its place: known enumerations, times in
/// range, and no personal or pseudonymous field on the ledger's own events.
fn check_values(row: &RawRow, kind: EventKind) -> Option<&'static str> {
    use crate::event::{Actor, ActorKind, Method};
    use crate::timestamp::Timestamp;
    if !matches!(row.explicit, 0 | 1) {
        return Some("`explicit` is neither 0 nor 1");
    }
    if row
        .method
        .as_deref()
        .is_some_and(|m| m.parse::<Method>().is_err())
    {
        return Some("unknown collection method");
    }
    let Ok(actor) = row.recorded_by.parse::<Actor>() else {
        return Some("`recorded_by` is not subject, staff:ID or system:ID");
    };
    // Overruling an objection is a person's decision (Art. 21(1)), never a feed's.
    if kind == EventKind::ObjectionOverruled && actor.kind != ActorKind::Staff {
        return Some("an objection can only be overruled by staff");
    }
    let times = [
        Some(row.effective_at),
        Some(row.recorded_at),
        row.expires_at,
        row.effect_deadline,
    ];
    if times
        .into_iter()
        .flatten()
        .any(|t| Timestamp::from_millis(t).is_err())
    {
        return Some("a time outside the years 1 to 9999");
    }
    if row.id.len() != 16 || row.target.as_ref().is_some_and(|t| t.len() != 16) {
        return Some("an id or target is not 16 bytes");
    }
    let sized = |b: &Option<Vec<u8>>, n: usize| b.as_ref().is_none_or(|b| b.len() == n);
    if !sized(&row.salt, 16) || !sized(&row.personal_digest, 32) || !sized(&row.notice_sha256, 32) {
        return Some("a salt, digest or notice hash has the wrong length");
    }
    let own = kind.is_ledger_event();
    let personal = row.subject.is_some()
        || row.salt.is_some()
        || row.source_id.is_some()
        || row.evidence.is_some()
        || row.source_key.is_some();
    if own && (personal || row.personal_digest.is_some() || row.subject_key.is_some()) {
        return Some("a ledger event carries personal or pseudonymous fields");
    }
    if kind.is_erasure_event() && personal {
        return Some("an erasure or readmission event carries personal fields");
    }
    if kind.is_downstream_event() {
        if row.purpose.is_some()
            || row.purpose_version.is_some()
            || row.recipient.is_some()
            || row.notice_id.is_some()
            || row.notice_version.is_some()
            || row.notice_sha256.is_some()
            || row.explicit != 0
            || row.method.is_some()
            || row.expires_at.is_some()
            || row.effect_deadline.is_some()
            || (kind == EventKind::DownstreamRegistered && row.target.is_some())
        {
            return Some("a downstream event carries a field of a consent event");
        }
        if actor.kind == ActorKind::Subject {
            return Some("a downstream event is recorded by staff or a system, never the subject");
        }
    }
    // A schema-1 row got its source pseudonym from the migration, from its source id:
    // one without a source id has none (one erased later keeps the one it had).
    if row.encoding == 1
        && row.salt.is_some()
        && row.source_id.is_none()
        && row.source_key.is_some()
    {
        return Some("a schema-1 event without a source id carries a source pseudonym");
    }
    None
}

impl Scan {
    /// Checks one row in log order and records what the whole-log checks need.
    pub(super) fn row(&mut self, row: &RawRow, key: Option<&PseudonymKey>) -> Option<String> {
        let seq = row.seq as u64;
        let bad = |why: &str| Some(format!("event {seq}: {why}"));
        let kind: EventKind = match row.kind.parse() {
            Ok(k) => k,
            Err(_) => return bad("unknown kind"),
        };
        if let Some(why) = check_values(row, kind) {
            return bad(why);
        }
        // Encoding: version 1 only before the configuration event of a migration.
        let config_event = kind == EventKind::LedgerConfigured;
        match (&self.config, row.encoding) {
            (None, 1) if !config_event => {}
            (None, 2) if config_event => {}
            (Some(_), 2) => {}
            (None, 2) => return bad("the first event of a ledger must be `ledger_configured`"),
            _ => return bad("wrong canonical encoding version for its place in the log"),
        }
        if kind == EventKind::LedgerConfigured {
            if self.config.is_some() {
                return bad("a second `ledger_configured` event");
            }
            let config: LedgerConfig = match row.details.as_deref().map(serde_json::from_str) {
                Some(Ok(c)) => c,
                _ => return bad("the configuration is malformed"),
            };
            if config.format != FORMAT_NAME
                // The schema it was created under: hashed, so a later migration of the
                // tables leaves it as it was.
                || !(2..=SCHEMA_VERSION).contains(&config.schema_version)
                || !matches!(config.clock.as_str(), "system" | "simulated")
                || (seq == 0) != config.migrated_from.is_none()
                || config.migrated_from.is_some() != config.erased_before_migration.is_some()
                || (config.migrated_from.is_some() && config.clock != "system")
                || !config
                    .erased_before_migration
                    .as_ref()
                    .is_none_or(|v| v.windows(2).all(|w| w[0] < w[1]))
            {
                return bad("the configuration does not describe a ledger of this format");
            }
            if !time_zone_sound(row.details.as_deref().unwrap_or_default()) {
                return bad("the configuration names no time zone the IANA database knows");
            }
            if let Some(k) = key {
                if k.id() != config.pseudonym_key_id {
                    return bad("the pseudonym key is not the one the ledger committed to");
                }
            }
            self.simulated = config.clock == "simulated";
            self.config = Some((seq, config));
            // A real ledger's record times never go back from here on.
            self.last_recorded = (!self.simulated).then_some(row.recorded_at);
            return None;
        }
        // Record time never goes back from the configuration on (real ledgers).
        if let Some(last) = self.last_recorded {
            if row.recorded_at < last {
                return bad("record time goes backwards");
            }
            self.last_recorded = Some(row.recorded_at);
        }
        let v2 = row.encoding == 2;
        let is32 = |b: &Option<Vec<u8>>| b.as_ref().is_some_and(|b| b.len() == 32);
        match kind {
            EventKind::PurposeDefined => {
                let (Some(id), Some(version), Some(def)) =
                    (&row.purpose, row.purpose_version, &row.details)
                else {
                    return bad("a purpose definition lacks its id, version or definition");
                };
                let Ok(parsed) = serde_json::from_str::<PurposeDef>(def) else {
                    return bad("the purpose definition is not valid");
                };
                if parsed.id != *id {
                    return bad("the purpose definition names another id");
                }
                let latest = self.basis.get(id).map_or(0, |(v, _)| *v);
                if version != latest + 1 {
                    return bad("purpose versions must count up from 1");
                }
                self.basis
                    .insert(id.clone(), (version, parsed.lawful_basis));
                self.purposes
                    .insert((id.clone(), version), (seq, row.recorded_at, def.clone()));
            }
            EventKind::NoticeDefined => {
                let (Some(id), Some(version), Some(def)) =
                    (&row.notice_id, &row.notice_version, &row.details)
                else {
                    return bad("a notice definition lacks its id, version or definition");
                };
                let names_itself = serde_json::from_str::<serde_json::Value>(def)
                    .ok()
                    .is_some_and(|d| {
                        d.get("id").and_then(|v| v.as_str()) == Some(id)
                            && d.get("version").and_then(|v| v.as_str()) == Some(version)
                    });
                if !names_itself {
                    return bad("the notice definition does not name its own id and version");
                }
                if self
                    .notices
                    .insert(
                        (id.clone(), version.clone()),
                        (seq, row.recorded_at, def.clone()),
                    )
                    .is_some()
                {
                    return bad("a notice version is defined twice");
                }
            }
            EventKind::SubjectErased => {
                let details: serde_json::Value =
                    match row.details.as_deref().map(serde_json::from_str) {
                        Some(Ok(v)) => v,
                        _ => return bad("the erasure details are malformed"),
                    };
                let Some(events_erased) = details.get("events_erased").and_then(|v| v.as_u64())
                else {
                    return bad("the erasure details lack `events_erased`");
                };
                let reason = details.get("reason").and_then(|v| v.as_str());
                if reason.is_none_or(|r| r.trim().is_empty()) {
                    return bad("the erasure details lack a reason");
                }
                let (key_bytes, listed) = if v2 {
                    let listed: Option<Vec<u64>> = details
                        .get("erased_seqs")
                        .and_then(|v| v.as_array())
                        .and_then(|a| a.iter().map(|x| x.as_u64()).collect());
                    if !is32(&row.subject_key) || listed.is_none() {
                        return bad("an erasure must name its subject's pseudonym and the events it blanked");
                    }
                    if !listed
                        .as_ref()
                        .is_some_and(|l| l.windows(2).all(|w| w[0] < w[1]))
                    {
                        return bad("an erasure's `erased_seqs` must be strictly ascending");
                    }
                    (row.subject_key.clone().unwrap_or_default(), listed)
                } else {
                    let named = details.get("subject_key").and_then(|v| v.as_str());
                    let from_details = named
                        .filter(|h| {
                            row.subject_key.as_deref().map(hex::encode).as_deref() == Some(*h)
                        })
                        .and_then(|h| hex::decode(h).ok());
                    if from_details.is_none() || from_details != row.subject_key {
                        return bad(
                            "the erasure marker differs from the one its hashed details name",
                        );
                    }
                    (from_details.unwrap_or_default(), None)
                };
                let marker = self.markers.entry(key_bytes.clone()).or_default();
                if marker.erased.is_some() {
                    return bad("a subject is erased again without a readmission in between");
                }
                marker.erased = Some(seq);
                self.erasures.push(Erasure {
                    seq,
                    key: key_bytes,
                    encoding: row.encoding,
                    events_erased,
                    listed,
                    after: marker.readmitted,
                });
            }
            EventKind::SubjectReadmitted => {
                if let Some(why) = self.readmission(row) {
                    return bad(why);
                }
            }
            EventKind::DownstreamRegistered => {
                let Some((def, version)) =
                    row.details.as_deref().and_then(StoredRegistration::parse)
                else {
                    return bad("the downstream registration is malformed");
                };
                if let Some(p) = def.purposes.iter().find(|p| !self.basis.contains_key(*p)) {
                    return bad(&format!(
                        "the downstream registration names purpose `{p}`, which no earlier event defines"
                    ));
                }
                let versions = self.downstreams.entry(def.id.clone()).or_default();
                if version as usize != versions.len() + 1 {
                    return bad("downstream versions must count up from 1");
                }
                let first_seq = versions.first().map_or(seq, |d| d.seq);
                let Ok(recorded_by) = row.recorded_by.parse() else {
                    return bad("bad recorded_by");
                };
                versions.push(Downstream {
                    def,
                    version,
                    seq,
                    registered_at: crate::Timestamp::from_millis(row.recorded_at)
                        .unwrap_or(crate::Timestamp::from_millis(0).expect("0 is in range")),
                    recorded_by,
                    first_seq,
                });
            }
            EventKind::DownstreamAcknowledged => {
                let Some(ack) = row
                    .details
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<StoredAck>(d).ok())
                else {
                    return bad("the acknowledgement is malformed");
                };
                if !self.downstreams.contains_key(&ack.downstream) {
                    return bad(
                        "the acknowledgement names a downstream no earlier event registers",
                    );
                }
                match (ack.up_to, &row.target) {
                    (Some(n), None) if n < seq => {}
                    (Some(_), None) => {
                        return bad("the acknowledgement's `up_to` is not an earlier event")
                    }
                    (None, Some(t)) => {
                        let Ok(t) = uuid::Uuid::from_slice(t) else {
                            return bad("an id or target is not 16 bytes");
                        };
                        self.ack_targets.push((seq, ack.downstream, t));
                    }
                    _ => {
                        return bad("an acknowledgement names either `up_to` or a target, not both")
                    }
                }
            }
            EventKind::LedgerConfigured => unreachable!("handled above"),
            _ => {
                // A subject event.
                let (Some(purpose), Some(version)) = (&row.purpose, row.purpose_version) else {
                    return bad("a subject event lacks its purpose");
                };
                if !self
                    .basis
                    .get(purpose)
                    .is_some_and(|(latest, _)| (1..=*latest).contains(&version))
                {
                    return bad("a subject event names a purpose version no earlier event defines");
                }
                if v2 && !is32(&row.subject_key) {
                    return bad("a subject event lacks its subject's pseudonym");
                }
                if row.source_key.as_ref().is_some_and(|k| k.len() != 32) {
                    return bad("a source pseudonym is not 32 bytes");
                }
                if row.salt.is_none() {
                    let erased_by = row
                        .subject_key
                        .as_ref()
                        .and_then(|k| self.markers.get(k))
                        .and_then(|m| m.erased);
                    self.blanked.push(Blanked {
                        seq,
                        key: row.subject_key.clone(),
                        encoding: row.encoding,
                        has_source_key: row.source_key.is_some(),
                        erased_by,
                    });
                    return None;
                }
                let subject = row.subject.as_deref().unwrap_or_default();
                let sid = self.subjects.id(subject);
                if self.seen.len() <= sid as usize {
                    self.seen.push(Seen::default());
                }
                let seen = &mut self.seen[sid as usize];
                if row.source_id.is_some() != row.source_key.is_some() {
                    return bad("a source id and its pseudonym must come together");
                }
                if !v2 && row.subject_key.is_some() {
                    return bad("a schema-1 event with personal fields carries an erasure marker");
                }
                if let Some(k) = key {
                    if v2 {
                        let own = seen.pseudonym.get_or_insert_with(|| k.subject_key(subject));
                        if row.subject_key.as_deref() != Some(&own[..]) {
                            return bad("the subject's pseudonym does not match the subject");
                        }
                    }
                    if let Some(src) = &row.source_id {
                        if row.source_key.as_deref() != Some(&k.source_key(src)[..]) {
                            return bad("the source id's pseudonym does not match the source id");
                        }
                    }
                }
                if let Some(k) = row
                    .subject_key
                    .as_ref()
                    .filter(|k| seen.marker.as_ref() != Some(k))
                {
                    self.live_keys.entry(k.clone()).or_insert(seq);
                    seen.marker = Some(k.clone());
                }
                let step = match step_of(row) {
                    Ok(s) => s,
                    Err(e) => return Some(e.to_string()),
                };
                let pid = self.purpose_names.id(purpose);
                let group = self.groups.entry((sid, pid)).or_default();
                materialize::fold(&mut group[0], &step, LawfulBasis::Consent, |_| {});
                materialize::fold(
                    &mut group[1],
                    &step,
                    LawfulBasis::LegitimateInterests,
                    |_| {},
                );
            }
        }
        None
    }

    /// An acknowledgement of one event names an earlier event that the downstream's
    /// feed showed (docs/FORMAT.md §13).
    pub(super) fn check_ack_targets(
        &self,
        store: &crate::store::Store,
        first: &mut First,
    ) -> crate::Result<()> {
        for (seq, downstream, target) in &self.ack_targets {
            let versions = &self.downstreams[downstream];
            let found = store.event(*target)?;
            let shown = match &found {
                Some(e) if e.seq < *seq => {
                    if e.kind == EventKind::SubjectErased {
                        let listed = e
                            .details
                            .as_ref()
                            .and_then(|d| d.get("erased_seqs"))
                            .and_then(|v| v.as_array())
                            .cloned()
                            .unwrap_or_default();
                        let mut any = false;
                        for n in listed.iter().filter_map(|x| x.as_u64()) {
                            if let Some(row) = store.raw_event_at(n)? {
                                any |= crate::downstream::shows(store, versions, &row.to_event()?)?;
                            }
                        }
                        any
                    } else {
                        crate::downstream::shows(store, versions, e)?
                    }
                }
                _ => false,
            };
            if !shown {
                first.note(
                    *seq,
                    format!("event {seq}: the acknowledgement's target is no earlier event of the downstream's feed"),
                );
            }
        }
        Ok(())
    }

    /// E8: a readmission names, in hashed fields, the erasure in force of its marker,
    /// and ends it. Only a format-2 row can: its marker is hashed.
    fn readmission(&mut self, row: &RawRow) -> Option<&'static str> {
        let key = row.subject_key.as_ref().filter(|k| k.len() == 32);
        let (Some(key), 2) = (key, row.encoding) else {
            return Some("a readmission must name, hashed, the erasure marker it ends");
        };
        // Unlike an erasure it has no subject to digest: nothing personal at all.
        if row.personal_digest.is_some() {
            return Some("a readmission carries a personal digest");
        }
        let details: serde_json::Value = match row.details.as_deref().map(serde_json::from_str) {
            Some(Ok(v)) => v,
            _ => return Some("the readmission details are malformed"),
        };
        let reason = details.get("reason").and_then(|v| v.as_str());
        if reason.is_none_or(|r| r.trim().is_empty()) {
            return Some("the readmission details lack a reason");
        }
        let ends = details.get("erasure_seq").and_then(|v| v.as_u64());
        match self.markers.get_mut(key) {
            Some(m) if ends.is_some() && ends == m.erased => {
                m.erased = None;
                m.readmitted = Some(row.seq as u64);
                None
            }
            _ => Some("a readmission must name the erasure in force of its marker"),
        }
    }

    /// Every blanked row belongs to an erasure, and every erasure blanked exactly the
    /// rows its hashed fields name (docs/FORMAT.md §6).
    pub(super) fn check_erasures(&self, first: &mut First) {
        let by_seq: HashMap<u64, &Erasure> = self.erasures.iter().map(|x| (x.seq, x)).collect();
        let blanked: HashMap<u64, &Blanked> = self.blanked.iter().map(|b| (b.seq, b)).collect();
        let migrated: HashMap<u64, u64> = self
            .config
            .as_ref()
            .and_then(|(_, c)| c.erased_before_migration.as_ref())
            .map(|v| v.iter().map(|[r, e]| (*r, *e)).collect())
            .unwrap_or_default();
        let mut explained: HashSet<u64> = HashSet::new();
        for x in &self.erasures {
            if let Some(listed) = &x.listed {
                if listed.len() as u64 != x.events_erased {
                    first.note(
                        x.seq,
                        format!(
                            "erasure {}: `events_erased` differs from the events it lists",
                            x.seq
                        ),
                    );
                }
                for &s in listed {
                    // Its subject's, since the marker's last readmission (if any).
                    let ok = s < x.seq
                        && x.after.is_none_or(|r| s > r)
                        && blanked
                            .get(&s)
                            .is_some_and(|b| b.key.as_deref() == Some(&x.key[..]));
                    if !ok || !explained.insert(s) {
                        first.note(s.min(x.seq), format!("erasure {}: event {s} it lists is not one of its subject's blanked events", x.seq));
                    }
                }
            } else {
                // Schema 1: the migration's hashed list binds the rows.
                let n = migrated
                    .iter()
                    .filter(|(r, e)| **e == x.seq && **r < x.seq)
                    .count() as u64;
                if n != x.events_erased {
                    first.note(x.seq, format!("erasure {}: the blanked events bound to it differ from its `events_erased`", x.seq));
                }
            }
        }
        for b in &self.blanked {
            if explained.contains(&b.seq) {
                continue;
            }
            let ok = match migrated.get(&b.seq) {
                Some(e) => by_seq
                    .get(e)
                    .is_some_and(|x| x.encoding == 1 && b.key.as_deref() == Some(&x.key[..])),
                // Appended while its subject was erased, blank from the start.
                None => b.encoding == 2 && b.erased_by.is_some(),
            };
            if !ok {
                let s = b.seq;
                first.note(
                    s,
                    format!("event {s} is blanked but no erasure accounts for it"),
                );
            }
        }
        for (&r, e) in &migrated {
            // Erased before the migration, so before source pseudonyms existed.
            if blanked.get(&r).is_none_or(|b| b.has_source_key) || !by_seq.contains_key(e) {
                first.note(
                    r.min(*e),
                    format!(
                        "the migration binds event {r} to an erasure that does not account for it"
                    ),
                );
            }
        }
        self.check_live_markers(first);
    }

    /// E6: an event keeps its personal fields under an erasure marker only after a
    /// readmission ended the marker's last erasure. Every such event before that point
    /// should have been blanked, so the first one, if early, is the one to name.
    fn check_live_markers(&self, first: &mut First) {
        for (key, m) in &self.markers {
            let Some(&s) = self.live_keys.get(key) else {
                continue;
            };
            let readmitted_before = m.erased.is_none() && m.readmitted.is_some_and(|r| r < s);
            if !readmitted_before {
                first.note(
                    s,
                    format!("event {s} keeps personal fields although its subject was erased"),
                );
            }
        }
    }
}

/// A configuration's optional `time_zone` is a name the bundled IANA database knows
/// (absent: Europe/London, the zone of ledgers created before ledgers named one).
fn time_zone_sound(details: &str) -> bool {
    let parsed = serde_json::from_str::<serde_json::Value>(details).ok();
    match parsed.as_ref().and_then(|d| d.get("time_zone")) {
        None => true,
        Some(serde_json::Value::String(name)) => crate::calendar::Calendar::new(name).is_ok(),
        Some(_) => false,
    }
}

/// Row checks beyond the leaf hash: storage types, and personal fields against their digest.
pub(super) fn check_row(row: &RawRow) -> Option<String> {
    let seq = row.seq;
    if let Some(column) = row.malformed {
        return Some(format!(
            "event {seq}: column `{column}` holds a value of the wrong type or invalid UTF-8"
        ));
    }
    if let Some(salt) = &row.salt {
        let d = personal_digest(
            salt,
            row.subject.as_deref(),
            row.source_id.as_deref(),
            row.evidence.as_deref(),
        );
        if row.personal_digest.as_deref() != Some(&d[..]) {
            return Some(format!(
                "event {seq}: personal fields do not match their digest"
            ));
        }
    } else if row.subject.is_some() || row.source_id.is_some() || row.evidence.is_some() {
        return Some(format!(
            "event {seq}: personal fields present without their salt"
        ));
    }
    None
}
