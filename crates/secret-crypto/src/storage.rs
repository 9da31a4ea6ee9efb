//! Where barrier entries live: a [`Storage`] trait, in memory or in files.
//!
//! Paths are `/`-separated segments such as `core/keyring`. The file backend writes each entry to
//! a temporary file, fsyncs it, renames it over the old one and fsyncs the directory, so a crash
//! leaves the old entry or the new one, never a torn mix.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A key-value store of opaque (already encrypted) entries.
pub trait Storage {
    /// The entry at `path`, if there is one.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Writes `value` at `path`, replacing any old entry atomically.
    fn put(&mut self, path: &str, value: &[u8]) -> Result<(), StorageError>;
    /// Removes the entry at `path`; removing a missing entry is not an error.
    fn delete(&mut self, path: &str) -> Result<(), StorageError>;
    /// Every entry's path, sorted.
    fn list(&self) -> Result<Vec<String>, StorageError>;
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The path is empty, has an empty, `.`-led or `..` segment, or a NUL or backslash.
    #[error("invalid storage path {path:?}")]
    InvalidPath {
        /// The path given.
        path: String,
    },
    /// The file system refused.
    #[error("storage {path:?}: {source}")]
    Io {
        /// The storage path.
        path: String,
        /// The error from the operating system.
        source: io::Error,
    },
}

/// Entries in a map, for tests and for callers that persist elsewhere.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    entries: BTreeMap<String, Vec<u8>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemoryStorage {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_path(path)?;
        Ok(self.entries.get(path).cloned())
    }

    fn put(&mut self, path: &str, value: &[u8]) -> Result<(), StorageError> {
        check_path(path)?;
        self.entries.insert(path.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, path: &str) -> Result<(), StorageError> {
        check_path(path)?;
        self.entries.remove(path);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.entries.keys().cloned().collect())
    }
}

/// Entries as files under a root directory: `a/b/c` is the file `<root>/a/b/_c`.
///
/// The `_` prefix lets `a` be both an entry and a folder; names starting with `.` are reserved
/// for temporary files, which a reader never sees.
#[derive(Debug, Clone)]
pub struct FileStorage {
    root: PathBuf,
}

impl FileStorage {
    /// A store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileStorage { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file(&self, path: &str) -> Result<(PathBuf, String), StorageError> {
        check_path(path)?;
        let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
        let dir = if dirs.is_empty() {
            self.root.clone()
        } else {
            self.root.join(dirs)
        };
        Ok((dir, format!("_{name}")))
    }
}

impl Storage for FileStorage {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let (dir, name) = self.file(path)?;
        match fs::read(dir.join(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StorageError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn put(&mut self, path: &str, value: &[u8]) -> Result<(), StorageError> {
        let (dir, name) = self.file(path)?;
        write_atomically(&dir, &name, value).map_err(|source| StorageError::Io {
            path: path.to_owned(),
            source,
        })
    }

    fn delete(&mut self, path: &str) -> Result<(), StorageError> {
        let (dir, name) = self.file(path)?;
        match fs::remove_file(dir.join(name)) {
            Ok(()) => sync_dir(&dir).map_err(|source| StorageError::Io {
                path: path.to_owned(),
                source,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let mut paths = Vec::new();
        match list_dir(&self.root, "", &mut paths) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other.map_err(|source| StorageError::Io {
                path: String::new(),
                source,
            })?,
        }
        paths.sort();
        Ok(paths)
    }
}

/// Collects the entries under `dir`: `_name` files are entries, other names folders; names
/// that are not UTF-8 or start with `.` (temporary files) are skipped.
fn list_dir(dir: &Path, prefix: &str, paths: &mut Vec<String>) -> io::Result<()> {
    for item in fs::read_dir(dir)? {
        let item = item?;
        let Ok(name) = item.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if item.file_type()?.is_dir() {
            list_dir(&item.path(), &format!("{prefix}{name}/"), paths)?;
        } else if let Some(entry) = name.strip_prefix('_') {
            paths.push(format!("{prefix}{entry}"));
        }
    }
    Ok(())
}

/// Replaces the file at `path` with `bytes` atomically and durably, readable by its owner only:
/// a temporary file beside it, fsync, rename, fsync of the directory.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path has no UTF-8 file name",
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    write_atomically(dir, name, bytes)
}

fn check_path(path: &str) -> Result<(), StorageError> {
    let bad_segment = |s: &str| s.is_empty() || s.starts_with('.') || s.contains(['\0', '\\']);
    if path.split('/').any(bad_segment) {
        return Err(StorageError::InvalidPath {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Temporary file, write, fsync, rename over the target, fsync the directory.
fn write_atomically(dir: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fs::create_dir_all(dir)?;
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".tmp-{name}.{}.{unique}", std::process::id()));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(value)?;
        file.sync_all()?;
        fs::rename(&temp, dir.join(name))
    })();
    if result.is_err() {
        // Best effort: a leftover temporary file is invisible to readers anyway.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Directories can be fsynced only on Unix; elsewhere rename is as durable as it gets.
    if cfg!(unix) {
        File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(storage: &mut dyn Storage) {
        assert_eq!(storage.get("core/keyring").unwrap(), None);
        storage.put("core/keyring", b"one").unwrap();
        storage.put("core", b"also a file").unwrap();
        storage.put("core/keyring", b"two").unwrap();
        assert_eq!(
            storage.get("core/keyring").unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(
            storage.get("core").unwrap().as_deref(),
            Some(&b"also a file"[..])
        );
        storage.put("a/b/c", b"deep").unwrap();
        assert_eq!(storage.list().unwrap(), ["a/b/c", "core", "core/keyring"]);
        storage.delete("a/b/c").unwrap();
        storage.delete("core/keyring").unwrap();
        storage.delete("core/keyring").unwrap();
        assert_eq!(storage.list().unwrap(), ["core"]);
        assert_eq!(storage.get("core/keyring").unwrap(), None);
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "../x",
            "a/../b",
            "a/.hidden",
            "a\\b",
            "a\0",
        ] {
            assert!(
                matches!(
                    storage.put(bad, b"x"),
                    Err(StorageError::InvalidPath { .. })
                ),
                "{bad:?}"
            );
            assert!(storage.get(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn memory_and_file_backends_behave_alike() {
        check(&mut MemoryStorage::new());
        let dir = tempfile::tempdir().unwrap();
        check(&mut FileStorage::new(dir.path()));
    }

    #[test]
    fn a_crashed_write_leaves_the_old_entry_and_no_visible_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = FileStorage::new(dir.path());
        storage.put("secret/a", b"old").unwrap();
        // A crash after writing the temporary file but before the rename.
        fs::write(dir.path().join("secret/.tmp-_a.1.0"), b"half-writ").unwrap();
        assert_eq!(
            storage.get("secret/a").unwrap().as_deref(),
            Some(&b"old"[..])
        );
        storage.put("secret/a", b"new").unwrap();
        assert_eq!(
            storage.get("secret/a").unwrap().as_deref(),
            Some(&b"new"[..])
        );
        let mut names: Vec<_> = fs::read_dir(dir.path().join("secret"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".tmp-_a.1.0", "_a"]);
        assert_eq!(storage.list().unwrap(), ["secret/a"]);
    }

    #[cfg(unix)]
    #[test]
    fn entries_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        FileStorage::new(dir.path()).put("k", b"v").unwrap();
        let mode = fs::metadata(dir.path().join("_k"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
