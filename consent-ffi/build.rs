//! Gives `libconsent.so` its SONAME, the name a program records when it links, so the
//! loader refuses to pair it with a library whose ABI may differ (consent.h, "Growing
//! the ABI"). The name follows Cargo's semver rules: a 0.x release may break
//! compatibility at every minor version (`libconsent.so.0.1`), a later one only at a
//! major version (`libconsent.so.1`). `CONSENT_SONAME` in consent.h spells the same
//! name; `tests/run.sh` checks that the two agree.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("set by cargo");
    let soname = if major == "0" {
        format!("libconsent.so.0.{minor}")
    } else {
        format!("libconsent.so.{major}")
    };
    // ELF platforms only: Apple's name a library by its install name, Windows by its file.
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let vendor = std::env::var("CARGO_CFG_TARGET_VENDOR").unwrap_or_default();
    if family.split(',').any(|f| f == "unix") && vendor != "apple" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
