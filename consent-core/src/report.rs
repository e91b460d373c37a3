//! The data-protection officer's report (issue 15): the figures of a period, as data.
//!
//! [`Ledger::report`] computes them in one read snapshot, with the ledger's own
//! answers: the state of every consent purpose at each sample moment is
//! [`Ledger::status_at`]'s answer (the same pure decision, `query::status_from`, as
//! known now), summed over the subjects the purpose has events about, so every figure
//! can be checked with `consent status --at`. The command line draws them
//! (`consent report --html`) or prints them as JSON (`--json`); C and Python callers
//! get the same [`Report`] serialised.
//!
//! The range is split at the institution's local calendar ([`Step`]): a period per
//! day for a range of up to 62 days, per month up to ten years, per year beyond. Each
//! period is sampled at its last millisecond, so a grant that lapses at the end of
//! July is still in force at July's sample and expired at August's.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::ledger::{Inner, Ledger};
use crate::proofs::Head;
use crate::purpose::{LawfulBasis, PurposeVersions};
use crate::query::{erased_status, status_from, State};
use crate::timestamp::Timestamp;
use crate::verify::VerifyReport;

/// The most periods a report samples before it takes a longer [`Step`].
const MAX_MONTHS: usize = 120;
/// The longest range, in days, sampled per day.
const MAX_DAYS: i64 = 62;
/// Events read per page while counting.
const PAGE: usize = 4096;

/// The span of each period of a report, in the ledger's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Local days (a range of up to 62 days).
    Day,
    /// Local calendar months (up to ten years).
    Month,
    /// Local calendar years.
    Year,
}

/// What a report covers: from `from` (default: the start of the local month of the
/// earliest event) up to, not including, `to` (default: just after now, so that the
/// last period is sampled at now).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportRange {
    /// The first instant covered.
    pub from: Option<Timestamp>,
    /// The end of the range (excluded).
    pub to: Option<Timestamp>,
}

/// A stage of [`Ledger::report_with_progress`], for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStage {
    /// Recomputing every hash ([`Ledger::verify`]): events done of all.
    Verify,
    /// Counting events: events read of all.
    Events,
    /// Deciding states: purposes done of all.
    States,
}

/// One period of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Its local name: `2024-10` (month), `2024-10-03` (day), `2024` (year).
    pub label: String,
    /// Its first instant.
    pub start: Timestamp,
    /// Its end (excluded).
    pub end: Timestamp,
    /// The moment its states are sampled at: the last millisecond, `end` − 1 ms.
    pub sample_at: Timestamp,
}

/// How many subjects are in each state at one moment, for one purpose (and recipient).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    /// Consent in force.
    pub given: u64,
    /// Withdrawn.
    pub withdrawn: u64,
    /// Refused.
    pub refused: u64,
    /// Lapsed (the end of the academic year, a number of days).
    pub expired: u64,
    /// Given under an earlier description of the purpose: to be asked again.
    pub needs_renewal: u64,
    /// Revoked by the controller.
    pub revoked: u64,
    /// Never valid.
    pub invalidated: u64,
    /// Objected to (Art. 21).
    pub objected: u64,
    /// Erased subjects the purpose still has events naming (a withdrawal after erasure).
    pub erased: u64,
    /// Subjects with events about the purpose but no decision yet (a notice served, or
    /// a grant that takes effect later).
    pub never_asked: u64,
}

impl StateCounts {
    /// Counts one subject in `state` (`never_asked` for `not_consent_based`).
    pub fn add(&mut self, state: State) {
        let n = match state {
            State::Given => &mut self.given,
            State::Withdrawn => &mut self.withdrawn,
            State::Refused => &mut self.refused,
            State::Expired => &mut self.expired,
            State::NeedsRenewal => &mut self.needs_renewal,
            State::Revoked => &mut self.revoked,
            State::Invalidated => &mut self.invalidated,
            State::Objected => &mut self.objected,
            State::Erased => &mut self.erased,
            State::NeverAsked | State::NotConsentBased => &mut self.never_asked,
        };
        *n += 1;
    }

    /// The count of one state (`never_asked` for `not_consent_based`).
    pub fn get(&self, state: State) -> u64 {
        match state {
            State::Given => self.given,
            State::Withdrawn => self.withdrawn,
            State::Refused => self.refused,
            State::Expired => self.expired,
            State::NeedsRenewal => self.needs_renewal,
            State::Revoked => self.revoked,
            State::Invalidated => self.invalidated,
            State::Objected => self.objected,
            State::Erased => self.erased,
            State::NeverAsked | State::NotConsentBased => self.never_asked,
        }
    }
}

