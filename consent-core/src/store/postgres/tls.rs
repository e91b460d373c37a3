//! TLS to the server, with rustls (docs/POSTGRES.md "TLS"): the URL's `sslmode` and
//! `sslrootcert`, as libpq spells them, decide whether TLS is used and which roots
//! the server's certificate is checked against.
//!
//! Unlike libpq's `prefer` and `require`, which accept any certificate, every TLS
//! connection here checks the certificate chain and the host name (libpq's
//! `verify-full`): a ledger's connection must not be interceptable by whoever can
//! answer on the server's address. A server without a trusted certificate is reached
//! with `sslmode=disable` over a network the institution trusts, or a Unix socket.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// The TLS settings of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tls {
    /// `sslmode`: disable, prefer (default: TLS when the server offers it), require.
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file of the roots to trust instead of the system's.
    pub root_cert: Option<PathBuf>,
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            mode: SslMode::Prefer,
            root_cert: None,
        }
    }
}

impl Tls {
    /// Takes one URL parameter if it is about TLS; returns whether it was.
    pub(super) fn take(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "sslmode" => {
                self.mode = match value {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    // Every TLS connection is verified: these mean `require` here.
                    "require" | "verify-ca" | "verify-full" => SslMode::Require,
                    other => {
                        return Err(Error::invalid(format!(
                            "sslmode={other}: disable, prefer, require, verify-ca or verify-full"
                        )))
                    }
                };
                Ok(true)
            }
            "sslrootcert" => {
                self.root_cert = Some(PathBuf::from(percent_decode(value)));
                Ok(true)
            }
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => Err(Error::invalid(format!(
                "{key}: client certificates are not supported yet; authenticate with a password or on a Unix socket"
            ))),
            _ => Ok(false),
        }
    }
}

/// `%XX` escapes of a URL parameter decoded (a path in `sslrootcert`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Connects with TLS as `tls` says (none to Unix sockets, where TLS does not apply).
/// The connection's task is spawned on `rt`, which drives it whenever the caller
/// blocks on a request.
pub(super) fn connect(
    rt: &Runtime,
    config: &mut tokio_postgres::Config,
    tls: &Tls,
) -> Result<(Client, JoinHandle<()>)> {
    // As libpq: TLS does not apply to a Unix socket, whatever `sslmode` says.
    let only_sockets = config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, Host::Unix(_)));
    if tls.mode == SslMode::Disable || only_sockets {
        config.ssl_mode(SslMode::Disable);
        let (client, connection) = rt
            .block_on(config.connect(tokio_postgres::NoTls))
            .map_err(connect_error)?;
        return Ok((client, rt.spawn(drive(connection))));
    }
    config.ssl_mode(tls.mode);
    let connector = MakeRustlsConnect::new(client_config(tls)?);
    let (client, connection) = rt
        .block_on(config.connect(connector))
        .map_err(connect_error)?;
    Ok((client, rt.spawn(drive(connection))))
}

/// Runs a connection until it ends (its errors reach the requests that wait on it).
async fn drive(
    connection: impl std::future::Future<Output = std::result::Result<(), tokio_postgres::Error>>,
) {
    let _ = connection.await;
}

fn connect_error(e: tokio_postgres::Error) -> Error {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    Error::Storage(format!("cannot connect: {msg}"))
}

/// The rustls configuration: ring, TLS 1.2 and 1.3, the roots to trust, no client
/// certificate.
fn client_config(tls: &Tls) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match &tls.root_cert {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| Error::invalid(format!("sslrootcert {}: {e}", path.display())))?;
            let mut found = 0;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert
                    .map_err(|e| Error::invalid(format!("sslrootcert {}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::invalid(format!("sslrootcert {}: {e}", path.display())))?;
                found += 1;
            }
            if found == 0 {
                return Err(Error::invalid(format!(
                    "sslrootcert {}: no PEM certificate in it",
                    path.display()
                )));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Storage(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters() {
        let mut t = Tls::default();
        assert!(t.take("sslmode", "verify-full").unwrap());
        assert_eq!(t.mode, SslMode::Require);
        assert!(t.take("sslrootcert", "/etc/ca%20dir/root.pem").unwrap());
        assert_eq!(t.root_cert, Some(PathBuf::from("/etc/ca dir/root.pem")));
        assert!(!t.take("host", "/tmp").unwrap());
        assert!(t.take("sslmode", "sometimes").is_err());
        assert!(t.take("sslcert", "c.pem").is_err());
    }
}
