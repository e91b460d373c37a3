//! One function per subcommand. Each prints for people, or JSON with `--json`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use consent_core::{
    Actor, ConsistencyProof, Event, EventKind, Head, KeySource, LawfulBasis, Ledger, LedgerOptions,
    Method, NewEvent, NoticeDef, Purpose, PurposeDef, Status, Timestamp, Validity, VerifyReport,
};
use serde_json::json;
use uuid::Uuid;

use crate::cli::{
    Cli, Command, EventArgs, FeedFormat, NoticeCmd, ProveCmd, PurposeAddArgs, PurposeCmd,
    RegistryCmd,
};
use crate::exit::{CliResult, Failure, IMPORT_REJECTED, NOT_FOUND, TAMPER};
use crate::output::{self, fields, outln, print_json, short_hash, time, Table};
use crate::receipt;
use crate::spreadsheet;
use crate::terminal;

/// Shared state of one invocation.
struct Ctx {
    json: bool,
    ledger_path: Option<PathBuf>,
    now: Option<Timestamp>,
    key_file: Option<PathBuf>,
}

impl Ctx {
    fn options(&self, create: bool) -> LedgerOptions {
        let mut o = LedgerOptions {
            create,
            ..LedgerOptions::default()
        };
        if let Some(t) = self.now {
            o.clock = Some(Arc::new(move || t));
        }
        if let Some(k) = &self.key_file {
            o.pseudonym_key = KeySource::File(k.clone());
        }
        o
    }

    fn path(&self) -> CliResult<&Path> {
        self.ledger_path
            .as_deref()
            .ok_or_else(|| Failure::usage("no ledger: pass --ledger PATH or set CONSENT_LEDGER"))
    }

    /// Opens an existing ledger; a missing file is "not found", not a new ledger.
    fn open(&self) -> CliResult<Ledger> {
        let path = self.path()?;
        if !path.exists() {
            return Err(Failure::new(
                NOT_FOUND,
                format!(
                    "no ledger at {} (create one with `consent init`)",
                    path.display()
                ),
            ));
        }
        Ok(Ledger::open_with(path, self.options(false))?)
    }
}

fn parse_time(what: &str, s: &str) -> CliResult<Timestamp> {
    Timestamp::parse(s).map_err(|e| Failure::usage(format!("{what}: {e}")))
}

fn opt_parse_time(what: &str, s: Option<&String>) -> CliResult<Option<Timestamp>> {
    s.map(|s| parse_time(what, s)).transpose()
}

/// `ID@VERSION` → (id, version).
pub fn split_notice(s: &str) -> Result<(String, String), String> {
    match s.rsplit_once('@') {
        Some((id, v)) if !id.is_empty() && !v.is_empty() => Ok((id.to_string(), v.to_string())),
        _ => Err(format!("a notice is written ID@VERSION, not `{s}`")),
    }
}

fn parse_uuid(what: &str, s: &str) -> CliResult<Uuid> {
    s.trim()
        .parse()
        .map_err(|_| Failure::usage(format!("{what}: `{s}` is not an event id (UUID)")))
}

