//! Reading user files with a size limit, and replacing a destination only once its new content
//! is complete.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use anyhow::{Context, Result, bail};

/// The default for `--max-input-bytes`: 64 MiB, far above any capture, ACL set or key file.
pub(crate) const DEFAULT_MAX_INPUT_BYTES: u64 = 64 << 20;

/// The limit in force; `main` sets it once from `--max-input-bytes`.
static MAX_INPUT_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_INPUT_BYTES);

/// Sets the limit every reader of user input obeys.
pub(crate) fn set_max_input_bytes(limit: u64) {
    MAX_INPUT_BYTES.store(limit, Ordering::Relaxed);
}

/// Reads a whole input file, refusing one larger than `--max-input-bytes` (and endless ones such
/// as `/dev/zero`) without reading past the limit.
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("reading {}: it is a directory", path.display());
    }
    read_all_limited(file, &path.display().to_string())
}

/// Like [`read_limited`], as text (invalid UTF-8 is an error).
pub(crate) fn read_limited_text(path: &Path) -> Result<String> {
    let bytes = read_limited(path)?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "reading {}: not UTF-8 text (at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Reads a stream to its end under `--max-input-bytes`; `what` names it in the error.
pub(crate) fn read_all_limited(input: impl Read, what: &str) -> Result<Vec<u8>> {
    let limit = MAX_INPUT_BYTES.load(Ordering::Relaxed);
    let mut bytes = Vec::new();
    input
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what}"))?;
    if bytes.len() as u64 > limit {
        bail!(
            "{what} is larger than the input limit of {limit} bytes; raise it with --max-input-bytes"
        );
    }
    Ok(bytes)
}

/// The next line of a stream (without its newline), or `None` at its end; a line longer than
/// `--max-input-bytes` is an error naming its number.
pub(crate) fn read_line_limited(input: &mut impl BufRead, number: usize) -> Result<Option<String>> {
    let limit = MAX_INPUT_BYTES.load(Ordering::Relaxed);
    let mut bytes = Vec::new();
    let read = input
        .by_ref()
        .take(limit.saturating_add(1))
        .read_until(b'\n', &mut bytes)
        .context("reading standard input")?;
    if read == 0 {
        return Ok(None);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    } else if bytes.len() as u64 > limit {
        bail!(
            "line {number} of standard input is longer than the input limit of {limit} bytes; raise it with --max-input-bytes"
        );
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| anyhow::anyhow!("line {number} of standard input is not UTF-8 text"))
}

/// The source of a copy, opened and checked before anything touches the destination.
pub(crate) struct Source {
    pub(crate) file: File,
    identity: (u64, u64),
}

/// Opens `path` for reading and refuses a directory; nothing else is touched.
pub(crate) fn open_source(path: &Path) -> Result<Source> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory; nothing was copied", path.display());
    }
    Ok(Source {
        file,
        identity: (meta.dev(), meta.ino()),
    })
}

/// Where new content goes before it replaces a destination.
pub(crate) enum Destination {
    /// A regular file (or none yet): a temporary file beside it, renamed over it by
    /// [`Destination::commit`] and removed if the copy fails.
    Replace {
        /// The temporary file being written.
        file: File,
        temp: PathBuf,
        target: PathBuf,
        committed: bool,
    },
    /// A device or FIFO, written in place (it cannot be replaced, and holds no file to lose).
    InPlace(File),
}

impl Destination {
    /// Prepares `dst` for content from `source`, refusing a directory and `source` itself under
    /// another name before anything is created or truncated.
    pub(crate) fn prepare(dst: &Path, source: Option<&Source>) -> Result<Destination> {
        // A symbolic link is followed, as `cp` does: its target is what gets replaced.
        let target = match fs::symlink_metadata(dst) {
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::canonicalize(dst).unwrap_or_else(|_| dst.to_owned())
            }
            _ => dst.to_owned(),
        };
        let existing = match fs::metadata(&target) {
            Ok(meta) => Some(meta),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot stat {}", dst.display()));
            }
        };
        if let Some(meta) = &existing {
            if meta.is_dir() {
                bail!("{} is a directory; give a file name", dst.display());
            }
            if source.is_some_and(|s| s.identity == (meta.dev(), meta.ino())) {
                bail!(
                    "the source and {} are the same file; refusing to overwrite it",
                    dst.display()
                );
            }
            let kind = meta.file_type();
            if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("cannot open {}", dst.display()))?;
                return Ok(Destination::InPlace(file));
            }
        }
        let (file, temp) = create_temp_beside(&target)
            .with_context(|| format!("cannot create a temporary file beside {}", dst.display()))?;
        if let Some(meta) = &existing {
            // The replaced file keeps its permission bits.
            file.set_permissions(meta.permissions()).ok();
        }
        Ok(Destination::Replace {
            file,
            temp,
            target,
            committed: false,
        })
    }

    /// The file to write to.
    pub(crate) fn file(&self) -> &File {
        match self {
            Destination::Replace { file, .. } | Destination::InPlace(file) => file,
        }
    }

    /// Puts the complete new content in place.
    pub(crate) fn commit(mut self) -> Result<()> {
        if let Destination::Replace {
            temp,
            target,
            committed,
            ..
        } = &mut self
        {
            fs::rename(&*temp, &*target)
                .with_context(|| format!("cannot rename the copy to {}", target.display()))?;
            *committed = true;
        }
        Ok(())
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        if let Destination::Replace {
            temp,
            committed: false,
            ..
        } = self
        {
            // A failed copy leaves the destination as it was and no temporary file behind.
            let _ = fs::remove_file(temp);
        }
    }
}

/// Creates `.NAME.underhood-PID-N` beside `target` with mode 0666 less the umask, as
/// `File::create` would make `target` itself.
fn create_temp_beside(target: &Path) -> io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".underhood-{}-{n}", std::process::id()));
        let temp = dir.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&temp)
        {
            Ok(file) => return Ok((file, temp)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
}
