//! The words of the subject's copy: statuses, events, methods and actors in plain
//! English, escaped for HTML.

use std::fmt::Write as _;

use super::{escape, Page};
use crate::event::{Actor, ActorKind, Event, EventKind, Method};
use crate::query::{State, Status};
use crate::timestamp::Timestamp;

pub(super) fn method_words(m: Method) -> &'static str {
    match m {
        Method::Portal => "the online portal",
        Method::WebForm => "a web form",
        Method::Paper => "a paper form",
        Method::Email => "email",
        Method::Feed => "an automated feed from another system",
        Method::InPerson => "in person",
        Method::Phone => "telephone",
        Method::Api => "another system’s interface (API)",
    }
}

pub(super) fn actor_words(a: &Actor) -> String {
    match a.kind {
        ActorKind::Subject => "you".into(),
        _ => format!("<code>{}</code>", escape(&a.to_string())),
    }
}

pub(super) fn special_category_words(letter: char) -> String {
    let what = match letter {
        'a' => "explicit consent",
        'b' => "employment and social security law",
        'c' => "vital interests",
        'd' => "a not-for-profit body’s legitimate activities",
        'e' => "data you have made public",
        'f' => "legal claims",
        'g' => "substantial public interest",
        'h' => "health or social care",
        'i' => "public health",
        'j' => "archiving, research or statistics",
        _ => "",
    };
    if what.is_empty() {
        format!(
            "special category data, Art. 9(2)({})",
            escape(&letter.to_string())
        )
    } else {
        format!(
            "special category data (health, ethnicity and the like), Art. 9(2)({letter}) {what}"
        )
    }
}

pub(super) fn change_words(reason: &str) -> String {
    match reason {
        "lawful_basis" => "its lawful basis changed".into(),
        "controller" => "its controller changed".into(),
        "special_category" => "it now uses special category data".into(),
        "recipients" => "it shares with a new recipient".into(),
        "declared" => "its owner declared a change that needs your consent again".into(),
        other => escape(other),
    }
}

pub(super) fn list_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub(super) fn state_class(st: &Status) -> &'static str {
    if st.permits() {
        "permits"
    } else {
        "stops"
    }
}

/// The current status in plain words.
pub(super) fn status_words(c: &Page<'_>, st: &Status) -> String {
    let t = &c.times;
    let since = |prefix: &str| {
        st.since
            .map(|s| format!(" {prefix} {}", t.when(s)))
            .unwrap_or_default()
    };
    match st.state {
        State::Given => {
            let lasts = match st.until {
                Some(u) => format!("it lasts until {}", t.until(u)),
                None => "it lasts until you withdraw it".into(),
            };
            format!("You gave consent{}; {lasts}.", since("on"))
        }
        State::Refused => format!("You said no{}.", since("on")),
        State::Withdrawn => {
            let mut s = format!("You withdrew consent{}.", since("on"));
            // A deadline is news only when the purpose allows downstream systems time.
            if let Some(d) = st.effect_deadline.filter(|d| Some(*d) > st.since) {
                let _ = write!(
                    s,
                    " Anyone who received your data for this purpose must have stopped using it by {}.",
                    t.when(d)
                );
            }
            s
        }
        State::Revoked => format!(
            "The controller stopped relying on your consent{}.",
            since("on")
        ),
        State::Invalidated => format!(
            "Your consent was found never to have been valid (recorded{}); it counts as never given.",
            since("on")
        ),
        State::Expired => format!("Your consent lapsed{}.", since("on")),
        State::Objected => format!(
            "You objected{}; this processing must stop for you.",
            since("on")
        ),
        State::NeverAsked => "You have not been asked: nothing is on record.".into(),
        State::NotConsentBased => {
            let overruled = st
                .event_id
                .and_then(|id| c.event(id))
                .is_some_and(|e| e.kind == EventKind::ObjectionOverruled);
            let mut s = format!(
                "This purpose does not rest on your consent ({}).",
                st.lawful_basis.describe()
            );
            if overruled {
                let _ = write!(
                    s,
                    " Your objection was overruled{}: the controller’s compelling legitimate grounds were found to override it.",
                    since("on")
                );
            }
            s
        }
        State::NeedsRenewal => {
            let reasons: Vec<String> = st
                .since
                .and_then(|s| {
                    c.versions(&st.purpose)
                        .into_iter()
                        .find(|p| p.registered_at == s && !p.material_change.is_empty())
                })
                .map(|p| p.material_change.iter().map(|r| change_words(r)).collect())
                .unwrap_or_default();
            let why = if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", list_words(&reasons))
            };
            format!(
                "Needs renewal: the purpose changed{}{why}, after you gave consent; your consent no longer covers it until you are asked again.",
                since("on")
            )
        }
        State::Erased => {
            // The status may not carry the time; the erasure event does.
            let at = st.since.or_else(|| {
                c.export
                    .events
                    .iter()
                    .rev()
                    .find(|e| e.kind == EventKind::SubjectErased)
                    .map(|e| e.effective_at)
            });
            match at {
                Some(at) => format!("Erased: your records were erased on {}.", t.when(at)),
                None => "Erased: your records were erased.".into(),
            }
        }
    }
}

