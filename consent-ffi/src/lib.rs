//! # consent-ffi
//!
//! The C ABI of consent-ledger, for Student Information System integrations. The
//! header `include/consent.h` is generated from this crate by cbindgen (`make header`);
//! every doc comment here ends up in it.
//!
//! ## Rules of the ABI
//! Written once, at the top of `include/consent.h` (from `cbindgen.toml`): handles and
//! their lifetimes, result codes and out-parameters, arrays, strings, times, threads,
//! the library's names and symbols, and how the ABI may grow within a SONAME. Every
//! function's and struct's doc comment here adds only what is its own.
//!
//! ## Where each area lives
//! One module per C object or area, as rustls-ffi lays out its crate; every name is
//! re-exported here, so the C API is one flat namespace in Rust as in C.
//!
//! | Module | What it holds |
//! |---|---|
//! | `errors` | the version, the calling thread's last error, `consent_string_free` |
//! | `boundary` | result codes, the panic boundary, argument checks (NULL, UTF-8, arrays) |
//! | `time` | times at the boundary and their range |
//! | `enums` | event kinds, methods, states, key sources, durability |
//! | `ledger` | `consent_ledger` and `consent_options`: open, close, free, time zone |
//! | `writer` | where a write goes: the ledger, or an open batch |
//! | `registry` | purposes, notices, registry files |
//! | `events` | appends: `consent_append*`, give, refuse, withdraw, ... |
//! | `questions` | status, history as JSON, who consents, the change feed, subject-access copies |
//! | `history` | a subject's history as `consent_event` structs |
//! | `integrity` | head, verification, proofs, canonical bytes |
//! | `erasure` | erasure, readmission, completing erasures |
//! | `batch` | `consent_batch`: appends that land together |
//! | `backend` | copying a ledger between backends, PostgreSQL grants |
//! | `checkpoint` | signed checkpoints and their verification |
//! | `witness` | a witness that cosigns checkpoints |
//! | `downstream` | downstream systems, their feed as structs, acknowledgements |
//! | `owned` | pages the library allocates and frees in one call (feed, history) |
//! | `receipt` | receipts of an event, and checking one |
//! | `report` | the DPO's report |

#![deny(missing_docs)]
#![allow(non_camel_case_types)]
// Every function's contract is the header's: pointers are NULL or valid, strings are
// NUL-terminated. It is stated once, in the header's rules, instead of in a `# Safety`
// section per function.
#![allow(clippy::missing_safety_doc)]

// cbindgen writes the header module by module, in the order of their names.
mod backend;
mod batch;
mod boundary;
mod checkpoint;
mod downstream;
mod enums;
mod erasure;
mod errors;
mod events;
mod history;
mod integrity;
mod ledger;
mod owned;
mod questions;
mod receipt;
mod registry;
mod report;
mod time;
mod witness;
mod writer;

// Each area module sees the others' names through `use crate::*`.
pub use backend::*;
pub use batch::*;
pub use boundary::consent_result;
pub use checkpoint::*;
pub use downstream::*;
pub use enums::*;
pub use erasure::*;
pub use errors::*;
pub use events::*;
pub use history::*;
pub use integrity::*;
pub use ledger::*;
pub use questions::*;
pub use receipt::*;
pub use registry::*;
pub use report::*;
pub use time::*;
pub use witness::*;
pub(crate) use writer::*;
