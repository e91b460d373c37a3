//! Python bindings (see issue: consent-py).
