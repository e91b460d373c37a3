//! Runnable examples: `src/bin/rust_scenario.rs` (Rust), `c/` (the C ABI), `python/`
//! (the Python package) and `ljmu/` (the registry and the CLI demo). The tests run them all.
