//! TLS settings of `turns:` servers: the platform's trusted roots (Mozilla's list on Android and
//! iOS, which keep theirs out of reach of a library), plus the CA certificates the game hands
//! in (`PeerConfig::turn_ca_pem`, read by `config::ca` when the configuration is checked).

use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::sync::{Arc, OnceLock};

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
