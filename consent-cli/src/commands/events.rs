//! The commands that record an event about one subject and purpose: `give`, `refuse`,
//! `serve-notice`, `withdraw`, `revoke`, `invalidate`, `object`,
//! `overrule-objection`.

use consent_core::{EventKind, NewEvent};

use crate::cli::EventArgs;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::{self, print_json};

fn new_event(ctx: &Ctx, kind: EventKind, a: EventArgs) -> CliResult<NewEvent> {
    let (c, told) = (a.common, a.told);
    let mut e = NewEvent::new(kind, c.subject, c.purpose);
    e.recipient = c.recipient;
    e.notice = match (told.notice, told.notice_id, told.notice_version) {
        (Some(n), _, _) => Some(n),
        (None, Some(id), Some(v)) => Some((id, v)),
        _ => None,
    };
    e.explicit = a.explicit;
    e.method = told.method;
    e.recorded_by = c.recorded_by;
    e.effective_at = ctx.opt_time("--at", c.at.as_ref())?;
    e.expires_at = ctx.opt_time("--expires", a.expires.as_ref())?;
    e.validity_from = ctx.opt_time("--validity-from", a.validity_from.as_ref())?;
    e.source_id = c.source_id;
    e.evidence = c.evidence;
    e.target = a.target;
    Ok(e)
}

pub(super) fn record(ctx: &Ctx, kind: EventKind, a: EventArgs) -> CliResult {
    let ledger = ctx.open()?;
    let asked_recipient = a.common.recipient.clone();
    let e = new_event(ctx, kind, a)?;
    let appended = ledger.append_outcome(e)?;
    let (ev, again) = (appended.event, !appended.new);
    if ctx.json {
        return print_json(&ev);
    }
    output::events::recorded(ctx.times(), &ev, again)?;
    if kind == EventKind::Withdrawn && ev.kind == EventKind::Objected {
        let p = ledger.purpose(ev.purpose.as_deref().unwrap_or_default())?;
        output::events::withdrawal_as_objection(&p)?;
    }
    if let (Some(r), None) = (&asked_recipient, &ev.recipient) {
        output::events::recipient_not_listed(r, ev.kind)?;
    }
    Ok(())
}
