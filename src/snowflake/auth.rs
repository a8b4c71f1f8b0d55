//! Authentication to the SQL API: key-pair JWT (RS256) or a programmatic access token.
//!
//! Owns reading the private key, the public-key fingerprint, the JWT claims and the token cache.
//! Invariants:
//!
//! * The key is read and checked when the client is built (`SnowflakeClient::new`), so a key that
//!   will not load, a missing or wrong passphrase, or a PKCS#1 file fails before any statement,
//!   with a message that says what to do. Only PKCS#8 is read: unencrypted (`BEGIN PRIVATE KEY`)
//!   and encrypted (`BEGIN ENCRYPTED PRIVATE KEY`, PBES2 with 3DES as Snowflake's instructions
//!   make it, or AES).
//! * Claims follow Snowflake's key-pair rules and the official Python connector
//!   (`auth/keypair.py`): `iss = ACCOUNT.USER.SHA256:<fingerprint>`, `sub = ACCOUNT.USER`, both
//!   upper-case; the account is cut at its first `.` (at its first `-` for a `.global` account),
//!   and `exp` is 59 minutes after `iat` (Snowflake caps a JWT at one hour).
//! * A token is cached and minted again five minutes before it expires, or at once after the
//!   server refused it (a 401).
//! * No key, passphrase or token ever reaches a log line or an error message; the fingerprint
//!   (of the public key) is what messages name.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use pkcs8::der::Decode as _;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// How the client authenticates to Snowflake.
#[derive(Clone, Debug)]
pub enum SnowflakeAuth {
    /// Key-pair JWT signed with an RSA private key (PKCS#8 PEM).
    KeyPair {
        /// The key file.
        private_key_path: PathBuf,
        /// Passphrase of an encrypted key.
        passphrase: Option<Secret>,
    },
    /// A programmatic access token.
    ProgrammaticAccessToken(Secret),
}

/// The setting that holds the key's passphrase (named in error messages).
pub const PASSPHRASE_SETTING: &str = "snowflake.private_key_passphrase";
/// The setting that names the key file.
pub(crate) const KEY_PATH_SETTING: &str = "snowflake.private_key_path";
/// A JWT lives this long (Snowflake refuses more than one hour).
pub(crate) const JWT_LIFETIME: Duration = Duration::from_secs(59 * 60);
/// A cached JWT is replaced when less than this remains.
pub(crate) const JWT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// `X-Snowflake-Authorization-Token-Type` values.
pub(crate) const TOKEN_TYPE_KEYPAIR_JWT: &str = "KEYPAIR_JWT";
/// Token type of a programmatic access token.
pub(crate) const TOKEN_TYPE_PAT: &str = "PROGRAMMATIC_ACCESS_TOKEN";

/// The account part of `iss`/`sub`, as the official connector computes it: upper case, cut at
/// the first `.` (`xy12345.us-east-2.aws` → `XY12345`), or at the first `-` for a `.global`
/// account (`myorg-acct.global` → `MYORG`); `MyOrg-MyAccount` stays `MYORG-MYACCOUNT`.
pub(crate) fn jwt_account(account: &str) -> String {
    let cut = if account.contains(".global") {
        account.split('-').next()
    } else {
        account.split('.').next()
    };
    cut.unwrap_or(account).to_ascii_uppercase()
}

/// The claims of a key-pair JWT.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// `ACCOUNT.USER.SHA256:<fingerprint>`.
    pub iss: String,
    /// `ACCOUNT.USER`.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// The claims for `account`/`user` signed by the key of `fingerprint` (`SHA256:...`) at `now`.
pub fn claims(account: &str, user: &str, fingerprint: &str, now_secs: u64) -> Claims {
    let sub = format!("{}.{}", jwt_account(account), user.to_ascii_uppercase());
    Claims {
        iss: format!("{sub}.{fingerprint}"),
        sub,
        iat: now_secs,
        exp: now_secs + JWT_LIFETIME.as_secs(),
    }
}

