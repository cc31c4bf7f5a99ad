//! The CA certificates a game trusts for its `turns:` servers (`PeerConfig::turn_ca_pem`),
//! read from PEM once, when the configuration is checked.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

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
