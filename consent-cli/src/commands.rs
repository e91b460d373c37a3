//! One function per subcommand. Each prints for people, or JSON with `--json`.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use consent_core::{
    Actor, Calendar, ConsistencyProof, Event, EventKind, Head, LawfulBasis, Ledger, LedgerOptions,
    Method, NewEvent, NoticeDef, Purpose, PurposeDef, Registered, Status, Timestamp, Validity,
    VerifyReport,
};
use serde_json::json;
use uuid::Uuid;

use crate::cli::{
    Cli, Command, EventArgs, ExportFormat, NoticeCmd, ProveCmd, PurposeAddArgs, PurposeCmd,
    RegistryCmd,
};
use crate::exit::{CliResult, Failure, NOT_FOUND, NOT_PERMITTED, REJECTED, TAMPER};
use crate::location::Location;
use crate::output::{self, fields, outln, print_json, short_hash, Table};
use crate::receipt;
use crate::terminal;

/// Shared state of one invocation.
pub(crate) struct Ctx {
    pub(crate) json: bool,
    /// `--utc`: show times in UTC and read times without an offset as UTC.
    utc: bool,
    /// `--ledger`: a file or a PostgreSQL URL.
    ledger: Option<Location>,
    key_file: Option<PathBuf>,
    /// `--now` as given: read again in the ledger's time zone once it is open.
    now_text: Option<String>,
    /// The simulated clock's reading (ms since the epoch), shared with the ledger.
    now_ms: Option<Arc<AtomicI64>>,
    /// The time zone of a ledger `init` creates.
    time_zone: Option<String>,
    /// The calendar times are read and shown in: the open ledger's, or UTC.
    cal: OnceCell<Calendar>,
}

fn utc_calendar() -> CliResult<Calendar> {
    Ok(Calendar::new("UTC")?)
}

impl Ctx {
    fn options(&self, create: bool) -> CliResult<LedgerOptions> {
        let mut o = LedgerOptions {
            create,
            pseudonym_key: self.location()?.key_source(self.key_file.as_deref())?,
            ..LedgerOptions::default()
        };
        if let Some(cell) = &self.now_ms {
            let cell = cell.clone();
            o.clock = Some(Arc::new(move || {
                Timestamp::from_millis(cell.load(Ordering::SeqCst)).unwrap_or(Timestamp::MIN)
            }));
        }
        o.time_zone.clone_from(&self.time_zone);
        Ok(o)
    }

    /// Whether `--ledger` names a PostgreSQL ledger.
    pub(crate) fn is_postgres(&self) -> bool {
        self.ledger.as_ref().is_some_and(Location::is_postgres)
    }

    /// Where the ledger is (`--ledger` or `CONSENT_LEDGER`).
    pub(crate) fn location(&self) -> CliResult<&Location> {
        self.ledger.as_ref().ok_or_else(|| {
            Failure::usage("no ledger: pass --ledger PATH|URL or set CONSENT_LEDGER")
        })
    }

    /// Opens an existing ledger; a missing file, or a schema without a ledger, is "not
    /// found", not a new ledger.
    pub(crate) fn open(&self) -> CliResult<Ledger> {
        let location = self.location()?;
        let missing = || {
            Failure::new(
                NOT_FOUND,
                format!("no ledger at {location} (create one with `consent init`)"),
            )
        };
        if let Location::File(path) = location {
            if !path.exists() {
                return Err(missing());
            }
        }
        let ledger = match Ledger::open_with(location.as_path(), self.options(false)?) {
            // The schema holds nothing (or does not exist): the core says so in its
            // words; the command line adds where and what to do.
            Err(consent_core::Error::NotFound(_)) if location.is_postgres() => {
                return Err(missing())
            }
            r => r?,
        };
        self.adopt(&ledger)?;
        Ok(ledger)
    }

    /// Takes the open ledger's calendar (or UTC with --utc) for reading and showing
    /// times, and reads --now again in it.
    fn adopt(&self, ledger: &Ledger) -> CliResult {
        let cal = if self.utc {
            utc_calendar()?
        } else {
            ledger.calendar()?
        };
        if let (Some(text), Some(cell)) = (&self.now_text, &self.now_ms) {
            let t = cal
                .parse(text)
                .map_err(|e| Failure::usage(format!("--now: {e}")))?;
            cell.store(t.as_millis(), Ordering::SeqCst);
        }
        let _ = self.cal.set(cal);
        Ok(())
    }

