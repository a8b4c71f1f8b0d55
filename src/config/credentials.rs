//! The age-encrypted credentials file.

use std::path::PathBuf;

use clap::Args;

/// Options of `secrets encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// Where to write the encrypted file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Options of `secrets list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The encrypted file.
    #[arg(long)]
    pub file: PathBuf,
}

/// Runs `secrets encrypt`.
pub fn encrypt_command(args: EncryptArgs) -> crate::Result<()> {
    let _ = args;
    Err(crate::Error::NotImplemented("secrets encrypt"))
}

/// Runs `secrets list`.
pub fn list_command(args: ListArgs) -> crate::Result<()> {
    let _ = args;
    Err(crate::Error::NotImplemented("secrets list"))
}
