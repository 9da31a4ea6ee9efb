//! `underhood secret`: Shamir split/combine, transit keys in a key file, a barrier in a directory.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand, ValueEnum};
use underhood_secret_crypto::barrier::{Barrier, SealConfig, UnsealProgress};
use underhood_secret_crypto::storage::{FileStorage, write_file_atomically};
use underhood_secret_crypto::transit::{Derivation, KeyType, Params, TransitKey};
use underhood_secret_crypto::{Key, os_rng, shamir};
use zeroize::Zeroizing;

use crate::files::{read_all_limited, read_limited};

/// Exit status of `barrier get` when the path holds no entry.
const NOT_FOUND: u8 = 1;

#[derive(Subcommand, Debug)]
pub(crate) enum SecretCommand {
    /// Split a secret (hex, one line on stdin) into shares, one hex share a line.
    Split {
        /// Shares needed to recover the secret.
        #[arg(long)]
        threshold: usize,
        /// Shares to make (at most 255).
        #[arg(long)]
        shares: usize,
        /// Share format.
        #[arg(long, value_enum, default_value_t = Format::Vault)]
        format: Format,
    },
    /// Recover a secret from hex shares on stdin, one a line; prints the secret as hex.
    Combine {
        /// Share format.
        #[arg(long, value_enum, default_value_t = Format::Vault)]
        format: Format,
    },
    /// Encrypt for applications with a versioned key kept in a key file.
    #[command(subcommand)]
    Transit(TransitCommand),
    /// An encrypted storage barrier in a directory, unsealed by Shamir shares.
    #[command(subcommand)]
    Barrier(BarrierCommand),
    /// Serve Vault's v1 HTTP API: init, unseal, policies, tokens, kv v2 and transit.
    Server(crate::secret_server::ServerArgs),
}

/// How shares are encoded.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Vault's bytes exactly: `y bytes ‖ x`.
    Vault,
    /// Self-describing: threshold, x, split id and checksum; names a corrupt share and refuses
    /// too few.
    Underhood,
}

#[derive(Subcommand, Debug)]
pub(crate) enum TransitCommand {
    /// Create a key file with one random version.
    Create {
        #[command(flatten)]
        key: KeyFile,
        /// Key type, as Vault names it.
        #[arg(long = "type", default_value = "aes256-gcm96")]
        key_type: String,
        /// Derive a key per request from a context (HKDF-SHA256).
        #[arg(long)]
        derived: bool,
        /// Convergent encryption (deterministic; implies --derived).
        #[arg(long)]
        convergent: bool,
        /// Use Vault's legacy counter KDF instead of HKDF (with --derived).
        #[arg(long, conflicts_with = "convergent")]
        legacy_kdf: bool,
    },
    /// Encrypt stdin (raw bytes); prints `vault:vN:…`.
    Encrypt {
        #[command(flatten)]
        key: KeyFile,
        #[command(flatten)]
        request: Request,
        /// Key version to encrypt with (default: latest).
        #[arg(long)]
        key_version: Option<u32>,
    },
    /// Decrypt one `vault:vN:…` ciphertext on stdin; writes the raw plaintext.
    Decrypt {
        #[command(flatten)]
        key: KeyFile,
        #[command(flatten)]
        request: Request,
    },
    /// Re-encrypt ciphertexts on stdin (one a line) with the latest or given version.
    Rewrap {
        #[command(flatten)]
        key: KeyFile,
        #[command(flatten)]
        request: Request,
        /// Key version to rewrap to (default: latest).
        #[arg(long)]
        key_version: Option<u32>,
    },
    /// Add a new key version; prints its number.
    Rotate {
        #[command(flatten)]
        key: KeyFile,
    },
    /// Set the oldest versions that decrypt and encrypt.
    Config {
        #[command(flatten)]
        key: KeyFile,
        /// Refuse ciphertexts older than this version.
        #[arg(long)]
        min_decryption_version: Option<u32>,
        /// Refuse to encrypt with versions older than this (0: no limit).
        #[arg(long)]
        min_encryption_version: Option<u32>,
    },
    /// Generate a data key; prints its ciphertext, and with --plaintext its base64 on a second line.
    Datakey {
        #[command(flatten)]
        key: KeyFile,
        #[command(flatten)]
        request: Request,
        /// Size in bits: 128, 256 or 512.
        #[arg(long, default_value_t = 256)]
        bits: u32,
        /// Also print the data key itself.
        #[arg(long)]
        plaintext: bool,
    },
}

