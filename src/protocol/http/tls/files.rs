//! Reading certificates and keys from PEM files. Errors name the file and
//! what was wrong with it, never the file's content (a key is a secret).

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{ClientIdentity, KeyDer};

/// Why a certificate or key file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsFileError {
    pub path: PathBuf,
    pub message: String,
}

fn fail(path: &Path, message: impl Into<String>) -> TlsFileError {
    TlsFileError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The certificates of a PEM file, or of every `.pem` and `.crt` file of a
/// directory (in name order, like OpenSSL's `-CApath` users expect of a
/// folder of CA files). At least one certificate must be found.
pub fn load_ca(path: &Path) -> Result<Vec<Vec<u8>>, TlsFileError> {
    let meta = std::fs::metadata(path).map_err(|e| fail(path, format!("cannot read: {e}")))?;
    let mut certs = Vec::new();
    if meta.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|e| fail(path, format!("cannot list: {e}")))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| {
                p.is_file()
                    && p.extension().is_some_and(|ext| {
                        ext.eq_ignore_ascii_case("pem") || ext.eq_ignore_ascii_case("crt")
                    })
            })
            .collect();
        files.sort();
        for file in files {
            certs.extend(read_certificates(&file)?);
        }
    } else {
        certs = read_certificates(path)?;
    }
    if certs.is_empty() {
        return Err(fail(path, "no PEM certificate found"));
    }
    Ok(certs)
}

/// A client certificate chain (leaf first) and its private key (PKCS#8,
/// PKCS#1 or SEC1 PEM); `key` may be the same file as `cert`.
pub fn load_identity(cert: &Path, key: &Path) -> Result<ClientIdentity, TlsFileError> {
    let chain = read_certificates(cert)?;
    if chain.is_empty() {
        return Err(fail(cert, "no PEM certificate found"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => fail(key, "no PEM private key found"),
        other => fail(
            key,
            format!("cannot read private key: {}", pem_problem(&other)),
        ),
    })?;
    let key = match key_der {
        PrivateKeyDer::Pkcs8(k) => KeyDer::Pkcs8(k.secret_pkcs8_der().to_vec()),
        PrivateKeyDer::Pkcs1(k) => KeyDer::Pkcs1(k.secret_pkcs1_der().to_vec()),
        PrivateKeyDer::Sec1(k) => KeyDer::Sec1(k.secret_sec1_der().to_vec()),
        _ => return Err(fail(key, "unsupported private key type")),
    };
    Ok(ClientIdentity { chain, key })
}

fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, TlsFileError> {
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(path, format!("cannot read: {}", pem_problem(&e))))?;
    iter.map(|cert| {
        cert.map(|c| c.as_ref().to_vec())
            .map_err(|e| fail(path, format!("bad PEM: {}", pem_problem(&e))))
    })
    .collect()
}

/// What is wrong with a PEM file, in words that quote none of its content:
/// the parser's own messages can carry a line of the file or a byte of a
/// key.
fn pem_problem(err: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match err {
        Error::Io(io) => io.to_string(),
        Error::MissingSectionEnd { .. } => "a BEGIN line has no END line".into(),
        Error::IllegalSectionStart { .. } => "a malformed BEGIN line".into(),
        Error::Base64Decode(_) => "the text between BEGIN and END is not base64".into(),
        Error::NoItemsFound => "nothing in PEM form".into(),
        _ => "not valid PEM".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rcgen's `pem` feature is off; PEM is base64 between two lines.
    fn cert_pem(name: &str) -> String {
        use base64::Engine;
        let der = rcgen::generate_simple_self_signed(vec![name.to_string()])
            .unwrap()
            .cert
            .der()
            .to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn a_directory_yields_the_certificates_of_its_pem_and_crt_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pem"), cert_pem("a.test")).unwrap();
        std::fs::write(dir.path().join("b.crt"), cert_pem("b.test")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a certificate").unwrap();
        assert_eq!(load_ca(dir.path()).unwrap().len(), 2);
    }

    #[test]
    fn a_key_file_without_a_key_names_the_file_not_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("client.pem");
        std::fs::write(&cert, cert_pem("client.test")).unwrap();
        let err = load_identity(&cert, &cert).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: no PEM private key found", cert.display())
        );
    }

    #[test]
    fn an_empty_ca_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("empty.pem");
        std::fs::write(&file, "").unwrap();
        let err = load_ca(&file).unwrap_err();
        assert_eq!(err.message, "no PEM certificate found");
    }
}
