//! Tests of the subject's copy.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::*;
use crate::event::NewEvent;
use crate::event::{Actor, Method};
use crate::notice::NoticeDef;
use crate::options::LedgerOptions;
use crate::purpose::{PurposeDef, Validity};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn ledger(clock: &Arc<AtomicI64>) -> Ledger {
    let c = clock.clone();
    Ledger::in_memory_with(LedgerOptions {
        clock: Some(Arc::new(move || {
            Timestamp::from_millis(c.load(Ordering::SeqCst)).unwrap()
        })),
        ..LedgerOptions::default()
    })
    .unwrap()
}

#[test]
fn escapes_every_special_character() {
    assert_eq!(
        escape(r#"<a href="x">Tom & Jerry's</a>"#),
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
    );
}

#[test]
fn the_page_reads_like_a_record() {
    let now = Arc::new(AtomicI64::new(t("2024-09-01T09:00:00Z").as_millis()));
    let set = |s: &str| now.store(t(s).as_millis(), Ordering::SeqCst);
    let l = ledger(&now);
    let mut tasters = PurposeDef::new(
        "jmsu.project.freshers-tasters",
        "Freshers' Fair <taster> sessions",
        "JMSU",
    );
    tasters.validity = Validity::ACADEMIC_YEAR;
    tasters.withdrawal_method = "Email jmsu@ljmu.ac.uk.".into();
    l.register_purpose(tasters).unwrap();
    l.register_purpose(PurposeDef::new("jmsu.marketing", "JMSU marketing", "JMSU"))
        .unwrap();
    let notice = l
        .register_notice(
            NoticeDef::from_text("jmsu.privacy", "1", "JMSU privacy policy", "the text")
                .covering("JMSU", ["jmsu.*"]),
        )
        .unwrap();

    let subject = "<script>alert(1)</script>";
    // A paper form signed on 1 October, typed in on 5 October.
    set("2024-10-05T11:20:00Z");
    l.append(
        NewEvent::give(subject, "jmsu.project.freshers-tasters")
            .notice("jmsu.privacy", "1")
            .method(Method::Paper)
            .recorded_by(Actor::staff("ab12"))
            .effective_at(t("2024-10-01T09:00:00Z"))
            .evidence(serde_json::json!({"note": "<script>steal()</script> & \"more\""})),
    )
    .unwrap();
    set("2024-10-06T10:00:00Z");
    l.append(
        NewEvent::give(subject, "jmsu.marketing")
            .notice("jmsu.privacy", "1")
            .method(Method::WebForm),
    )
    .unwrap();
    set("2025-03-03T10:00:00Z");
    l.append(NewEvent::withdraw(subject, "jmsu.marketing").method(Method::Portal))
        .unwrap();

    set("2025-03-04T12:00:00Z");
    let html = l.export_subject_html(subject).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<html lang=\"en-GB\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<title>Your consent record</title>"));
    // Nothing from the ledger gets through unescaped; no script, no resource.
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<taster>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;steal()&lt;/script&gt; &amp; \\&quot;more\\&quot;"),
        "{html}"
    );
    for banned in ["src=", "href=", "<link", "@import", "url("] {
        assert!(!html.contains(banned), "{banned}");
    }
    // Purposes, by title, with controller and basis.
    assert!(
        html.contains("Freshers&#39; Fair &lt;taster&gt; sessions"),
        "{html}"
    );
    assert!(html.contains("<h3>JMSU marketing</h3>"), "{html}");
    assert!(html.contains("Art. 6(1)(a) consent"));
    assert!(html.contains("<dd>JMSU</dd>"));
    // The notice: title, version, hash.
    assert!(html.contains("<h3>JMSU privacy policy</h3>"));
    assert!(html.contains(&hex::encode(notice.def.sha256)));
    // States in words, with local times.
    assert!(
        html.contains("You gave consent on <time datetime=\"2024-10-01T10:00:00+01:00\">1 October 2024 at 10:00 (BST)</time>; it lasts until the end of <time datetime=\"2025-08-01T00:00:00+01:00\">31 July 2025</time>."),
        "{html}"
    );
    assert!(html.contains("You withdrew consent on <time datetime=\"2025-03-03T10:00:00+00:00\">3 March 2025 at 10:00 (GMT)</time>."), "{html}");
    // Events: the late record shows both times and who typed it in.
    assert!(
        html.contains("you gave consent to “Freshers&#39; Fair &lt;taster&gt; sessions”, shown notice “JMSU privacy policy” (<code>jmsu.privacy</code> version 1), collected through a paper form, recorded by <code>staff:ab12</code> on <time datetime=\"2024-10-05T12:20:00+01:00\">5 October 2024 at 12:20 (BST)</time>."),
        "{html}"
    );
    assert!(
        html.contains("you withdrew consent to “JMSU marketing”"),
        "{html}"
    );
    // The head.
    let head = l.head().unwrap();
    assert!(html.contains(&hex::encode(head.root)));

    // After an erasure the copy says so.
    set("2031-09-01T09:00:00Z");
    l.erase_subject(subject, "retention ended", Actor::staff("dpo"))
        .unwrap();
    let html = l.export_subject_html(subject).unwrap();
    assert!(
        html.contains(
            "Erased: your records were erased on <time datetime=\"2031-09-01T10:00:00+01:00\">"
        ),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
}

#[test]
fn a_material_change_reads_as_needs_renewal() {
    let now = Arc::new(AtomicI64::new(t("2024-09-01T09:00:00Z").as_millis()));
    let set = |s: &str| now.store(t(s).as_millis(), Ordering::SeqCst);
    let l = ledger(&now);
    let mut sharing = PurposeDef::new("jmsu.data-sharing", "Share my record with JMSU", "LJMU");
    sharing.effect_delay_secs = 86_400;
    l.register_purpose(sharing.clone()).unwrap();
    l.register_notice(
        NoticeDef::from_text("jmsu.privacy", "1", "JMSU privacy policy", "the text")
            .covering("JMSU", ["jmsu.*"]),
    )
    .unwrap();
    set("2024-09-16T09:12:00Z");
    l.append(
        NewEvent::give("770001", "jmsu.data-sharing")
            .notice("jmsu.privacy", "1")
            .method(Method::Feed)
            .recorded_by(Actor::system("it-registration")),
    )
    .unwrap();
    set("2025-01-06T09:00:00Z");
    sharing.controller = "LJMU and JMSU".into();
    l.register_purpose(sharing).unwrap();
    set("2025-01-07T09:00:00Z");
    let html = l.export_subject_html("770001").unwrap();
    assert!(
        html.contains("Needs renewal: the purpose changed on <time datetime=\"2025-01-06T09:00:00+00:00\">6 January 2025 at 09:00 (GMT)</time> (its controller changed)"),
        "{html}"
    );
    assert!(
        html.contains("<code>system:it-registration</code>"),
        "{html}"
    );
    assert!(html.contains("an automated feed"), "{html}");
    // A withdrawal with a delay gives the deadline.
    set("2025-03-03T10:00:00Z");
    l.append(NewEvent::withdraw("770001", "jmsu.data-sharing"))
        .unwrap();
    let html = l.export_subject_html("770001").unwrap();
    assert!(
        html.contains(
            "must have stopped using it by <time datetime=\"2025-03-04T10:00:00+00:00\">"
        ),
        "{html}"
    );
}