/// Runs the command line.
pub fn run(cli: Cli) -> CliResult {
    let now = cli
        .now
        .as_deref()
        .map(|s| parse_time("--now", s))
        .transpose()?;
    let ctx = Ctx {
        json: cli.json,
        ledger_path: cli.ledger,
        now,
        key_file: cli.key_file,
    };
    match cli.command {
        Command::Init => init(&ctx),
        Command::Purpose(c) => purpose(&ctx, c),
        Command::Notice(c) => notice(&ctx, c),
        Command::Registry(RegistryCmd::Load { file, texts }) => {
            registry_load(&ctx, &file, texts.as_deref())
        }
        Command::Give(a) => record(&ctx, EventKind::Given, a),
        Command::Refuse(a) => record(&ctx, EventKind::Refused, a),
        Command::Withdraw(a) => record(&ctx, EventKind::Withdrawn, a),
        Command::Revoke(a) => record(&ctx, EventKind::Revoked, a),
        Command::Invalidate(a) => record(&ctx, EventKind::Invalidated, a),
        Command::Object(a) => record(&ctx, EventKind::Objected, a),
        Command::Status {
            subject,
            purpose,
            recipient,
            at,
            known_at,
        } => status(
            &ctx,
            &subject,
            &purpose,
            recipient.as_deref(),
            at.as_ref(),
            known_at.as_ref(),
        ),
        Command::History { subject } => history(&ctx, &subject),
        Command::Consenting {
            purpose,
            recipient,
            at,
            format,
        } => consenting(&ctx, &purpose, recipient.as_deref(), at.as_ref(), format),
        Command::Changes { since, limit } => changes(&ctx, since, limit),
        Command::Export { subject, output } => export(&ctx, &subject, output.as_deref()),
        Command::Receipt {
            event_id,
            format,
            output,
        } => {
            let ledger = ctx.open()?;
            let id = parse_uuid("EVENT_ID", &event_id)?;
            let v = receipt::build(&ledger, id, format)?;
            let text =
                serde_json::to_string_pretty(&v).map_err(|e| Failure::usage(e.to_string()))? + "\n";
            output::write_out(output.as_deref(), &text)?;
            if let Some(p) = output {
                outln!("receipt for event {id} written to {}", p.display())?;
            }
            Ok(())
        }
        Command::Verify { against } => verify(&ctx, against.as_deref()),
        Command::Head => {
            let head = ctx.open()?.head()?;
            if ctx.json {
                print_json(
                    &json!({ "head": head.to_string(), "size": head.size, "root": hex::encode(head.root) }),
                )
            } else {
                outln!("{head}")?;
                Ok(())
            }
        }
        Command::Prove(ProveCmd::Consistency { old_head, output }) => {
            prove_consistency(&ctx, &old_head, output.as_deref())
        }
        Command::CheckReceipt {
            file,
            head,
            consistency,
        } => check_receipt(&ctx, &file, head.as_deref(), consistency.as_deref()),
        Command::Import(args) => import(&ctx, &args),
        Command::Erase {
            subject,
            reason,
            actor,
        } => erase(&ctx, &subject, &reason, &actor),
        Command::CompleteErasures { wait } => complete_erasures(&ctx, wait),
    }
}

fn init(ctx: &Ctx) -> CliResult {
    let path = ctx.path()?;
    let existed = path.exists();
    let ledger = Ledger::open_with(path, ctx.options(true))?;
    let head = ledger.head()?;
    if ctx.json {
        return print_json(
            &json!({ "ledger": path, "created": !existed, "head": head.to_string() }),
        );
    }
    if existed && !created_now(&ledger, &head) {
        outln!(
            "ledger {} already exists: {} events, head {head}",
            path.display(),
            head.size
        )?;
    } else {
        outln!("created ledger {}", path.display())?;
        let key = ctx
            .key_file
            .clone()
            .unwrap_or_else(|| consent_core::default_key_path(path));
        outln!(
            "pseudonym key in {} (0600): keep it, apart from the ledger; without it the ledger cannot answer for erased students",
            key.display()
        )?;
    }
    if ledger.is_simulated()? {
        outln!("SIMULATED: created with --now; its record times are simulated, and verify and receipts say so")?;
    }
    Ok(())
}

/// Whether `init` just wrote the ledger into an empty file (only its first event).
fn created_now(_ledger: &Ledger, head: &Head) -> bool {
    head.size == 1
}

// ---- registry -------------------------------------------------------------------

fn parse_validity(s: &str) -> CliResult<Validity> {
    let s = s.trim();
    let bad = || {
        Failure::usage(format!(
            "--validity: `{s}` is not none, academic-year[:MM-DD] or days:N"
        ))
    };
    Ok(match s {
        "none" => Validity::None,
        "academic-year" => Validity::ACADEMIC_YEAR,
        _ => {
            if let Some(md) = s.strip_prefix("academic-year:") {
                let (m, d) = md.split_once('-').ok_or_else(bad)?;
                Validity::AcademicYear {
                    end_month: m.parse().map_err(|_| bad())?,
                    end_day: d.parse().map_err(|_| bad())?,
                }
            } else if let Some(n) = s.strip_prefix("days:") {
                Validity::Days {
                    days: n.parse().map_err(|_| bad())?,
                }
            } else {
                return Err(bad());
            }
        }
    })
}