/// The states of one consent purpose (asked about one recipient, for a purpose that
/// lists recipients) at each period's sample moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeStates {
    /// Purpose id.
    pub purpose: String,
    /// The recipient asked about (`None`: a purpose that lists none).
    pub recipient: Option<String>,
    /// Its title (current version).
    pub title: String,
    /// Its controller (current version).
    pub controller: String,
    /// Its Art. 9(2) condition, for special-category data.
    pub special_category: Option<char>,
    /// Subjects with events about the purpose.
    pub subjects: u64,
    /// One entry per period, in order: the states at its `sample_at`.
    pub counts: Vec<StateCounts>,
}

/// What happened in one period, by the events' effective times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Grants (`given`).
    pub given: u64,
    /// Withdrawals (`withdrawn`).
    pub withdrawn: u64,
    /// Refusals.
    pub refused: u64,
    /// Revocations by the controller.
    pub revoked: u64,
    /// Objections.
    pub objected: u64,
    /// Subjects erased (`subject_erased`).
    pub erased: u64,
    /// Subjects readmitted.
    pub readmitted: u64,
}

impl Activity {
    fn add(&mut self, kind: EventKind) {
        match kind {
            EventKind::Given => self.given += 1,
            EventKind::Withdrawn => self.withdrawn += 1,
            EventKind::Refused => self.refused += 1,
            EventKind::Revoked => self.revoked += 1,
            EventKind::Objected => self.objected += 1,
            EventKind::SubjectErased => self.erased += 1,
            EventKind::SubjectReadmitted => self.readmitted += 1,
            _ => {}
        }
    }

    fn plus(&mut self, o: &Activity) {
        self.given += o.given;
        self.withdrawn += o.withdrawn;
        self.refused += o.refused;
        self.revoked += o.revoked;
        self.objected += o.objected;
        self.erased += o.erased;
        self.readmitted += o.readmitted;
    }
}

/// A special-category purpose (Art. 9(2)), whose grants must be explicit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialCategory {
    /// Purpose id.
    pub purpose: String,
    /// Its title.
    pub title: String,
    /// Its controller.
    pub controller: String,
    /// The Art. 9(2) condition letter.
    pub condition: char,
    /// Per period, the subjects with consent in force at its sample moment (for at
    /// least one recipient, for a purpose that lists recipients).
    pub in_force: Vec<u64>,
    /// The last of `in_force`: at the end of the range.
    pub in_force_at_end: u64,
    /// Grants in the range.
    pub grants: u64,
    /// Of them, explicit (Art. 9(2)(a)): every one, the ledger refuses the others.
    pub explicit_grants: u64,
    /// Withdrawals in the range.
    pub withdrawals: u64,
}

/// The latest checkpoint the ledger signed (`consent checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    /// The log's origin: the signing key's name.
    pub origin: String,
    /// The head it states.
    pub head: Head,
    /// Signature lines on the note: the log's own and the witnesses' cosignatures.
    pub signatures: usize,
    /// The names on those lines, in order.
    pub signers: Vec<String>,
    /// Whether the log still has that root at that size.
    pub held: bool,
}

/// A downstream deadline: a withdrawal (revocation, objection) that a downstream system
/// must act on by a deadline, acknowledged or not ([`Ledger::deadlines`] as of the
/// report's making).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownstreamDeadline {
    /// The downstream system.
    pub downstream: String,
    /// The event to act on.
    pub event_seq: u64,
    /// Its kind.
    pub kind: EventKind,
    /// Its purpose.
    pub purpose: String,
    /// Its recipient.
    pub recipient: Option<String>,
    /// When the downstream must have acted.
    pub deadline: Timestamp,
    /// When it acknowledged, if it did.
    pub acknowledged_at: Option<Timestamp>,
    /// Whether the deadline passed without an acknowledgement.
    pub overdue: bool,
    /// Where it stands: pending, overdue, acknowledged, acknowledged late.
    pub state: crate::downstream::DeadlineState,
    /// Overdue: by how long now; acknowledged late: by how long then (seconds).
    pub late_by_secs: Option<u64>,
}

