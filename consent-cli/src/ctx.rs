//! The state every command shares: where the ledger is, how to open it, and how times
//! are read and shown (`--utc`, `--now`, the ledger's time zone). Its own module so
//! that every command group depends on it and none on another.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use consent_core::{Calendar, Ledger, LedgerOptions, Synchronous, Timestamp};

use crate::cli::{Cli, Command, TimeArg};
use crate::exit::{CliResult, Failure, NOT_FOUND};
use crate::location::Location;
use crate::output::Times;

/// Shared state of one invocation.
pub(crate) struct Ctx {
    pub(crate) json: bool,
    /// `--utc`: show times in UTC and read times without an offset as UTC.
    utc: bool,
    /// `--ledger`: a file or a PostgreSQL URL.
    ledger: Option<Location>,
    pub(crate) key_file: Option<PathBuf>,
    /// `--synchronous`: how durable each commit is.
    pub(crate) synchronous: Synchronous,
    /// `--now` as given: read again in the ledger's time zone once it is open.
    now_text: Option<TimeArg>,
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
    /// The state of one invocation of `cli`. `--now` is read once here (to report a
    /// malformed one before anything else), in the zone a new ledger will have, and
    /// again in the ledger's own zone once it is open.
    pub(crate) fn new(cli: &Cli) -> CliResult<Ctx> {
        let time_zone = match &cli.command {
            Command::Init { time_zone } => time_zone.clone(),
            _ => None,
        };
        let now_ms = match &cli.now {
            Some(text) => {
                let cal = match (&time_zone, cli.utc) {
                    (_, true) => utc_calendar()?,
                    (Some(z), false) => {
                        Calendar::new(z).map_err(|e| Failure::usage(format!("--time-zone: {e}")))?
                    }
                    (None, false) => Calendar::default_zone(),
                };
                let t = text
                    .in_calendar(&cal)
                    .map_err(|e| Failure::usage(format!("--now: {e}")))?;
                Some(Arc::new(AtomicI64::new(t.as_millis())))
            }
            None => None,
        };
        Ok(Ctx {
            json: cli.json,
            utc: cli.utc,
            ledger: cli.ledger.clone().map(Location::new),
            key_file: cli.key_file.clone(),
            synchronous: cli.synchronous.into(),
            now_text: cli.now.clone(),
            now_ms,
            time_zone,
            cal: OnceCell::new(),
        })
    }

    pub(crate) fn options(&self, create: bool) -> CliResult<LedgerOptions> {
        let mut o = LedgerOptions {
            create,
            pseudonym_key: self.location()?.key_source(self.key_file.as_deref())?,
            synchronous: self.synchronous,
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
    pub(crate) fn adopt(&self, ledger: &Ledger) -> CliResult {
        let cal = if self.utc {
            utc_calendar()?
        } else {
            ledger.calendar()?
        };
        if let (Some(text), Some(cell)) = (&self.now_text, &self.now_ms) {
            let t = text
                .in_calendar(&cal)
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

    /// A time option as an instant: RFC 3339 as given, a date or local time in the
    /// ledger's zone (clap checked the form; a local time the zone skips, in the
    /// spring-forward hour, is refused here).
    pub(crate) fn opt_time(&self, what: &str, t: Option<&TimeArg>) -> CliResult<Option<Timestamp>> {
        t.map(|t| {
            t.in_calendar(&self.calendar())
                .map_err(|e| Failure::usage(format!("{what}: {e}")))
        })
        .transpose()
    }

    /// How times are shown, for the renderers of [`crate::output`]: local with its
    /// offset (`2025-08-01 00:30+01:00`), or UTC (`2025-07-31 23:30Z`) with --utc.
    pub(crate) fn times(&self) -> Times<'_> {
        Times {
            zone: self.cal.get().filter(|_| !self.utc),
        }
    }
}