#[derive(Args, Debug)]
pub(crate) struct KeyFile {
    /// The key file (JSON, holds key material: keep it private).
    #[arg(long)]
    key_file: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct Request {
    /// Derivation context, base64 (required by derived keys).
    #[arg(long)]
    context: Option<String>,
    /// Associated data, base64: authenticated, not stored in the ciphertext.
    #[arg(long)]
    associated_data: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum BarrierCommand {
    /// Initialize an empty directory; prints the unseal keys, one hex share a line.
    Init {
        #[command(flatten)]
        dir: Dir,
        /// Unseal keys to make.
        #[arg(long, default_value_t = 5)]
        shares: u8,
        /// Unseal keys needed.
        #[arg(long, default_value_t = 3)]
        threshold: u8,
    },
    /// Print the seal configuration.
    Status {
        #[command(flatten)]
        dir: Dir,
    },
    /// Store stdin (raw bytes) at a path.
    Put {
        #[command(flatten)]
        dir: Dir,
        #[command(flatten)]
        unseal: Unseal,
        /// Storage path, such as `secret/db`.
        path: String,
    },
    /// Write the value at a path to stdout (exit 1 if there is none).
    Get {
        #[command(flatten)]
        dir: Dir,
        #[command(flatten)]
        unseal: Unseal,
        /// Storage path.
        path: String,
    },
    /// Delete the value at a path.
    Delete {
        #[command(flatten)]
        dir: Dir,
        #[command(flatten)]
        unseal: Unseal,
        /// Storage path.
        path: String,
    },
    /// Add a keyring term for new writes; prints the new term.
    Rotate {
        #[command(flatten)]
        dir: Dir,
        #[command(flatten)]
        unseal: Unseal,
    },
    /// Re-encrypt old entries under the active term and drop the terms no entry uses.
    Compact {
        #[command(flatten)]
        dir: Dir,
        #[command(flatten)]
        unseal: Unseal,
    },
}

#[derive(Args, Debug)]
pub(crate) struct Dir {
    /// The barrier's directory.
    #[arg(long)]
    dir: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct Unseal {
    /// A file of unseal keys, one hex share a line (given one at a time until unsealed).
    #[arg(long)]
    unseal_keys: PathBuf,
}

/// Runs one `underhood secret` command.
pub(crate) fn run(command: SecretCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        SecretCommand::Split {
            threshold,
            shares,
            format,
        } => {
            let lines = stdin_lines()?;
            let [line] = lines.as_slice() else {
                bail!(
                    "expected the secret as one line of hex on stdin, got {} lines",
                    lines.len()
                );
            };
            let secret = Key::new(unhex(line).context("secret")?.to_vec());
            let mut rng = os_rng();
            // Splitting needs the secret's bytes; each share is printed for its holder.
            let shares: Vec<Zeroizing<String>> = match format {
                Format::Vault => {
                    shamir::split(secret.expose_secret(), threshold, shares, &mut rng)?
                        .iter()
                        .map(|s| hex(s.expose_secret()))
                        .collect()
                }
                Format::Underhood => {
                    shamir::split_checked(secret.expose_secret(), threshold, shares, &mut rng)?
                        .iter()
                        .map(|s| hex(s.expose_secret()))
                        .collect()
                }
            };
            for share in &shares {
                writeln!(out, "{}", share.as_str())?;
            }
        }
        SecretCommand::Combine { format } => {
            let shares = read_shares(&stdin_bytes()?, "stdin")?;
            let secret = match format {
                Format::Vault => shamir::combine(&shares),
                Format::Underhood => shamir::combine_checked(&shares),
            }
            .map_err(|err| anyhow::anyhow!("cannot combine: {err}"))?;
            // Printing the recovered secret is what `combine` is for.
            writeln!(out, "{}", hex(secret.expose_secret()).as_str())?;
        }
        SecretCommand::Transit(command) => return transit(command, &mut out),
        SecretCommand::Barrier(command) => return barrier(command, &mut out),
        SecretCommand::Server(args) => {
            // The server prints as it goes and runs until a signal.
            drop(out);
            return crate::secret_server::run(args);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn transit(command: TransitCommand, out: &mut impl Write) -> Result<ExitCode> {
    let mut rng = os_rng();
    match command {
        TransitCommand::Create {
            key,
            key_type,
            derived,
            convergent,
            legacy_kdf,
        } => {
            if key.key_file.exists() {
                bail!(
                    "{} already exists; refusing to overwrite a key",
                    key.key_file.display()
                );
            }
            let key_type = KeyType::parse(&key_type)?;
            let derivation = match (derived || convergent, convergent, legacy_kdf) {
                (false, _, true) => bail!("--legacy-kdf needs --derived"),
                (false, _, false) => Derivation::Direct,
                (true, true, _) => Derivation::Convergent,
                (true, false, true) => Derivation::LegacyCounter,
                (true, false, false) => Derivation::Hkdf,
            };
            let name = key
                .key_file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("key");
            let transit_key = TransitKey::with_derivation(name, key_type, derivation, &mut rng)?;
            save_key(&key.key_file, &transit_key)?;
            writeln!(out, "created {name} ({}, version 1)", key_type.name())?;
        }
        TransitCommand::Encrypt {
            key,
            request,
            key_version,
        } => {
            let transit_key = load_key(&key.key_file)?;
            let decoded = request.decode()?;
            let params = decoded.params(key_version);
            let plaintext = Key::new(read_all_limited(io::stdin().lock(), "stdin")?);
            // Encrypting needs the plaintext; it lives in a zeroizing Key.
            writeln!(
                out,
                "{}",
                transit_key.encrypt(plaintext.expose_secret(), &params, &mut rng)?
            )?;
        }
        TransitCommand::Decrypt { key, request } => {
            let transit_key = load_key(&key.key_file)?;
            let decoded = request.decode()?;
            let params = decoded.params(None);
            let lines = stdin_lines()?;
            let [ciphertext] = lines.as_slice() else {
                bail!("expected one ciphertext line on stdin, got {}", lines.len());
            };
            let plaintext = transit_key.decrypt(ciphertext, &params)?;
            // Writing the plaintext out is what `decrypt` is for.
            out.write_all(plaintext.expose_secret())?;
        }
        TransitCommand::Rewrap {
            key,
            request,
            key_version,
        } => {
            let transit_key = load_key(&key.key_file)?;
            let decoded = request.decode()?;
            let params = decoded.params(key_version);
            for (number, line) in stdin_lines()?.iter().enumerate() {
                let rewrapped = transit_key
                    .rewrap(line, &params, &mut rng)
                    .with_context(|| format!("line {}", number + 1))?;
                writeln!(out, "{rewrapped}")?;
            }
        }
        TransitCommand::Rotate { key } => {
            let mut transit_key = load_key(&key.key_file)?;
            let version = transit_key.rotate(&mut rng);
            save_key(&key.key_file, &transit_key)?;
            writeln!(out, "{version}")?;
        }
        TransitCommand::Config {
            key,
            min_decryption_version,
            min_encryption_version,
        } => {
            let mut transit_key = load_key(&key.key_file)?;
            if let Some(version) = min_decryption_version {
                transit_key.set_min_decryption_version(version)?;
            }
            if let Some(version) = min_encryption_version {
                transit_key.set_min_encryption_version(version)?;
            }
            save_key(&key.key_file, &transit_key)?;
            writeln!(
                out,
                "latest_version: {}\nmin_decryption_version: {}\nmin_encryption_version: {}",
                transit_key.latest_version(),
                transit_key.min_decryption_version(),
                transit_key.min_encryption_version()
            )?;
        }
        TransitCommand::Datakey {
            key,
            request,
            bits,
            plaintext,
        } => {
            let transit_key = load_key(&key.key_file)?;
            let decoded = request.decode()?;
            let params = decoded.params(None);
            let (data_key, wrapped) = transit_key.data_key(bits, &params, &mut rng)?;
            writeln!(out, "{wrapped}")?;
            if plaintext {
                // Asked for with --plaintext.
                let encoded = Zeroizing::new(BASE64.encode(data_key.expose_secret()));
                writeln!(out, "{}", encoded.as_str())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn barrier(command: BarrierCommand, out: &mut impl Write) -> Result<ExitCode> {
    let mut rng = os_rng();
    match command {
        BarrierCommand::Init {
            dir,
            shares,
            threshold,
        } => {
            let storage = FileStorage::new(&dir.dir);
            let config = SealConfig { shares, threshold };
            let (_, unseal_keys) =
                Barrier::initialize(storage, config, SystemTime::now(), &mut rng)?;
            for share in &unseal_keys {
                // The unseal keys are printed once, for their holders.
                writeln!(out, "{}", hex(share.expose_secret()).as_str())?;
            }
        }
        BarrierCommand::Status { dir } => {
            let barrier = Barrier::open(FileStorage::new(&dir.dir))?;
            let config = barrier.config();
            writeln!(
                out,
                "initialized: true\nshares: {}\nthreshold: {}",
                config.shares, config.threshold
            )?;
        }
        BarrierCommand::Put { dir, unseal, path } => {
            let mut barrier = unsealed(&dir, &unseal)?;
            let value = Key::new(read_all_limited(io::stdin().lock(), "stdin")?);
            // Storing needs the value's bytes; it lives in a zeroizing Key.
            barrier.put(&path, value.expose_secret(), &mut rng)?;
        }
        BarrierCommand::Get { dir, unseal, path } => {
            let barrier = unsealed(&dir, &unseal)?;
            let Some(value) = barrier.get(&path)? else {
                eprintln!("underhood: no entry at {path:?}");
                return Ok(ExitCode::from(NOT_FOUND));
            };
            // Writing the value out is what `get` is for.
            out.write_all(value.expose_secret())?;
        }
        BarrierCommand::Delete { dir, unseal, path } => {
            unsealed(&dir, &unseal)?.delete(&path)?;
        }
        BarrierCommand::Rotate { dir, unseal } => {
            let term = unsealed(&dir, &unseal)?.rotate(SystemTime::now(), &mut rng)?;
            writeln!(out, "{term}")?;
        }
        BarrierCommand::Compact { dir, unseal } => {
            let report = unsealed(&dir, &unseal)?.compact(&mut rng)?;
            let dropped: Vec<String> = report.dropped_terms.iter().map(u32::to_string).collect();
            writeln!(
                out,
                "re-encrypted: {}\ndropped terms: {}",
                report.reencrypted,
                dropped.join(" ")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the barrier in `dir` and gives it unseal keys one at a time until it opens.
fn unsealed(dir: &Dir, unseal: &Unseal) -> Result<Barrier<FileStorage>> {
    let mut barrier = Barrier::open(FileStorage::new(&dir.dir))
        .with_context(|| format!("opening the barrier in {}", dir.dir.display()))?;
    let keys = Zeroizing::new(read_limited(&unseal.unseal_keys)?);
    let what = format!("unseal keys in {}", unseal.unseal_keys.display());
    for share in read_shares(&keys, &what)? {
        if barrier.unseal(&share)? == UnsealProgress::Unsealed {
            return Ok(barrier);
        }
    }
    match barrier.progress() {
        UnsealProgress::Sealed { have, need } => {
            bail!("still sealed: {have} of {need} unseal keys given")
        }
        UnsealProgress::Unsealed => Ok(barrier),
    }
}

/// A request's context and associated data, decoded from base64.
struct Decoded {
    context: Option<Vec<u8>>,
    associated_data: Option<Vec<u8>>,
}

impl Decoded {
    fn params(&self, key_version: Option<u32>) -> Params<'_> {
        Params {
            context: self.context.as_deref(),
            associated_data: self.associated_data.as_deref(),
            key_version,
        }
    }
}

impl Request {
    fn decode(&self) -> Result<Decoded> {
        let decode = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| {
                    // The decoder's own message quotes the offending byte: say where instead.
                    BASE64.decode(v).map_err(|err| {
                        anyhow::anyhow!("--{name} is not base64 ({})", base64_problem(&err))
                    })
                })
                .transpose()
        };
        Ok(Decoded {
            context: decode("context", &self.context)?,
            associated_data: decode("associated-data", &self.associated_data)?,
        })
    }
}

fn load_key(path: &Path) -> Result<TransitKey> {
    let bytes = Zeroizing::new(
        read_limited(path).with_context(|| format!("reading key file {}", path.display()))?,
    );
    let json = std::str::from_utf8(&bytes).map_err(|err| {
        anyhow::anyhow!(
            "key file {}: not UTF-8 text (at byte {})",
            path.display(),
            err.valid_up_to()
        )
    })?;
    TransitKey::from_json(json).with_context(|| format!("key file {}", path.display()))
}

fn save_key(path: &Path, key: &TransitKey) -> Result<()> {
    write_file_atomically(path, key.to_json().as_bytes())
        .with_context(|| format!("writing key file {}", path.display()))
}

/// All of stdin (up to `--max-input-bytes`), in a buffer wiped on drop.
fn stdin_bytes() -> Result<Zeroizing<Vec<u8>>> {
    Ok(Zeroizing::new(read_all_limited(
        io::stdin().lock(),
        "stdin",
    )?))
}

/// The non-empty lines of stdin, trimmed, each in a buffer wiped on drop.
fn stdin_lines() -> Result<Vec<Zeroizing<String>>> {
    lines(&stdin_bytes()?, "stdin")
}

/// The non-empty lines of `bytes`, trimmed, each in a buffer wiped on drop.
fn lines(bytes: &[u8], what: &str) -> Result<Vec<Zeroizing<String>>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|err| anyhow::anyhow!("{what}: not UTF-8 text (at byte {})", err.valid_up_to()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| Zeroizing::new(line.to_owned()))
        .collect())
}

/// Hex shares, one a line, each decoded with its line number in any error.
fn read_shares(bytes: &[u8], what: &str) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    lines(bytes, what)?
        .iter()
        .enumerate()
        .map(|(i, line)| unhex(line).with_context(|| format!("share {}", i + 1)))
        .collect()
}

/// Hex of secret bytes, in a buffer wiped on drop.
fn hex(bytes: &[u8]) -> Zeroizing<String> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Zeroizing::new(String::with_capacity(2 * bytes.len()));
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Decodes hex into a buffer wiped on drop; an error names the position, never the character
/// (the text is a secret or a share).
fn unhex(text: &str) -> Result<Zeroizing<Vec<u8>>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd number of hex digits ({})", text.len());
    }
    let digit = |position: usize, c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => bail!("invalid hex digit at position {}", position + 1),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
        out.push(digit(2 * i, pair[0])? << 4 | digit(2 * i + 1, pair[1])?);
    }
    Ok(out)
}

/// Where base64 went wrong, without the byte found there.
fn base64_problem(err: &base64::DecodeError) -> String {
    match err {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("invalid character at position {}", offset + 1)
        }
        base64::DecodeError::InvalidLength(len) => format!("invalid length {len}"),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("invalid last character at position {}", offset + 1)
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_errors_name_the_position_never_the_character() {
        for (text, message) in [
            ("zz11", "invalid hex digit at position 1"),
            ("0q", "invalid hex digit at position 2"),
            ("00112233445566Q7", "invalid hex digit at position 15"),
            ("abc", "odd number of hex digits (3)"),
        ] {
            let err = unhex(text).unwrap_err().to_string();
            assert_eq!(err, message);
        }
        assert_eq!(unhex("00ffA0").unwrap().as_slice(), [0, 255, 160]);
        assert_eq!(hex(&[0, 255, 160]).as_str(), "00ffa0");
        for (text, message) in [
            ("c2Vj!mV0", "invalid character at position 5"),
            ("c2VjcmV0a", "invalid length 9"),
            ("c2VjcmV0aa==", "invalid last character at position 10"),
        ] {
            let err = BASE64.decode(text).unwrap_err();
            assert_eq!(base64_problem(&err), message, "{text}");
        }
    }
}