/// An RSA private key read from a PKCS#8 PEM file, ready to sign.
pub struct SigningKey {
    pkcs1_der: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads `path` (PKCS#8 PEM), decrypting it with `passphrase` when it is encrypted.
    pub fn load(path: &Path, passphrase: Option<&Secret>) -> Result<SigningKey> {
        let pem = std::fs::read(path).map_err(|source| Error::SnowflakeAuth {
            message: format!(
                "cannot read the private key {} ({KEY_PATH_SETTING}): {source}",
                path.display()
            ),
        })?;
        SigningKey::from_pem(&pem, passphrase, path)
    }

    /// As [`SigningKey::load`], from the file's bytes; `path` only names it in messages.
    pub fn from_pem(pem: &[u8], passphrase: Option<&Secret>, path: &Path) -> Result<SigningKey> {
        let shown = path.display();
        let fail = |message: String| Error::SnowflakeAuth { message };
        let text = String::from_utf8_lossy(pem);
        if text.contains("-----BEGIN RSA PRIVATE KEY-----")
            && text.contains("Proc-Type: 4,ENCRYPTED")
        {
            // OpenSSL's legacy encryption (headers inside the PEM) is not PKCS#8: name it and
            // the conversion rather than calling the file "not a PEM private key".
            return Err(fail(format!(
                "{shown} ({KEY_PATH_SETTING}) is a PKCS#1 key with OpenSSL's legacy encryption (Proc-Type: 4,ENCRYPTED); convert it to encrypted PKCS#8 with `openssl pkcs8 -topk8 -v2 aes256 -in {shown} -out rsa_key.p8` and point {KEY_PATH_SETTING} at rsa_key.p8"
            )));
        }
        let (label, der) = pkcs8::der::pem::decode_vec(pem).map_err(|_| {
            fail(format!(
                "{shown} ({KEY_PATH_SETTING}) is not a PEM private key; Snowflake key-pair auth needs an RSA key in PKCS#8 PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----)"
            ))
        })?;
        let der = zeroizing(der);
        let key = match label {
            "PRIVATE KEY" => {
                if passphrase.is_some() {
                    tracing::warn!(key = %shown, "the private key is not encrypted; its passphrase setting is ignored");
                }
                RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| {
                    fail(format!("{shown} is not an RSA PKCS#8 private key ({e}); Snowflake key-pair auth needs an RSA key"))
                })?
            }
            "ENCRYPTED PRIVATE KEY" => {
                let Some(passphrase) = passphrase else {
                    return Err(fail(format!(
                        "{shown} is an encrypted private key but no passphrase is configured: set {PASSPHRASE_SETTING}"
                    )));
                };
                let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| {
                    fail(format!("{shown} is not a valid encrypted PKCS#8 key: {e}"))
                })?;
                let wrong = || {
                    fail(format!(
                        "the passphrase in {PASSPHRASE_SETTING} does not open the private key {shown}"
                    ))
                };
                let plain = match info.decrypt(passphrase.expose().as_bytes()) {
                    Ok(plain) => plain,
                    // A bad padding after decryption means a wrong passphrase; pkcs5 0.7
                    // reports it as `EncryptFailed` (its CBC decrypt maps the padding error
                    // so), later versions as `DecryptFailed`.
                    Err(pkcs8::Error::EncryptedPrivateKey(
                        pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
                    )) => {
                        return Err(wrong());
                    }
                    // A wrong passphrase yields valid padding by chance (about 1 in 256); the
                    // decrypted bytes are then checked as DER before they are returned, and
                    // fail there.
                    Err(pkcs8::Error::Asn1(_)) => return Err(wrong()),
                    Err(e) => {
                        return Err(fail(format!(
                            "{shown} is encrypted with a scheme this loader cannot read ({e}); re-encrypt it with `openssl pkcs8 -topk8 -v2 des3` or `-v2 aes256`"
                        )));
                    }
                };
                // Garbage that happens to be a DER sequence still is no key: the same thing.
                RsaPrivateKey::from_pkcs8_der(plain.as_bytes()).map_err(|_| wrong())?
            }
            "RSA PRIVATE KEY" => {
                return Err(fail(format!(
                    "{shown} is a PKCS#1 key (-----BEGIN RSA PRIVATE KEY-----); convert it to PKCS#8 with `openssl pkcs8 -topk8 -inform PEM -in {shown} -out rsa_key.p8 -v2 des3` (or `-nocrypt` for an unencrypted key) and point {KEY_PATH_SETTING} at rsa_key.p8"
                )));
            }
            other => {
                return Err(fail(format!(
                    "{shown} holds a PEM \"{other}\", not a private key; Snowflake key-pair auth needs an RSA key in PKCS#8 PEM"
                )));
            }
        };
        let spki = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| fail(format!("cannot encode the public key of {shown}: {e}")))?;
        let fingerprint = fingerprint_of_spki(spki.as_bytes());
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| fail(format!("cannot encode the private key of {shown}: {e}")))?;
        Ok(SigningKey {
            pkcs1_der: pkcs1.as_bytes().to_vec(),
            fingerprint,
        })
    }

    /// `SHA256:<base64>` of the public key, as `DESC USER` shows `RSA_PUBLIC_KEY_FP`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A signed RS256 JWT with these claims.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let key = jsonwebtoken::EncodingKey::from_rsa_der(&self.pkcs1_der);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            claims,
            &key,
        )
        .map_err(|e| Error::SnowflakeAuth {
            message: format!(
                "cannot sign a JWT with the key of fingerprint {}: {e}",
                self.fingerprint
            ),
        })
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.pkcs1_der.iter_mut().for_each(|b| *b = 0);
    }
}