/// One event in plain words.
pub(super) fn event_words(c: &Page<'_>, e: &Event) -> String {
    let t = &c.times;
    let on = format!("On {}", t.when(e.effective_at));
    let purpose = e
        .purpose
        .as_deref()
        .map(|p| c.purpose_title(p, e.purpose_version))
        .unwrap_or_default();
    let recipient = e
        .recipient
        .as_deref()
        .map(|r| format!(" for sharing with <code>{}</code>", escape(r)))
        .unwrap_or_default();
    let notice = e
        .notice
        .as_ref()
        .map(|n| format!(", shown {}", c.notice_words(n)))
        .unwrap_or_default();
    let detail = |key: &str| {
        e.details
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut s = match e.kind {
        EventKind::Given => format!(
            "{on} you gave {}consent to {purpose}{recipient}{notice}",
            if e.explicit { "explicit " } else { "" }
        ),
        EventKind::Refused => format!("{on} you said no to {purpose}{recipient}{notice}"),
        EventKind::Withdrawn => format!("{on} you withdrew consent to {purpose}{recipient}"),
        EventKind::Revoked => format!(
            "{on} the controller stopped relying on your consent to {purpose}{recipient}"
        ),
        EventKind::Invalidated => {
            let target = e
                .target
                .and_then(|id| c.event(id))
                .map(|g| format!(" (the one of {})", t.when(g.effective_at)))
                .unwrap_or_default();
            format!(
                "{on} your consent to {purpose}{recipient}{target} was found never to have been valid"
            )
        }
        EventKind::Objected => format!("{on} you objected to {purpose}{recipient}"),
        EventKind::ObjectionOverruled => format!(
            "{on} your objection to {purpose}{recipient} was overruled: the controller’s compelling legitimate grounds were found to override it"
        ),
        EventKind::NoticeServed => {
            format!("{on} you were shown {}", match &e.notice {
                Some(n) => c.notice_words(n),
                None => "a notice".into(),
            }) + &if purpose.is_empty() {
                String::new()
            } else {
                format!(" about {purpose}{recipient}")
            }
        }
        EventKind::SubjectErased => format!("{on} your records were erased"),
        EventKind::SubjectReadmitted => {
            format!("{on} you were readmitted after an earlier erasure")
        }
        other => format!("{on}: {}", escape(other.as_str())),
    };
    if let Some(m) = e.method {
        let _ = write!(s, ", collected through {}", method_words(m));
    }
    let _ = write!(s, ", recorded by {}", actor_words(&e.recorded_by));
    if e.recorded_at != e.effective_at {
        let _ = write!(s, " on {}", t.when(e.recorded_at));
    }
    s.push('.');
    if let Some(x) = e.expires_at {
        let _ = write!(s, " It lasts until {}.", t.until(x));
    }
    if let Some(d) = e.effect_deadline.filter(|d| *d > e.effective_at) {
        let _ = write!(
            s,
            " Anyone who received your data for this purpose had until {} to stop.",
            t.when(d)
        );
    }
    if let Some(r) = detail("unlisted_recipient") {
        let _ = write!(
            s,
            " You named <code>{}</code>, which this purpose does not list, so it ended your consent for every recipient.",
            escape(&r)
        );
    }
    if detail("asked_as").as_deref() == Some("withdrawn") {
        s.push_str(
            " You asked to withdraw; as this purpose does not rest on consent, it was recorded as an objection.",
        );
    }
    if let Some(from) = detail("validity_from") {
        if let Ok(from) = Timestamp::parse(&from) {
            let _ = write!(s, " Its validity counts from {}.", t.when(from));
        }
    }
    if let Some(r) = detail("reason") {
        let _ = write!(s, " Reason given: “{}”.", escape(&r));
    }
    if e.erased {
        s.push_str(" (Its personal details have been erased.)");
    }
    s
}