/// `24h`, `30m`, `2d`, `90s` or plain seconds.
fn parse_duration_secs(s: &str) -> CliResult<u64> {
    let s = s.trim();
    let bad = || {
        Failure::usage(format!(
            "--effect-delay: `{s}` is not a duration like 24h, 30m, 2d or 86400"
        ))
    };
    let (num, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        Some('d') => (&s[..s.len() - 1], 86_400),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(bad)
}

fn validity_text(v: &Validity) -> String {
    match v {
        Validity::None => "until withdrawn".into(),
        Validity::Days { days } => format!("{days} days"),
        Validity::AcademicYear { end_month, end_day } => {
            format!("academic year (to {end_day:02}/{end_month:02})")
        }
    }
}

fn delay_text(secs: u64) -> String {
    match secs {
        0 => "-".into(),
        s if s % 86_400 == 0 && s >= 86_400 * 2 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn basis_text(p: &PurposeDef) -> String {
    let mut s = format!("6(1)({})", p.lawful_basis.letter());
    if let Some(c) = p.special_category {
        s.push_str(&format!(" + 9(2)({c})"));
    }
    s
}

fn purpose_table(list: &[Purpose]) -> String {
    let mut t = Table::new(&[
        "PURPOSE",
        "V",
        "CONTROLLER",
        "BASIS",
        "VALIDITY",
        "DELAY",
        "RECIPIENTS",
    ]);
    for p in list {
        t.row(vec![
            p.def.id.clone(),
            p.version.to_string(),
            p.def.controller.clone(),
            basis_text(&p.def),
            validity_text(&p.def.validity),
            delay_text(p.def.effect_delay_secs),
            if p.def.recipients.is_empty() {
                "-".into()
            } else {
                p.def.recipients.join(", ")
            },
        ]);
    }
    t.render()
}

fn purpose(ctx: &Ctx, cmd: PurposeCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        PurposeCmd::Add(a) => {
            let def = purpose_def(a)?;
            let before = ledger.head()?.size;
            let p = ledger.register_purpose(def)?;
            if ctx.json {
                return print_json(&p);
            }
            if p.seq >= before {
                outln!(
                    "registered purpose {} version {} (event #{})",
                    p.def.id,
                    p.version,
                    p.seq
                )?;
            } else {
                outln!(
                    "purpose {} version {} is unchanged; nothing recorded",
                    p.def.id,
                    p.version
                )?;
            }
            Ok(())
        }
        PurposeCmd::List => {
            let all = ledger.purposes()?;
            let mut current: Vec<Purpose> = Vec::new();
            for p in all {
                match current.last_mut() {
                    Some(last) if last.def.id == p.def.id => *last = p,
                    _ => current.push(p),
                }
            }
            if ctx.json {
                return print_json(&current);
            }
            output::print(&purpose_table(&current))?;
            Ok(())
        }
        PurposeCmd::Show { id } => {
            let versions: Vec<Purpose> = ledger
                .purposes()?
                .into_iter()
                .filter(|p| p.def.id == id)
                .collect();
            if versions.is_empty() {
                return Err(consent_core::Error::UnknownPurpose(id).into());
            }
            if ctx.json {
                return print_json(&versions);
            }
            for p in &versions {
                let d = &p.def;
                outln!("{} — version {}", d.id, p.version)?;
                output::print(&fields(&[
                    ("title", d.title.clone()),
                    ("controller", d.controller.clone()),
                    ("lawful basis", d.lawful_basis.describe().to_string()),
                    (
                        "special category",
                        d.special_category.map_or("-".into(), |c| {
                            format!("Art. 9(2)({c}): grants must be explicit")
                        }),
                    ),
                    ("validity", validity_text(&d.validity)),
                    ("withdrawal delay", delay_text(d.effect_delay_secs)),
                    (
                        "how to withdraw",
                        if d.withdrawal_method.is_empty() {
                            "-".into()
                        } else {
                            d.withdrawal_method.clone()
                        },
                    ),
                    (
                        "recipients",
                        if d.recipients.is_empty() {
                            "-".into()
                        } else {
                            d.recipients.join(", ")
                        },
                    ),
                    (
                        "registered",
                        format!("{} (event #{})", time(p.registered_at), p.seq),
                    ),
                ]))?;
            }
            Ok(())
        }
    }
}

fn purpose_def(a: PurposeAddArgs) -> CliResult<PurposeDef> {
    let mut def = PurposeDef::new(a.id, a.title, a.controller);
    def.lawful_basis = LawfulBasis::parse(&a.basis)?;
    def.special_category = a.special_category;
    def.validity = parse_validity(&a.validity)?;
    def.effect_delay_secs = parse_duration_secs(&a.effect_delay)?;
    def.withdrawal_method = a.withdrawal_method;
    def.recipients = a.recipients;
    Ok(def)
}

fn notice(ctx: &Ctx, cmd: NoticeCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        NoticeCmd::Add {
            id,
            version,
            title,
            text_file,
            sha256,
            language,
            url,
        } => {
            let hash = match (text_file, sha256) {
                (Some(f), _) => {
                    let bytes = std::fs::read(&f).map_err(|e| {
                        Failure::new(NOT_FOUND, format!("cannot read {}: {e}", f.display()))
                    })?;
                    consent_core::canonical::sha256(&bytes)
                }
                (None, Some(h)) => consent_core::canonical::parse_hash(&h)?,
                (None, None) => return Err(Failure::usage("give --text-file or --sha256")),
            };
            let def = NoticeDef {
                id,
                version,
                language,
                sha256: hash,
                title,
                url,
            };
            let before = ledger.head()?.size;
            let n = ledger.register_notice(def)?;
            if ctx.json {
                return print_json(&n);
            }
            let what = if n.seq >= before {
                "registered"
            } else {
                "already registered:"
            };
            outln!(
                "{what} notice {}@{} sha256 {}",
                n.def.id,
                n.def.version,
                hex::encode(n.def.sha256)
            )?;
            Ok(())
        }
        NoticeCmd::List => {
            let all = ledger.notices()?;
            if ctx.json {
                return print_json(&all);
            }
            let mut t = Table::new(&["NOTICE", "VERSION", "LANG", "SHA-256", "TITLE"]);
            for n in &all {
                t.row(vec![
                    n.def.id.clone(),
                    n.def.version.clone(),
                    n.def.language.clone(),
                    short_hash(&n.def.sha256),
                    n.def.title.clone(),
                ]);
            }
            output::print(&t.render())?;
            Ok(())
        }
    }
}

fn registry_load(ctx: &Ctx, file: &Path, texts: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    let loaded = crate::registry::load(&ledger, file, texts)?;
    if ctx.json {
        return print_json(&loaded);
    }
    let mut t = Table::new(&["", "ID", "", "TEXT HASH / VERSION"]);
    for l in &loaded {
        let check = match l.hash {
            Some(crate::registry::HashCheck::Checked) => "text checked",
            Some(crate::registry::HashCheck::Computed) => "hashed from text",
            Some(crate::registry::HashCheck::Unchecked) => "text not available",
            None => "",
        };
        let detail = if l.what == "notice" {
            format!(
                "{}  {check}",
                short_hash(&hex::decode(&l.detail).unwrap_or_default())
            )
        } else {
            l.detail.clone()
        };
        t.row(vec![
            l.what.to_string(),
            l.id.clone(),
            if l.new {
                "new".into()
            } else {
                "unchanged".into()
            },
            detail,
        ]);
    }
    output::print(&t.render())?;
    let new = loaded.iter().filter(|l| l.new).count();
    outln!(
        "{} entries, {new} recorded, {} unchanged",
        loaded.len(),
        loaded.len() - new
    )?;
    Ok(())
}

// ---- events -----------------------------------------------------------------------

fn new_event(kind: EventKind, a: EventArgs) -> CliResult<NewEvent> {
    let mut e = NewEvent::new(kind, a.subject, a.purpose);
    e.recipient = a.recipient;
    e.notice = match (a.notice, a.notice_id, a.notice_version) {
        (Some(n), _, _) => Some(split_notice(&n).map_err(Failure::usage)?),
        (None, Some(id), Some(v)) => Some((id, v)),
        _ => None,
    };
    e.explicit = a.explicit;
    e.method = a.method.as_deref().map(str::parse::<Method>).transpose()?;
    e.recorded_by = a.recorded_by.parse::<Actor>()?;
    e.effective_at = opt_parse_time("--at", a.at.as_ref())?;
    e.expires_at = opt_parse_time("--expires", a.expires.as_ref())?;
    e.source_id = a.source_id;
    e.evidence = a
        .evidence
        .as_deref()
        .map(|s| {
            serde_json::from_str(s)
                .map_err(|err| Failure::usage(format!("--evidence is not JSON: {err}")))
        })
        .transpose()?;
    e.target = a
        .target
        .as_deref()
        .map(|s| parse_uuid("--target", s))
        .transpose()?;
    Ok(e)
}

fn record(ctx: &Ctx, kind: EventKind, a: EventArgs) -> CliResult {
    let ledger = ctx.open()?;
    let e = new_event(kind, a)?;
    let before = ledger.head()?.size;
    let ev = ledger.append(e)?;
    if ctx.json {
        return print_json(&ev);
    }
    let again = ev.seq < before;
    outln!(
        "{} {} · {} · event #{} {}",
        if again {
            "already on record:"
        } else {
            "recorded:"
        },
        ev.kind,
        ev.purpose.as_deref().unwrap_or("-"),
        ev.seq,
        ev.id
    )?;
    let mut lines = vec![
        ("effective", time(ev.effective_at)),
        ("recorded", time(ev.recorded_at)),
    ];
    if let Some(x) = ev.expires_at {
        lines.push(("lapses", time(x)));
    }
    if let Some(d) = ev.effect_deadline {
        if d != ev.effective_at {
            lines.push(("downstream by", time(d)));
        }
    }
    if let Some(n) = &ev.notice {
        lines.push((
            "notice",
            format!("{}@{} (sha256 {})", n.id, n.version, short_hash(&n.sha256)),
        ));
    }
    output::print(&fields(&lines))?;
    Ok(())
}

fn status(
    ctx: &Ctx,
    subject: &str,
    purpose: &str,
    recipient: Option<&str>,
    at: Option<&String>,
    known_at: Option<&String>,
) -> CliResult {
    let ledger = ctx.open()?;
    let at = opt_parse_time("--at", at)?;
    let known = opt_parse_time("--known-at", known_at)?;
    let s: Status = match (at, known) {
        (None, None) => ledger.status(subject, purpose, recipient)?,
        (at, known) => {
            let at = match at {
                Some(t) => t,
                None => ledger.now()?,
            };
            ledger.status_at(subject, purpose, recipient, at, known)?
        }
    };
    if ctx.json {
        let mut v = serde_json::to_value(&s).map_err(|e| Failure::usage(e.to_string()))?;
        v["permits"] = json!(s.permits());
        return print_json(&v);
    }
    let p = ledger.purpose(purpose)?;
    // Echoed as asked, so escaped as a value: a line break stays on this line.
    let (subject, purpose) = (terminal::value(subject), terminal::value(purpose));
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
        format!("{} — {}", s.state, receipt::describe_state(s.state)),
    )];
    if let Some(t) = s.since {
        lines.push(("since", time(t)));
    }
    if let Some(t) = s.until {
        lines.push(("until", time(t)));
    }
    if let Some(d) = s.effect_deadline {
        if Some(d) != s.since {
            lines.push(("downstream by", time(d)));
        }
    }
    if let Some(n) = &s.notice {
        lines.push((
            "notice",
            format!("{}@{} (sha256 {})", n.id, n.version, short_hash(&n.sha256)),
        ));
    }
    if let (Some(id), Some(seq)) = (s.event_id, s.event_seq) {
        lines.push(("decided by", format!("event #{seq} {id}")));
    }
    lines.push(("asked at", time(s.at)));
    lines.push(("as known at", time(s.as_known_at)));
    output::print(&fields(&lines))?;
    Ok(())
}