    /// The calendar of the open ledger (Europe/London before one is open).
    pub(crate) fn calendar(&self) -> Calendar {
        self.cal
            .get()
            .cloned()
            .unwrap_or_else(Calendar::default_zone)
    }

    /// Reads a time option: RFC 3339, or a date or time local to the ledger.
    pub(crate) fn parse_time(&self, what: &str, s: &str) -> CliResult<Timestamp> {
        self.calendar()
            .parse(s)
            .map_err(|e| Failure::usage(format!("{what}: {e}")))
    }

    pub(crate) fn opt_time(&self, what: &str, s: Option<&String>) -> CliResult<Option<Timestamp>> {
        s.map(|s| self.parse_time(what, s)).transpose()
    }

    /// A time for people: local with its offset (`2025-08-01 00:30+01:00`), or UTC
    /// (`2025-07-31 23:30Z`) with --utc.
    pub(crate) fn time(&self, t: Timestamp) -> String {
        match self.cal.get() {
            Some(c) if !self.utc => output::local_time(c, t),
            _ => output::time(t),
        }
    }
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
    let time_zone = match &cli.command {
        Command::Init { time_zone } => time_zone.clone(),
        _ => None,
    };
    // --now is read once now (to report a malformed one before anything else), in the
    // zone a new ledger will have, and again in the ledger's own zone once it is open.
    let now_ms = match cli.now.as_deref() {
        Some(text) => {
            let cal = match (&time_zone, cli.utc) {
                (_, true) => utc_calendar()?,
                (Some(z), false) => {
                    Calendar::new(z).map_err(|e| Failure::usage(format!("--time-zone: {e}")))?
                }
                (None, false) => Calendar::default_zone(),
            };
            let t = cal
                .parse(text)
                .map_err(|e| Failure::usage(format!("--now: {e}")))?;
            Some(Arc::new(AtomicI64::new(t.as_millis())))
        }
        None => None,
    };
    let ctx = Ctx {
        json: cli.json,
        utc: cli.utc,
        ledger: cli.ledger.map(Location::new),
        key_file: cli.key_file,
        now_text: cli.now,
        now_ms,
        time_zone,
        cal: OnceCell::new(),
    };
    match cli.command {
        Command::Init { .. } => init(&ctx),
        Command::Purpose(c) => purpose(&ctx, c),
        Command::Notice(c) => notice(&ctx, c),
        Command::Registry(RegistryCmd::Load { file, texts }) => {
            registry_load(&ctx, &file, texts.as_deref())
        }
        Command::Give(a) => record(&ctx, EventKind::Given, a.into()),
        Command::Refuse(a) => record(&ctx, EventKind::Refused, a.into()),
        Command::ServeNotice(a) => record(&ctx, EventKind::NoticeServed, a.into()),
        Command::Withdraw(a) => record(&ctx, EventKind::Withdrawn, a.into()),
        Command::Revoke(a) => record(&ctx, EventKind::Revoked, a.into()),
        Command::Invalidate(a) => record(&ctx, EventKind::Invalidated, a.into()),
        Command::Object(a) => record(&ctx, EventKind::Objected, a.into()),
        Command::OverruleObjection(a) => record(&ctx, EventKind::ObjectionOverruled, a.into()),
        Command::Status {
            subject,
            purpose,
            recipient,
            at,
            known_at,
            check,
            from_file,
            format,
        } => match (from_file, subject, purpose) {
            (Some(file), _, _) => crate::questions::status_file(&ctx, &file, format, check),
            (None, Some(subject), Some(purpose)) => status(
                &ctx,
                &subject,
                &purpose,
                recipient.as_deref(),
                at.as_ref(),
                known_at.as_ref(),
                check,
            ),
            _ => Err(Failure::usage(
                "give SUBJECT and PURPOSE, or --from-file FILE",
            )),
        },
        Command::History { subject } => history(&ctx, &subject),
        Command::Consenting {
            purpose,
            recipient,
            at,
            known_at,
            format,
            head_file,
        } => crate::consenting::consenting(
            &ctx,
            &purpose,
            recipient.as_deref(),
            (at.as_ref(), known_at.as_ref()),
            format,
            head_file.as_deref(),
        ),
        Command::Changes { since, limit } => changes(&ctx, since, limit),
        Command::Downstream(c) => crate::downstream::downstream(&ctx, c),
        Command::Feed(a) => crate::downstream::feed(&ctx, a),
        Command::Ack(a) => crate::downstream::ack(&ctx, a),
        Command::Overdue { at, all } => crate::downstream::overdue(&ctx, at.as_ref(), all),
        Command::Export {
            subject,
            format,
            output,
        } => export(&ctx, &subject, format, output.as_deref()),
        Command::Receipt {
            event_id,
            format,
            checkpoint,
            sign_with,
            output,
        } => {
            let ledger = ctx.open()?;
            let id = parse_uuid("EVENT_ID", &event_id)?;
            let source = match (&checkpoint, &sign_with) {
                (Some(c), _) if c.as_os_str() == "latest" => receipt::CheckpointSource::Latest,
                (Some(c), _) => receipt::CheckpointSource::File(c),
                (None, Some(k)) => receipt::CheckpointSource::SignWith(k),
                (None, None) => return Err(Failure::usage("give --checkpoint FILE")),
            };
            let text = receipt::build(&ledger, id, format, source)?;
            output::write_out(output.as_deref(), &text)?;
            if let Some(p) = output {
                outln!("receipt for event {id} written to {}", p.display())?;
            }
            Ok(())
        }
        Command::Verify { against, trust } => verify(&ctx, against.as_deref(), &trust),
        Command::Checkpoint(a) => crate::checkpoint::run(&ctx, a),
        Command::Witness(c) => crate::witness::run(&ctx, c),
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
        Command::Key(c) => crate::keys::key(&ctx, c),
        Command::CheckReceipt {
            file,
            log_key,
            witness_keys,
            quorum,
            head,
            consistency,
        } => check_receipt(
            &ctx,
            &file,
            &ReceiptKeys {
                log: &log_key,
                witnesses: &witness_keys,
                quorum,
            },
            head.as_deref(),
            consistency.as_deref(),
        ),
        Command::Import(args) => import(&ctx, &args),
        Command::Erase {
            subject,
            from_file,
            reason,
            actor,
            force,
            dry_run,
            report,
        } => {
            let how = crate::erasure::How {
                reason,
                actor,
                force,
                dry_run,
            };
            match (subject, from_file) {
                (_, Some(file)) => crate::erasure::erase_file(&ctx, &file, &how, report.as_deref()),
                (Some(subject), None) => crate::erasure::erase_one(&ctx, &subject, &how),
                (None, None) => Err(Failure::usage("give SUBJECT or --from-file FILE")),
            }
        }
        Command::Readmit {
            subject,
            reason,
            by,
        } => crate::erasure::readmit(&ctx, &subject, &reason, &by),
        Command::CompleteErasures { wait, rewrite } => complete_erasures(&ctx, wait, rewrite),
        Command::Report(a) => crate::report::run(&ctx, &a),
        Command::Completions { shell } => crate::completions::completions(shell),
        Command::Man { dir } => crate::completions::man(dir.as_deref()),
        Command::Copy { from, to } => {
            crate::copy::copy(&ctx, &Location::new(from), &Location::new(to))
        }
        Command::Grants {
            schema,
            role,
            access,
            apply,
        } => crate::grants::grants(&ctx, schema.as_deref(), &role, access.into(), apply),
    }
}

