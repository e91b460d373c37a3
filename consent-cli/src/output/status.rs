//! One answer for people (`consent status`): the state in words, since and until
//! when, the notice, and the purpose versions a grant was given under.

use consent_core::{Purpose, State, Status, Timestamp};

use super::{fields, outln, print, short_hash, Table, Times};
use crate::exit::{CliResult, Failure};
use crate::terminal;

/// The answer `s` to "may we, for `subject` (and `recipient`)?", with the purpose's
/// `versions` (to name what changed since the grant).
pub(crate) fn status(
    times: Times<'_>,
    versions: &[Purpose],
    subject: &str,
    recipient: Option<&str>,
    s: &Status,
) -> CliResult {
    let p = versions
        .iter()
        .find(|p| p.version == s.purpose_version)
        .or(versions.last())
        .ok_or_else(|| Failure::from(consent_core::Error::UnknownPurpose(s.purpose.clone())))?;
    // Echoed as asked, so escaped as a value: a line break stays on this line.
    let (subject, purpose) = (terminal::value(subject), terminal::value(&s.purpose));
    let who = match recipient.map(terminal::value) {
        Some(r) => format!("{subject} · {purpose} → {r}"),
        None => format!("{subject} · {purpose}"),
    };
    outln!(
        "{who}  [{}, {}]",
        p.def.controller,
        s.lawful_basis.describe()
    )?;
    let mut lines = vec![(
        "state",
        format!("{} — {}", s.state, describe_state(s.state)),
    )];
    if let Some(t) = s.since {
        lines.push(("since", times.show(t)));
    }
    if let Some(t) = s.until {
        lines.push(("until", times.show(t)));
    }
    if let Some(d) = s.effect_deadline {
        if Some(d) != s.since {
            lines.push(("downstream by", times.show(d)));
        }
    }
    if let Some(n) = &s.notice {
        lines.push((
            "notice",
            format!("{}@{} (sha256 {})", n.id, n.version, short_hash(&n.sha256)),
        ));
    }
    if let Some(v) = s.granted_under_version.filter(|v| *v != s.purpose_version) {
        let changes: Vec<String> = versions
            .iter()
            .filter(|p| p.version > v && p.version <= s.purpose_version)
            .filter(|p| !p.material_change.is_empty())
            .map(|p| format!("v{}: {}", p.version, p.material_change.join(", ")))
            .collect();
        let why = if changes.is_empty() {
            String::new()
        } else {
            format!(", material change {}", changes.join("; "))
        };
        lines.push((
            "granted under",
            format!(
                "purpose version {v} (version {} in force{why})",
                s.purpose_version
            ),
        ));
    }
    if let (Some(id), Some(seq)) = (s.event_id, s.event_seq) {
        lines.push(("decided by", format!("event #{seq} {id}")));
    }
    lines.push(("asked at", times.show(s.at)));
    lines.push(("as known at", times.show(s.as_known_at)));
    print(&fields(&lines))
}

/// State shown for people.
pub(crate) fn describe_state(s: State) -> &'static str {
    match s {
        State::Given => "consent in force: processing may go ahead",
        State::Refused => "refused: do not process",
        State::Withdrawn => "withdrawn: stop processing (earlier use stays lawful)",
        State::Revoked => "revoked by the controller: do not rely on it",
        State::Invalidated => "invalidated: the grant was never valid",
        State::Expired => "expired: the grant has lapsed",
        State::Objected => "objected: the subject objected to this processing",
        State::NeverAsked => "never asked: no decision on record",
        State::NotConsentBased => "not consent-based: see the lawful basis",
        State::NeedsRenewal => {
            "needs renewal: the purpose changed materially since the grant; ask again before processing"
        }
        State::Erased => "erased: the subject's records were erased",
    }
}

/// The answers to many questions, one row each, and how many permit processing
/// (`consent status --from-file`); `asked` is each question's subject, purpose and
/// recipient.
pub(crate) fn answers(
    times: Times<'_>,
    asked: &[(&str, &str, Option<&str>)],
    answers: &[Status],
) -> CliResult {
    let mut t = Table::new(&[
        "SUBJECT",
        "PURPOSE",
        "RECIPIENT",
        "STATE",
        "PERMITS",
        "SINCE",
        "UNTIL",
        "DECIDED BY",
    ]);
    let opt_time = |t: Option<Timestamp>| t.map_or("-".into(), |t| times.show(t));
    for ((subject, _, recipient), s) in asked.iter().zip(answers) {
        t.row(vec![
            subject.to_string(),
            s.purpose.clone(),
            recipient.unwrap_or("-").to_string(),
            s.state.to_string(),
            if s.permits() { "yes" } else { "no" }.into(),
            opt_time(s.since),
            opt_time(s.until),
            s.event_seq.map_or("-".into(), |n| format!("#{n}")),
        ]);
    }
    print(&t.render())?;
    let permitted = answers.iter().filter(|s| s.permits()).count();
    match answers.first() {
        Some(s) => outln!(
            "{} questions, {permitted} permitted; asked at {}",
            answers.len(),
            times.show(s.at)
        ),
        None => outln!("no questions"),
    }
}