fn event_row(e: &Event) -> Vec<String> {
    let detail = match e.kind {
        EventKind::PurposeDefined => format!("v{}", e.purpose_version.unwrap_or(0)),
        EventKind::NoticeDefined => e
            .notice
            .as_ref()
            .map_or(String::new(), |n| format!("{}@{}", n.id, n.version)),
        EventKind::SubjectErased => e
            .details
            .as_ref()
            .and_then(|d| d.get("reason"))
            .and_then(|r| r.as_str())
            .map_or(String::new(), |r| format!("reason: {r}")),
        _ => {
            let mut parts = Vec::new();
            if let Some(n) = &e.notice {
                parts.push(format!("{}@{}", n.id, n.version));
            }
            if e.explicit {
                parts.push("explicit".into());
            }
            if let Some(m) = e.method {
                parts.push(m.to_string());
            }
            if let Some(x) = e.expires_at {
                parts.push(format!("lapses {}", time(x)));
            }
            if let Some(d) = e.effect_deadline.filter(|d| *d != e.effective_at) {
                parts.push(format!("downstream by {}", time(d)));
            }
            if e.erased {
                parts.push("[erased]".into());
            }
            parts.join(" · ")
        }
    };
    vec![
        e.seq.to_string(),
        time(e.effective_at),
        time(e.recorded_at),
        e.kind.to_string(),
        e.purpose.clone().unwrap_or_else(|| "-".into()),
        e.recipient.clone().unwrap_or_else(|| "-".into()),
        e.recorded_by.to_string(),
        detail,
    ]
}

