//! Write-then-rename, so outputs are either complete or absent.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::MediaError;

/// A temporary file beside `target`, renamed onto it by [`PendingFile::commit`] and removed if
/// dropped uncommitted.
#[derive(Debug)]
pub(crate) struct PendingFile {
    temp: tempfile::TempPath,
    target: PathBuf,
}

impl PendingFile {
    /// Creates the temporary file. Its name keeps the target's extension, because FFmpeg picks
    /// a container by it.
    pub(crate) fn beside(target: &Path) -> Result<(Self, File), MediaError> {
        let write_err = |source| MediaError::Write { path: target.to_path_buf(), source };
        if target.is_dir() {
            return Err(write_err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "the output path is a directory",
            )));
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let suffix = target.extension().map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
        let file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(&format!(".part{suffix}"))
            .tempfile_in(&dir)
            .map_err(write_err)?;
        let (file, temp) = file.into_parts();
        Ok((Self { temp, target: target.to_path_buf() }, file))
    }

    /// Path of the temporary file.
    pub(crate) fn path(&self) -> &Path {
        &self.temp
    }

    /// Flushes the temporary file to disk and renames it onto the target.
    pub(crate) fn commit(self) -> Result<(), MediaError> {
        let write_err = |source| MediaError::Write { path: self.target.clone(), source };
        let file = File::open(&self.temp).map_err(write_err)?;
        // Temporary files are created private (0600); an output is an ordinary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(write_err)?;
        }
        file.sync_all().map_err(write_err)?;
        self.temp.persist(&self.target).map_err(|e| MediaError::Write { path: self.target.clone(), source: e.error })
    }
}

/// An empty temporary file beside `target`, named as `PendingFile::beside` names them (the
/// target's extension kept), removed when dropped unless renamed onto `target`: for outputs made
/// by other code that must only appear together, renamed by the caller once all are made.
pub fn staged_path(target: &Path) -> Result<tempfile::TempPath, MediaError> {
    let (pending, _file) = PendingFile::beside(target)?;
    Ok(pending.temp)
}

/// Commits a data file and the sidecar that describes it, so that they appear together or not at
/// all: an old sidecar is removed first (a crash between the renames then leaves data without a
/// sidecar, which readers refuse, never new data beside an old sidecar), and if the sidecar cannot
/// be committed the data is removed again.
pub(crate) fn commit_pair(data: PendingFile, sidecar: PendingFile) -> Result<(), MediaError> {
    match std::fs::remove_file(&sidecar.target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(MediaError::Write { path: sidecar.target.clone(), source }),
    }
    let data_target = data.target.clone();
    data.commit()?;
    sidecar.commit().inspect_err(|_| {
        let _ = std::fs::remove_file(&data_target);
    })
}

/// The sidecar of a data file (a `.npy` of features or a cochleagram): the same name with `.json`.
#[must_use]
pub fn sidecar_path(data: &Path) -> PathBuf {
    data.with_extension("json")
}

/// Runs `write` on a temporary file beside `path`, then renames it onto `path`.
pub(crate) fn write_atomically(path: &Path, write: impl FnOnce(File) -> std::io::Result<()>) -> Result<(), MediaError> {
    let (pending, file) = PendingFile::beside(path)?;
    write(file).map_err(|source| MediaError::Write { path: path.to_path_buf(), source })?;
    pending.commit()
}

/// Writes `bytes` to `path` through a temporary file beside it.
pub(crate) fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
    write_atomically(path, |mut file| std::io::Write::write_all(&mut file, bytes))
}

/// Renames a finished file written by another library (at `temp`, beside `target`) onto
/// `target`, readable by others like every output, after syncing it to disk.
pub(crate) fn publish(temp: &Path, target: &Path) -> std::io::Result<()> {
    let file = File::open(temp)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.sync_all()?;
    std::fs::rename(temp, target)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn pending(target: &Path, text: &str) -> PendingFile {
        let (pending, mut file) = PendingFile::beside(target).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        pending
    }

    #[test]
    fn a_pair_appears_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (data, sidecar) = (dir.path().join("f.npy"), dir.path().join("f.json"));
        commit_pair(pending(&data, "old data"), pending(&sidecar, "old sidecar")).unwrap();
        commit_pair(pending(&data, "new data"), pending(&sidecar, "new sidecar")).unwrap();
        assert_eq!(std::fs::read_to_string(&data).unwrap(), "new data");
        assert_eq!(std::fs::read_to_string(&sidecar).unwrap(), "new sidecar");

        // The sidecar fails after the data was renamed: neither is left, and no temporary file.
        let failing = pending(&sidecar, "newer sidecar");
        std::fs::remove_file(failing.path()).unwrap();
        assert!(commit_pair(pending(&data, "newer data"), failing).is_err());
        assert!(!data.exists() && !sidecar.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