/// The figures of a report ([`Ledger::report`]). Times are UTC instants; `time_zone` is
/// the calendar the periods follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The ledger's time zone (IANA name).
    pub time_zone: String,
    /// When the report was made: every answer is as the ledger knew it then.
    pub generated_at: Timestamp,
    /// The head the figures were read at.
    pub head: Head,
    /// Whether the ledger's clock is a simulation.
    pub simulated: bool,
    /// The first instant covered.
    pub from: Timestamp,
    /// The end of the range (excluded).
    pub to: Timestamp,
    /// The span of a period.
    pub step: Step,
    /// The periods, in order.
    pub periods: Vec<Period>,
    /// Per consent purpose (and recipient), the states at each period's sample moment.
    pub states: Vec<PurposeStates>,
    /// Per period, what happened.
    pub activity: Vec<Activity>,
    /// The totals of `activity` over the range.
    pub totals: Activity,
    /// The special-category purposes.
    pub special_category: Vec<SpecialCategory>,
    /// Subjects erased since the ledger began (not only in the range).
    pub erasures_ever: u64,
    /// `verify`'s answer.
    pub verification: VerifyReport,
    /// The latest signed checkpoint, if the ledger signed any.
    pub checkpoint: Option<CheckpointSummary>,
    /// Downstream deadlines: every one pending or overdue when the report was made,
    /// and those acknowledged whose deadline fell in the period (docs/FORMAT.md §13).
    pub downstream: Vec<DownstreamDeadline>,
}

impl Ledger {
    /// The report's figures over `range`: see the module documentation.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when `from` is not
    /// before `to`; [`InvalidTime`](crate::ErrorKind::InvalidTime) when its periods
    /// would run outside the supported years; the
    /// [ledger's errors](crate#errors). A ledger that does not verify is reported
    /// (`verification`), not an error.
    pub fn report(&self, range: ReportRange) -> Result<Report> {
        self.report_with_progress(range, |_, _, _| {})
    }

    /// [`Ledger::report`], calling `progress(stage, done, total)` as it goes.
    ///
    /// # Errors
    /// As [`Ledger::report`].
    pub fn report_with_progress(
        &self,
        range: ReportRange,
        mut progress: impl FnMut(ReportStage, u64, u64),
    ) -> Result<Report> {
        let verification =
            self.verify_with_progress(|done, total| progress(ReportStage::Verify, done, total))?;
        let mut report = self.read(None, |inner, now| figures(inner, now, range, &mut progress))?;
        report.verification = verification;
        Ok(report)
    }
}

/// One subject event, as counted (the personal fields are not kept).
struct Counted {
    kind: EventKind,
    effective_at: Timestamp,
    purpose: Option<u32>,
    explicit: bool,
}