const EVENT_HEADER: &[&str] = &[
    "#",
    "EFFECTIVE",
    "RECORDED",
    "EVENT",
    "PURPOSE",
    "RECIPIENT",
    "BY",
    "DETAILS",
];

fn history(ctx: &Ctx, subject: &str) -> CliResult {
    let ledger = ctx.open()?;
    let events = ledger.history(subject)?;
    if ctx.json {
        return print_json(&events);
    }
    if events.is_empty() {
        outln!("no events about {}", terminal::value(subject))?;
        return Ok(());
    }
    let mut t = Table::new(EVENT_HEADER);
    for e in &events {
        t.row(event_row(e));
    }
    output::print(&t.render())?;
    Ok(())
}

fn consenting(
    ctx: &Ctx,
    purpose: &str,
    recipient: Option<&str>,
    at: Option<&String>,
    format: FeedFormat,
) -> CliResult {
    let ledger = ctx.open()?;
    let at = opt_parse_time("--at", at)?;
    let c = ledger.consenting(purpose, recipient, at)?;
    if ctx.json || format == FeedFormat::Json {
        return print_json(&c);
    }
    // The trailer lines are records too, so a purpose id is quoted and neutralised
    // like any other cell.
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let io = |e: csv::Error| Failure::new(crate::exit::STORAGE, e.to_string());
    spreadsheet::write_record(&mut w, &["subject", "since", "until", "event_id"]).map_err(io)?;
    for s in &c.subjects {
        let since = s.since.to_string();
        let until = s.until.map(|t| t.to_string()).unwrap_or_default();
        let id = s.event_id.to_string();
        spreadsheet::write_record(&mut w, &[&s.subject, &since, &until, &id]).map_err(io)?;
    }
    let (at, n) = (c.at.to_string(), c.subjects.len().to_string());
    let trailer = ["# purpose", &c.purpose, "at", &at, "subjects", &n];
    spreadsheet::write_record(&mut w, &trailer).map_err(io)?;
    spreadsheet::write_record(&mut w, &["# head", &c.head.to_string()]).map_err(io)?;
    let body = w.into_inner().map_err(|e| Failure::usage(e.to_string()))?;
    output::emit(&String::from_utf8_lossy(&body))
}