fn init(ctx: &Ctx) -> CliResult {
    let location = ctx.location()?;
    let (ledger, existed) = match location {
        Location::File(path) => {
            let existed = path.exists();
            (Ledger::open_with(path, ctx.options(true)?)?, existed)
        }
        // Nothing on disk tells whether the schema holds a ledger: opening one that
        // must exist does, and only "not found" goes on to create it.
        Location::Postgres(url) => match Ledger::open_with(url, ctx.options(false)?) {
            Ok(l) => (l, true),
            Err(consent_core::Error::NotFound(_)) => {
                (Ledger::open_with(url, ctx.options(true)?)?, false)
            }
            Err(e) => return Err(e.into()),
        },
    };
    ctx.adopt(&ledger)?;
    let head = ledger.head()?;
    let zone = ledger.time_zone()?;
    if ctx.json {
        return print_json(&json!({
            "ledger": location.to_string(),
            "created": !existed,
            "head": head.to_string(),
            "time_zone": zone
        }));
    }
    // An existing file may have been empty (init writes the ledger into it); a schema
    // was told apart exactly above.
    let created = !existed || (!location.is_postgres() && created_now(&ledger, &head));
    if !created {
        outln!(
            "ledger {location} already exists: {} events, head {head}, time zone {zone}",
            head.size
        )?;
    } else {
        outln!("created ledger {location} (time zone {zone})")?;
        if let Some(key) = location.key_file(ctx.key_file.as_deref()) {
            outln!(
                "pseudonym key in {} (0600): keep it, apart from the ledger; without it the ledger cannot answer for erased students",
                key.display()
            )?;
        }
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
            "--validity: `{s}` is not none, academic-year[:MM-DD], course-year or days:N"
        ))
    };
    Ok(match s {
        "none" => Validity::None,
        "academic-year" => Validity::ACADEMIC_YEAR,
        "course-year" => Validity::CourseYear,
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
        Validity::CourseYear => "a year from the start (course year)".into(),
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
            let Registered { value: p, new } = ledger.register_purpose_outcome(def)?;
            if ctx.json {
                return print_json(&p);
            }
            if new {
                outln!(
                    "registered purpose {} version {} (event #{})",
                    p.def.id,
                    p.version,
                    p.seq
                )?;
                if !p.material_change.is_empty() {
                    outln!(
                        "material change ({}): grants given under earlier versions no longer permit (needs_renewal) until the students are asked again",
                        p.material_change.join(", ")
                    )?;
                }
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
            let versions = ledger.purpose_versions(&id)?;
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
                        format!("{} (event #{})", ctx.time(p.registered_at), p.seq),
                    ),
                    (
                        "material change",
                        if p.material_change.is_empty() {
                            "-".into()
                        } else {
                            format!(
                                "{}: earlier grants need renewal",
                                p.material_change.join(", ")
                            )
                        },
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
    def.renew_consent = a.renew_consent;
    Ok(def)
}

fn notice(ctx: &Ctx, cmd: NoticeCmd) -> CliResult {
    let ledger = ctx.open()?;
    match cmd {
        NoticeCmd::Add {
            id,
            version,
            title,
            controller,
            purposes,
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
                controller,
                purposes,
            };
            let Registered { value: n, new } = ledger.register_notice_outcome(def)?;
            if ctx.json {
                return print_json(&n);
            }
            let what = if new {
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
            let mut t = Table::new(&[
                "NOTICE",
                "VERSION",
                "LANG",
                "SHA-256",
                "CONTROLLER",
                "COVERS",
                "TITLE",
            ]);
            for n in &all {
                t.row(vec![
                    n.def.id.clone(),
                    n.def.version.clone(),
                    n.def.language.clone(),
                    short_hash(&n.def.sha256),
                    if n.def.controller.is_empty() {
                        "-".into()
                    } else {
                        n.def.controller.clone()
                    },
                    if n.def.purposes.is_empty() {
                        "every purpose".into()
                    } else {
                        n.def.purposes.join(", ")
                    },
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
            } else if let Some(note) = &l.note {
                note.clone()
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

fn new_event(ctx: &Ctx, kind: EventKind, a: EventArgs) -> CliResult<NewEvent> {
    let (c, told) = (a.common, a.told);
    let mut e = NewEvent::new(kind, c.subject, c.purpose);
    e.recipient = c.recipient;
    e.notice = match (told.notice, told.notice_id, told.notice_version) {
        (Some(n), _, _) => Some(split_notice(&n).map_err(Failure::usage)?),
        (None, Some(id), Some(v)) => Some((id, v)),
        _ => None,
    };
    e.explicit = a.explicit;
    e.method = told
        .method
        .as_deref()
        .map(str::parse::<Method>)
        .transpose()?;
    e.recorded_by = c.recorded_by.parse::<Actor>()?;
    e.effective_at = ctx.opt_time("--at", c.at.as_ref())?;
    e.expires_at = ctx.opt_time("--expires", a.expires.as_ref())?;
    e.validity_from = ctx.opt_time("--validity-from", a.validity_from.as_ref())?;
    e.source_id = c.source_id;
    e.evidence = c
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

/// A text field of an event's non-personal details.
fn detail<'e>(e: &'e Event, key: &str) -> Option<&'e str> {
    e.details.as_ref()?.get(key)?.as_str()
}

/// The start a grant's validity is counted from, when it is not its effective time.
fn validity_from(e: &Event) -> Option<Timestamp> {
    detail(e, "validity_from").and_then(|t| Timestamp::parse(t).ok())
}

fn record(ctx: &Ctx, kind: EventKind, a: EventArgs) -> CliResult {
    let ledger = ctx.open()?;
    let asked_recipient = a.common.recipient.clone();
    let e = new_event(ctx, kind, a)?;
    let appended = ledger.append_outcome(e)?;
    let (ev, again) = (appended.event, !appended.new);
    if ctx.json {
        return print_json(&ev);
    }
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
        ("effective", ctx.time(ev.effective_at)),
        ("recorded", ctx.time(ev.recorded_at)),
    ];
    if let Some(r) = &ev.recipient {
        lines.push(("recipient", r.clone()));
    }
    if let Some(t) = validity_from(&ev) {
        lines.push(("counted from", ctx.time(t)));
    }
    if let Some(x) = ev.expires_at {
        lines.push(("lapses", ctx.time(x)));
    }
    if let Some(d) = ev.effect_deadline {
        if d != ev.effective_at {
            lines.push(("downstream by", ctx.time(d)));
        }
    }
    if let Some(n) = &ev.notice {
        lines.push((
            "notice",
            format!("{}@{} (sha256 {})", n.id, n.version, short_hash(&n.sha256)),
        ));
    }
    output::print(&fields(&lines))?;
    if kind == EventKind::Withdrawn && ev.kind == EventKind::Objected {
        let p = ledger.purpose(ev.purpose.as_deref().unwrap_or_default())?;
        outln!(
            "note: {} does not rest on consent ({}), so the withdrawal is recorded as an objection (Art. 21); processing stops unless staff overrule it (`consent overrule-objection`)",
            p.def.id,
            p.def.lawful_basis.describe()
        )?;
    }
    if let (Some(r), None) = (&asked_recipient, &ev.recipient) {
        outln!(
            "note: `{}` is not a recipient the purpose lists, so the {} is recorded for the whole purpose: it ends consent for every recipient (the text as written is kept)",
            terminal::value(r),
            ev.kind
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn status(
    ctx: &Ctx,
    subject: &str,
    purpose: &str,
    recipient: Option<&str>,
    at: Option<&String>,
    known_at: Option<&String>,
    check: bool,
) -> CliResult {
    let ledger = ctx.open()?;
    let at = ctx.opt_time("--at", at)?;
    let known = ctx.opt_time("--known-at", known_at)?;
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
    // A reader that closed stdout early must not turn "not permitted" into exit 141.
    let printed = print_status(ctx, &ledger, subject, recipient, &s);
    if check && !s.permits() {
        return Err(Failure::new(NOT_PERMITTED, ""));
    }
    printed
}

fn print_status(
    ctx: &Ctx,
    ledger: &Ledger,
    subject: &str,
    recipient: Option<&str>,
    s: &Status,
) -> CliResult {
    if ctx.json {
        let mut v = serde_json::to_value(s).map_err(|e| Failure::usage(e.to_string()))?;
        v["permits"] = json!(s.permits());
        return print_json(&v);
    }
    let versions = ledger.purpose_versions(&s.purpose)?;
    let p = versions
        .iter()
        .find(|p| p.version == s.purpose_version)
        .or(versions.last())
        .ok_or_else(|| consent_core::Error::UnknownPurpose(s.purpose.clone()))?;
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
        format!("{} — {}", s.state, receipt::describe_state(s.state)),
    )];
    if let Some(t) = s.since {
        lines.push(("since", ctx.time(t)));
    }
    if let Some(t) = s.until {
        lines.push(("until", ctx.time(t)));
    }
    if let Some(d) = s.effect_deadline {
        if Some(d) != s.since {
            lines.push(("downstream by", ctx.time(d)));
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
    lines.push(("asked at", ctx.time(s.at)));
    lines.push(("as known at", ctx.time(s.as_known_at)));
    output::print(&fields(&lines))?;
    Ok(())
}

fn event_row(ctx: &Ctx, e: &Event) -> Vec<String> {
    let detail = match e.kind {
        EventKind::PurposeDefined => format!("v{}", e.purpose_version.unwrap_or(0)),
        EventKind::NoticeDefined => e
            .notice
            .as_ref()
            .map_or(String::new(), |n| format!("{}@{}", n.id, n.version)),
        EventKind::SubjectErased => {
            detail(e, "reason").map_or(String::new(), |r| format!("reason: {r}"))
        }
        EventKind::SubjectReadmitted => {
            let mut s = detail(e, "reason").map_or(String::new(), |r| format!("reason: {r}"));
            if let Some(n) = e
                .details
                .as_ref()
                .and_then(|d| d.get("erasure_seq"))
                .and_then(|n| n.as_u64())
            {
                s.push_str(&format!(" · ends erasure #{n}"));
            }
            s
        }
        EventKind::DownstreamRegistered => {
            let d = e.details.as_ref();
            let get = |k: &str| d.and_then(|d| d.get(k));
            let mut s = format!(
                "{} v{}",
                terminal::text(get("id").and_then(|v| v.as_str()).unwrap_or("?")),
                get("version").and_then(|v| v.as_u64()).unwrap_or(0)
            );
            if get("retired").and_then(|v| v.as_bool()) == Some(true) {
                s.push_str(" · retired");
            }
            s
        }
        EventKind::DownstreamAcknowledged => {
            let mut s = terminal::text(detail(e, "downstream").unwrap_or("?")).into_owned();
            match (
                e.details
                    .as_ref()
                    .and_then(|d| d.get("up_to"))
                    .and_then(|n| n.as_u64()),
                e.target,
            ) {
                (Some(n), _) => s.push_str(&format!(" · acted up to #{n}")),
                (None, Some(t)) => s.push_str(&format!(" · acted on {t}")),
                (None, None) => {}
            }
            s
        }
        EventKind::LedgerConfigured => {
            let mut parts = Vec::new();
            if let Some(c) = detail(e, "clock") {
                parts.push(format!("clock {c}"));
            }
            if let Some(z) = detail(e, "time_zone") {
                parts.push(format!("time zone {z}"));
            }
            parts.join(" · ")
        }
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
            if detail(e, "asked_as") == Some("withdrawn") {
                parts.push("asked as a withdrawal".into());
            }
            if let Some(r) = detail(e, "unlisted_recipient") {
                parts.push(format!("recipient `{r}` not listed: purpose-wide"));
            }
            if let Some(t) = validity_from(e) {
                parts.push(format!("counted from {}", ctx.time(t)));
            }
            if let Some(x) = e.expires_at {
                parts.push(format!("lapses {}", ctx.time(x)));
            }
            if let Some(d) = e.effect_deadline.filter(|d| *d != e.effective_at) {
                parts.push(format!("downstream by {}", ctx.time(d)));
            }
            if e.erased {
                parts.push("[erased]".into());
            }
            parts.join(" · ")
        }
    };
    vec![
        e.seq.to_string(),
        ctx.time(e.effective_at),
        ctx.time(e.recorded_at),
        e.kind.to_string(),
        e.purpose.clone().unwrap_or_else(|| "-".into()),
        e.recipient.clone().unwrap_or_else(|| "-".into()),
        e.recorded_by.to_string(),
        detail,
    ]
}

pub(crate) const EVENT_HEADER: &[&str] = &[
    "#",
    "EFFECTIVE",
    "RECORDED",
    "EVENT",
    "PURPOSE",
    "RECIPIENT",
    "BY",
    "DETAILS",
];

/// The events as a table for people.
pub(crate) fn event_table(ctx: &Ctx, events: &[Event]) -> String {
    let mut t = Table::new(EVENT_HEADER);
    for e in events {
        t.row(event_row(ctx, e));
    }
    t.render()
}

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
    output::print(&event_table(ctx, &events))?;
    Ok(())
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
        let mut row = event_row(ctx, e);
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

fn export(ctx: &Ctx, subject: &str, format: ExportFormat, output: Option<&Path>) -> CliResult {
    let ledger = ctx.open()?;
    if format == ExportFormat::Html {
        let html = ledger.export_subject_html(subject)?;
        output::write_out(output, &html)?;
        if let Some(p) = output {
            outln!(
                "subject's copy of {} (HTML, {} bytes) → {} (0600)",
                terminal::value(subject),
                html.len(),
                p.display()
            )?;
        }
        return Ok(());
    }
    let x = ledger.export_subject(subject)?;
    let text = serde_json::to_string_pretty(&x).map_err(|e| Failure::usage(e.to_string()))? + "\n";
    output::write_out(output, &text)?;
    if let Some(p) = output {
        outln!(
            "subject-access copy of {}: {} events, {} purposes, {} notices, head {} → {} (0600)",
            terminal::value(subject),
            x.events.len(),
            x.purposes.len(),
            x.notices.len(),
            x.head,
            p.display()
        )?;
    }
    Ok(())
}

fn verify(ctx: &Ctx, against: Option<&str>, trust: &crate::checkpoint::TrustArgs) -> CliResult {
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
            let bar = output::progress(size, "verifying", size >= output::PROGRESS_MIN);
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
    if report.ok && trust.given() {
        // Every hash holds: now the checkpoints, printed with the report.
        return crate::checkpoint::verify_trust(ctx, &ledger, &report, against, trust);
    }
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

pub(crate) fn print_verify(ctx: &Ctx, report: &VerifyReport, against: Option<&str>) -> CliResult {
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

/// The keys `check-receipt` checks with, as given on the command line.
struct ReceiptKeys<'a> {
    log: &'a str,
    witnesses: &'a [String],
    quorum: Option<usize>,
}

fn check_receipt(
    ctx: &Ctx,
    file: &Path,
    keys: &ReceiptKeys<'_>,
    head: Option<&str>,
    consistency: Option<&Path>,
) -> CliResult {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", p.display())))
    };
    let text = read(file)?;
    let proof = consistency.map(read).transpose()?;
    let log_key = receipt::verifier_key("--log-key", keys.log)?;
    let witnesses = keys
        .witnesses
        .iter()
        .map(|w| receipt::verifier_key("--witness-key", w))
        .collect::<CliResult<Vec<_>>>()?;
    let quorum = keys.quorum.unwrap_or(witnesses.len());
    let out = receipt::check(&text, &log_key, &witnesses, quorum, head, proof.as_deref())?;
    if ctx.json {
        return print_json(&out);
    }
    outln!(
        "ok: event {} ({}) is entry {} of the log {} at head {}, checked with the verifier keys alone",
        out.event_id,
        out.kind,
        out.seq,
        out.log,
        out.receipt_head
    )?;
    if out.simulated {
        outln!(
            "SIMULATED: the ledger proves it was created with a simulated clock; its record times are not real"
        )?;
    }
    outln!("proved:")?;
    for p in &out.proved {
        outln!("  - {p}")?;
    }
    outln!("not proved:")?;
    for p in &out.not_proved {
        outln!("  - {p}")?;
    }
    if let Some(h) = &out.later_head {
        outln!(
            "ok: the later head {h} extends the receipt's head, so the event is still on record"
        )?;
    }
    Ok(())
}

fn import(ctx: &Ctx, args: &crate::cli::ImportArgs) -> CliResult {
    let ledger = ctx.open()?;
    let report = crate::import::run(&ledger, args, &ctx.calendar())?;
    // A reader that closed stdout early must not hide rejected rows.
    let printed = print_import(ctx, &report);
    if report.rejected.is_empty() {
        printed
    } else {
        Err(Failure::new(
            REJECTED,
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

fn complete_erasures(ctx: &Ctx, wait: u64, rewrite: bool) -> CliResult {
    let ledger = ctx.open()?;
    let mut done = ledger.complete_erasures(std::time::Duration::from_secs(wait))?;
    if done && rewrite {
        done = ledger.rewrite_erased()?;
    }
    if ctx.json {
        print_json(
            &json!({ "complete": done, "rewritten": done && rewrite && ctx.is_postgres() }),
        )?;
    } else if done && ctx.is_postgres() && rewrite {
        outln!("erasures complete: the ledger's tables were vacuumed and rewritten into new files; no row, index entry or page of them holds an erased value (the server's WAL and backups keep them until recycled: docs/POSTGRES.md \"Erasure\")")?;
    } else if done && ctx.is_postgres() {
        outln!("erasures complete: the ledger's tables are vacuumed, no row or index entry holds an erased value (freed space in their pages may until reused: --rewrite rewrites them; the server's WAL and backups keep them until recycled: docs/POSTGRES.md \"Erasure\")")?;
    } else if done {
        outln!("erasures complete: the WAL is empty, erased values are gone from every file")?;
    }
    if !done && ctx.is_postgres() {
        crate::erasure::pending_warning(ctx);
        return Err(Failure::new(crate::exit::ERASURE_PENDING, ""));
    }
    if !done {
        output::warn("erasure still PENDING: a reader still holds an old snapshot; try again when it has finished");
        return Err(Failure::new(crate::exit::ERASURE_PENDING, ""));
    }
    Ok(())
}