fn figures(
    inner: &Inner,
    now: Timestamp,
    range: ReportRange,
    progress: &mut dyn FnMut(ReportStage, u64, u64),
) -> Result<Report> {
    inner.key()?;
    let cal = &inner.calendar;
    let head = inner.head()?;
    // Every purpose id, current version last.
    let mut ids: Vec<String> = inner
        .all_purposes(None)?
        .into_iter()
        .map(|p| p.def.id)
        .collect();
    ids.dedup();
    let index: BTreeMap<&str, u32> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32))
        .collect();

    // The events that count, in one pass over the log.
    let mut counted = Vec::new();
    let mut erasures_ever = 0;
    let mut since = 0;
    loop {
        let page = inner.store.events_since(since, PAGE)?;
        let Some(last) = page.last() else { break };
        since = last.seq + 1;
        for e in &page {
            if e.kind == EventKind::SubjectErased {
                erasures_ever += 1;
            }
            if e.kind.is_subject_event() || e.kind.is_erasure_event() {
                counted.push(Counted {
                    kind: e.kind,
                    effective_at: e.effective_at,
                    purpose: e.purpose.as_deref().and_then(|p| index.get(p).copied()),
                    explicit: e.explicit,
                });
            }
        }
        progress(ReportStage::Events, since, head.size);
    }

    // By default up to now included: the last period is sampled at now itself.
    let to = range.to.unwrap_or(now.saturating_add_millis(1));
    let from = match range.from {
        Some(f) => f,
        None => {
            let first = counted.iter().map(|c| c.effective_at).min().unwrap_or(to);
            cal.start_of(cal.date_of(first.min(to)).first_of_month())?
        }
    };
    if from >= to {
        return Err(Error::invalid(format!(
            "the report's range is empty: from {from} is not before to {to}"
        )));
    }
    let (step, periods) = periods(cal, from, to)?;

    let mut activity = vec![Activity::default(); periods.len()];
    let mut special: BTreeMap<u32, (u64, u64, u64)> = BTreeMap::new();
    for c in &counted {
        if c.effective_at < from || c.effective_at >= to {
            continue;
        }
        let i = periods.partition_point(|p| p.end <= c.effective_at);
        activity[i].add(c.kind);
        if let Some(p) = c.purpose {
            let s = special.entry(p).or_default();
            match c.kind {
                EventKind::Given => {
                    s.0 += 1;
                    s.1 += u64::from(c.explicit);
                }
                k if k.is_withdrawal() => s.2 += 1,
                _ => {}
            }
        }
    }
    let mut totals = Activity::default();
    for a in &activity {
        totals.plus(a);
    }

    let mut states = Vec::new();
    let mut special_category = Vec::new();
    for (done, id) in ids.iter().enumerate() {
        let p = inner
            .purpose(id)?
            .ok_or_else(|| Error::UnknownPurpose(id.clone()))?;
        let def = &p.latest().def;
        if def.lawful_basis == LawfulBasis::Consent {
            let (series, in_force) = purpose_states(inner, &p, &periods, now)?;
            states.extend(series);
            if let Some(condition) = def.special_category {
                let (grants, explicit_grants, withdrawals) = special
                    .get(&index[id.as_str()])
                    .copied()
                    .unwrap_or_default();
                special_category.push(SpecialCategory {
                    purpose: id.clone(),
                    title: def.title.clone(),
                    controller: def.controller.clone(),
                    condition,
                    in_force_at_end: in_force.last().copied().unwrap_or_default(),
                    in_force,
                    grants,
                    explicit_grants,
                    withdrawals,
                });
            }
        }
        progress(ReportStage::States, done as u64 + 1, ids.len() as u64);
    }

    let checkpoint = match inner.store.latest_checkpoint_row()? {
        None => None,
        Some((size, text)) => {
            let (note, cp) = crate::checkpoint::parse_stored(size, &text)?;
            let held = size <= head.size && inner.store.root(size)? == cp.root;
            Some(CheckpointSummary {
                origin: cp.origin.clone(),
                head: Head {
                    size: cp.size,
                    root: cp.root,
                },
                signatures: note.signatures().len(),
                signers: note
                    .signatures()
                    .iter()
                    .map(|s| s.name().to_string())
                    .collect(),
                held,
            })
        }
    };

    Ok(Report {
        time_zone: cal.name().to_string(),
        generated_at: now,
        head,
        simulated: inner.simulated,
        from,
        to,
        step,
        periods,
        states,
        activity,
        totals,
        special_category,
        erasures_ever,
        verification: VerifyReport {
            size: 0,
            ok: false,
            first_bad_seq: None,
            problem: None,
            head: None,
            simulated: inner.simulated,
        },
        checkpoint,
        downstream: downstream_deadlines(inner, now, from, to)?,
    })
}