fn zeroizing(bytes: Vec<u8>) -> Zeroing {
    Zeroing(bytes)
}

/// Key bytes that are overwritten when dropped.
struct Zeroing(Vec<u8>);

impl std::ops::Deref for Zeroing {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Zeroing {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

/// `SHA256:` + standard base64 (with padding) of SHA-256 over a DER SubjectPublicKeyInfo.
pub(crate) fn fingerprint_of_spki(spki_der: &[u8]) -> String {
    let digest = sha2::Sha256::digest(spki_der);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// What the client authenticates with, and the cached token.
pub(crate) struct Credentials {
    kind: Kind,
    account: String,
    user: String,
}

enum Kind {
    KeyPair {
        key: SigningKey,
        path: PathBuf,
        cached: Mutex<Option<(String, SystemTime)>>,
    },
    Pat(Secret),
}

/// One `Authorization` value and its token type.
pub(crate) struct Bearer {
    pub(crate) token: Secret,
    pub(crate) token_type: &'static str,
}

impl Credentials {
    /// Loads and checks the key (or takes the token) and signs a first JWT, so every local
    /// problem shows now.
    pub(crate) fn new(auth: &SnowflakeAuth, account: &str, user: &str) -> Result<Credentials> {
        let kind = match auth {
            SnowflakeAuth::KeyPair {
                private_key_path,
                passphrase,
            } => Kind::KeyPair {
                key: SigningKey::load(private_key_path, passphrase.as_ref())?,
                path: private_key_path.clone(),
                cached: Mutex::new(None),
            },
            SnowflakeAuth::ProgrammaticAccessToken(token) => {
                if token.is_empty() {
                    return Err(Error::SnowflakeAuth {
                        message: "snowflake.token is empty".into(),
                    });
                }
                Kind::Pat(token.clone())
            }
        };
        let credentials = Credentials {
            kind,
            account: account.to_owned(),
            user: user.to_owned(),
        };
        credentials.bearer()?;
        Ok(credentials)
    }

    /// The key's fingerprint, for key-pair auth.
    pub(crate) fn fingerprint(&self) -> Option<&str> {
        match &self.kind {
            Kind::KeyPair { key, .. } => Some(key.fingerprint()),
            Kind::Pat(_) => None,
        }
    }

    /// The token to send now: the cached JWT, or a fresh one when it is close to expiry.
    pub(crate) fn bearer(&self) -> Result<Bearer> {
        self.bearer_at(SystemTime::now())
    }

    /// [`Credentials::bearer`] with the clock passed in.
    fn bearer_at(&self, now: SystemTime) -> Result<Bearer> {
        match &self.kind {
            Kind::Pat(token) => Ok(Bearer {
                token: token.clone(),
                token_type: TOKEN_TYPE_PAT,
            }),
            Kind::KeyPair { key, cached, .. } => {
                let mut slot = cached.lock().expect("token cache lock");
                if let Some((token, expires)) = slot.as_ref()
                    && now + JWT_REFRESH_MARGIN < *expires
                {
                    return Ok(Bearer {
                        token: Secret::new(token.clone()),
                        token_type: TOKEN_TYPE_KEYPAIR_JWT,
                    });
                }
                let now_secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                let claims = claims(&self.account, &self.user, key.fingerprint(), now_secs);
                let token = key.sign(&claims)?;
                tracing::debug!(sub = %claims.sub, exp = claims.exp, "minted a key-pair JWT");
                *slot = Some((token.clone(), UNIX_EPOCH + Duration::from_secs(claims.exp)));
                Ok(Bearer {
                    token: Secret::new(token),
                    token_type: TOKEN_TYPE_KEYPAIR_JWT,
                })
            }
        }
    }

    /// Drops the cached JWT (after a 401), so the next request carries a fresh one.
    pub(crate) fn invalidate(&self) {
        if let Kind::KeyPair { cached, .. } = &self.kind {
            *cached.lock().expect("token cache lock") = None;
        }
    }

    /// The error for a token Snowflake refused even fresh: says which key or token to fix.
    pub(crate) fn refused(&self, server_message: &str) -> Error {
        let user = self.user.to_ascii_uppercase();
        let message = match &self.kind {
            Kind::KeyPair { key, path, .. } => format!(
                "Snowflake refused the key-pair JWT for user {user} of account {account} ({server_message}): the public key registered for user {user} (RSA_PUBLIC_KEY_FP in DESC USER {user}) does not match fingerprint {fp} of {path}; register its public key with ALTER USER {user} SET RSA_PUBLIC_KEY='...', or check snowflake.account and snowflake.user",
                account = jwt_account(&self.account),
                fp = key.fingerprint(),
                path = path.display(),
            ),
            Kind::Pat(_) => format!(
                "Snowflake refused the programmatic access token for user {user} ({server_message}): check snowflake.token (expired, revoked, or for another user or role)"
            ),
        };
        Error::SnowflakeAuth { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_normalised_like_the_python_connector() {
        assert_eq!(jwt_account("xy12345.us-east-2.aws"), "XY12345");
        assert_eq!(jwt_account("MyOrg-MyAccount"), "MYORG-MYACCOUNT");
        assert_eq!(
            jwt_account("myorg-myaccount.privatelink"),
            "MYORG-MYACCOUNT"
        );
        assert_eq!(jwt_account("myorg-acct-with-dash.global"), "MYORG");
        assert_eq!(jwt_account("xy12345"), "XY12345");
    }

    #[test]
    fn claims_shape() {
        let c = claims(
            "myorg-myaccount",
            "loader_user",
            "SHA256:abc=",
            1_795_463_896,
        );
        assert_eq!(c.sub, "MYORG-MYACCOUNT.LOADER_USER");
        assert_eq!(c.iss, "MYORG-MYACCOUNT.LOADER_USER.SHA256:abc=");
        assert_eq!(c.exp - c.iat, 59 * 60);
        assert!(c.exp - c.iat <= 3600);
    }

    /// A fresh PKCS#8 key from openssl, in a temp dir.
    fn openssl_key() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.p8");
        let status = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        (dir, path)
    }

    fn payload(token: &Secret) -> Claims {
        let part = token.expose().split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    #[test]
    fn the_token_is_cached_and_minted_again_near_expiry_or_when_refused() {
        let (_dir, path) = openssl_key();
        let auth = SnowflakeAuth::KeyPair {
            private_key_path: path,
            passphrase: None,
        };
        let creds = Credentials::new(&auth, "xy12345.us-east-2.aws", "loader").unwrap();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // t0 is past the expiry of the token Credentials::new minted at the real clock.
        let first = creds.bearer_at(t0).unwrap();
        assert_eq!(first.token_type, TOKEN_TYPE_KEYPAIR_JWT);
        let claims = payload(&first.token);
        assert_eq!(claims.iat, 1_800_000_000);
        assert_eq!(claims.sub, "XY12345.LOADER");
        assert!(claims.iss.starts_with("XY12345.LOADER.SHA256:"));
        // Reused for 54 minutes...
        let later = creds.bearer_at(t0 + Duration::from_secs(53 * 60)).unwrap();
        assert_eq!(later.token.expose(), first.token.expose());
        // ...and minted again when less than five minutes remain.
        let near_expiry = creds.bearer_at(t0 + Duration::from_secs(55 * 60)).unwrap();
        assert_eq!(payload(&near_expiry.token).iat, 1_800_000_000 + 55 * 60);
        // A refused token is dropped at once.
        creds.invalidate();
        let after_401 = creds.bearer_at(t0 + Duration::from_secs(56 * 60)).unwrap();
        assert_eq!(payload(&after_401.token).iat, 1_800_000_000 + 56 * 60);
    }

    /// About one wrong passphrase in 256 decrypts to valid padding; the bytes then fail as
    /// DER, which must read as the same wrong passphrase, not as an unknown scheme.
    #[test]
    fn a_wrong_passphrase_that_decrypts_to_valid_padding_is_still_a_wrong_passphrase() {
        use pkcs8::der::{EncodePem as _, pem::LineEnding};
        let (_dir, path) = openssl_key();
        let pem = std::fs::read_to_string(&path).unwrap();
        let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
        let info = pkcs8::PrivateKeyInfo::from_der(&der).unwrap();
        let iv = [7u8; 16];
        let lucky = (0u32..100_000)
            .find_map(|n| {
                let salt = n.to_be_bytes();
                let params =
                    pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(1, &salt, &iv)
                        .unwrap();
                let doc = info.encrypt_with_params(params, "right").unwrap();
                let encrypted = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes()).unwrap();
                matches!(encrypted.decrypt("wrong"), Err(pkcs8::Error::Asn1(_)))
                    .then(|| encrypted.to_pem(LineEnding::LF).unwrap())
            })
            .expect("some salt lets the wrong passphrase through the padding check");
        let err = SigningKey::from_pem(lucky.as_bytes(), Some(&Secret::new("wrong")), &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not open") && err.contains(PASSPHRASE_SETTING),
            "{err}"
        );
        let right = SigningKey::from_pem(lucky.as_bytes(), Some(&Secret::new("right")), &path);
        assert!(right.is_ok());
    }

    #[test]
    fn non_keys_are_refused_with_what_to_do() {
        let path = Path::new("/keys/k.pem");
        let err = SigningKey::from_pem(b"hello", None, path).unwrap_err();
        assert!(
            matches!(&err, Error::SnowflakeAuth { message } if message.contains("PKCS#8 PEM")),
            "{err}"
        );
        let pkcs1 = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let err = SigningKey::from_pem(pkcs1, None, path).unwrap_err();
        assert!(
            matches!(&err, Error::SnowflakeAuth { message } if message.contains("openssl pkcs8 -topk8")),
            "{err}"
        );
        let enc =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = SigningKey::from_pem(enc, None, path).unwrap_err();
        assert!(
            matches!(&err, Error::SnowflakeAuth { message } if message.contains(PASSPHRASE_SETTING)),
            "{err}"
        );
    }
}
