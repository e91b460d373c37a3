//! The arguments of `consent downstream`, `feed` and `ack`.

use clap::{Args, Subcommand};
use consent_core::Actor;
use uuid::Uuid;

use super::values;

/// `consent downstream …`.
#[derive(Debug, Subcommand)]
pub enum DownstreamCmd {
    /// Register a downstream system (or a new version of it): the purposes and the
    /// recipient its feed may show. Registering it unchanged appends nothing.
    Register(RegisterArgs),
    /// Retire a downstream: its feed shows no new grant from now on, only the
    /// withdrawals and erasures of grants it was shown (it still holds their data).
    Retire {
        /// Downstream id.
        id: String,
        /// Who retires it: staff:ID or system:ID.
        #[arg(long, value_name = "ACTOR", value_parser = values::actor)]
        recorded_by: Actor,
    },
    /// Every registered downstream (its current version).
    List,
    /// One downstream: every version, its cursor (highest acknowledged seq) and its
    /// acknowledgements.
    Show {
        /// Downstream id.
        id: String,
    },
}

/// `consent downstream register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Downstream id, e.g. jmsu.feed.
    pub id: String,
    /// A name for people.
    #[arg(long)]
    pub name: String,
    /// The controller that runs it (e.g. JMSU).
    #[arg(long)]
    pub controller: String,
    /// A purpose its feed shows; repeat for several.
    #[arg(long = "purpose", value_name = "PURPOSE", required = true)]
    pub purposes: Vec<String>,
    /// Show only purpose-wide events and those naming this recipient (a registry id
    /// the purposes list, spelt exactly).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Who registers it: staff:ID or system:ID.
    #[arg(long, value_name = "ACTOR", value_parser = values::actor)]
    pub recorded_by: Actor,
}

/// `consent feed`.
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// Downstream id.
    pub downstream: String,
    /// First seq to show (default: right after the highest seq the downstream
    /// acknowledged with `consent ack --up-to`, else the start of the log).
    #[arg(long, value_name = "SEQ")]
    pub since: Option<u64>,
    /// At most this many items (per page with --follow).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Keep printing new items as they are appended (as `tail -f` does); with --json,
    /// one JSON object a line. Stops after --wait seconds without a new item, or when
    /// interrupted.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: stop after this many seconds without a new item (default: wait
    /// for ever).
    #[arg(long, value_name = "SECS", requires = "follow")]
    pub wait: Option<u64>,
}

/// `consent ack`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["up_to", "event"]))]
pub struct AckArgs {
    /// Downstream id.
    pub downstream: String,
    /// It acted on every event of its feed up to this seq (inclusive).
    #[arg(long, value_name = "SEQ")]
    pub up_to: Option<u64>,
    /// It acted on this one event of its feed (an event id).
    #[arg(long, value_name = "ID", value_parser = values::event_id)]
    pub event: Option<Uuid>,
    /// Who acknowledges: staff:ID or system:ID (default: system:DOWNSTREAM).
    #[arg(long, value_name = "ACTOR", value_parser = values::actor)]
    pub recorded_by: Option<Actor>,
}
