//! A ledger with every kind of row the format holds.

use consent_core::{Actor, EventKind, Ledger, Method, NewEvent, Result};
use serde_json::json;

use crate::{give, register_all};

/// Fills `l` with registry events, grants (with source ids, evidence, recipients,
/// expiries), refusals, withdrawals, an invalidation, an erasure and a withdrawal
/// recorded after the erasure. `n` subjects (at least 3).
pub fn populate(l: &Ledger, n: usize) -> Result<()> {
    register_all(l)?;
    for i in 0..n {
        let s = format!("stu-{i:04}");
        l.append(
            give(&s, "jmsu.data-sharing")
                .source_id(format!("form-{i}"))
                .evidence(json!({"form": i, "ticked": true, "note": format!("signed by {s}")})),
        )?;
        if i % 2 == 0 {
            l.append(
                give(&s, "jmsu.project.green-week")
                    .method(Method::Paper)
                    .recorded_by(Actor::staff("clerk-1")),
            )?;
        }
        if i % 3 == 0 {
            l.append(give(&s, "wellbeing.share-external").recipient("NHS"))?;
        }
        if i % 4 == 1 {
            l.append(NewEvent::withdraw(&s, "jmsu.data-sharing"))?;
        }
        if i % 5 == 2 {
            l.append(
                NewEvent::new(EventKind::Refused, &s, "jmsu.marketing").method(Method::WebForm),
            )?;
        }
    }
    let g = l.append(give("stu-bad", "jmsu.marketing"))?;
    l.append(NewEvent::new(EventKind::Invalidated, "stu-bad", "jmsu.marketing").target(g.id))?;
    l.append(NewEvent::new(
        EventKind::Objected,
        "stu-0000",
        "it.my-engagement",
    ))?;
    l.erase_subject("stu-0001", "retention period ended", Actor::staff("dpo"))?;
    l.append(NewEvent::withdraw("stu-0001", "jmsu.marketing"))?;
    l.append(give("stu-late", "jmsu.marketing"))?;
    Ok(())
}
