//! C ABI for consent-ledger (see issue: consent-ffi).
