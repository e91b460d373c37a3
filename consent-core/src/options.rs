//! How a ledger is opened: [`LedgerOptions`] and the durability setting.

use std::time::Duration;

use crate::key::KeySource;
use crate::timestamp::Timestamp;

/// Durability of each commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync on every commit (default): an acknowledged event survives power loss.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a process crash, not a power cut.
    Normal,
}

/// Options for [`crate::Ledger::open_with`].
#[derive(Clone)]
pub struct LedgerOptions {
    /// Durability (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long to wait for another writer's lock (default 30 s).
    pub busy_timeout: Duration,
    /// Open read-only (no writes, no schema creation).
    pub read_only: bool,
    /// Create a new ledger when the path does not exist or is an empty file (default
    /// true). Without it only an existing ledger opens: tools that check or read a
    /// ledger pass false, so a mistyped path or a 0-byte file is an error instead of
    /// a fresh, empty ledger that answers "never asked" for everyone.
    pub create: bool,
    /// Cap on the file's size in database pages (4 KiB each): a quota, and the way
    /// tests make the disk "full". `None` (default) means no cap.
    pub max_pages: Option<u64>,
    /// A simulated clock (tests, the demo). Only a ledger *created* with a clock is a
    /// simulation, and it says so in its hashed first event, in `verify` and in every
    /// receipt; a real ledger refuses a clock, since record times must come from the
    /// system clock. Default: the system clock.
    pub clock: Option<std::sync::Arc<dyn Fn() -> Timestamp + Send + Sync>>,
    /// Where the pseudonym key comes from (default: `<path>.key`, created with the
    /// ledger). See [`KeySource`].
    pub pseudonym_key: KeySource,
    /// How long [`crate::Ledger::erase_subject`] keeps retrying to truncate the WAL
    /// while another connection holds an old snapshot (default 2 s).
    pub erasure_wait: Duration,
    /// The institution's time zone (IANA name) for a new ledger, hashed into its first
    /// event: the academic year ends at midnight there. Default Europe/London. Opening
    /// an existing ledger with another zone is an error.
    pub time_zone: Option<String>,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(30),
            read_only: false,
            create: true,
            max_pages: None,
            clock: None,
            pseudonym_key: KeySource::Beside,
            erasure_wait: Duration::from_secs(2),
            time_zone: None,
        }
    }
}

impl std::fmt::Debug for LedgerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerOptions")
            .field("synchronous", &self.synchronous)
            .field("busy_timeout", &self.busy_timeout)
            .field("read_only", &self.read_only)
            .field("create", &self.create)
            .field("max_pages", &self.max_pages)
            .field("clock", &self.clock.as_ref().map(|_| "simulated"))
            .field("pseudonym_key", &self.pseudonym_key)
            .field("erasure_wait", &self.erasure_wait)
            .finish()
    }
}
