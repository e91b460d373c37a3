/*
 * consent.h: the C ABI of consent-ledger, an append-only, tamper-evident ledger of
 * per-purpose consent.
 *
 * Build: cc app.c $(pkg-config --cflags --libs consent)
 *
 * Rules of the ABI
 * - Every symbol starts with consent_. A ledger is an opaque consent_ledger * from
 *   consent_ledger_open(), released with consent_ledger_free() (NULL is fine; never
 *   twice, and never use a handle after freeing it: that is undefined behaviour).
 *   consent_ledger_close() releases the file early; later calls on the handle return
 *   CONSENT_RESULT_CLOSED. A batch is an opaque consent_batch * from
 *   consent_batch_begin(), released with consent_batch_free() under the same rules; it
 *   keeps its ledger open until it is freed.
 * - Fallible functions return a consent_result; CONSENT_RESULT_OK (0) is success. The
 *   numbers are fixed and never reused. Out-parameters are written only on success.
 *   consent_last_error_message() copies the message of the last failure on the
 *   calling thread into a caller buffer; messages never contain a subject id.
 * - Each function's doc ends with an "Errors:" line naming the codes that are its own.
 *   Any function may also return the common ones, not repeated there:
 *   CONSENT_RESULT_NULL_ARGUMENT (a required pointer is NULL), CONSENT_RESULT_INVALID_UTF8
 *   (a string is not UTF-8), CONSENT_RESULT_INVALID_ARGUMENT (a malformed argument: an
 *   identifier that breaks the rule below, a value outside its enum, bad JSON),
 *   CONSENT_RESULT_PANIC (a bug); and one that takes a ledger or batch:
 *   CONSENT_RESULT_CLOSED, CONSENT_RESULT_BATCH, CONSENT_RESULT_BUSY, and the
 *   storage's CONSENT_RESULT_KEY, _READ_ONLY, _FULL, _IO, _STORAGE, _CORRUPT.
 * - Arrays in and out are a pointer and a count n (NULL only when n is 0; an out-array
 *   has room for n entries). An error about one element names it in the message
 *   ("events[3].subject") and in consent_last_error_index() (else CONSENT_INDEX_NONE).
 * - Strings in are NUL-terminated UTF-8, read only during the call; optional ones may
 *   be NULL. Strings out (char *, JSON) belong to the caller: free them with
 *   consent_string_free(). Strings returned as const char * are never freed by the
 *   caller: static, or (as the struct's doc says) owned by the ledger handle or by a
 *   page the library allocated, and valid until that is freed.
 *   Byte buffers out (uint8_t *, with a length) are freed with consent_bytes_free().
 * - Identifiers (subject, purpose, recipient, notice, source and actor ids) must be
 *   Unicode NFC with no control characters and no white space at either end; others
 *   are refused with CONSENT_RESULT_INVALID_ARGUMENT, never silently changed.
 * - Times are int64_t milliseconds since 1970-01-01T00:00:00Z (UTC), between
 *   CONSENT_TIME_MIN and CONSENT_TIME_MAX. CONSENT_TIME_ABSENT means "not given" for an
 *   input and "none" for an output.
 * - Initialise consent_event_params with consent_event_params_init() and
 *   consent_options with consent_options_init() before setting fields.
 * - The pseudonym key is never stored in the ledger file: by default it is the file
 *   <ledger>.key, created (0600) with a new ledger; keep it, and back it up apart from
 *   the ledger. A ledger opened without its key, or with another, is CONSENT_RESULT_KEY.
 * - A ledger may live in PostgreSQL instead of a file: consent_ledger_open() takes a
 *   URL, postgresql://user@host/db?schema=NAME (docs/POSTGRES.md), with the pseudonym
 *   key as a file or as bytes. consent_ledger_copy_to() copies a ledger between a file
 *   and a schema with the same head; consent_grants_sql() gives the SQL for a role.
 * - A clock (consent_options.clock) is for simulations only: a ledger created with one
 *   is a simulation for good (consent_ledger_is_simulated(), and the verify report's
 *   `simulated`), and a real ledger refuses one (CONSENT_RESULT_INVALID_ARGUMENT).
 * - No input can make the library panic across the boundary or crash on NULL or bad
 *   UTF-8; non-NULL pointers must still point at what their type says.
 *
 * Threads
 * - One consent_ledger * may be shared by any number of threads at once: every call
 *   is atomic (calls on one handle are serialised). Many processes may open the same
 *   file; SQLite's write lock serialises their appends. Many handles, processes and
 *   hosts may open the same PostgreSQL ledger, each handle on its own connection; a
 *   lock the server holds for each write transaction serialises their appends.
 * - A batch belongs to its consent_batch *, never to the ledger: while it is open,
 *   other threads' calls on the ledger wait until it ends (at most the busy timeout,
 *   then CONSENT_RESULT_BUSY) and never join it, so a rollback only undoes the batch's
 *   own appends. On the thread that began it, calls on the ledger itself return
 *   CONSENT_RESULT_BATCH: make them through the batch. A batch handle may move between
 *   threads, one call at a time.
 * - consent_ledger_free() and consent_batch_free() must not run while another thread
 *   still uses that handle.
 * - The last error is per thread.
 *
 * The library's names and symbols
 * - libconsent.so.X.Y.Z is the file. Its SONAME, CONSENT_SONAME (libconsent.so.0.Y
 *   while X is 0, libconsent.so.X after), is the name a program linked with -lconsent
 *   records and asks the loader for; `make install` creates the link of that name and
 *   libconsent.so, the one -lconsent finds, and runs ldconfig in a prefix the loader
 *   searches (/usr/local, /usr).
 * - Only consent_* symbols are exported: by libconsent.so, and by the libconsent.a
 *   `make install` writes, whose Rust code and SQLite are one object with every other
 *   symbol local. A program may link the system SQLite (or another Rust static
 *   library) beside it: neither sees the other's functions. Link it statically with
 *   cc app.c PREFIX/lib/libconsent.a -lpthread -ldl -lm (add -Wl,--gc-sections to
 *   leave out what the program never calls).
 *
 * Growing the ABI (within one SONAME, a program built against an older consent.h keeps
 * working; consent-ffi/tests/abi/libconsent.abi records the ABI, and `make test-c`
 * fails when the library no longer matches it, saying whether a new SONAME is needed)
 * - Functions, constants, result codes and enum values are only ever added: never
 *   removed, never changed, numbers never reused.
 * - Structs the caller allocates, embeds or indexes in an array (every struct in this
 *   header but the pages, consent_feed_page and consent_history_page) never change, not even by a field added at the end:
 *   the library would read or write past an older caller's struct (consent_options_init
 *   writes the whole of it). Changing one means a new SONAME: the next minor version
 *   while the major is 0, the next major after.
 * - The pages, which only the library allocates and frees, may grow at the end; never
 *   copy one by value. (Their items may not: a caller steps through them with the size
 *   of consent_feed_item or consent_event it was built with.)
 */


#ifndef CONSENT_H
#define CONSENT_H

