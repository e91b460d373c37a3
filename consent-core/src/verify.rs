//! `verify`: every check a reader of docs/FORMAT.md can make, in one pass over the log
//! in `seq` order plus one read of each derived table. Nothing here reads through an
//! index it could be fooled by: SQLite's own integrity check vouches for the b-trees,
//! and every derived row is rebuilt from the log itself.

use std::collections::{HashMap, HashSet};

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};

use crate::canonical::personal_digest;
use crate::chain::{Head, VerifyReport};
use crate::current::{self, CurrentRow};
use crate::error::Result;
use crate::event::EventKind;
use crate::key::PseudonymKey;
use crate::ledger::{step_of, LedgerConfig};
use crate::merkle::{self, Hash};
use crate::purpose::{LawfulBasis, PurposeDef};
use crate::query::State;
use crate::store::{self, RawRow, TreeTable, EVENT_COLUMNS};

/// The first problem found: the smallest sequence number wins (docs/FORMAT.md §4).
#[derive(Default)]
struct First(Option<(u64, String)>);

impl First {
    fn note(&mut self, seq: u64, why: impl Into<String>) {
        if self.0.as_ref().is_none_or(|(s, _)| seq < *s) {
            self.0 = Some((seq, why.into()));
        }
    }
}

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
struct Marker {
    /// The erasure in force: not yet ended by a readmission.
    erased: Option<u64>,
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

/// What the scan collects for the checks that need the whole log.
#[derive(Default)]
struct Scan {
    config: Option<(u64, LedgerConfig)>,
    last_recorded: Option<i64>,
    purposes: HashMap<(String, i64), (u64, i64, String)>,
    notices: HashMap<(String, String), (u64, i64, String)>,
    /// Latest lawful basis per purpose id.
    basis: HashMap<String, (i64, LawfulBasis)>,
    /// Per (subject, purpose): rows under a consent basis and under any other.
    groups: HashMap<(String, String), [Vec<CurrentRow>; 2]>,
    blanked: Vec<Blanked>,
    /// Pseudonyms of subjects with personal fields present: (key, first such seq).
    live_keys: HashMap<Vec<u8>, u64>,
    erasures: Vec<Erasure>,
    /// Every erasure marker seen so far, with its standing.
    markers: HashMap<Vec<u8>, Marker>,
    simulated: bool,
}

pub(crate) fn verify_conn(
    conn: &Connection,
    key: Option<&PseudonymKey>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport> {
    let size = store::size(conn)?;
    let unplaced = |why: String| VerifyReport {
        size,
        ok: false,
        first_bad_seq: None,
        problem: Some(why),
        head: None,
        simulated: false,
    };
    if let Err(e) = store::check_schema(conn, store::SCHEMA_VERSION) {
        return Ok(unplaced(e.to_string()));
    }
    if let Some(why) = check_meta(conn)? {
        return Ok(unplaced(why));
    }
    // SQLite's own check of every b-tree and of every index against its table.
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if integrity != ["ok"] {
        return Ok(unplaced(format!(
            "SQLite integrity check failed: {}",
            integrity.join("; ")
        )));
    }
    let count: i64 = conn.query_row("SELECT count(*) FROM events NOT INDEXED", [], |r| r.get(0))?;
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events NOT INDEXED ORDER BY seq");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut expected: u64 = 0;
    let mut level: Vec<Hash> = Vec::new();
    let mut spill = LevelCheck::new(conn);
    let mut row_problem = None;
    let mut scan = Scan::default();
    while let Some(r) = rows.next()? {
        let row = RawRow::from_row(r)?;
        if row.seq != expected as i64 {
            let why = format!("event {expected} is missing (next row has seq {})", row.seq);
            row_problem = Some((expected, why));
            break;
        }
        if let Some(problem) = check_row(&row).or_else(|| scan.row(&row, key)) {
            row_problem = Some((expected, problem));
            break;
        }
        level.push(row.canonical().leaf_hash());
        expected += 1;
        if level.len() == 1 << 16 {
            spill.feed(&mut level, expected - (1 << 16))?;
            if let Some((seq, why)) = spill.first_bad.take() {
                return Ok(VerifyReport::bad(size, seq, why));
            }
            progress(expected, size);
        }
    }
    drop(rows);
    let base = expected - level.len() as u64;
    if let Some((seq, why)) = row_problem {
        // A bad leaf earlier in the same chunk comes first.
        spill.check_range(0, base, &level)?;
        let (seq, why) = spill.first_bad.take().unwrap_or((seq, why));
        return Ok(VerifyReport::bad(size, seq, why));
    }
    if count as u64 != size {
        return Ok(VerifyReport::bad(
            size,
            expected,
            "row count differs from the highest sequence number".into(),
        ));
    }
    spill.feed(&mut level, base)?;
    if let Some((seq, why)) = spill.first_bad {
        return Ok(VerifyReport::bad(size, seq, why));
    }
    // Tree rows beyond what `size` implies were forged.
    let extra: Option<(Option<i64>, Option<i64>)> = conn
        .query_row(
            "SELECT CASE typeof(level) WHEN 'integer' THEN level END, \
             CASE typeof(idx) WHEN 'integer' THEN idx END FROM tree \
             WHERE typeof(level) != 'integer' OR typeof(idx) != 'integer' OR level < 0 OR level > 63 \
             OR idx < 0 OR idx >= (?1 >> level) OR typeof(hash) != 'blob' OR length(hash) != 32 \
             ORDER BY level LIMIT 1",
            params![size as i64],
            |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?)),
        )
        .optional()?;
    if let Some((lvl, idx)) = extra {
        // A position that is not a pair of integers names the size.
        let seq = idx
            .and_then(|i| u64::try_from(i).ok())
            .zip(lvl.and_then(|l| u32::try_from(l).ok()))
            .and_then(|(i, l)| i.checked_shl(l))
            .unwrap_or(size);
        return Ok(VerifyReport::bad(
            size,
            seq.min(size),
            format!("tree row ({lvl:?}, {idx:?}) lies beyond the log or is malformed"),
        ));
    }
    if size > 0 && scan.config.is_none() {
        return Ok(VerifyReport::bad(
            size,
            0,
            "the log has no `ledger_configured` event".into(),
        ));
    }
    let mut first = First::default();
    scan.check_erasures(&mut first);
    check_derived(conn, &scan, &mut first)?;
    if let Some((seq, why)) = first.0 {
        return Ok(VerifyReport::bad(size, seq, why));
    }
    let root = merkle::root(size, &mut TreeTable(conn))?;
    progress(size, size);
    Ok(VerifyReport {
        size,
        ok: true,
        first_bad_seq: None,
        problem: None,
        head: Some(Head { size, root }),
        simulated: scan.simulated,
    })
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
    let own = matches!(
        kind,
        EventKind::LedgerConfigured | EventKind::PurposeDefined | EventKind::NoticeDefined
    );
    let personal = row.subject.is_some()
        || row.salt.is_some()
        || row.source_id.is_some()
        || row.evidence.is_some()
        || row.source_key.is_some();
    if own && (personal || row.personal_digest.is_some() || row.subject_key.is_some()) {
        return Some("a ledger event carries personal or pseudonymous fields");
    }
    if matches!(
        kind,
        EventKind::SubjectErased | EventKind::SubjectReadmitted
    ) && personal
    {
        return Some("an erasure or readmission event carries personal fields");
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

/// `meta` holds exactly `format` and `schema_version`, with their values.
fn check_meta(conn: &Connection) -> Result<Option<String>> {
    let rows: Vec<(Vec<u8>, String, Vec<u8>)> = conn
        .prepare("SELECT CAST(key AS BLOB), typeof(value), CASE typeof(value) WHEN 'blob' THEN CAST(hex(value) AS BLOB) \
             ELSE CAST(value AS BLOB) END FROM meta ORDER BY key")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let want = [
        (
            b"format".to_vec(),
            "text".to_string(),
            store::FORMAT_NAME.as_bytes().to_vec(),
        ),
        (
            b"schema_version".to_vec(),
            "integer".to_string(),
            store::SCHEMA_VERSION.to_string().into_bytes(),
        ),
    ];
    Ok((rows != want).then(|| {
        "the `meta` table holds other rows than `format` and `schema_version` (a pepper or key must never be stored in the file)".into()
    }))
}

impl Scan {
    /// Checks one row in log order and records what the whole-log checks need.
    fn row(&mut self, row: &RawRow, key: Option<&PseudonymKey>) -> Option<String> {
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
            if config.format != store::FORMAT_NAME
                || config.schema_version != store::SCHEMA_VERSION
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
                let subject = row.subject.clone().unwrap_or_default();
                if row.source_id.is_some() != row.source_key.is_some() {
                    return bad("a source id and its pseudonym must come together");
                }
                if !v2 && row.subject_key.is_some() {
                    return bad("a schema-1 event with personal fields carries an erasure marker");
                }
                if let Some(k) = key {
                    if v2 && row.subject_key.as_deref() != Some(&k.subject_key(&subject)[..]) {
                        return bad("the subject's pseudonym does not match the subject");
                    }
                    if let Some(src) = &row.source_id {
                        if row.source_key.as_deref() != Some(&k.source_key(src)[..]) {
                            return bad("the source id's pseudonym does not match the source id");
                        }
                    }
                }
                if let Some(k) = &row.subject_key {
                    self.live_keys.entry(k.clone()).or_insert(seq);
                }
                let step = match step_of(row) {
                    Ok(s) => s,
                    Err(e) => return Some(e.to_string()),
                };
                let group = self.groups.entry((subject, purpose.clone())).or_default();
                current::apply(&mut group[0], &step, LawfulBasis::Consent);
                current::apply(&mut group[1], &step, LawfulBasis::LegitimateInterests);
            }
        }
        None
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
    fn check_erasures(&self, first: &mut First) {
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

/// A column exactly as stored, never converted: TEXT only when it is UTF-8.
fn text_at(r: &rusqlite::Row<'_>, i: usize) -> Option<String> {
    match r.get_ref(i).ok()? {
        ValueRef::Text(b) => std::str::from_utf8(b).ok().map(String::from),
        _ => None,
    }
}

/// An INTEGER column as stored.
fn int_at(r: &rusqlite::Row<'_>, i: usize) -> Option<i64> {
    match r.get_ref(i).ok()? {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    }
}

/// An INTEGER column that can name an event: non-negative.
fn seq_at(r: &rusqlite::Row<'_>, i: usize) -> Option<u64> {
    int_at(r, i).and_then(|n| u64::try_from(n).ok())
}

/// A BLOB column as stored.
fn blob_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Option<&'r [u8]> {
    match r.get_ref(i).ok()? {
        ValueRef::Blob(b) => Some(b),
        _ => None,
    }
}

/// Compares a registry table (`purposes` or `notices`) with the rows the log defines.
/// A differing row names its event: by its key, else by its own `seq`, else 0.
fn check_registry(
    conn: &Connection,
    table: &str,
    version_type: &str,
    want: &HashMap<(String, String), (u64, i64, String)>,
    first: &mut First,
) -> Result<()> {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT id, version, seq, registered_at, def FROM {table} NOT INDEXED"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let version = if version_type == "integer" {
            int_at(r, 1).map(|v| v.to_string())
        } else {
            text_at(r, 1)
        };
        let key = text_at(r, 0).zip(version);
        let stored = match (int_at(r, 2), int_at(r, 3), text_at(r, 4)) {
            (Some(seq), Some(at), Some(def)) => Some((seq as u64, at, def)),
            _ => None,
        };
        let expected = key.as_ref().and_then(|k| want.get(k));
        if let (Some(k), Some(w)) = (&key, expected) {
            if stored.as_ref() == Some(w) && seen.insert(k.clone()) {
                continue;
            }
        }
        let seq = expected.map(|w| w.0).or_else(|| seq_at(r, 2)).unwrap_or(0);
        if let Some(k) = key.filter(|k| want.contains_key(k)) {
            seen.insert(k);
        }
        first.note(
            seq,
            format!("the {table} row for event {seq} differs from the log"),
        );
    }
    if let Some(w) = want
        .iter()
        .filter(|(k, _)| !seen.contains(*k))
        .map(|(_, w)| w.0)
        .min()
    {
        first.note(
            w,
            format!("the {table} table lacks the row event {w} defines"),
        );
    }
    Ok(())
}