fn changes(ctx: &Ctx, since: u64, limit: usize) -> CliResult {
    let ledger = ctx.open()?;
    let events = ledger.changes_since(since, limit)?;
    if ctx.json {
        let next = events.last().map_or(since, |e| e.seq + 1);
        return print_json(&json!({ "since": since, "next": next, "events": events }));
    }
    let mut header = EVENT_HEADER.to_vec();
    header.insert(4, "SUBJECT");
    let mut t = Table::new(&header);
    for e in &events {
        let mut row = event_row(e);
        let who = match (&e.subject, e.erased) {
            (Some(s), _) => s.clone(),
            (None, true) => "[erased]".into(),
            (None, false) => "-".into(),
        };
        row.insert(4, who);
        t.row(row);
    }
    output::print(&t.render())?;
    let next = events.last().map_or(since, |e| e.seq + 1);
    outln!("{} events; continue with --since {next}", events.len())?;
    Ok(())
}

fn export(ctx: &Ctx, subject: &str, output: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    let x = ledger.export_subject(subject)?;
    let text = serde_json::to_string_pretty(&x).map_err(|e| Failure::usage(e.to_string()))? + "\n";
    output::write_out(output, &text)?;
    if let Some(p) = output {
        outln!(
            "subject-access copy of {subject}: {} events, {} purposes, {} notices, head {} → {}",
            x.events.len(),
            x.purposes.len(),
            x.notices.len(),
            x.head,
            p.display()
        )?;
    }
    Ok(())
}

