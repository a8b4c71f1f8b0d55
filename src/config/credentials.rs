//! The age-encrypted credentials file.
//!
//! The file is an ordinary age file (armored or binary), so the standard `age` tool can create
//! and open it: `age -d -i key.txt credentials.age`. Its plaintext is `NAME=VALUE` lines; blank
//! lines and lines starting with `#` are ignored. Pipeline files refer to an entry as
//! `credentials:NAME`.
//!
//! The file is named by `INTACCT_SNOWFLAKE_CREDENTIALS`; it opens with the x25519 identity file
//! named by `INTACCT_SNOWFLAKE_AGE_IDENTITY`, or with the passphrase in
//! `INTACCT_SNOWFLAKE_AGE_PASSPHRASE`. Values come back as [`Secret`]s; neither the values nor
//! the passphrase ever appear in an error message. A [`CredentialSource`] holds where the
//! file is and what opens it, and opens it only when a pipeline refers to it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Environment variable naming the credentials file.
pub(crate) const FILE_ENV: &str = "INTACCT_SNOWFLAKE_CREDENTIALS";
/// Environment variable naming an age identity file that opens it.
pub(crate) const IDENTITY_ENV: &str = "INTACCT_SNOWFLAKE_AGE_IDENTITY";
/// Environment variable holding a passphrase that opens it.
pub(crate) const PASSPHRASE_ENV: &str = "INTACCT_SNOWFLAKE_AGE_PASSPHRASE";

/// Where `credentials:NAME` references are looked up.
#[derive(Default)]
pub struct CredentialSource {
    file: Option<PathBuf>,
    env: BTreeMap<String, String>,
}

/// Prints the file and how it would be opened, never the environment it holds (which may
/// carry passwords and the age passphrase).
impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSource")
            .field("file", &self.file)
            .field("identity_set", &self.env.contains_key(IDENTITY_ENV))
            .field("passphrase_set", &self.env.contains_key(PASSPHRASE_ENV))
            .finish_non_exhaustive()
    }
}

impl CredentialSource {
    /// `INTACCT_SNOWFLAKE_CREDENTIALS` names the file; its key comes from
    /// `INTACCT_SNOWFLAKE_AGE_IDENTITY` (an identity file) or
    /// `INTACCT_SNOWFLAKE_AGE_PASSPHRASE`.
    pub fn from_env(env: &BTreeMap<String, String>) -> CredentialSource {
        CredentialSource {
            file: env
                .get(FILE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            env: env.clone(),
        }
    }

    /// The entry `name` of the file, which the setting `key` refers to.
    pub(super) fn lookup(&self, name: &str, key: &str) -> Result<Secret> {
        let file = self.file.as_ref().ok_or_else(|| Error::Secret {
            name: name.to_owned(),
            message: format!(
                "{key} refers to the credentials file, but {} is not set",
                FILE_ENV
            ),
            source: None,
        })?;
        let all = open(file, &self.env)?;
        all.get(name).cloned().ok_or_else(|| Error::Secret {
            name: name.to_owned(),
            message: format!("not found in credentials file {}", file.display()),
            source: None,
        })
    }
}

/// Opens a credentials file with the key named by the environment.
pub(crate) fn open(
    path: &Path,
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Secret>> {
    let ciphertext = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let plaintext = decrypt(&ciphertext, path, env)?;
    parse_entries(&plaintext, path)
}

fn file_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Secret {
        name: format!("credentials file {}", path.display()),
        message: message.into(),
        source: None,
    }
}

/// Names a library's failure (age's, reading a file) as the secret `name`'s, with what was
/// being done: `result.or_secret(&name, "cannot decrypt")?`.
trait OrSecret<T> {
    fn or_secret(self, name: &str, doing: impl Into<String>) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrSecret<T> for std::result::Result<T, E> {
    fn or_secret(self, name: &str, doing: impl Into<String>) -> Result<T> {
        self.map_err(|source| Error::Secret {
            name: name.to_owned(),
            message: doing.into(),
            source: Some(Box::new(source)),
        })
    }
}

fn decrypt(ciphertext: &[u8], path: &Path, env: &BTreeMap<String, String>) -> Result<String> {
    let name = format!("credentials file {}", path.display());
    let reader = age::armor::ArmoredReader::new(ciphertext);
    let decryptor = age::Decryptor::new(reader).or_secret(&name, "not an age file")?;
    let identities: Vec<Box<dyn age::Identity>> =
        if let Some(identity_file) = env.get(IDENTITY_ENV).filter(|v| !v.is_empty()) {
            age::IdentityFile::from_file(identity_file.clone())
                .or_secret(&name, format!("cannot read identity file {identity_file}"))?
                .into_identities()
                .or_secret(&name, format!("identity file {identity_file}"))?
                .into_iter()
                .map(|i| i as Box<dyn age::Identity>)
                .collect()
        } else if let Some(passphrase) = env.get(PASSPHRASE_ENV).filter(|v| !v.is_empty()) {
            vec![Box::new(age::scrypt::Identity::new(SecretString::from(
                passphrase.clone(),
            )))]
        } else {
            return Err(file_error(
                path,
                format!("set {IDENTITY_ENV} (an age identity file) or {PASSPHRASE_ENV} to open it"),
            ));
        };
    let mut stream = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref()))
        .or_secret(&name, "cannot decrypt")?;
    let mut plaintext = String::new();
    stream
        .read_to_string(&mut plaintext)
        .or_secret(&name, "cannot decrypt")?;
    Ok(plaintext)
}