/// Compares every derived table with what the scan rebuilt from the log.
fn check_derived(conn: &Connection, scan: &Scan, first: &mut First) -> Result<()> {
    // Registry tables: purposes' integer versions compared as text keys.
    let purposes: HashMap<(String, String), (u64, i64, String)> = scan
        .purposes
        .iter()
        .map(|((id, v), row)| ((id.clone(), v.to_string()), row.clone()))
        .collect();
    check_registry(conn, "purposes", "integer", &purposes, first)?;
    check_registry(conn, "notices", "text", &scan.notices, first)?;
    // Materialized state: rows under each purpose's latest basis.
    let mut want: HashMap<(String, String, String), CurrentRow> = HashMap::new();
    for ((subject, purpose), rows) in &scan.groups {
        let consent = scan
            .basis
            .get(purpose)
            .is_none_or(|(_, b)| *b == LawfulBasis::Consent);
        for r in &rows[if consent { 0 } else { 1 }] {
            want.insert(
                (subject.clone(), purpose.clone(), r.recipient.clone()),
                r.clone(),
            );
        }
    }
    let mut stmt = conn.prepare(
        "SELECT subject, purpose, recipient, state, seq, event_id, since, until, last_effective \
         FROM current NOT INDEXED",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let key = || Some((text_at(r, 0)?, text_at(r, 1)?, text_at(r, 2)?));
        // Every value exactly of its storage type, or the row is not one we could write.
        let parsed = (|| {
            let until = match r.get_ref(7).ok()? {
                ValueRef::Null => None,
                ValueRef::Integer(n) => Some(n),
                _ => return None,
            };
            let k = key()?;
            let row = CurrentRow {
                recipient: k.2.clone(),
                state: State::parse(&text_at(r, 3)?)?,
                seq: seq_at(r, 4)?,
                event_id: uuid::Uuid::from_slice(blob_at(r, 5)?).ok()?,
                since: int_at(r, 6)?,
                until,
                last_effective: int_at(r, 8)?,
            };
            Some((k, row))
        })();
        match parsed {
            Some((k, row)) => match want.remove(&k) {
                Some(w) if w == row => {}
                Some(w) => first.note(
                    w.seq,
                    format!("the materialized state decided by event {} is wrong", w.seq),
                ),
                None => first.note(
                    row.seq,
                    format!(
                        "the materialized state has a row (naming event {}) that no events imply",
                        row.seq
                    ),
                ),
            },
            None => {
                // Name the event that decides the row this one stands for, if its key
                // can be read at all.
                let seq = key()
                    .and_then(|k| want.remove(&k))
                    .map(|w| w.seq)
                    .or_else(|| seq_at(r, 4))
                    .unwrap_or(0);
                first.note(
                    seq,
                    format!(
                        "the materialized row of event {seq} has the wrong storage types or values"
                    ),
                );
            }
        }
    }
    if let Some(w) = want.values().min_by_key(|w| w.seq) {
        first.note(
            w.seq,
            format!(
                "the materialized state lacks the row decided by event {}",
                w.seq
            ),
        );
    }
    // Erasure markers: one per marker whose last erasure no readmission ended, with
    // that erasure's seq.
    let mut markers: HashMap<Vec<u8>, u64> = scan
        .markers
        .iter()
        .filter_map(|(k, m)| Some((k.clone(), m.erased?)))
        .collect();
    let mut stmt = conn.prepare("SELECT subject_key, seq FROM erased NOT INDEXED")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        match (blob_at(r, 0), int_at(r, 1)) {
            (Some(k), Some(seq)) => match markers.remove(k) {
                Some(s) if s as i64 == seq => {}
                Some(s) => first.note(s, format!("the erasure marker of event {s} is altered")),
                None => first.note(
                    u64::try_from(seq).unwrap_or(0),
                    "an erasure marker that no event records",
                ),
            },
            // Named by the erasure the marker belongs to, else by its own seq.
            (k, _) => {
                let seq = k
                    .and_then(|k| markers.remove(k))
                    .or_else(|| seq_at(r, 1))
                    .unwrap_or(0);
                first.note(
                    seq,
                    format!("the erasure marker of event {seq} has the wrong storage types"),
                );
            }
        }
    }
    if let Some(&s) = markers.values().min() {
        first.note(s, format!("the erasure marker of event {s} is missing"));
    }
    Ok(())
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
fn check_row(row: &RawRow) -> Option<String> {
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

/// Checks interior tree hashes a chunk of leaves at a time: for each complete aligned
/// subtree inside the chunk, recomputes its hash and compares it with the stored one.
/// Chunks are aligned to 2^16 leaves, so subtrees spanning chunks are checked through
/// the carried `stack` of chunk roots.
struct LevelCheck<'c> {
    conn: &'c Connection,
    /// Roots of complete 2^16-leaf chunks not yet combined: (level, index, hash).
    stack: Vec<(u32, u64, Hash)>,
    first_bad: Option<(u64, String)>,
}