fn verify(ctx: &Ctx, against: Option<&str>) -> CliResult {
    let ledger = ctx.open()?;
    let report = match against {
        Some(h) => {
            let head: Head = h
                .parse()
                .map_err(|e: consent_core::Error| Failure::usage(format!("--against: {e}")))?;
            ledger.verify_against(&head)?
        }
        None => {
            let size = ledger.head()?.size;
            let bar = (output::interactive() && size > 1 << 16).then(|| {
                let b = indicatif::ProgressBar::new(size);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "verifying {bar:40} {pos}/{len} events ({eta})",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
            let r = ledger.verify_with_progress(|done, _| {
                if let Some(b) = &bar {
                    b.set_position(done);
                }
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            r
        }
    };
    // A reader that closed stdout early must not turn tampering into exit 141.
    let printed = print_verify(ctx, &report, against);
    if report.ok {
        printed
    } else {
        let at = report
            .first_bad_seq
            .map_or(String::new(), |s| format!(" (first bad event #{s})"));
        Err(Failure::new(
            TAMPER,
            format!("TAMPERED: {}{at}", report.problem.unwrap_or_default()),
        ))
    }
}

fn print_verify(ctx: &Ctx, report: &VerifyReport, against: Option<&str>) -> CliResult {
    if ctx.json {
        print_json(report)?;
    } else if report.ok {
        outln!(
            "ok: {} events, every hash recomputed; head {}",
            report.size,
            report
                .head
                .as_ref()
                .map(Head::to_string)
                .unwrap_or_default()
        )?;
        if let Some(h) = against {
            outln!("the log still extends {h}")?;
        }
        if report.simulated {
            outln!("SIMULATED: this ledger was created with a simulated clock; its record times are not the system's")?;
        }
    }
    Ok(())
}

fn prove_consistency(ctx: &Ctx, old: &str, output: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    let old: Head = old
        .parse()
        .map_err(|e: consent_core::Error| Failure::usage(format!("OLD_HEAD: {e}")))?;
    let (proof, new): (ConsistencyProof, Head) = ledger.prove_consistency(&old, None)?;
    let file = receipt::ConsistencyFile {
        format: receipt::CONSISTENCY_FORMAT.into(),
        old_head: old.to_string(),
        new_head: new.to_string(),
        proof,
    };
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| Failure::usage(e.to_string()))? + "\n";
    output::write_out(output, &text)?;
    if let Some(p) = output {
        outln!("consistency proof {old} → {new} written to {}", p.display())?;
    }
    Ok(())
}

fn check_receipt(
    ctx: &Ctx,
    file: &Path,
    head: Option<&str>,
    consistency: Option<&Path>,
) -> CliResult {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", p.display())))
    };
    let text = read(file)?;
    let proof = consistency.map(read).transpose()?;
    let out = receipt::check(&text, head, proof.as_deref())?;
    if ctx.json {
        return print_json(&out);
    }
    outln!(
        "ok: event {} is leaf #{} of the log at head {}",
        out.record_id.as_deref().unwrap_or("?"),
        out.leaf_index,
        out.receipt_head
    )?;
    if let Some(h) = &out.later_head {
        outln!(
            "ok: the later head {h} extends the receipt's head, so the event is still on record"
        )?;
    }
    match out.clock.as_deref() {
        Some("simulated") => outln!(
            "SIMULATED: the ledger proves it was created with a simulated clock; its record times are not real"
        )?,
        Some(_) => outln!("ok: the ledger proves its record times come from the system clock")?,
        None => outln!("note: an older receipt; it does not prove the ledger's clock")?,
    }
    Ok(())
}

fn import(ctx: &Ctx, args: &crate::cli::ImportArgs) -> CliResult {
    let ledger = ctx.open()?;
    let report = crate::import::run(&ledger, args)?;
    // A reader that closed stdout early must not hide rejected rows.
    let printed = print_import(ctx, &report);
    if report.rejected.is_empty() {
        printed
    } else {
        Err(Failure::new(
            IMPORT_REJECTED,
            format!("{} rows rejected", report.rejected.len()),
        ))
    }
}

fn print_import(ctx: &Ctx, report: &crate::import::ImportReport) -> CliResult {
    if ctx.json {
        print_json(report)?;
    } else {
        for r in &report.rejected {
            output::warn(&format!("{}:{}: {}", report.file, r.line, r.reason));
        }
        let outcome = if report.dry_run {
            "dry run: nothing written".to_string()
        } else if report.committed {
            format!("imported {} new events", report.new)
        } else {
            "nothing imported (the file is all or nothing; fix the rows or pass --skip-invalid)"
                .to_string()
        };
        outln!(
            "{}: {} rows, {} already on record, {} rejected; {outcome}",
            report.file,
            report.rows,
            report.already_recorded,
            report.rejected.len()
        )?;
    }
    Ok(())
}

fn complete_erasures(ctx: &Ctx, wait: u64) -> CliResult {
    let ledger = ctx.open()?;
    let done = ledger.complete_erasures(std::time::Duration::from_secs(wait))?;
    if ctx.json {
        print_json(&json!({ "complete": done }))?;
    } else if done {
        outln!("erasures complete: the WAL is empty, erased values are gone from every file")?;
    }
    if !done {
        output::warn("erasure still PENDING: a reader still holds an old snapshot; try again when it has finished");
        return Err(Failure::new(crate::exit::ERASURE_PENDING, ""));
    }
    Ok(())
}

fn erase(ctx: &Ctx, subject: &str, reason: &str, actor: &str) -> CliResult {
    let ledger = ctx.open()?;
    let actor: Actor = actor.parse()?;
    let r = ledger.erase_subject(subject, reason, actor)?;
    if ctx.json {
        print_json(&r)?;
    } else {
        outln!(
            "erased {subject}: personal fields blanked in {} events; marker event #{} {}",
            r.events_erased,
            r.seq,
            r.event_id
        )?;
    }
    if !r.wal_truncated {
        output::warn("erasure PENDING: another connection held an old snapshot, so the erased values remain in the WAL; run `consent complete-erasures` once it has let go");
        return Err(Failure::new(crate::exit::ERASURE_PENDING, ""));
    }
    Ok(())
}
