//! TLS for the connection, with rustls (no OpenSSL): libpq's `sslmode` semantics.
//!
//! | sslmode | TLS | server certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `allow`, `prefer` | when the server offers it, else plain | not verified |
//! | `require` | always (a server without TLS is refused) | not verified; with `sslrootcert`, verified as `verify-ca` (as libpq) |
//! | `verify-ca` | always | signed by a trusted root |
//! | `verify-full` | always | signed by a trusted root and issued for the host name (or IP address) |
//!
//! Trusted roots are the PEM certificates of `sslrootcert`, or the system's store (via
//! `rustls-native-certs`) without it or with `sslrootcert=system`. Client certificates (`sslcert`,
//! `sslkey`) and channel binding are not offered; SCRAM authentication works without them.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

use crate::config::{SslMode, TlsSettings};

/// Why TLS could not be set up or negotiated; [`crate::error`] names the setting to fix from it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsFailure {
    /// The trusted roots could not be read (`sslrootcert`).
    #[error("{0}")]
    RootCertificates(String),
    /// The server's certificate was refused (not signed by a trusted root, or not for this host).
    #[error("the server's certificate was refused: {0}")]
    Certificate(String),
    /// The handshake failed for another reason (protocol, host name syntax, I/O).
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
}

/// The crypto provider: aws-lc-rs, which reqwest's rustls already links into the binary.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The trusted roots: `sslrootcert`'s PEM certificates, or the system store.
fn roots(root_cert: Option<&Path>) -> Result<RootCertStore, TlsFailure> {
    let mut store = RootCertStore::empty();
    match root_cert.filter(|p| *p != Path::new("system")) {
        Some(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| TlsFailure::RootCertificates(format!("cannot read sslrootcert {shown}: {e}")))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    TlsFailure::RootCertificates(format!("sslrootcert {shown} is not PEM certificates: {e}"))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(TlsFailure::RootCertificates(format!(
                    "sslrootcert {shown} holds no usable certificate"
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(TlsFailure::RootCertificates(format!(
                    "no trusted root certificates in the system store ({} errors); set sslrootcert to the \
                     server's CA file",
                    found.errors.len()
                )));
            }
        }
    }
    Ok(store)
}

/// The rustls client settings for `tls`; `None` for `sslmode=disable`.
pub(crate) fn client_config(tls: &TlsSettings) -> Result<Option<Arc<ClientConfig>>, TlsFailure> {
    let provider = provider();
    let verify = match tls.mode {
        SslMode::Disable => return Ok(None),
        SslMode::Allow | SslMode::Prefer => Verify::Nothing,
        SslMode::Require if tls.root_cert.is_none() => Verify::Nothing,
        SslMode::Require | SslMode::VerifyCa => Verify::Chain,
        SslMode::VerifyFull => Verify::ChainAndName,
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsFailure::Handshake(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Nothing => Arc::new(AcceptAnyCertificate(provider.signature_verification_algorithms)),
        Verify::Chain | Verify::ChainAndName => {
            let store = Arc::new(roots(tls.root_cert.as_deref())?);
            let webpki = WebPkiServerVerifier::builder_with_provider(store, provider.clone())
                .build()
                .map_err(|e| TlsFailure::RootCertificates(e.to_string()))?;
            if verify == Verify::Chain {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    ChainAndName,
}

/// `prefer` and `require` without roots: encryption without authentication of the server, as libpq.
/// Handshake signatures are still checked, so the session key belongs to the certificate presented.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the certificate is not checked.
/// webpki checks the chain before the name, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// tokio-postgres' TLS hook over tokio-rustls. With `sslmode=disable` the driver never calls it.
#[derive(Clone)]
pub(crate) struct MakeRustlsConnect {
    config: Option<Arc<ClientConfig>>,
}

impl MakeRustlsConnect {
    pub(crate) fn new(config: Option<Arc<ClientConfig>>) -> Self {
        MakeRustlsConnect { config }
    }
}

impl<S> MakeTlsConnect<S> for MakeRustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = TlsFailure;

    /// The driver asks for a connector whatever the mode; with `sslmode=disable` it never uses it.
    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, TlsFailure> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| format!("host {domain:?} is not a TLS server name: {e}"));
        Ok(RustlsConnect {
            config: self.config.clone(),
            name,
        })
    }
}

/// One TLS handshake.
pub(crate) struct RustlsConnect {
    config: Option<Arc<ClientConfig>>,
    name: Result<ServerName<'static>, String>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = TlsFailure;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, TlsFailure>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let config = self
                .config
                .ok_or_else(|| TlsFailure::Handshake("TLS requested with sslmode=disable".to_string()))?;
            let name = self.name.map_err(TlsFailure::Handshake)?;
            tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await
                .map(|s| RustlsStream(Box::new(s)))
                .map_err(handshake_failure)
        })
    }
}

/// A handshake's I/O error as what went wrong: a refused certificate or another failure.
fn handshake_failure(error: io::Error) -> TlsFailure {
    match error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(e)) => TlsFailure::Certificate(format!("{e:?}")),
        Some(other) => TlsFailure::Handshake(other.to_string()),
        None => TlsFailure::Handshake(error.to_string()),
    }
}

/// The encrypted stream.
pub(crate) struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: SslMode, root_cert: Option<&str>) -> TlsSettings {
        TlsSettings {
            mode,
            root_cert: root_cert.map(Into::into),
        }
    }

    #[test]
    fn disable_builds_no_tls() {
        assert!(matches!(
            client_config(&settings(SslMode::Disable, None)),
            Ok(None)
        ));
        assert!(matches!(
            client_config(&settings(SslMode::Require, None)),
            Ok(Some(_))
        ));
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let err = client_config(&settings(SslMode::VerifyFull, Some("/no/such/ca.pem"))).err();
        assert!(
            matches!(&err, Some(TlsFailure::RootCertificates(m)) if m.contains("/no/such/ca.pem")),
            "{err:?}"
        );
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().ok();
        let path = dir.as_ref().map(|d| d.path().join("ca.pem"));
        let path = path.filter(|p| std::fs::write(p, "not a certificate\n").is_ok());
        let path = path.as_ref().and_then(|p| p.to_str());
        assert!(path.is_some());
        let err = client_config(&settings(SslMode::VerifyCa, path)).err();
        assert!(
            matches!(&err, Some(TlsFailure::RootCertificates(m)) if m.contains("no usable certificate")),
            "{err:?}"
        );
    }
}