/// Parses `NAME=VALUE` lines. Errors name the line, never its value.
pub(crate) fn parse_entries(plaintext: &str, path: &Path) -> Result<BTreeMap<String, Secret>> {
    let mut out = BTreeMap::new();
    for (i, line) in plaintext.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (name, value) = trimmed
            .split_once('=')
            .ok_or_else(|| file_error(path, format!("line {} is not NAME=VALUE", i + 1)))?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(file_error(
                path,
                format!("line {}: {name:?} is not a valid name", i + 1),
            ));
        }
        if out.insert(name.to_owned(), Secret::new(value)).is_some() {
            return Err(file_error(
                path,
                format!("line {}: {name} is defined twice", i + 1),
            ));
        }
    }
    Ok(out)
}

/// Encrypts `NAME=VALUE` text to recipients or a passphrase, armored.
pub(crate) fn encrypt(
    plaintext: &str,
    recipients: &[String],
    passphrase: Option<Secret>,
) -> Result<Vec<u8>> {
    let name = "credentials file";
    let encrypt_error = |m: String| Error::Secret {
        name: name.into(),
        message: m,
        source: None,
    };
    let encryptor = match (recipients.is_empty(), passphrase) {
        (false, None) => {
            let parsed: Vec<age::x25519::Recipient> = recipients
                .iter()
                .map(|r| {
                    r.parse::<age::x25519::Recipient>()
                        .map_err(|e| encrypt_error(format!("recipient {r:?}: {e}")))
                })
                .collect::<Result<_>>()?;
            age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
                .or_secret(name, "cannot encrypt to the recipients")?
        }
        (true, Some(p)) => {
            age::Encryptor::with_user_passphrase(SecretString::from(p.expose().to_owned()))
        }
        _ => {
            return Err(encrypt_error(
                "give either --recipient (one or more) or --passphrase-env, not both or neither"
                    .into(),
            ));
        }
    };
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .or_secret(name, "cannot encrypt")?;
    let mut writer = encryptor
        .wrap_output(armor)
        .or_secret(name, "cannot encrypt")?;
    writer
        .write_all(plaintext.as_bytes())
        .or_secret(name, "cannot encrypt")?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .or_secret(name, "cannot encrypt")?;
    Ok(out)
}

/// Writes an encrypted credentials file readable by its owner only; an existing file is
/// refused unless `force`.
pub(crate) fn write_private(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    use std::fs::OpenOptions;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let io_error = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}
