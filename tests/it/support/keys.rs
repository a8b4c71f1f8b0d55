//! RSA test keys made with `openssl` at test time in a temp dir; no key is stored in the
//! repository. Covers every key form a user may hand the loader: unencrypted PKCS#8,
//! encrypted PKCS#8 (PBES2 with 3DES, as Snowflake's instructions make it, and with AES-256),
//! a PKCS#1 key, and a second key unrelated to the first.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The passphrase of the encrypted test keys.
pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

/// A set of key files in one temp dir.
pub(crate) struct TestKeys {
    _dir: tempfile::TempDir,
    /// `BEGIN PRIVATE KEY` (PKCS#8, unencrypted).
    pub(crate) pkcs8: PathBuf,
    /// `BEGIN ENCRYPTED PRIVATE KEY`, `openssl pkcs8 -topk8 -v2 des3`.
    pub(crate) pkcs8_des3: PathBuf,
    /// `BEGIN ENCRYPTED PRIVATE KEY`, `openssl pkcs8 -topk8 -v2 aes256`.
    pub(crate) pkcs8_aes256: PathBuf,
    /// `BEGIN RSA PRIVATE KEY` (PKCS#1) of the same key.
    pub(crate) pkcs1: PathBuf,
    /// The public key (SPKI PEM) of all of the above.
    pub(crate) public: PathBuf,
    /// A second, unrelated key (PKCS#8, unencrypted).
    pub(crate) other: PathBuf,
    /// The public key of `other`.
    pub(crate) other_public: PathBuf,
}

impl TestKeys {
    /// Generates the keys (two RSA 2048 keys; about a second).
    pub(crate) fn generate() -> TestKeys {
        let dir = tempfile::tempdir().expect("temp dir for keys");
        let d = dir.path();
        let p = |name: &str| d.join(name);
        openssl(d, &["genrsa", "-out", "raw.pem", "2048"]);
        openssl(
            d,
            &[
                "pkcs8", "-topk8", "-inform", "PEM", "-in", "raw.pem", "-nocrypt", "-out", "key.p8",
            ],
        );
        let pass = format!("pass:{PASSPHRASE}");
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "des3",
                "-inform",
                "PEM",
                "-in",
                "raw.pem",
                "-passout",
                &pass,
                "-out",
                "key-des3.p8",
            ],
        );
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes256",
                "-inform",
                "PEM",
                "-in",
                "raw.pem",
                "-passout",
                &pass,
                "-out",
                "key-aes256.p8",
            ],
        );
        openssl(
            d,
            &[
                "rsa",
                "-in",
                "raw.pem",
                "-traditional",
                "-out",
                "key-pkcs1.pem",
            ],
        );
        openssl(d, &["rsa", "-in", "key.p8", "-pubout", "-out", "key.pub"]);
        openssl(d, &["genrsa", "-out", "other-raw.pem", "2048"]);
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-inform",
                "PEM",
                "-in",
                "other-raw.pem",
                "-nocrypt",
                "-out",
                "other.p8",
            ],
        );
        openssl(
            d,
            &["rsa", "-in", "other.p8", "-pubout", "-out", "other.pub"],
        );
        let keys = TestKeys {
            pkcs8: p("key.p8"),
            pkcs8_des3: p("key-des3.p8"),
            pkcs8_aes256: p("key-aes256.p8"),
            pkcs1: p("key-pkcs1.pem"),
            public: p("key.pub"),
            other: p("other.p8"),
            other_public: p("other.pub"),
            _dir: dir,
        };
        for (path, header) in [
            (&keys.pkcs8, "-----BEGIN PRIVATE KEY-----"),
            (&keys.pkcs8_des3, "-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            (&keys.pkcs8_aes256, "-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            (&keys.pkcs1, "-----BEGIN RSA PRIVATE KEY-----"),
        ] {
            let text = std::fs::read_to_string(path).expect("key file");
            assert!(
                text.starts_with(header),
                "{} does not start with {header}",
                path.display()
            );
        }
        keys
    }

    /// `SHA256:<base64>` of `public`, computed by openssl alone (DER SPKI, SHA-256, base64).
    pub(crate) fn openssl_fingerprint(&self, public: &Path) -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(
                "openssl pkey -pubin -in \"$1\" -outform DER | openssl dgst -sha256 -binary | openssl enc -base64 -A",
            )
            .arg("sh")
            .arg(public)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "SHA256:{}",
            String::from_utf8(out.stdout).expect("ascii").trim()
        )
    }
}

/// Runs `openssl` with `args` in `dir`; fails the test with openssl's stderr if it fails.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}