/// The downstream deadlines of a report: every one still open (pending or overdue) at
/// `now`, and the acknowledged ones (in time or late) whose deadline falls in the
/// period.
fn downstream_deadlines(
    inner: &Inner,
    now: Timestamp,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<DownstreamDeadline>> {
    use crate::downstream::DeadlineState;
    Ok(inner
        .deadlines(now, None)?
        .into_iter()
        .filter(|d| match d.state {
            DeadlineState::Pending | DeadlineState::Overdue => true,
            DeadlineState::Acknowledged | DeadlineState::AcknowledgedLate => {
                d.deadline >= from && d.deadline < to
            }
        })
        .map(|d| DownstreamDeadline {
            downstream: d.downstream,
            event_seq: d.seq,
            kind: d.kind,
            purpose: d.purpose,
            recipient: d.recipient,
            deadline: d.deadline,
            acknowledged_at: d.acknowledged_at,
            overdue: d.state == DeadlineState::Overdue,
            state: d.state,
            late_by_secs: d.late_by_secs,
        })
        .collect())
}

/// The states of one purpose at every sample moment, one entry per recipient it lists
/// (or one for the whole purpose), each subject decided as [`Ledger::status_at`] does;
/// and per sample moment, the subjects with consent in force for some recipient.
fn purpose_states(
    inner: &Inner,
    p: &PurposeVersions,
    periods: &[Period],
    now: Timestamp,
) -> Result<(Vec<PurposeStates>, Vec<u64>)> {
    let def = &p.latest().def;
    let recipients: Vec<Option<&str>> = if def.recipients.is_empty() {
        vec![None]
    } else {
        def.recipients.iter().map(|r| Some(r.as_str())).collect()
    };
    let mut out: Vec<PurposeStates> = recipients
        .iter()
        .map(|r| PurposeStates {
            purpose: def.id.clone(),
            recipient: r.map(Into::into),
            title: def.title.clone(),
            controller: def.controller.clone(),
            special_category: def.special_category,
            subjects: 0,
            counts: vec![StateCounts::default(); periods.len()],
        })
        .collect();
    let mut in_force = vec![0u64; periods.len()];
    let mut given = vec![false; periods.len()];
    let mut decide = |group: &[Event]| -> Result<()> {
        let Some(subject) = group.first().and_then(|e| e.subject.as_deref()) else {
            return Ok(());
        };
        let erased = inner.is_erased(subject)?;
        given.fill(false);
        for (r, series) in recipients.iter().zip(out.iter_mut()) {
            series.subjects += 1;
            for (i, (period, counts)) in periods.iter().zip(series.counts.iter_mut()).enumerate() {
                let status = if erased {
                    erased_status(p, *r, period.sample_at, now)
                } else {
                    status_from(p, group, *r, period.sample_at, now)
                };
                counts.add(status.state);
                given[i] |= status.state == State::Given;
            }
        }
        for (n, g) in in_force.iter_mut().zip(&given) {
            *n += u64::from(*g);
        }
        Ok(())
    };
    let mut group: Vec<Event> = Vec::new();
    let mut failed = None;
    inner.store.each_event_by_subject(&def.id, |e| {
        if group.first().is_some_and(|g| g.subject != e.subject) {
            if let Err(err) = decide(&group) {
                failed.get_or_insert(err);
            }
            group.clear();
        }
        group.push(e);
    })?;
    decide(&group)?;
    match failed {
        Some(e) => Err(e),
        None => Ok((out, in_force)),
    }
}

/// The periods from `from` to `to` and their step: local days, months or years.
fn periods(cal: &Calendar, from: Timestamp, to: Timestamp) -> Result<(Step, Vec<Period>)> {
    let first = cal.date_of(from);
    let last = cal.date_of(to);
    let days = (last - first).get_days() as i64;
    let months = (i64::from(last.year()) - i64::from(first.year())) * 12 + i64::from(last.month())
        - i64::from(first.month());
    let step = if days <= MAX_DAYS {
        Step::Day
    } else if months < MAX_MONTHS as i64 {
        Step::Month
    } else {
        Step::Year
    };
    let bad = |e: jiff::Error| Error::InvalidTime(format!("report periods: {e}"));
    let (mut day, span) = match step {
        Step::Day => (first, 1.day()),
        Step::Month => (first.first_of_month(), 1.month()),
        Step::Year => (first.first_of_year(), 1.year()),
    };
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let following: Date = day.checked_add(span).map_err(bad)?;
        let end = cal.start_of(following)?.min(to);
        if end > start {
            let label = match step {
                Step::Day => day.to_string(),
                Step::Month => format!("{:04}-{:02}", day.year(), day.month()),
                Step::Year => format!("{:04}", day.year()),
            };
            out.push(Period {
                label,
                start,
                end,
                sample_at: end.saturating_add_millis(-1),
            });
            start = end;
        }
        day = following;
    }
    Ok((step, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(cal: &Calendar, s: &str) -> Timestamp {
        cal.parse(s).unwrap()
    }

    #[test]
    fn months_follow_the_local_calendar() {
        let cal = Calendar::new("Europe/London").unwrap();
        let (step, p) = periods(&cal, t(&cal, "2024-08-15"), t(&cal, "2024-11-01")).unwrap();
        assert_eq!(step, Step::Month);
        let labels: Vec<&str> = p.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["2024-08", "2024-09", "2024-10"]);
        assert_eq!(p[0].start, t(&cal, "2024-08-15"));
        // The end of July in London is 23:00 UTC in summer; October ends in GMT.
        assert_eq!(p[1].end.to_string(), "2024-09-30T23:00:00.000Z");
        assert_eq!(p[2].sample_at.to_string(), "2024-10-31T23:59:59.999Z");
    }

    #[test]
    fn short_ranges_go_by_day_and_long_ones_by_year() {
        let cal = Calendar::new("UTC").unwrap();
        let (step, p) = periods(&cal, t(&cal, "2025-03-01"), t(&cal, "2025-03-04T12:00")).unwrap();
        assert_eq!(step, Step::Day);
        assert_eq!(p.len(), 4);
        assert_eq!(p[3].end, t(&cal, "2025-03-04T12:00"));
        let (step, p) = periods(&cal, t(&cal, "2010-01-01"), t(&cal, "2025-01-01")).unwrap();
        assert_eq!(step, Step::Year);
        assert_eq!(p.len(), 15);
    }
}
