//! `secrets encrypt` and `secrets list`: the credentials file from the command line.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::credentials::{self, FILE_ENV};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Options of `secrets encrypt`.
#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// Where to write the encrypted file (refused if it exists, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Encrypt to this age recipient (`age1…`); repeatable.
    #[arg(long = "recipient", short = 'r')]
    pub recipients: Vec<String>,
    /// Encrypt with the passphrase held in this environment variable instead.
    #[arg(long, value_name = "ENV_VAR")]
    pub passphrase_env: Option<String>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Options of `secrets list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The encrypted file (default: $INTACCT_SNOWFLAKE_CREDENTIALS).
    #[arg(long, env = FILE_ENV)]
    pub file: PathBuf,
}

/// Runs `secrets encrypt`: reads `NAME=VALUE` lines on standard input.
pub(super) fn encrypt(args: EncryptArgs) -> Result<()> {
    let mut plaintext = String::new();
    std::io::stdin()
        .read_to_string(&mut plaintext)
        .map_err(|source| Error::Io {
            path: "<stdin>".into(),
            source,
        })?;
    let names = credentials::parse_entries(&plaintext, Path::new("<stdin>"))?;
    let passphrase = match &args.passphrase_env {
        Some(var) => Some(Secret::new(std::env::var(var).map_err(|_| {
            Error::Secret {
                name: var.clone(),
                message: "environment variable is not set".into(),
                source: None,
            }
        })?)),
        None => None,
    };
    let ciphertext = credentials::encrypt(&plaintext, &args.recipients, passphrase)?;
    credentials::write_private(&args.out, &ciphertext, args.force)?;
    eprintln!(
        "wrote {} with {} secret(s): {}",
        args.out.display(),
        names.len(),
        names.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// Runs `secrets list`: names only, never values.
pub(super) fn list(args: ListArgs) -> Result<()> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    for name in credentials::open(&args.file, &env)?.keys() {
        println!("{name}");
    }
    Ok(())
}