impl<'c> LevelCheck<'c> {
    fn new(conn: &'c Connection) -> Self {
        LevelCheck {
            conn,
            stack: Vec::new(),
            first_bad: None,
        }
    }

    fn check(&mut self, level: u32, idx: u64, hash: &Hash) -> Result<()> {
        self.check_range(level, idx, std::slice::from_ref(hash))
    }

    /// Compares `hashes` with the stored hashes at (`level`, `first`..), read in one
    /// range query.
    fn check_range(&mut self, level: u32, first: u64, hashes: &[Hash]) -> Result<()> {
        if self.first_bad.is_some() || hashes.is_empty() {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, hash FROM tree WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
        )?;
        let end = first + hashes.len() as u64;
        let mut rows = stmt.query(params![level, first as i64, end as i64])?;
        let mut expected = first;
        let mut bad_at = None;
        while let Some(r) = rows.next()? {
            let idx = match r.get_ref(0)? {
                rusqlite::types::ValueRef::Integer(n) => n as u64,
                _ => u64::MAX,
            };
            let ok = idx == expected
                && matches!(r.get_ref(1)?, rusqlite::types::ValueRef::Blob(b) if b == &hashes[(idx - first) as usize][..]);
            if !ok {
                bad_at = Some(expected);
                break;
            }
            expected += 1;
        }
        if bad_at.is_none() && expected < end {
            bad_at = Some(expected);
        }
        if let Some(idx) = bad_at {
            let seq = idx << level;
            self.first_bad = Some((
                seq,
                format!(
                    "tree hash ({level}, {idx}) covering events from {seq} is wrong or missing"
                ),
            ));
        }
        Ok(())
    }

    /// `leaves` start at `base` (a multiple of 2^16, or the tail). Checks them and every
    /// complete subtree above them; drains `leaves`.
    fn feed(&mut self, leaves: &mut Vec<Hash>, base: u64) -> Result<()> {
        let mut cur = std::mem::take(leaves);
        self.check_range(0, base, &cur)?;
        let mut level = 0u32;
        let start = base;
        while cur.len() > 1 {
            let next: Vec<Hash> = cur
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
            self.check_range(level + 1, start >> (level + 1), &next)?;
            level += 1;
            cur = next;
            if self.first_bad.is_some() {
                return Ok(());
            }
        }
        if let [root] = cur[..] {
            if level == 16 {
                // A complete chunk: combine with earlier chunk roots of the same level.
                let mut node = (level, base >> level, root);
                while let Some(&(l, i, h)) = self.stack.last() {
                    if l != node.0 || i + 1 != node.1 || i % 2 != 0 {
                        break;
                    }
                    self.stack.pop();
                    let parent = (l + 1, i / 2, merkle::node_hash(&h, &node.2));
                    self.check(parent.0, parent.1, &parent.2)?;
                    node = parent;
                }
                self.stack.push(node);
            }
        }
        Ok(())
    }
}