/* Generated by cbindgen from consent-ffi/src; do not edit. Regenerate with `make header`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// "No element": what consent_last_error_index() returns when the last call did not
// fail on one element of an array argument.
#define CONSENT_INDEX_NONE SIZE_MAX

// The SONAME of the shared library this header belongs to: the name a program linked
// with -lconsent asks the loader for. It changes whenever the ABI may break (see
// "Growing the ABI" above): at every minor version while the major is 0, at every
// major version after.
#define CONSENT_SONAME "libconsent.so.0.2"

// Bytes always enough for the SQL of `consent_grants_sql` and its NUL (a schema and
// a role of at most 63 bytes each, PostgreSQL's longest names).
#define CONSENT_GRANTS_SQL_LEN 2048

// Bytes a verifier key needs besides its name: `+`, the 8 hex digits of the key id,
// `+`, 44 base64 characters, and the NUL. A buffer of `strlen(name) +
// CONSENT_VKEY_OVERHEAD` bytes always holds the key `consent_key_generate` writes.
#define CONSENT_VKEY_OVERHEAD 55

// Bytes of an event kind's name and its NUL in a `consent_feed_item`.
#define CONSENT_KIND_LEN 32

// The `since` of `consent_feed` that continues after the downstream's highest
// acknowledged seq (its cursor, kept in the ledger), or from the start of the log.
#define CONSENT_FEED_CURSOR UINT64_MAX

// A flag of the erasure functions ([`consent_erase_subject_with`],
// [`consent_erase_subjects_json`]): record the erasure of an id the ledger holds no
// event about (without it such an id is `CONSENT_RESULT_NOT_FOUND`, or `unknown` in a
// bulk report: most likely a mistyped id, and an erased id cannot consent again until
// it is readmitted).
#define CONSENT_ERASE_FORCE 1

// Major version of the library this header belongs to.
#define CONSENT_VERSION_MAJOR 0

// Minor version of the library this header belongs to.
#define CONSENT_VERSION_MINOR 2

// Patch version of the library this header belongs to.
#define CONSENT_VERSION_PATCH 0

// Bytes in an event id buffer: a hyphenated UUID (36 characters) and its NUL.
#define CONSENT_EVENT_ID_LEN 37

// "The ledger's current size", where a tree size is optional.
#define CONSENT_SIZE_CURRENT UINT64_MAX

// Bytes always enough for a head written `SIZE:ROOTHEX` and its NUL.
#define CONSENT_HEAD_STRING_LEN 86

// Bytes of the problem text in a [`consent_verify_report`] (longer text is cut).
#define CONSENT_PROBLEM_LEN 256

// Bytes of a pseudonym key ([`consent_options::pseudonym_key`]).
#define CONSENT_KEY_LEN 32

// Bytes always enough for a ledger's time-zone name and its NUL
// ([`consent_ledger_time_zone`]): every IANA name is shorter.
#define CONSENT_TIME_ZONE_LEN 64

// "No time": an optional time that is not given, or an output time that does not exist.
#define CONSENT_TIME_ABSENT INT64_MIN

// The earliest time accepted: 0001-01-01T00:00:00.000Z.
#define CONSENT_TIME_MIN -62135596800000

// The latest time accepted: 9999-12-31T23:59:59.999Z.
#define CONSENT_TIME_MAX 253402300799999

// What a call did. `CONSENT_RESULT_OK` (0) is success; every other value is an error
// whose message `consent_last_error_message` returns. The numbers are fixed and never
// reused: 2..=23 mirror `consent_core::ErrorKind`, 100 and up belong to the C layer.
enum consent_result
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Success.
  CONSENT_RESULT_OK = 0,
  // An error of a kind this build does not name (a newer consent-core).
  CONSENT_RESULT_OTHER = 1,
  // An argument is malformed (empty id, bad JSON, bad enum value, ...).
  CONSENT_RESULT_INVALID_ARGUMENT = 2,
  // A time is out of range (years 1..9999) or missing where required.
  CONSENT_RESULT_INVALID_TIME = 3,
  // The purpose id is not registered.
  CONSENT_RESULT_UNKNOWN_PURPOSE = 4,
  // The notice id/version is not registered.
  CONSENT_RESULT_UNKNOWN_NOTICE = 5,
  // The recipient is not among the purpose's allowed recipients.
  CONSENT_RESULT_UNKNOWN_RECIPIENT = 6,
  // The event breaks the consent rules (e.g. a special-category grant that is not
  // explicit, a grant without a notice).
  CONSENT_RESULT_INVALID_CONSENT = 7,
  // The subject has been erased; only withdrawals and objections can be recorded.
  CONSENT_RESULT_SUBJECT_ERASED = 8,
  // A source id or registry key was reused with different content.
  CONSENT_RESULT_CONFLICT = 9,
  // No event, purpose or notice with that key (or no ledger file at the path).
  CONSENT_RESULT_NOT_FOUND = 10,
  // The ledger is structurally damaged, or its schema differs from the library's
  // (e.g. an extra trigger).
  CONSENT_RESULT_CORRUPT = 11,
  // The file was written by a newer version of the library.
  CONSENT_RESULT_SCHEMA_TOO_NEW = 12,
  // The linked SQLite is too old.
  CONSENT_RESULT_SQLITE_TOO_OLD = 13,
  // The ledger (or its folder) is read-only.
  CONSENT_RESULT_READ_ONLY = 14,
  // The disk is full; nothing was written.
  CONSENT_RESULT_FULL = 15,
  // Another writer held the lock longer than the busy timeout.
  CONSENT_RESULT_BUSY = 16,
  // The ledger handle has been closed with `consent_ledger_close`.
  CONSENT_RESULT_CLOSED = 17,
  // A batch call out of turn: the batch has already ended, the calling thread
  // already has a batch open, or a call was made on the ledger (instead of through
  // the batch) by the thread that holds the ledger's open batch.
  CONSENT_RESULT_BATCH = 18,
  // An operating-system I/O error.
  CONSENT_RESULT_IO = 19,
  // Any other storage (SQLite) error.
  CONSENT_RESULT_STORAGE = 20,
  // A Merkle proof did not check out against the head given, or it is the proof
  // of another event than the one offered.
  CONSENT_RESULT_PROOF_REJECTED = 21,
  // The file is not a consent ledger (an empty file, another application's SQLite
  // file): refused before a byte of it is changed.
  CONSENT_RESULT_NOT_A_LEDGER = 22,
  // A key is missing, unreadable, or not the right one: the pseudonym key (not the
  // one the ledger was created with, or the ledger was opened without a key and the
  // call needs it), or a signing key file (readable by others, of the wrong role).
  CONSENT_RESULT_KEY = 23,
  // A signed note, checkpoint or key string was refused: malformed, not signed by
  // the key given, a signature that does not verify, a key of the wrong type.
  CONSENT_RESULT_NOTE = 24,
  // A checkpoint carries fewer cosignatures by distinct trusted witnesses than the
  // quorum asked for.
  CONSENT_RESULT_QUORUM_NOT_MET = 25,
  // A witness refused to cosign: a fork, a rollback, no valid consistency proof, an
  // unknown log (the message says which and where the evidence was written).
  CONSENT_RESULT_WITNESS_REFUSED = 26,
  // A receipt did not check out (the message names the check that failed).
  CONSENT_RESULT_RECEIPT_REJECTED = 27,
  // A required pointer argument was NULL.
  CONSENT_RESULT_NULL_ARGUMENT = 100,
  // A string argument was not valid UTF-8.
  CONSENT_RESULT_INVALID_UTF8 = 101,
  // The library panicked (a bug); the call had no effect on the caller's memory.
  CONSENT_RESULT_PANIC = 102,
  // A caller buffer was too small for the result.
  CONSENT_RESULT_BUFFER_TOO_SMALL = 103,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_result consent_result;
#else
typedef int32_t consent_result;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// How a ledger fails an authentic checkpoint ([`consent_checkpoint_verdict::finding`]).
enum consent_checkpoint_finding
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // The ledger holds the checkpoint.
  CONSENT_CHECKPOINT_FINDING_NONE = 0,
  // The ledger has fewer events than the checkpoint: its tail was removed.
  CONSENT_CHECKPOINT_FINDING_TRUNCATED = 1,
  // The ledger's root at the checkpoint's size differs: an event before that size
  // was changed, removed or inserted and the tree recomputed.
  CONSENT_CHECKPOINT_FINDING_REWRITTEN = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_checkpoint_finding consent_checkpoint_finding;
#else
typedef int32_t consent_checkpoint_finding;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// The state of consent in a [`consent_status`].
enum consent_state
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Consent is in force.
  CONSENT_STATE_GIVEN = 1,
  // The subject was asked and said no.
  CONSENT_STATE_REFUSED = 2,
  // The subject withdrew (from that moment on; earlier use stays lawful).
  CONSENT_STATE_WITHDRAWN = 3,
  // The controller stopped relying on the consent.
  CONSENT_STATE_REVOKED = 4,
  // The grant was never valid (retroactive).
  CONSENT_STATE_INVALIDATED = 5,
  // The grant lapsed (e.g. at the end of the academic year).
  CONSENT_STATE_EXPIRED = 6,
  // The subject objected.
  CONSENT_STATE_OBJECTED = 7,
  // No decision on record.
  CONSENT_STATE_NEVER_ASKED = 8,
  // The purpose does not rest on consent; see the lawful basis.
  CONSENT_STATE_NOT_CONSENT_BASED = 9,
  // The subject's records were erased; the ledger can no longer answer for them.
  CONSENT_STATE_ERASED = 10,
  // The grant was given under an earlier version of the purpose, which has since
  // changed materially (another lawful basis or controller, special-category data,
  // a new recipient, or a change its owner declared): the subject must be asked
  // again. Never permits; see `consent_status::granted_under_version`.
  CONSENT_STATE_NEEDS_RENEWAL = 11,
  // A state this build does not name (a newer consent-core).
  CONSENT_STATE_UNKNOWN = 99,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_state consent_state;
#else
typedef int32_t consent_state;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// The kind of an event appended with [`consent_append`] (the value of
// [`consent_event_params::kind`]).
enum consent_event_kind
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // The subject gave consent (needs a notice and a method).
  CONSENT_EVENT_KIND_GIVEN = 1,
  // The subject was asked and said no (needs a method).
  CONSENT_EVENT_KIND_REFUSED = 2,
  // The subject withdrew consent: never refused, never retroactive.
  CONSENT_EVENT_KIND_WITHDRAWN = 3,
  // The controller stopped relying on the consent (not retroactive).
  CONSENT_EVENT_KIND_REVOKED = 4,
  // A grant turned out never to have been valid (retroactive).
  CONSENT_EVENT_KIND_INVALIDATED = 5,
  // The subject objected to processing (legitimate interests / public task).
  CONSENT_EVENT_KIND_OBJECTED = 6,
  // A notice was shown to the subject (no decision; needs a notice).
  CONSENT_EVENT_KIND_NOTICE_SERVED = 7,
  // A person decided that the controller's compelling legitimate grounds override
  // the subject's objection (Art. 21(1)): processing may go on. Only for a purpose
  // that does not rest on consent, with an objection in force, recorded by
  // `staff:<id>`.
  CONSENT_EVENT_KIND_OBJECTION_OVERRULED = 8,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_event_kind consent_event_kind;
#else
typedef int32_t consent_event_kind;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// The readable layout of a receipt (the `layout` of `consent_receipt`).
enum consent_receipt_layout
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Fields of ISO/IEC TS 27560 (consent record information structure).
  CONSENT_RECEIPT_LAYOUT_ISO27560 = 1,
  // The Kantara Initiative Consent Receipt v1.1 layout.
  CONSENT_RECEIPT_LAYOUT_KANTARA = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_receipt_layout consent_receipt_layout;
#else
typedef int32_t consent_receipt_layout;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// How an event reached the ledger (the value of [`consent_event_params::method`]).
enum consent_method
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Not said (allowed except for grants and refusals).
  CONSENT_METHOD_NONE = 0,
  // The "My LJMU" portal or another self-service page.
  CONSENT_METHOD_PORTAL = 1,
  // A web form.
  CONSENT_METHOD_WEB_FORM = 2,
  // A paper form, typed in later.
  CONSENT_METHOD_PAPER = 3,
  // An email from the subject.
  CONSENT_METHOD_EMAIL = 4,
  // An automated feed from another system.
  CONSENT_METHOD_FEED = 5,
  // In person.
  CONSENT_METHOD_IN_PERSON = 6,
  // By telephone.
  CONSENT_METHOD_PHONE = 7,
  // Another system's API call.
  CONSENT_METHOD_API = 8,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_method consent_method;
#else
typedef int32_t consent_method;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// Durability of commits, for [`consent_options::synchronous`].
enum consent_synchronous
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // fsync on every commit (default): an acknowledged event survives power loss. In
  // PostgreSQL, `synchronous_commit = on`.
  CONSENT_SYNCHRONOUS_FULL = 0,
  // fsync at checkpoints only: survives a process crash, not a power cut. In
  // PostgreSQL, `synchronous_commit = off`: survives a client crash, not a server's.
  CONSENT_SYNCHRONOUS_NORMAL = 1,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_synchronous consent_synchronous;
#else
typedef int32_t consent_synchronous;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// Where the pseudonym key of a ledger comes from, for
// [`consent_options::pseudonym_key_source`]. The key turns subject ids into keyed
// pseudonyms; it is never stored in the ledger file, and the ledger commits to its id
// in its first event, so a missing or different key is `CONSENT_RESULT_KEY`.
enum consent_key_source
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // The key file beside the ledger, `<ledger path>.key` (created 0600 with a new
  // ledger); a new random key for a ledger in memory. The default.
  CONSENT_KEY_SOURCE_BESIDE = 0,
  // The key file at [`consent_options::pseudonym_key_path`] (created 0600 with a new
  // ledger when missing). Not for ledgers in memory.
  CONSENT_KEY_SOURCE_FILE = 1,
  // The [`CONSENT_KEY_LEN`] bytes in [`consent_options::pseudonym_key`], supplied by
  // the application.
  CONSENT_KEY_SOURCE_BYTES = 2,
  // No key: read-only opens only. Verification and proofs work; questions about a
  // subject return `CONSENT_RESULT_KEY`.
  CONSENT_KEY_SOURCE_NONE = 3,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_key_source consent_key_source;
#else
typedef int32_t consent_key_source;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// What a signing key signs with (the `role` of `consent_key_generate` and
// `consent_key_verifier`).
enum consent_key_role
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // The ledger's own key: signs checkpoints (Ed25519, signed-note type 0x01). Its
  // name is the log's origin, e.g. `ljmu.ac.uk/consent`.
  CONSENT_KEY_ROLE_LOG = 1,
  // A witness's key: cosigns checkpoints it has checked (cosignature/v1, type 0x04),
  // e.g. `dpo.ljmu.ac.uk/witness`.
  CONSENT_KEY_ROLE_WITNESS = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_key_role consent_key_role;
#else
typedef int32_t consent_key_role;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// What a PostgreSQL role may do with a ledger (the `access` of `consent_grants_sql`;
// docs/POSTGRES.md "Roles").
enum consent_access
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Read everything: status, history, proofs, verification.
  CONSENT_ACCESS_READ = 1,
  // Read, and append: INSERT into the log's tables, never UPDATE, DELETE or
  // TRUNCATE of an event.
  CONSENT_ACCESS_APPEND = 2,
  // Append, and erase and readmit subjects (through the one function that blanks a
  // subject's events).
  CONSENT_ACCESS_ERASE = 3,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum consent_access consent_access;
#else
typedef int32_t consent_access;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// An open batch on a ledger, from [`consent_batch_begin`]. Opaque. Appends made
// through it land together on [`consent_batch_commit`] or not at all. It keeps its
// ledger open (even after [`consent_ledger_free`]) until [`consent_batch_free`].
typedef struct consent_batch consent_batch;

// An open ledger. Opaque; share it between threads freely.
typedef struct consent_ledger consent_ledger;

// A witness over a state directory, from `consent_witness_open`. Opaque; released
// with `consent_witness_free`. May be shared between threads: cosignatures queue on
// its lock, and two processes on one state directory cannot both move a log's state.
typedef struct consent_witness consent_witness;

// Options for [`consent_ledger_open`]. Fill with [`consent_options_init`] first, then
// change what you need; NULL options mean the defaults. Its layout is fixed for a
// SONAME (consent.h, "Growing the ABI").
typedef struct consent_options {
  // A `consent_synchronous` value (default `CONSENT_SYNCHRONOUS_FULL`).
  int32_t synchronous;
  // How long to wait for another writer's lock, in ms (default 30000; negative means
  // the default; at most `INT32_MAX`). In PostgreSQL also the connection's timeout
  // (at most 30 s).
  int64_t busy_timeout_ms;
  // Open read-only: no writes, no schema creation (default false).
  bool read_only;
  // Create a new ledger when the path does not exist or is an empty file (default
  // true). Programs that only read or check a ledger pass false, so that a mistyped
  // path is `CONSENT_RESULT_NOT_FOUND` and an empty file `CONSENT_RESULT_NOT_A_LEDGER`
  // instead of a new, empty ledger that answers "never asked" for everyone.
  bool create;
  // A simulated clock: "now" in ms since the epoch, or NULL for the system clock
  // (default). Only for simulations (tests, demos, replays): a ledger *created*
  // with a clock (a new file, or in memory) is a simulation for good, says so in its
  // hashed first event and in `consent_verify_report.simulated`, and may be reopened
  // with a clock; opening a real ledger (created without one) with a clock is
  // `CONSENT_RESULT_INVALID_ARGUMENT`. Called from any thread that uses the ledger,
  // with the ledger locked: it must be thread-safe and must not call this library.
  // Results outside the supported range are clamped. A simulation's record times
  // are what its clock says, even earlier than the last one (a real ledger's never
  // go backwards).
  int64_t (*clock)(void *context);
  // Passed to `clock`; must stay valid until the ledger is freed.
  void *clock_context;
  // Where the pseudonym key comes from: a `consent_key_source` value (default
  // `CONSENT_KEY_SOURCE_BESIDE`, the file `<ledger path>.key`; a ledger in
  // PostgreSQL needs `CONSENT_KEY_SOURCE_FILE` or `CONSENT_KEY_SOURCE_BYTES`).
  int32_t pseudonym_key_source;
  // With `CONSENT_KEY_SOURCE_FILE`: the key file's path (NUL-terminated, read only
  // during the open). Must be NULL with any other source.
  const char *pseudonym_key_path;
  // With `CONSENT_KEY_SOURCE_BYTES`: the key. Ignored with any other source.
  uint8_t pseudonym_key[CONSENT_KEY_LEN];
  // How long [`consent_erase_subject`] keeps retrying to complete an erasure while
  // another connection holds an old snapshot, in ms (default 2000; negative means
  // the default).
  int64_t erasure_wait_ms;
  // The institution's time zone, an IANA name such as "Europe/London"
  // (NUL-terminated, read only during the open), or NULL for the default. A new
  // ledger commits to it (default "Europe/London") in its first, hashed event:
  // academic years end at local midnight there. Opening an existing ledger with
  // another zone is `CONSENT_RESULT_INVALID_ARGUMENT`; NULL opens it with its own
  // ([`consent_ledger_time_zone`]).
  const char *time_zone;
} consent_options;

// A head of the log: its size and Merkle root. Keep one elsewhere to detect a
// rewritten or truncated log later ([`consent_verify_against`]).
typedef struct consent_head {
  // Number of events.
  uint64_t size;
  // RFC 9162 Merkle tree hash of those events.
  uint8_t root[32];
} consent_head;

// The parameters of an event for [`consent_append`]. Fill with
// [`consent_event_params_init`] first (it sets every time to `CONSENT_TIME_ABSENT`,
// which zero-filling would not), then set what you need. Strings may be NULL when
// optional; they are only read during the call.
typedef struct consent_event_params {
  // A `consent_event_kind` value. Required.
  int32_t kind;
  // The data subject (student id). Required.
  const char *subject;
  // The purpose id. Required.
  const char *purpose;
  // The recipient the consent names, or NULL.
  const char *recipient;
  // The notice shown: id and version, both or neither. Required for grants.
  const char *notice_id;
  // See `notice_id`.
  const char *notice_version;
  // Explicit consent (Art. 9(2)(a)): the subject expressly confirmed a statement.
  // Required for grants of special-category purposes. (`explicit` elsewhere; a C++
  // keyword, so not a name this header can use.)
  bool explicit_consent;
  // A `consent_method` value; `CONSENT_METHOD_NONE` if not said. Required for
  // grants and refusals.
  int32_t method;
  // Who recorded it: `subject`, `staff:<id>` or `system:<id>`; NULL = `subject`.
  const char *recorded_by;
  // When it happened (event time); `CONSENT_TIME_ABSENT` = when recorded.
  int64_t effective_at_ms;
  // When a grant lapses; `CONSENT_TIME_ABSENT` = the purpose's validity rule.
  int64_t expires_at_ms;
  // The caller's idempotency key, or NULL. A retry with the same key and content
  // returns the event already recorded; other content is `CONSENT_RESULT_CONFLICT`.
  const char *source_id;
  // Free-form evidence as a JSON object text, or NULL.
  const char *evidence_json;
  // For invalidations: the id of the grant that was never valid, or NULL for every
  // earlier grant of the subject, purpose and recipient.
  const char *target_event_id;
  // For grants: when the validity rule starts counting (a course rep's course
  // start), instead of the effective time; `CONSENT_TIME_ABSENT` = from the
  // effective time. Recorded in the event's hashed details.
  int64_t validity_from_ms;
} consent_event_params;

// An event as appended: its id, sequence number and the times the ledger settled, and
// whether this call recorded it.
typedef struct consent_event_ref {
  // The event id (a UUID, NUL-terminated).
  char id[CONSENT_EVENT_ID_LEN];
  // Its position in the log, from 0.
  uint64_t seq;
  // When it happened.
  int64_t effective_at_ms;
  // When the ledger learnt it.
  int64_t recorded_at_ms;
  // When a grant lapses, or `CONSENT_TIME_ABSENT`.
  int64_t expires_at_ms;
  // For withdrawals, revocations and objections: when downstream systems must have
  // acted (effective time plus the purpose's effect delay); else `CONSENT_TIME_ABSENT`.
  int64_t effect_deadline_ms;
  // Whether this call recorded the event: false when an idempotent retry (the same
  // source id with the same content) returned the event already on record, and
  // nothing was written.
  bool is_new;
} consent_event_ref;

// What `consent_checkpoint_check` found for an authentic checkpoint (signed by the
// log key, with the quorum of cosignatures). A checkpoint the ledger no longer holds
// is not an error: the call succeeds with `holds` false.
typedef struct consent_checkpoint_verdict {
  // Whether the ledger holds the checkpoint: it has at least its size, and its root
  // at that size is the checkpoint's.
  bool holds;
  // Why not, when it does not.
  consent_checkpoint_finding finding;
  // The size and root the checkpoint states.
  struct consent_head checkpoint;
  // The number of events in the ledger now.
  uint64_t ledger_size;
  // Cosignatures counted towards the quorum: one per distinct trusted witness.
  size_t cosignatures;
  // The finding in words ("" when it holds), NUL-terminated, cut to fit.
  char problem[CONSENT_PROBLEM_LEN];
} consent_checkpoint_verdict;

// What `consent_verify_checkpoints` found. A checkpoint that does not hold is not an
// error: the call succeeds with `ok` false and the first failing size named.
typedef struct consent_checkpoints_report {
  // Whether every stored checkpoint holds.
  bool ok;
  // The number of events in the ledger.
  uint64_t ledger_size;
  // Stored checkpoints checked, the failing one included.
  uint64_t checked;
  // Whether `first_bad_size` is set.
  bool has_first_bad_size;
  // The smallest stored size that does not hold.
  uint64_t first_bad_size;
  // Whether `last_good_size` is set.
  bool has_last_good_size;
  // The largest stored size that holds, below the first that does not.
  uint64_t last_good_size;
  // Why the first failing checkpoint does not hold ("" when ok), cut to fit.
  char problem[CONSENT_PROBLEM_LEN];
} consent_checkpoints_report;

// One item of a downstream's feed: what it needs to act, nothing more. The strings
// belong to the `consent_feed_page` and live until `consent_feed_page_free`.
typedef struct consent_feed_item {
  // Position in the log: what an acknowledgement names.
  uint64_t seq;
  // The event id (a UUID, NUL-terminated).
  char id[CONSENT_EVENT_ID_LEN];
  // The kind's name (`given`, `withdrawn`, ..., or `subject_erased`), NUL-terminated.
  char kind[CONSENT_KIND_LEN];
  // The subject, or NULL once erased (and on an erasure item).
  const char *subject;
  // The purpose, or NULL on an erasure item.
  const char *purpose;
  // The recipient named, or NULL (purpose-wide).
  const char *recipient;
  // When it happened.
  int64_t effective_at_ms;
  // When the ledger learnt it.
  int64_t recorded_at_ms;
  // When a grant lapses, or `CONSENT_TIME_ABSENT`.
  int64_t expires_at_ms;
  // For a withdrawal, revocation or objection: its legal effect deadline as
  // recorded (effective time + the purpose's effect delay); else
  // `CONSENT_TIME_ABSENT`.
  int64_t effect_deadline_ms;
  // For a withdrawal, revocation or objection: when the downstream must have acted
  // (the effect deadline, or for an event entered late the same delay after the
  // ledger learnt it: what `consent_deadlines_json` judges by); else
  // `CONSENT_TIME_ABSENT`.
  int64_t act_by_ms;
  // Whether the subject's personal fields were erased.
  bool erased;
  // On an erasure item: the seqs of the events of this feed that were erased (delete
  // what you hold from them; the subject is not named). NULL when none.
  const uint64_t *erased_seqs;
  // How many seqs `erased_seqs` holds.
  size_t n_erased_seqs;
} consent_feed_item;

// A page of a downstream's feed, from `consent_feed`; release it with
// `consent_feed_page_free`. The library allocates it, so it may grow at the end
// within a SONAME (consent.h, "Growing the ABI"); never copy it by value.
typedef struct consent_feed_page {
  // Where this page started.
  uint64_t since;
  // Where the next page starts: pass it as `since` to continue.
  uint64_t next;
  // The log's size when it was read.
  uint64_t size;
  // The items, in log order (NULL when none).
  const struct consent_feed_item *items;
  // How many items.
  size_t n_items;
} consent_feed_page;

// What [`consent_erase_subject`] did.
typedef struct consent_erasure_report {
  // The `subject_erased` event.
  char event_id[CONSENT_EVENT_ID_LEN];
  // Its sequence number.
  uint64_t seq;
  // Number of events whose personal fields were blanked.
  uint64_t events_erased;
  // Whether the erasure is complete: the WAL was checkpointed and truncated, so the
  // erased values are gone from every file. False ("pending") when another
  // connection kept an old snapshot open for longer than the erasure wait; finish it
  // with [`consent_complete_erasures`]. In PostgreSQL: the tables were vacuumed,
  // which only their owner may do (false for another role; docs/POSTGRES.md says
  // what the server's WAL and backups still hold).
  bool wal_truncated;
} consent_erasure_report;

// One event of a [`consent_history_page`]. Its strings belong to the page and live until
// [`consent_history_page_free`]. An array element: it never grows within a SONAME.
typedef struct consent_event {
  // The event id (a UUID, NUL-terminated).
  char id[CONSENT_EVENT_ID_LEN];
  // Its position in the log, from 0.
  uint64_t seq;
  // The kind's name (`given`, `withdrawn`, ..., `subject_erased`,
  // `subject_readmitted`), NUL-terminated.
  char kind[CONSENT_KIND_LEN];
  // The subject, or NULL once erased.
  const char *subject;
  // The purpose, or NULL when the event names none (an erasure).
  const char *purpose;
  // The purpose version in force when it was recorded, or 0.
  uint32_t purpose_version;
  // The recipient named, or NULL (purpose-wide).
  const char *recipient;
  // The notice shown: its id, or NULL when none.
  const char *notice_id;
  // The notice shown: its version, or NULL when none.
  const char *notice_version;
  // How it was collected: a `consent_method` (`CONSENT_METHOD_NONE` if not said).
  int32_t method;
  // Explicit consent (Art. 9(2)(a)).
  bool explicit_consent;
  // Who recorded it: `subject`, `staff:<id>` or `system:<id>`.
  const char *recorded_by;
  // When it happened.
  int64_t effective_at_ms;
  // When the ledger learnt it.
  int64_t recorded_at_ms;
  // When a grant lapses, or `CONSENT_TIME_ABSENT`.
  int64_t expires_at_ms;
  // For a withdrawal, revocation or objection: when downstream systems must have
  // acted; else `CONSENT_TIME_ABSENT`.
  int64_t effect_deadline_ms;
  // The caller's idempotency key, or NULL.
  const char *source_id;
  // For an invalidation: the grant it names (a UUID), or NULL.
  const char *target_event_id;
} consent_event;

// A subject's history, from [`consent_history`]; release it with
// [`consent_history_page_free`]. The library allocates it, so it may grow at the end
// within a SONAME (consent.h, "Growing the ABI"); never copy it by value.
typedef struct consent_history_page {
  // The events, in log order (NULL when none).
  const struct consent_event *events;
  // How many events.
  size_t n_events;
} consent_history_page;

// The result of [`consent_verify`] and [`consent_verify_against`].
typedef struct consent_verify_report {
  // Whether every hash matched (and, against a head, the log still extends it).
  bool ok;
  // Events checked.
  uint64_t size;
  // Whether `first_bad_seq` is set.
  bool has_first_bad_seq;
  // The first sequence number found bad.
  uint64_t first_bad_seq;
  // Whether `head` is set (the log is intact).
  bool has_head;
  // The head recomputed from the rows.
  struct consent_head head;
  // Why the log is bad ("" when ok), NUL-terminated, cut to fit.
  char problem[CONSENT_PROBLEM_LEN];
  // Whether the ledger was created as a simulation: its record times come from a
  // simulated clock ([`consent_options::clock`]), not the system's.
  bool simulated;
} consent_verify_report;

// The answer of [`consent_status_get`], [`consent_status_get_at`] and
// [`consent_status_get_many`]; as JSON (with the recipient and purpose) from
// [`consent_status_get_json`]. Its strings belong to the ledger handle: nothing to free.
typedef struct consent_status {
  // The state.
  consent_state state;
  // Whether processing may go ahead: consent in force, or a purpose that does not
  // rest on consent and was not objected to.
  bool permits;
  // The purpose's lawful basis as the letter of Art. 6(1): 'a' (consent) .. 'f'.
  char lawful_basis;
  // The purpose's current version.
  uint32_t purpose_version;
  // Whether an event decided the state (then `event_id` and `event_seq` are set).
  bool has_event;
  // The deciding event's id, or "" when none.
  char event_id[CONSENT_EVENT_ID_LEN];
  // The deciding event's sequence number (0 when none).
  uint64_t event_seq;
  // Since when this state holds, or `CONSENT_TIME_ABSENT`.
  int64_t since_ms;
  // Until when (a grant's expiry), or `CONSENT_TIME_ABSENT`.
  int64_t until_ms;
  // For a withdrawal: when downstream systems must have acted, or `CONSENT_TIME_ABSENT`.
  int64_t effect_deadline_ms;
  // The moment asked about.
  int64_t at_ms;
  // The knowledge time asked about.
  int64_t as_known_at_ms;
  // Whether the deciding event names a notice (then `notice_sha256`, `notice_id` and
  // `notice_version` are set).
  bool has_notice;
  // SHA-256 of the notice text shown.
  uint8_t notice_sha256[32];
  // The id of the notice shown, or NULL when none. Owned by the ledger handle (each
  // id kept once): valid until `consent_ledger_free`, whatever calls come between;
  // never free it.
  const char *notice_id;
  // The version of the notice shown, or NULL when none; owned as `notice_id`.
  const char *notice_version;
  // The purpose version the deciding grant was given under, or 0 when the deciding
  // event is not a grant. Differs from `purpose_version` after a change (then
  // `state` may be `CONSENT_STATE_NEEDS_RENEWAL`).
  uint32_t granted_under_version;
} consent_status;

// One question of [`consent_status_get_many`]: the arguments of [`consent_status_get`].
// The strings are only read during the call.
typedef struct consent_question {
  // The data subject (student id). Required.
  const char *subject;
  // The purpose id. Required.
  const char *purpose;
  // The recipient asked about, or NULL: as `recipient` of [`consent_status_get`]
  // (required when the purpose lists recipients).
  const char *recipient;
} consent_question;

// What `consent_receipt_check` proved. The readable fields, the plain-words list of
// what is proved and what is not, the purpose id and the cosignatures are in the JSON
// that call can also write.
typedef struct consent_checked_receipt {
  // The size and root of the checkpoint, signed by the log key given.
  struct consent_head checkpoint;
  // Cosignatures by distinct witnesses among the keys given (at least the quorum).
  size_t cosignatures;
  // The event's id.
  char event_id[CONSENT_EVENT_ID_LEN];
  // The event's kind.
  consent_event_kind kind;
  // Its position in the log.
  uint64_t seq;
  // The version of the purpose it was recorded under.
  uint32_t purpose_version;
  // Whether the receipt carried the subject's fields and they matched the event's
  // personal digest (false: the subject was erased; the receipt names nobody).
  bool subject_checked;
  // The ledger proves it was created with a simulated clock.
  bool simulated;
  // The layout checked.
  consent_receipt_layout layout;
} consent_checked_receipt;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// Copies the ledger, as stored, into a new ledger at `dest`: a file path or a
// PostgreSQL URL (`postgresql://user@host/db?schema=name`), so that a file's ledger
// moves into PostgreSQL, or a PostgreSQL ledger into a file that the independent
// checker of docs/FORMAT.md reads. Every event, registry row, materialized row,
// erasure marker and signed checkpoint is copied from one snapshot; the copy rebuilds
// its tree and is kept only if its head equals the source's, which is written to
// `*out_head` (NULL = not wanted). `options` (NULL = the defaults) open the
// destination: its `synchronous` and `busy_timeout_ms` apply; a new file gets no key
// file and a copy needs none (it is the same pseudonym key as the source's, kept
// where the institution keeps it). `dest` already holding a ledger is
// `CONSENT_RESULT_CONFLICT`, holding anything else (a file of another kind, a schema
// with other tables) `CONSENT_RESULT_NOT_A_LEDGER`; either is left as it was. A copy
// whose head differs is `CONSENT_RESULT_CORRUPT` and leaves nothing in a PostgreSQL
// destination. On Unix a file path is taken as bytes.
//
// Errors: as `consent_ledger_open` for `dest`; `dest` already holding a ledger
// `CONSENT_RESULT_CONFLICT`, holding anything else `CONSENT_RESULT_NOT_A_LEDGER`; a
// copy whose head differs `CONSENT_RESULT_CORRUPT`.
consent_result consent_ledger_copy_to(const struct consent_ledger *ledger,
                                      const char *dest,
                                      const struct consent_options *options,
                                      struct consent_head *out_head);

// Writes the SQL that grants the existing PostgreSQL role `role` `access` (a
// `consent_access` value) to the ledger in the schema `schema`, and a NUL, into
// `buf` of `len` bytes (`CONSENT_GRANTS_SQL_LEN` is always enough;
// `CONSENT_RESULT_BUFFER_TOO_SMALL` and nothing written when it does not fit). The
// schema's owner runs it (`psql -f`). A schema name that is not lower-case letters,
// digits and `_`, a role name with other characters than letters, digits and `_` or
// longer than 63 bytes, or another `access` is `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: a schema or role name that is not lower-case letters, digits and `_` (or
// longer than 63 bytes), or an access that is not a `consent_access`,
// `CONSENT_RESULT_INVALID_ARGUMENT`; a buffer too small
// `CONSENT_RESULT_BUFFER_TOO_SMALL`.
consent_result consent_grants_sql(const char *schema,
                                  const char *role,
                                  int32_t access,
                                  char *buf,
                                  size_t len);

// Begins a batch on `ledger` and writes its handle to `*out`: every append made
// through it ([`consent_batch_append`], [`consent_batch_register_purpose_json`], ...)
// lands together on [`consent_batch_commit`], or not at all on
// [`consent_batch_rollback`] or [`consent_batch_free`]. The batch is its handle's, not
// the ledger's: while it is open, calls on the ledger from other threads (and other
// processes' writes) wait for it to end (at most the busy timeout, then
// `CONSENT_RESULT_BUSY`) and never join it, so a rollback undoes only the batch's own
// appends; a call on the ledger from the thread that began the batch is
// `CONSENT_RESULT_BATCH` (make it through the batch, or end the batch first), and so
// is a second batch begun on that thread. Keep batches short. The batch handle may be
// used from any thread, one call at a time, and keeps the ledger open until it is
// freed.
//
// Errors: a batch already open on this thread `CONSENT_RESULT_BATCH`; another writer
// holding the lock past the busy timeout `CONSENT_RESULT_BUSY`.
consent_result consent_batch_begin(const struct consent_ledger *ledger, struct consent_batch **out);

// [`consent_append`] inside the batch: checked against the consent rules as they
// stand with the batch's earlier appends; writes what was recorded to `*out` (NULL =
// not wanted). It lands only when the batch is committed. A failed append leaves the
// batch as it was.
//
// Errors: as `consent_append`; a batch that has ended `CONSENT_RESULT_BATCH`.
consent_result consent_batch_append(struct consent_batch *batch,
                                    const struct consent_event_params *params,
                                    struct consent_event_ref *out);

// [`consent_append_many`] inside the batch, as [`consent_batch_append`] called on
// `events[0]`, `events[1]`, ... in turn, stopping at the first that fails: the events
// before it stay in the batch, and [`consent_last_error_index`] (and the message) says
// which failed. (The batch, not this call, is what lands or not: roll it back to drop
// them.) On success writes what was recorded to `out[0..n]` (NULL = not wanted). `n` =
// 0 does nothing.
//
// Errors: as `consent_append_many`; a batch that has ended `CONSENT_RESULT_BATCH`.
consent_result consent_batch_append_many(struct consent_batch *batch,
                                         const struct consent_event_params *events,
                                         size_t n,
                                         struct consent_event_ref *out);

// [`consent_register_purpose_json`] inside the batch: `*out_is_new` is false when the
// same definition is already current, counting what the batch itself registered.
//
// Errors: as `consent_register_purpose_json`; a batch that has ended
// `CONSENT_RESULT_BATCH`.
consent_result consent_batch_register_purpose_json(struct consent_batch *batch,
                                                   const char *purpose_json,
                                                   uint32_t *out_version,
                                                   bool *out_is_new);

// [`consent_register_notice_json`] inside the batch.
//
// Errors: as `consent_register_notice_json`; a batch that has ended
// `CONSENT_RESULT_BATCH`.
consent_result consent_batch_register_notice_json(struct consent_batch *batch,
                                                  const char *notice_json,
                                                  bool *out_is_new);

// [`consent_register_notice_text`] inside the batch.
//
// Errors: as `consent_register_notice_text`; a batch that has ended
// `CONSENT_RESULT_BATCH`.
consent_result consent_batch_register_notice_text(struct consent_batch *batch,
                                                  const char *id,
                                                  const char *version,
                                                  const char *title,
                                                  const char *text,
                                                  const char *controller,
                                                  const char *const *purposes,
                                                  size_t n_purposes,
                                                  bool *out_is_new);

// The head as it would be if the batch were committed now (its appends included),
// written to `*out`.
//
// Errors: a batch that has ended `CONSENT_RESULT_BATCH`.
consent_result consent_batch_get_head(struct consent_batch *batch, struct consent_head *out);

// Commits the batch: all of its appends land, or (on an error) none of them. Either
// way the batch has ended: later calls on it return `CONSENT_RESULT_BATCH`, and the
// handle must still be freed with [`consent_batch_free`].
//
// Errors: a batch that has ended, or was aborted by a failed write (then nothing
// lands), `CONSENT_RESULT_BATCH`; a failed commit is the storage's error, and nothing
// of the batch lands.
consent_result consent_batch_commit(struct consent_batch *batch);

// Rolls the batch back: none of its appends land. The batch has ended: later calls on
// it return `CONSENT_RESULT_BATCH`, and the handle must still be freed with
// [`consent_batch_free`].
//
// Errors: a batch that has ended `CONSENT_RESULT_BATCH`.
consent_result consent_batch_rollback(struct consent_batch *batch);

// Frees a batch handle, rolling the batch back if it is still open (and closing the
// ledger if its handle was already freed). NULL is fine; never twice, and no call may
// use the handle afterwards (or be running on another thread meanwhile).
//
// Errors: none (a void function; NULL is fine).
void consent_batch_free(struct consent_batch *batch);

// Generates a signing key named `name` for `role` (a `consent_key_role`), writes its
// private key to a new file at `path` (mode 0600; an existing file is never replaced:
// `CONSENT_RESULT_KEY`), and writes the verifier key to publish (`<name>+<key
// id>+<base64>`) and a NUL into `buf` of `len` bytes. A log key's name is the log's
// origin (e.g. `ljmu.ac.uk/consent`). `strlen(name) + CONSENT_VKEY_OVERHEAD` bytes are
// always enough; with fewer, `CONSENT_RESULT_BUFFER_TOO_SMALL` and no file is made.
// A name that is empty or holds white space or `+` is `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: a name that is empty or holds white space or `+`, or a role that is not a
// `consent_key_role`, `CONSENT_RESULT_INVALID_ARGUMENT`; a key file that cannot be
// created (it exists, or its folder is not writable) `CONSENT_RESULT_KEY`; a buffer
// too small `CONSENT_RESULT_BUFFER_TOO_SMALL` (no file is made).
consent_result consent_key_generate(const char *path,
                                    const char *name,
                                    int32_t role,
                                    char *buf,
                                    size_t len);

// Reads the private key file at `path` (from `consent_key_generate`; refused when
// others can read it, or when it holds a key of another `role`: `CONSENT_RESULT_KEY`)
// and writes its verifier key and a NUL into `buf` of `len` bytes;
// `CONSENT_RESULT_BUFFER_TOO_SMALL` (nothing written) if it does not fit
// (`strlen(name) + CONSENT_VKEY_OVERHEAD` bytes are always enough).
//
// Errors: an unreadable key file, or one of another role, `CONSENT_RESULT_KEY`; a
// buffer too small `CONSENT_RESULT_BUFFER_TOO_SMALL`.
consent_result consent_key_verifier(const char *path, int32_t role, char *buf, size_t len);

// Signs the current head as a checkpoint with the log key in the file `key_path`
// (a `CONSENT_KEY_ROLE_LOG` key; the origin is its name), keeps it in the ledger and
// writes the signed note to `*out_note` (free with [`consent_string_free`]) and its
// size and root to `*out_head` (NULL = not wanted). Signing again at the same size
// merges into the stored note. Refused: an unusable key file (`CONSENT_RESULT_KEY`), a
// size already signed under another origin (`CONSENT_RESULT_CONFLICT`), a log that no
// longer extends the largest checkpoint it signed (`CONSENT_RESULT_CORRUPT`).
//
// Errors: an unusable key file `CONSENT_RESULT_KEY`; a size already signed under
// another origin `CONSENT_RESULT_CONFLICT`; a log that no longer extends a checkpoint
// it signed `CONSENT_RESULT_CORRUPT`.
//
// [`consent_string_free`]: crate::consent_string_free
consent_result consent_checkpoint_sign(const struct consent_ledger *ledger,
                                       const char *key_path,
                                       char **out_note,
                                       struct consent_head *out_head);

// Merges into the stored checkpoint of the same size the cosignature lines of `note`
// (as a witness returned it, [`consent_witness_cosign`]) and writes the merged note to
// `*out_note` (NULL = not wanted; else free with [`consent_string_free`]). Only a note
// whose checkpoint text is byte-identical to the stored one is merged
// (`CONSENT_RESULT_CONFLICT`; `CONSENT_RESULT_NOT_FOUND` when the ledger signed no
// checkpoint of that size); a malformed note is `CONSENT_RESULT_NOTE`.
//
// Errors: no stored checkpoint of that size `CONSENT_RESULT_NOT_FOUND`; another
// checkpoint text `CONSENT_RESULT_CONFLICT`; a malformed note `CONSENT_RESULT_NOTE`.
//
// [`consent_witness_cosign`]: crate::witness::consent_witness_cosign
// [`consent_string_free`]: crate::consent_string_free
consent_result consent_checkpoint_add_cosignatures(const struct consent_ledger *ledger,
                                                   const char *note,
                                                   char **out_note);

// Every checkpoint the ledger keeps, in size order, as a JSON array of `{"origin",
// "size", "root" (hex), "note"}` written to `*out_json`; free with
// [`consent_string_free`].
//
// Errors: the common ones only.
//
// [`consent_string_free`]: crate::consent_string_free
consent_result consent_checkpoints_json(const struct consent_ledger *ledger, char **out_json);

// Checks a signed checkpoint `note` (from anywhere: this ledger, a publish directory,
// a receipt, a witness) against the ledger: it must be a checkpoint for the origin
// `log_vkey` names, signed by `log_vkey`, with valid cosignatures by at least `quorum`
// distinct witnesses among the `n_witnesses` verifier keys at `witness_vkeys` (NULL
// when 0). Not authentic: `CONSENT_RESULT_NOTE` (forged, malformed, another key with
// the right name, a trusted line that does not verify) or
// `CONSENT_RESULT_QUORUM_NOT_MET`. An authentic note gives the verdict in `*out`: the
// ledger holds it, or was truncated or rewritten before its size. A malformed verifier
// key is `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: a note that is not authentic (forged, malformed, a trusted line that does
// not verify) `CONSENT_RESULT_NOTE`; too few distinct trusted cosignatures
// `CONSENT_RESULT_QUORUM_NOT_MET`; a malformed verifier key
// `CONSENT_RESULT_INVALID_ARGUMENT`. A ledger that fails an authentic checkpoint is
// not an error: it is the verdict.
consent_result consent_checkpoint_check(const struct consent_ledger *ledger,
                                        const char *note,
                                        const char *log_vkey,
                                        const char *const *witness_vkeys,
                                        size_t n_witnesses,
                                        size_t quorum,
                                        struct consent_checkpoint_verdict *out);

// Checks every checkpoint the ledger keeps, in size order, as
// `consent_checkpoint_check` does (`quorum` 0 requires only the log's signature),
// and writes the report to `*out`: `ok`, or the first (smallest) size that does not
// hold and why. A forged or damaged stored note is reported, not an error.
//
// Errors: a malformed verifier key `CONSENT_RESULT_INVALID_ARGUMENT`. A checkpoint the
// ledger fails, or a damaged stored note, is in the report, not an error.
consent_result consent_verify_checkpoints(const struct consent_ledger *ledger,
                                          const char *log_vkey,
                                          const char *const *witness_vkeys,
                                          size_t n_witnesses,
                                          size_t quorum,
                                          struct consent_checkpoints_report *out);

// Registers a downstream system, or a new version of it, from a JSON object
// `{"id", "name", "controller", "purposes": [...], "recipient"}` (`recipient`
// optional; any other key is refused), recorded by `recorded_by` (`staff:ID` or `system:ID`; NULL is refused).
// Registering it unchanged appends nothing. Writes the version now registered as JSON
// to `*out_json` (free it with `consent_string_free`), and to `*out_is_new` whether
// this call appended it (false: the same definition was already current); NULL = not
// wanted. Refused: an
// unknown purpose (`CONSENT_RESULT_UNKNOWN_PURPOSE`), a recipient a purpose does not
// list (`CONSENT_RESULT_UNKNOWN_RECIPIENT`), malformed JSON or ids.
//
// Errors: malformed JSON or ids, or a NULL `recorded_by`,
// `CONSENT_RESULT_INVALID_ARGUMENT`; an unknown purpose
// `CONSENT_RESULT_UNKNOWN_PURPOSE`; a recipient a purpose does not list
// `CONSENT_RESULT_UNKNOWN_RECIPIENT`.
consent_result consent_register_downstream_json(const struct consent_ledger *ledger,
                                                const char *def_json,
                                                const char *recorded_by,
                                                char **out_json,
                                                bool *out_is_new);

// Retires the downstream `id`: its feed shows no new grant from now on, only the
// withdrawals and erasures of grants it was shown (it still holds their data).
// `CONSENT_RESULT_NOT_FOUND` when it is not registered.
//
// Errors: a downstream not registered `CONSENT_RESULT_NOT_FOUND`.
consent_result consent_retire_downstream(const struct consent_ledger *ledger,
                                         const char *id,
                                         const char *recorded_by);

// The current version of every registered downstream as a JSON array, written to
// `*out_json`; free with `consent_string_free`.
//
// Errors: the common ones only.
consent_result consent_downstreams_json(const struct consent_ledger *ledger, char **out_json);

// One downstream as JSON `{"id", "versions": [...], "cursor": SEQ|null,
// "acknowledgements": [...]}`, written to `*out_json`; free with
// `consent_string_free`. `CONSENT_RESULT_NOT_FOUND` when it is not registered.
//
// Errors: a downstream not registered `CONSENT_RESULT_NOT_FOUND`.
consent_result consent_downstream_json(const struct consent_ledger *ledger,
                                       const char *id,
                                       char **out_json);

// Records that `downstream` acted on every event of its feed with a seq up to `up_to`
// (inclusive), recorded by `recorded_by` (`staff:ID` or `system:ID`). Its feed then
// continues after `up_to` (`CONSENT_FEED_CURSOR`). Writes the acknowledgement's
// event to `*out` when it is not NULL. Refused, with nothing written: an unknown
// downstream (`CONSENT_RESULT_NOT_FOUND`), an `up_to` beyond the log
// (`CONSENT_RESULT_INVALID_ARGUMENT`).
//
// Errors: an unknown downstream `CONSENT_RESULT_NOT_FOUND`; an `up_to` beyond the log
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_acknowledge_up_to(const struct consent_ledger *ledger,
                                         const char *downstream,
                                         uint64_t up_to,
                                         const char *recorded_by,
                                         struct consent_event_ref *out);

// Records that `downstream` acted on the one event `event_id` of its feed. Refused,
// with nothing written: an unknown downstream or event (`CONSENT_RESULT_NOT_FOUND`),
// an event its feed never showed (`CONSENT_RESULT_INVALID_ARGUMENT`).
//
// Errors: an unknown downstream or event `CONSENT_RESULT_NOT_FOUND`; an event its feed
// never showed, or an id that is not a UUID, `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_acknowledge_event(const struct consent_ledger *ledger,
                                         const char *downstream,
                                         const char *event_id,
                                         const char *recorded_by,
                                         struct consent_event_ref *out);

// A page of at most `limit` items of `downstream`'s feed from seq `since` on
// (`CONSENT_FEED_CURSOR`: right after its highest acknowledged seq), written to
// `*out`; release it with `consent_feed_page_free`. Only the grants of its purposes
// (and recipient), the withdrawals, revocations, invalidations and objections that
// follow a grant it showed, and erasure items listing the erased seqs of its feed.
// With `wait_ms` > 0 and no item yet, waits up to that long for one (polling the
// log's size with a growing pause); the page may still be empty. `limit` 0 is
// `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: an unknown downstream `CONSENT_RESULT_NOT_FOUND`; `limit` 0
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_feed(const struct consent_ledger *ledger,
                            const char *downstream,
                            uint64_t since,
                            size_t limit,
                            uint64_t wait_ms,
                            struct consent_feed_page **out);

// Releases a page from `consent_feed`. NULL is fine; never twice.
//
// Errors: none (a void function; NULL is fine).
void consent_feed_page_free(struct consent_feed_page *feed);

// Every deadline of every downstream's feed, as known at `at_ms`
// (`CONSENT_TIME_ABSENT`: now), as a JSON array of `{"downstream", "seq", "event_id",
// "kind", "purpose", "recipient", "deadline", "state" (pending, overdue, acknowledged,
// acknowledged_late), "acknowledged_seq", "acknowledged_at", "late_by_secs"}`,
// written to `*out_json`; free with `consent_string_free`.
//
// Errors: a time out of range `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_deadlines_json(const struct consent_ledger *ledger,
                                      int64_t at_ms,
                                      char **out_json);

// How many deadlines are overdue (passed without the downstream's acknowledgement)
// and pending, as known at `at_ms` (`CONSENT_TIME_ABSENT`: now): for monitoring.
//
// Errors: a time out of range `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_overdue_count(const struct consent_ledger *ledger,
                                     int64_t at_ms,
                                     size_t *out_overdue,
                                     size_t *out_pending);

// Erases `subject` at the end of retention: blanks their personal fields in every
// event (every hash still verifies), records a `subject_erased` event with `reason`,
// recorded by `recorded_by` (`staff:<id>` or `system:<id>`; NULL = `subject`), and
// truncates the WAL so the erased values leave every file, retrying for up to the
// erasure wait ([`consent_options::erasure_wait_ms`]) while another connection holds an
// old snapshot; `out->wal_truncated` says whether the erasure is complete (else finish
// it with [`consent_complete_erasures`]). Later grants for the subject are refused
// (until [`consent_readmit_subject`]); withdrawals are still recorded. An id the
// ledger holds no event about is `CONSENT_RESULT_NOT_FOUND` (most likely a mistyped
// id; [`consent_erase_subject_with`] and `CONSENT_ERASE_FORCE` record it anyway); an
// erased one `CONSENT_RESULT_SUBJECT_ERASED`. Writes the report to `*out` (NULL = not
// wanted). [`consent_erasure_preview_json`] shows what would be blanked.
//
// Errors: an id the ledger holds no event about `CONSENT_RESULT_NOT_FOUND`; an id
// already erased `CONSENT_RESULT_SUBJECT_ERASED`; a malformed `recorded_by`
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_erase_subject(const struct consent_ledger *ledger,
                                     const char *subject,
                                     const char *reason,
                                     const char *recorded_by,
                                     struct consent_erasure_report *out);

// [`consent_erase_subject`] with `flags`: 0, or `CONSENT_ERASE_FORCE` to record the
// erasure of an id the ledger holds no event about (so that it cannot be used later
// without a readmission). Other bits are `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: as `consent_erase_subject`; unknown bits in `flags`
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_erase_subject_with(const struct consent_ledger *ledger,
                                          const char *subject,
                                          const char *reason,
                                          const char *recorded_by,
                                          uint32_t flags,
                                          struct consent_erasure_report *out);

// What erasing `subject` would blank, without writing anything (a dry run), as JSON
// (`{"already_erased":false,"events":[..]}`: the events whose personal fields would be
// blanked, in order) written to `*out_json`; free with [`consent_string_free`].
//
// Errors: the common ones only.
consent_result consent_erasure_preview_json(const struct consent_ledger *ledger,
                                            const char *subject,
                                            char **out_json);

// Erases the `n_subjects` ids at `subjects` (a retention run), each in its own
// transaction, with `reason`, recorded by `recorded_by` (as [`consent_erase_subject`])
// and `flags` (as [`consent_erase_subject_with`]); one WAL truncation follows. The
// call succeeds when the run was made, whatever happened to each id: the report,
// written as JSON to `*out_json` (free with [`consent_string_free`]), says it id by id,
// in the order given: `{"outcomes":[{"subject":"..","outcome":"erased","seq":N,
// "events_erased":N} | {"subject":"..","outcome":"unknown"} | {"subject":"..",
// "outcome":"already_erased"} | {"subject":"..","outcome":"failed","error":".."}],
// "wal_truncated":true}`. A failure of the ledger itself stops the run at that id (the
// report says which); on the first id it is the call's error.
//
// Errors: unknown bits in `flags` `CONSENT_RESULT_INVALID_ARGUMENT`; a failure of the
// ledger on the first id is the call's error. What happened to each id is in the
// report, not an error.
consent_result consent_erase_subjects_json(const struct consent_ledger *ledger,
                                           const char *const *subjects,
                                           size_t n_subjects,
                                           const char *reason,
                                           const char *recorded_by,
                                           uint32_t flags,
                                           char **out_json);

// A returning student: the erased `subject` may consent again. Records a
// `subject_readmitted` event (no personal field: the erasure's pseudonym, `reason` and
// the erasure it ends), recorded by `recorded_by` (`staff:<id>` or `system:<id>`;
// NULL = `subject`, which is refused). The old events stay blanked; the history shows
// them and the new ones; the id can be erased again. An id that is not erased is
// `CONSENT_RESULT_INVALID_ARGUMENT`. Writes the event to `*out` (NULL = not wanted).
//
// Errors: an id that is not erased, or a `recorded_by` that is the subject (NULL),
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_readmit_subject(const struct consent_ledger *ledger,
                                       const char *subject,
                                       const char *reason,
                                       const char *recorded_by,
                                       struct consent_event_ref *out);

// Finishes pending erasures: checkpoints the WAL into the file and truncates it,
// retrying for up to `wait_ms` ms (0 = once) while another connection holds an old
// snapshot. Writes whether every erasure is now complete (the WAL is empty) to
// `*out_done` (NULL = not wanted). Safe to call at any time.
//
// Errors: the common ones only (another connection's snapshot is not an error:
// `*out_done` is false).
consent_result consent_complete_erasures(const struct consent_ledger *ledger,
                                         int64_t wait_ms,
                                         bool *out_done);

// Checkpoints the WAL into the file and truncates it, once; writes whether it completed
// to `*out_done` (NULL = not wanted; false when another connection kept a read open).
//
// Errors: the common ones only.
consent_result consent_checkpoint(const struct consent_ledger *ledger, bool *out_done);

// The library version, e.g. "0.2.0". Static: do not free.
//
// Errors: none (it cannot fail).
const char *consent_version(void);

// The name of a result code, e.g. "CONSENT_RESULT_CLOSED" ("CONSENT_RESULT_UNKNOWN_CODE"
// for a number that is not a code). Static: do not free.
//
// Errors: none (it cannot fail).
const char *consent_result_name(int32_t code);

// The result of the last call made on this thread (`CONSENT_RESULT_OK` after a success).
//
// Errors: none (it cannot fail).
consent_result consent_last_error_code(void);

// The index of the element of an array argument the last failed call on this thread
// was about (`events[i]` of [`consent_append_many`], `questions[i]` of
// [`consent_status_get_many`], ...; the message names it too), or [`CONSENT_INDEX_NONE`]
// when the call succeeded or its error was not about one element (a NULL array, a
// busy ledger).
//
// Errors: none (it cannot fail).
size_t consent_last_error_index(void);

// Copies the message of the last failed call on this thread ("" after a success) into
// `buf`, NUL-terminated and cut at a character boundary if `len` is too small.
// Returns the buffer size the whole message needs, NUL included; nothing is written
// when `buf` is NULL or `len` is 0 (call once that way to size the buffer).
//
// Errors: none (it cannot fail).
size_t consent_last_error_message(char *buf, size_t len);

// Frees a string this library returned as `char *` (JSON). NULL is fine; never twice.
//
// Errors: none (a void function; NULL is fine).
void consent_string_free(char *s);

// Fills `out` with empty parameters: kind 0 (invalid until set), every string NULL,
// not explicit, no method, every time `CONSENT_TIME_ABSENT`.
//
// Errors: a NULL `out` `CONSENT_RESULT_NULL_ARGUMENT`.
consent_result consent_event_params_init(struct consent_event_params *out);

// Appends an event after checking it against the consent rules. Writes what was
// recorded to `*out` (NULL = not wanted). A recipient must be one the purpose lists,
// spelt exactly (else `CONSENT_RESULT_UNKNOWN_RECIPIENT`, whose message lists them);
// a grant without one covers every recipient the purpose lists. A withdrawal or
// objection is never refused: one naming a recipient the purpose does not list is
// recorded purpose-wide (no recipient; the text as written kept in its details), and a
// withdrawal for a purpose that does not rest on consent is recorded as an objection
// (Art. 21). A grant naming a notice that does not cover its purpose is
// `CONSENT_RESULT_INVALID_CONSENT`. Events dated more than 366 days after now are
// `CONSENT_RESULT_INVALID_TIME`.
// Identifiers (subject, purpose, recipient, notice id and version, source id, the id
// in `recorded_by`) must be Unicode NFC without control characters or white space at
// either end: anything else is `CONSENT_RESULT_INVALID_ARGUMENT` (never silently
// changed), here and in every question.
//
// Errors: a malformed field `CONSENT_RESULT_INVALID_ARGUMENT` (a notice id without its
// version, a bad kind or method, evidence that is not JSON); an unknown purpose,
// notice or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
// `CONSENT_RESULT_UNKNOWN_NOTICE`, `CONSENT_RESULT_UNKNOWN_RECIPIENT`; what the rules
// refuse `CONSENT_RESULT_INVALID_CONSENT`; a grant for an erased subject
// `CONSENT_RESULT_SUBJECT_ERASED`; a source id reused with other content
// `CONSENT_RESULT_CONFLICT`; a time out of range or too far ahead
// `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_append(const struct consent_ledger *ledger,
                              const struct consent_event_params *params,
                              struct consent_event_ref *out);

// The event appended by [`consent_append`] (or already recorded under the same
// source id) as full JSON, written to `*out_json`; free with [`consent_string_free`].
//
// Errors: as `consent_append`.
consent_result consent_append_json(const struct consent_ledger *ledger,
                                   const struct consent_event_params *params,
                                   char **out_json);

// Appends `n` events at `events` (each as [`consent_append`] would), all or none: one
// transaction, so either every event is recorded, in order, or (on any error) none is.
// Each event is checked against the rules as they stand with the events before it in
// the array. Writes what was recorded to `out[0..n]` (NULL = not wanted; else room for
// `n` entries). `n` = 0 does nothing (`events` and `out` may then be NULL).
//
// An error about one event (a NULL or malformed field, an unknown purpose, a broken
// rule) names it in the message (`events[3]: ...`) and in
// [`consent_last_error_index`]. The strings are read straight from the array: no JSON.
// `out` must not overlap `events`.
//
// Errors: as `consent_append`, about one event (named by `consent_last_error_index`);
// then none of the events is recorded.
consent_result consent_append_many(const struct consent_ledger *ledger,
                                   const struct consent_event_params *events,
                                   size_t n,
                                   struct consent_event_ref *out);

// Records consent given by `subject` for `purpose` and `recipient` (NULL = every
// recipient the purpose lists), having been shown the notice
// `notice_id`/`notice_version`, collected by `method` (a `consent_method`), explicit
// (`explicit_consent`, Art. 9(2)(a)) or not, recorded by `recorded_by` (NULL = the
// subject), effective at `effective_at_ms` (`CONSENT_TIME_ABSENT` = now), lapsing at
// `expires_at_ms` (`CONSENT_TIME_ABSENT` = the purpose's validity rule). For an
// idempotency key, evidence or a validity start, use [`consent_append`].
//
// Errors: a NULL `notice_id` or `notice_version` is `CONSENT_RESULT_NULL_ARGUMENT`;
// an unknown purpose, notice or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
// `CONSENT_RESULT_UNKNOWN_NOTICE`, `CONSENT_RESULT_UNKNOWN_RECIPIENT`; a grant the
// rules refuse (no method, not explicit for special-category data, a notice that does
// not cover the purpose) `CONSENT_RESULT_INVALID_CONSENT`; an erased subject
// `CONSENT_RESULT_SUBJECT_ERASED`; a time out of range or too far ahead
// `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_give(const struct consent_ledger *ledger,
                            const char *subject,
                            const char *purpose,
                            const char *recipient,
                            const char *notice_id,
                            const char *notice_version,
                            int32_t method,
                            bool explicit_consent,
                            const char *recorded_by,
                            int64_t effective_at_ms,
                            int64_t expires_at_ms,
                            struct consent_event_ref *out);

// Records that `subject` was shown the notice `notice_id`/`notice_version` about
// `purpose` (and `recipient`, or NULL), with no answer yet, by `method` (a
// `consent_method`), recorded by `recorded_by` (NULL = the subject), effective at
// `effective_at_ms` (`CONSENT_TIME_ABSENT` = now).
//
// Errors: as [`consent_give`]; a notice that does not cover the purpose is
// `CONSENT_RESULT_INVALID_CONSENT`.
consent_result consent_serve_notice(const struct consent_ledger *ledger,
                                    const char *subject,
                                    const char *purpose,
                                    const char *recipient,
                                    const char *notice_id,
                                    const char *notice_version,
                                    int32_t method,
                                    const char *recorded_by,
                                    int64_t effective_at_ms,
                                    struct consent_event_ref *out);

// Records that `subject` was asked about `purpose` (and `recipient`, or NULL) and
// said no, collected by `method` (a `consent_method`), recorded by `recorded_by`
// (NULL = the subject), effective at `effective_at_ms` (`CONSENT_TIME_ABSENT` = now).
//
// Errors: an unknown purpose or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
// `CONSENT_RESULT_UNKNOWN_RECIPIENT`; no method `CONSENT_RESULT_INVALID_CONSENT`; a
// time out of range or too far ahead `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_refuse(const struct consent_ledger *ledger,
                              const char *subject,
                              const char *purpose,
                              const char *recipient,
                              int32_t method,
                              const char *recorded_by,
                              int64_t effective_at_ms,
                              struct consent_event_ref *out);

// Records a withdrawal by `subject` of consent for `purpose` and `recipient` (NULL =
// every recipient), effective at `effective_at_ms` (`CONSENT_TIME_ABSENT` = now);
// never refused, even with no grant on record: a recipient the purpose does not list
// is recorded purpose-wide, and for a purpose that does not rest on consent the
// withdrawal is recorded as an objection (Art. 21). `out->effect_deadline_ms` says
// when downstream systems must have acted.
//
// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; a time out of range or
// too far ahead `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_withdraw(const struct consent_ledger *ledger,
                                const char *subject,
                                const char *purpose,
                                const char *recipient,
                                const char *recorded_by,
                                int64_t effective_at_ms,
                                struct consent_event_ref *out);

// Records that the controller stopped relying on the consent of `subject` for
// `purpose` and `recipient` (NULL = every recipient), from `effective_at_ms`
// (`CONSENT_TIME_ABSENT` = now; not retroactive).
//
// Errors: an unknown purpose or recipient `CONSENT_RESULT_UNKNOWN_PURPOSE`,
// `CONSENT_RESULT_UNKNOWN_RECIPIENT`; what the rules refuse
// `CONSENT_RESULT_INVALID_CONSENT`; a time out of range or too far ahead
// `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_revoke(const struct consent_ledger *ledger,
                              const char *subject,
                              const char *purpose,
                              const char *recipient,
                              const char *recorded_by,
                              int64_t effective_at_ms,
                              struct consent_event_ref *out);

// Records that a grant of `subject` for `purpose` was never valid (retroactive):
// the grant `target_event_id`, or every earlier grant when NULL.
//
// Errors: a `target_event_id` that is not a UUID `CONSENT_RESULT_INVALID_ARGUMENT`;
// an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; what the rules refuse (no such
// grant) `CONSENT_RESULT_INVALID_CONSENT`.
consent_result consent_invalidate(const struct consent_ledger *ledger,
                                  const char *subject,
                                  const char *purpose,
                                  const char *target_event_id,
                                  const char *recorded_by,
                                  struct consent_event_ref *out);

// Records an objection by `subject` to processing for `purpose` and `recipient`
// (NULL = every recipient; legitimate interests or public task), effective at
// `effective_at_ms` (`CONSENT_TIME_ABSENT` = now); never refused.
//
// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; a time out of range or
// too far ahead `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_object(const struct consent_ledger *ledger,
                              const char *subject,
                              const char *purpose,
                              const char *recipient,
                              const char *recorded_by,
                              int64_t effective_at_ms,
                              struct consent_event_ref *out);

// Every event about `subject`, in order, as structs: writes a page to `*out`; release
// it with [`consent_history_page_free`]. The same events as
// [`consent_history_json`], which also carries the evidence and details.
//
// Errors: the common ones only (consent.h, "Rules of the ABI"); an unknown subject
// has an empty history.
consent_result consent_history(const struct consent_ledger *ledger,
                               const char *subject,
                               struct consent_history_page **out);

// Releases a page from [`consent_history`]. NULL is fine; never twice.
//
// Errors: none (a void function; NULL is fine).
void consent_history_page_free(struct consent_history_page *page);

// The current head (size and Merkle root), written to `*out`.
//
// Errors: the common ones only.
consent_result consent_get_head(const struct consent_ledger *ledger, struct consent_head *out);

// Writes `head` as `SIZE:ROOTHEX` and a NUL into `buf` of `len` bytes
// (`CONSENT_HEAD_STRING_LEN` is always enough); `CONSENT_RESULT_BUFFER_TOO_SMALL`
// (and nothing written) if it does not fit.
//
// Errors: a buffer too small `CONSENT_RESULT_BUFFER_TOO_SMALL` (nothing written).
consent_result consent_head_to_string(const struct consent_head *head, char *buf, size_t len);

// Parses a head written `SIZE:ROOTHEX` into `*out`.
//
// Errors: text that is not `SIZE:ROOTHEX` `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_head_parse(const char *text, struct consent_head *out);

// Recomputes every hash from the stored rows and writes the report to `*out`. A
// tampered log is not an error: the call succeeds with `out->ok` false and
// `out->first_bad_seq` naming the first bad event.
//
// Errors: the common ones only: a tampered log is the report's answer, not an error.
consent_result consent_verify(const struct consent_ledger *ledger,
                              struct consent_verify_report *out);

// [`consent_verify`], and also checks that the log still extends `head` (catches a
// truncated or rewritten tail).
//
// Errors: as `consent_verify`.
consent_result consent_verify_against(const struct consent_ledger *ledger,
                                      const struct consent_head *head,
                                      struct consent_verify_report *out);

// A proof that event `event_id` is in the tree of `tree_size` events
// (`CONSENT_SIZE_CURRENT` = the current head), as JSON (`leaf_index`, `tree_size`,
// `leaf_hash`, `path`, `root`) written to `*out_json`; free with
// [`consent_string_free`]. Whoever checks it ([`consent_check_inclusion_proof`]) also
// needs the event's canonical bytes ([`consent_event_canonical`]).
//
// Errors: an unknown event `CONSENT_RESULT_NOT_FOUND`; an id that is not a UUID, or a
// tree size beyond the log, `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_prove_inclusion_json(const struct consent_ledger *ledger,
                                            const char *event_id,
                                            uint64_t tree_size,
                                            char **out_json);

// A proof that the log at `old_head` is a prefix of the log at `new_size` events
// (`CONSENT_SIZE_CURRENT` = now), as JSON (`old_size`, `new_size`, `path`) written to
// `*out_json` (free with [`consent_string_free`]), and the head at `new_size` written to
// `*out_new_head` (NULL = not wanted). A log rewritten since `old_head` is
// `CONSENT_RESULT_CORRUPT`.
//
// Errors: a size beyond the log `CONSENT_RESULT_INVALID_ARGUMENT`; a log rewritten
// since `old_head` `CONSENT_RESULT_CORRUPT`.
consent_result consent_prove_consistency_json(const struct consent_ledger *ledger,
                                              const struct consent_head *old_head,
                                              uint64_t new_size,
                                              char **out_json,
                                              struct consent_head *out_new_head);

// The canonical bytes of event `event_id` (docs/FORMAT.md §3.3): exactly what its
// Merkle leaf hash covers, and what [`consent_check_inclusion_proof`] checks a proof
// against. Writes a new buffer to `*out_bytes` and its length to `*out_len`; free it
// with [`consent_bytes_free`] and that same length.
//
// Errors: an unknown event `CONSENT_RESULT_NOT_FOUND`; an id that is not a UUID
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_event_canonical(const struct consent_ledger *ledger,
                                       const char *event_id,
                                       uint8_t **out_bytes,
                                       size_t *out_len);

// Frees a buffer of `len` bytes this library returned (from
// [`consent_event_canonical`]), with the length it returned. NULL is fine; never twice.
//
// Errors: none (a void function; NULL is fine).
void consent_bytes_free(uint8_t *bytes, size_t len);

// Checks an inclusion proof (JSON from [`consent_prove_inclusion_json`]) of the event
// whose canonical bytes are the `event_len` bytes at `event` (from
// [`consent_event_canonical`], e.g. kept in a receipt) against a head of the same
// size. No ledger needed. The proof is bound to its event: the leaf hash is recomputed
// from the bytes and the leaf index must be the event's sequence number.
// `CONSENT_RESULT_PROOF_REJECTED` if the proof is another event's or does not lead to
// the head's root; a head of another size, or bytes that are not a canonical event,
// are `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: a proof of another event, or one that does not lead to the root,
// `CONSENT_RESULT_PROOF_REJECTED`; malformed JSON, a head of another size or bytes
// that are not a canonical event `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_check_inclusion_proof(const char *proof_json,
                                             const uint8_t *event,
                                             size_t event_len,
                                             const struct consent_head *head);

// Checks a consistency proof (JSON from [`consent_prove_consistency_json`]) between
// two heads. No ledger needed. `CONSENT_RESULT_PROOF_REJECTED` if it fails.
//
// Errors: a proof that fails `CONSENT_RESULT_PROOF_REJECTED`; malformed JSON
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_check_consistency_proof(const char *proof_json,
                                               const struct consent_head *old_head,
                                               const struct consent_head *new_head);

// Fills `out` with the default options: full durability, 30 s busy timeout,
// read-write, create when missing, system clock, the key file beside the ledger,
// 2 s erasure wait, the default time zone (NULL: Europe/London for a new ledger).
//
// Errors: a NULL `out` `CONSENT_RESULT_NULL_ARGUMENT`.
consent_result consent_options_init(struct consent_options *out);

// Opens (or creates) the ledger file at `path` with `options` (NULL = defaults) and
// writes the handle to `*out`. On Unix the path is taken as bytes; elsewhere it must
// be UTF-8. A new ledger is created only when the path does not exist or is an empty
// file, and `create` is true; its pseudonym key file is created with it (see
// [`consent_options::pseudonym_key_source`]). A missing path with `create` false or
// `read_only` true is `CONSENT_RESULT_NOT_FOUND`; an empty file then, or a file that
// is not a consent ledger, is `CONSENT_RESULT_NOT_A_LEDGER` (left unchanged); a
// ledger whose schema was altered is `CONSENT_RESULT_CORRUPT`; a missing or different
// key is `CONSENT_RESULT_KEY`. The writer lock file `<path>-lock` is created beside it.
//
// `path` may instead be a PostgreSQL URL, `postgresql://user@host/db?schema=name`
// (libpq's form; `host=/socket/dir` for a Unix socket; `schema` defaults to
// `consent`): the ledger then lives in that schema, shared by every host and handle
// that opens it, and no file is made (docs/POSTGRES.md). Its pseudonym key must be
// given as a file or as bytes (`CONSENT_KEY_SOURCE_BESIDE` is `CONSENT_RESULT_KEY`:
// nothing lies beside a database). A schema name that is not lower-case letters,
// digits and `_` is `CONSENT_RESULT_INVALID_ARGUMENT`; a server that cannot be
// reached (an unknown host, no socket, refused credentials) is
// `CONSENT_RESULT_STORAGE`, within `busy_timeout_ms` (at most 30 s); an empty schema
// with `create` false or `read_only` true is `CONSENT_RESULT_NOT_FOUND`, one holding
// other tables `CONSENT_RESULT_NOT_A_LEDGER`. Messages never show the URL's password.
//
// Errors: those above (`CONSENT_RESULT_NOT_FOUND`, `CONSENT_RESULT_NOT_A_LEDGER`,
// `CONSENT_RESULT_CORRUPT`, `CONSENT_RESULT_KEY`, `CONSENT_RESULT_STORAGE`); options
// out of range, or a clock on a real ledger, `CONSENT_RESULT_INVALID_ARGUMENT`; a file
// of a newer version `CONSENT_RESULT_SCHEMA_TOO_NEW`; a read-only folder
// `CONSENT_RESULT_READ_ONLY`.
consent_result consent_ledger_open(const char *path,
                                   const struct consent_options *options,
                                   struct consent_ledger **out);

// Creates a ledger that lives in memory only (tests, examples), with `options`
// (NULL = defaults; `clock` makes it a simulation, the key source may be
// `CONSENT_KEY_SOURCE_BESIDE` (a random key) or `CONSENT_KEY_SOURCE_BYTES`), and
// writes the handle to `*out`.
//
// Errors: options out of range, or a key file as the key source,
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_ledger_open_in_memory(const struct consent_options *options,
                                             struct consent_ledger **out);

// Closes the ledger: an open batch is rolled back and the file is released. Later
// calls on the handle (and on its batches) return `CONSENT_RESULT_CLOSED`; closing
// twice is fine. The handle must still be freed with [`consent_ledger_free`].
//
// Errors: none of its own: closing twice is fine.
consent_result consent_ledger_close(const struct consent_ledger *ledger);

// Frees a ledger handle, closing the ledger unless a batch begun on it has not been
// freed yet (the batch keeps it open; the last of them to be freed closes it). NULL
// is fine; never twice, and no call may use the handle afterwards (or be running on
// another thread meanwhile).
//
// Errors: none (a void function; NULL is fine).
void consent_ledger_free(struct consent_ledger *ledger);

// Whether the ledger was created as a simulation (with a clock, see
// [`consent_options::clock`]), written to `*out`.
//
// Errors: the common ones only.
consent_result consent_ledger_is_simulated(const struct consent_ledger *ledger, bool *out);

// Writes the ledger's time zone (an IANA name such as "Europe/London", committed to
// when the ledger was created) and a NUL into `buf` of `len` bytes
// (`CONSENT_TIME_ZONE_LEN` is always enough); `CONSENT_RESULT_BUFFER_TOO_SMALL` (and
// nothing written) if it does not fit. Academic years end at local midnight there.
//
// Errors: a buffer too small `CONSENT_RESULT_BUFFER_TOO_SMALL` (nothing written).
consent_result consent_ledger_time_zone(const struct consent_ledger *ledger, char *buf, size_t len);

// May `subject`'s data be used for `purpose` (and `recipient`) now? Writes the
// answer to `*out`. `recipient` must be one the purpose lists, spelt exactly, and a
// purpose that lists recipients must be asked about one of them; NULL is for a
// purpose that lists none. Otherwise `CONSENT_RESULT_UNKNOWN_RECIPIENT`, whose message
// lists the valid ids.
//
// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; an unlisted or missing
// recipient `CONSENT_RESULT_UNKNOWN_RECIPIENT`; a ledger opened without its key
// `CONSENT_RESULT_KEY`.
consent_result consent_status_get(const struct consent_ledger *ledger,
                                  const char *subject,
                                  const char *purpose,
                                  const char *recipient,
                                  struct consent_status *out);

// The answers of [`consent_status_get`] to `n` questions at `questions`, all read from
// one snapshot of the ledger (no append lands between two answers), written to
// `out[0..n]` (room for `n` entries, required when `n` > 0). `n` = 0 does nothing
// (`questions` and `out` may then be NULL). The first question that is invalid (a NULL
// or non-UTF-8 field, an unknown purpose, an unlisted or missing recipient) fails the
// call: its message names it (`questions[2]: ...`), as does
// [`consent_last_error_index`], and nothing in `out` is written. `out` must not overlap
// `questions` or its strings.
//
// Errors: as `consent_status_get`, about one question (named by
// `consent_last_error_index`); then nothing is written.
consent_result consent_status_get_many(const struct consent_ledger *ledger,
                                       const struct consent_question *questions,
                                       size_t n,
                                       struct consent_status *out);

// Could `subject`'s data be used for `purpose` (and `recipient`, as in
// [`consent_status_get`]) at `at_ms`, as the ledger knew it at `as_known_at_ms`
// (`CONSENT_TIME_ABSENT` = now)? `at_ms` is required (`CONSENT_RESULT_INVALID_TIME` if
// absent).
//
// Errors: as `consent_status_get`; `at_ms` absent or a time out of range
// `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_status_get_at(const struct consent_ledger *ledger,
                                     const char *subject,
                                     const char *purpose,
                                     const char *recipient,
                                     int64_t at_ms,
                                     int64_t as_known_at_ms,
                                     struct consent_status *out);

// The full status (with the notice id and version) as JSON, written to `*out_json`:
// now when `at_ms` and `as_known_at_ms` are both `CONSENT_TIME_ABSENT`, else as
// [`consent_status_get_at`]. Free with [`consent_string_free`].
//
// Errors: as `consent_status_get_at`; `as_known_at_ms` without `at_ms`
// `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_status_get_json(const struct consent_ledger *ledger,
                                       const char *subject,
                                       const char *purpose,
                                       const char *recipient,
                                       int64_t at_ms,
                                       int64_t as_known_at_ms,
                                       char **out_json);

// Every event about `subject`, in order, as a JSON array written to `*out_json`;
// free with [`consent_string_free`].
//
// Errors: the common ones only; an unknown subject has an empty history.
consent_result consent_history_json(const struct consent_ledger *ledger,
                                    const char *subject,
                                    char **out_json);

// One event by id as JSON, written to `*out_json`; free with [`consent_string_free`].
//
// Errors: an unknown event `CONSENT_RESULT_NOT_FOUND`; an id that is not a UUID
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_event_json(const struct consent_ledger *ledger,
                                  const char *event_id,
                                  char **out_json);

// Every subject with consent in force for `purpose` (and `recipient`) at `at_ms`
// (`CONSENT_TIME_ABSENT` = now), as the ledger knew it at `as_known_at_ms`
// (`CONSENT_TIME_ABSENT` = now: a past extract reproduced as it was known then), with
// the head that answered, as JSON (`{"purpose":..,"recipient":..,"at":..,
// "as_known_at":..,"subjects":[{"subject":..,"event_id":..,"since":..,"until":..}],
// "head":{..}}`) written to `*out_json`; free with [`consent_string_free`]. A purpose
// that lists recipients must be asked about one of them (a feed that left the
// recipient out would miss a withdrawal naming it): NULL is then
// `CONSENT_RESULT_UNKNOWN_RECIPIENT`, as is a recipient the purpose does not list.
//
// Errors: an unknown purpose `CONSENT_RESULT_UNKNOWN_PURPOSE`; an unlisted or missing
// recipient `CONSENT_RESULT_UNKNOWN_RECIPIENT`; a time out of range
// `CONSENT_RESULT_INVALID_TIME`.
consent_result consent_consenting_json(const struct consent_ledger *ledger,
                                       const char *purpose,
                                       const char *recipient,
                                       int64_t at_ms,
                                       int64_t as_known_at_ms,
                                       char **out_json);

// A change feed: events with `seq >= since`, at most `limit`, as a JSON array
// written to `*out_json`; free with [`consent_string_free`]. Continue from the last
// event's `seq + 1`.
//
// Errors: the common ones only.
consent_result consent_changes_since_json(const struct consent_ledger *ledger,
                                          uint64_t since,
                                          size_t limit,
                                          char **out_json);

// The subject-access copy of `subject` (every event, the purposes and notices they
// refer to, current statuses and the head) as JSON written to `*out_json`; free with
// [`consent_string_free`]. [`consent_export_subject_html`] is the same copy for a person
// to read.
//
// Errors: the common ones only.
consent_result consent_export_subject_json(const struct consent_ledger *ledger,
                                           const char *subject,
                                           char **out_json);

// The subject's copy as a self-contained HTML page, for the person to read: the
// purposes (titles, controllers), the notices they were shown (title, version, SHA-256,
// controller), every event in plain words with local times in the ledger's time zone,
// the current statuses and the head. Written to `*out_html`; free with
// [`consent_string_free`].
//
// Errors: the common ones only.
consent_result consent_export_subject_html(const struct consent_ledger *ledger,
                                           const char *subject,
                                           char **out_html);

// The receipt of event `event_id` (a UUID) in `layout` (a `consent_receipt_layout`),
// as its JSON document (docs/FORMAT.md §12) written to `*out_json`; free with
// [`consent_string_free`]. `note` is the signed checkpoint it is proved against
// (ideally cosigned: the receipt is only as good as the signatures a checker can
// verify), or NULL for the latest checkpoint the ledger keeps
// (`CONSENT_RESULT_NOT_FOUND` when it keeps none: sign one with
// `consent_checkpoint_sign`). A note that is not a signed checkpoint, of size 0, an
// event that is not a consent decision or was recorded after the checkpoint are
// `CONSENT_RESULT_INVALID_ARGUMENT`; an unknown event `CONSENT_RESULT_NOT_FOUND`; a
// checkpoint the ledger no longer holds `CONSENT_RESULT_CORRUPT`.
//
// Errors: an unknown event, or no stored checkpoint, `CONSENT_RESULT_NOT_FOUND`; a
// note that is not a signed checkpoint or of size 0, a layout that is not a
// `consent_receipt_layout`, an event that is not a consent decision or was recorded
// after the checkpoint `CONSENT_RESULT_INVALID_ARGUMENT`; a checkpoint the ledger no
// longer holds `CONSENT_RESULT_CORRUPT`.
//
// [`consent_string_free`]: crate::consent_string_free
consent_result consent_receipt(const struct consent_ledger *ledger,
                               const char *event_id,
                               const char *note,
                               int32_t layout,
                               char **out_json);

// Checks a receipt's JSON `receipt_json` with the log's verifier key `log_vkey` and the
// `n_witnesses` witness verifier keys at `witness_vkeys` (NULL when 0), requiring
// `quorum` cosignatures by distinct witnesses among them. No ledger needed. Writes
// what it proved to `*out` and, when `out_json` is not NULL, the whole answer as JSON
// (`origin`, `size`, `root`, `cosignatures`, `event_id`, `kind`, `seq`, `purpose`,
// `purpose_version`, `subject_checked`, `simulated`, `layout`, `readable`,
// `not_proved`, `proved`) to `*out_json` (free with [`consent_string_free`]).
// A receipt that does not check out is `CONSENT_RESULT_RECEIPT_REJECTED`, the message
// naming the first check that failed; text that is not JSON, a `quorum` above
// `n_witnesses` or a malformed verifier key `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// Errors: a receipt that does not check out `CONSENT_RESULT_RECEIPT_REJECTED` (the
// message names the check); malformed JSON or keys `CONSENT_RESULT_INVALID_ARGUMENT`.
//
// [`consent_string_free`]: crate::consent_string_free
consent_result consent_receipt_check(const char *receipt_json,
                                     const char *log_vkey,
                                     const char *const *witness_vkeys,
                                     size_t n_witnesses,
                                     size_t quorum,
                                     struct consent_checked_receipt *out,
                                     char **out_json);

// Registers a purpose (or a new version of it) from its JSON definition, e.g.
// `{"id":"jmsu.marketing","title":"Marketing","controller":"JMSU","lawful_basis":"a",
// "special_category":null,"validity":{"kind":"academic_year"},"effect_delay_secs":0,
// "withdrawal_method":"My LJMU","recipients":[],"renew_consent":false}` (`lawful_basis`
// is the Art. 6(1) letter; `special_category` an Art. 9(2) letter; `validity.kind` is
// `none`, `days` (with `days`), `academic_year` (with optional `end_month`/`end_day`,
// ending at local midnight in the ledger's time zone) or `course_year` (one year from
// the grant's `validity_from_ms`, else its effective time, to local midnight);
// `recipients` are the ids events and questions may
// name, spelt exactly). An unchanged definition appends nothing. A new version that
// changes the lawful basis or the controller, makes the data special-category, adds a
// recipient, or sets `renew_consent` is a material change: earlier grants then answer
// `CONSENT_STATE_NEEDS_RENEWAL`. Writes the version in force to `*out_version`, and to
// `*out_is_new` whether this call appended it (false: the same definition was already
// current and nothing was written); NULL = not wanted.
//
// Errors: malformed JSON or an invalid definition `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_register_purpose_json(const struct consent_ledger *ledger,
                                             const char *purpose_json,
                                             uint32_t *out_version,
                                             bool *out_is_new);

// Registers a privacy notice from its JSON definition:
// `{"id":"jmsu.privacy","version":"2024-09","language":"en-GB","sha256":"<64 hex>",
// "title":"JMSU privacy notice","url":"https://...","controller":"JMSU",
// "purposes":["jmsu.marketing","jmsu.project.*"]}` (`language` and `url` optional).
// `controller` and `purposes` (ids, or a prefix ending in `.*`) are required: without
// them the notice is `CONSENT_RESULT_INVALID_ARGUMENT`. A grant, refusal or
// notice_served naming a notice that does not cover its purpose is
// `CONSENT_RESULT_INVALID_CONSENT`. The same id and version with another hash is
// `CONSENT_RESULT_CONFLICT`. Registering it again unchanged appends nothing. Writes to
// `*out_is_new` whether this call appended it (NULL = not wanted).
//
// Errors: malformed JSON, or a notice without `controller` or `purposes`,
// `CONSENT_RESULT_INVALID_ARGUMENT`; the same id and version with another hash
// `CONSENT_RESULT_CONFLICT`.
consent_result consent_register_notice_json(const struct consent_ledger *ledger,
                                            const char *notice_json,
                                            bool *out_is_new);

// Registers a privacy notice whose SHA-256 is computed from `text`, the exact text
// shown (language "en-GB", no URL), published by `controller`, covering the
// `n_purposes` purposes at `purposes` (ids, or a prefix ending in `.*` such as
// `jmsu.project.*`; at least one, else `CONSENT_RESULT_INVALID_ARGUMENT`).
// Registering it again unchanged appends nothing. Writes to `*out_is_new` whether this
// call appended it (NULL = not wanted).
//
// Errors: no purpose, or an invalid id, `CONSENT_RESULT_INVALID_ARGUMENT`; the same id
// and version with another text `CONSENT_RESULT_CONFLICT`.
consent_result consent_register_notice_text(const struct consent_ledger *ledger,
                                            const char *id,
                                            const char *version,
                                            const char *title,
                                            const char *text,
                                            const char *controller,
                                            const char *const *purposes,
                                            size_t n_purposes,
                                            bool *out_is_new);

// A version of a purpose as JSON (its definition plus `version`, `seq`,
// `registered_at`): `version` (from 1), or 0 for the current one; written to
// `*out_json`; free with [`consent_string_free`].
//
// Errors: a purpose never registered is `CONSENT_RESULT_UNKNOWN_PURPOSE`; a version
// it does not have `CONSENT_RESULT_NOT_FOUND`.
consent_result consent_purpose_json(const struct consent_ledger *ledger,
                                    const char *purpose,
                                    uint32_t version,
                                    char **out_json);

// One notice, `id` at `version` (what a status or an event names), as JSON (its
// definition, as [`consent_register_notice_json`] takes it, plus `seq` and
// `registered_at`), written to `*out_json`; free with [`consent_string_free`].
//
// Errors: an id and version not registered is `CONSENT_RESULT_UNKNOWN_NOTICE`.
consent_result consent_notice_json(const struct consent_ledger *ledger,
                                   const char *id,
                                   const char *version,
                                   char **out_json);

// Every version of every purpose as a JSON array, written to `*out_json`; free with
// [`consent_string_free`].
//
// Errors: the common ones only.
consent_result consent_purposes_json(const struct consent_ledger *ledger, char **out_json);

// Every registered notice as a JSON array, written to `*out_json`; free with
// [`consent_string_free`].
//
// Errors: the common ones only.
consent_result consent_notices_json(const struct consent_ledger *ledger, char **out_json);

// Loads the registry file at `path` (TOML: `[[notice]]` and `[[purpose]]` tables, as
// `examples/ljmu/registry.toml`; a notice gives its hash as `sha256`, as a `text_file`
// to hash, or both) into the ledger: every notice, then every purpose, in one batch,
// all of them or none. Definitions the ledger already holds append nothing (loading
// twice is harmless); a changed purpose gets a new version. The notices' `text_file`s
// are read from the folder `texts_dir`, where every text named must then be readable,
// or (NULL) from the registry's own folder, where a missing text leaves the stated
// `sha256` unchecked. A text that does not hash to the stated `sha256`, or a notice
// version already registered with another text, is `CONSENT_RESULT_CONFLICT`; a file
// that cannot be read `CONSENT_RESULT_IO`; malformed TOML, an unknown field or an
// invalid entry `CONSENT_RESULT_INVALID_ARGUMENT`; messages name the entry. On Unix
// both paths are taken as bytes. Writes the report as JSON to `*out_report_json`
// (NULL = not wanted; free with [`consent_string_free`]): `{"entries":[{"kind":
// "notice","id":..,"notice_version":..,"sha256":..,"hash":"checked"|"computed"|
// "unchecked","new":true,"seq":N},{"kind":"purpose","id":..,"purpose_version":N,
// "new":false,"seq":N},..]}` (`new`: whether this load appended its event). A
// downstream retired since is skipped, never reactivated: its entry has `"new":false`
// and `"note":"retired, not reactivated"`.
//
// Errors: a text that does not hash to its `sha256`, or a notice version registered
// with another text, `CONSENT_RESULT_CONFLICT`; a file that cannot be read
// `CONSENT_RESULT_IO`; malformed TOML, an unknown field or an invalid entry
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_registry_load(const struct consent_ledger *ledger,
                                     const char *path,
                                     const char *texts_dir,
                                     char **out_report_json);

// The data-protection officer's figures for `[from_ms, to_ms)` (`CONSENT_TIME_ABSENT`:
// from the start of the local month of the first event; up to now) as JSON, the
// document `consent report --json` prints: the state of each consent purpose per
// period, grants and withdrawals per month, special-category consents, the
// downstream deadlines, erasures, and the verification with the latest signed
// checkpoint. Written to `*out_json`; free with [`consent_string_free`]. An empty range
// (`from_ms` not before `to_ms`) is `CONSENT_RESULT_INVALID_ARGUMENT`; a time outside the
// years 1..9999 `CONSENT_RESULT_INVALID_TIME`. It recomputes every hash (a full
// `verify`): seconds on a ledger of millions of events.
//
// Errors: an empty range (`from_ms` not before `to_ms`)
// `CONSENT_RESULT_INVALID_ARGUMENT`; a time out of range
// `CONSENT_RESULT_INVALID_TIME`.
//
// [`consent_string_free`]: crate::consent_string_free
consent_result consent_report_json(const struct consent_ledger *ledger,
                                   int64_t from_ms,
                                   int64_t to_ms,
                                   char **out_json);

// Opens a witness keeping its state in the directory `state_dir` (created, owner-only,
// when missing), cosigning with the witness key in the file `key_path` (a
// `CONSENT_KEY_ROLE_WITNESS` key), for the `n_logs` logs whose verifier keys are at
// `log_vkeys`. `origins` is NULL (each log's origin is its key's name, as a ledger's
// is) or `n_logs` origins, one per key. Writes the handle to `*out`. Refused: an
// unusable key file (`CONSENT_RESULT_KEY`), a log key that is not Ed25519
// (`CONSENT_RESULT_NOTE`), an origin given twice or a malformed verifier key
// (`CONSENT_RESULT_INVALID_ARGUMENT`).
//
// Errors: an unusable key file `CONSENT_RESULT_KEY`; a log key that is not Ed25519
// `CONSENT_RESULT_NOTE`; an origin given twice or a malformed verifier key
// `CONSENT_RESULT_INVALID_ARGUMENT`.
consent_result consent_witness_open(const char *state_dir,
                                    const char *key_path,
                                    const char *const *origins,
                                    const char *const *log_vkeys,
                                    size_t n_logs,
                                    struct consent_witness **out);

// Cosigns `note`, a checkpoint signed by a log the witness watches, if it is
// consistent with the last checkpoint cosigned for that log. `proof_json` is NULL or a
// consistency proof (JSON from `consent_prove_consistency_json`) from that size
// ([`consent_witness_latest`]) to the note's: needed when the log grew. Writes the note
// with the witness's cosignature line added to `*out_note` (free with
// `consent_string_free`; merge it into the ledger with
// `consent_checkpoint_add_cosignatures`). The first checkpoint of a log is taken on
// trust. Refused with `CONSENT_RESULT_WITNESS_REFUSED`: an unknown log, a fork (another
// root for a size cosigned), a rollback (a smaller size), a missing proof or one that
// does not verify; the message says which, names both sizes and roots, and the
// evidence file written in the state directory. A note not signed by the log's key is
// `CONSENT_RESULT_NOTE`; a damaged state file `CONSENT_RESULT_CORRUPT` (nothing is
// cosigned until it is restored).
//
// Errors: a refusal (an unknown log, a fork, a rollback, a missing or failing proof)
// `CONSENT_RESULT_WITNESS_REFUSED`; a note not signed by the log's key
// `CONSENT_RESULT_NOTE`; a damaged state file `CONSENT_RESULT_CORRUPT`.
consent_result consent_witness_cosign(const struct consent_witness *witness,
                                      const char *note,
                                      const char *proof_json,
                                      char **out_note);

// The last checkpoint the witness cosigned for the log `origin` (what the log proves
// consistency from): writes whether there is one to `*out_found` and, when there is,
// its size and root to `*out_head`.
//
// Errors: the common ones only: no checkpoint for the log is `*out_found` false.
consent_result consent_witness_latest(const struct consent_witness *witness,
                                      const char *origin,
                                      bool *out_found,
                                      struct consent_head *out_head);

// Releases a witness. NULL is fine; never twice, and not while another thread uses it.
//
// Errors: none (a void function; NULL is fine).
void consent_witness_free(struct consent_witness *witness);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* CONSENT_H */
