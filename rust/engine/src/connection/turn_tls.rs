//! TLS settings of `turns:` servers: the platform's trusted roots (Mozilla's list on Android and
//! iOS, which keep theirs out of reach of a library), plus the CA certificates the game hands
//! in (`PeerConfig::turn_ca_pem`).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::sync::{Arc, OnceLock};

/// Certificates of a PEM text; an error when it holds none or one that cannot be a root.
pub(crate) fn parse_ca_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate ('-----BEGIN CERTIFICATE-----')".to_string());
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| e.to_string())?;
    }
    Ok(certs)
}

/// The platform's roots, read once per process (a few hundred files on Linux).
fn platform_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        #[cfg(any(target_os = "android", target_os = "ios"))]
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        #[cfg(not(any(target_os = "android", target_os = "ios")))]
        {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                // A server image without ca-certificates, say: `turns:` works with the CA the
                // game names (`turn_ca_pem`), and says why it fails otherwise.
                log::warn!(target: "engine::turn", "No trusted root certificates are readable on this system ({:?}): a turns: server is trusted only through the CA certificates the game names (turnCaFile in the webrtc_rs options). Install the system's CA certificates (ca-certificates) to trust public TURN servers.", found.errors);
            }
        }
        store
    })
}

/// The client settings for `turns:` servers, with `extra` trusted besides the platform's roots.
/// Reads the platform's roots the first time: call it off the runtime's workers.
pub(crate) fn client_config(extra: &[CertificateDer<'static>]) -> Arc<rustls::ClientConfig> {
    let mut roots = platform_roots().clone();
    roots.add_parsable_certificates(extra.iter().cloned());
    // ring: the provider webrtc-rs's DTLS already links.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ca_pem() {
        assert!(parse_ca_pem("").unwrap_err().contains("no PEM certificate"));
        assert!(parse_ca_pem("not a certificate").is_err());
        let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(parse_ca_pem(broken).is_err());
    }
}
