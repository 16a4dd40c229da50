//! Where foley finds what the set-up placed: the cache of fetched assets and the ONNX Runtime
//! library. No environment variable is needed; each can be overridden by one.

use std::path::{Path, PathBuf};

/// The ONNX Runtime version the set-up installs and foley is built against.
pub const ONNXRUNTIME_VERSION: &str = "1.32.0";

/// Something the set-up should have placed was not found.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("{what} not found; looked in: {}. Run scripts/setup.sh, or set {env} to its path", format_list(searched))]
    Missing { what: &'static str, env: &'static str, searched: Vec<PathBuf> },
}

fn format_list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The cache the set-up fills: `$FOLEY_CACHE`, else the `.cache/` folder of the checkout foley
/// was built from, else `$XDG_CACHE_HOME/foley` (or `~/.cache/foley`).
#[must_use]
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FOLEY_CACHE") {
        return PathBuf::from(dir);
    }
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache");
    if checkout.is_dir() {
        return checkout.canonicalize().unwrap_or(checkout);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("foley")
}

/// The clip bank manifest of the checkout foley was built from.
#[must_use]
pub fn clipbank_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/clipbank/manifest.csv")
}

/// The ONNX Runtime shared library: `$ORT_DYLIB_PATH`, else beside the `foley` executable, else
/// where the set-up placed it in the cache.
pub fn onnxruntime_library() -> Result<PathBuf, LocateError> {
    let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf));
    locate_onnxruntime(std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from), exe_dir.as_deref(), &cache_dir())
}

fn locate_onnxruntime(explicit: Option<PathBuf>, exe_dir: Option<&Path>, cache: &Path) -> Result<PathBuf, LocateError> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let file = format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}");
    let mut searched: Vec<PathBuf> = exe_dir.map(|d| d.join(&file)).into_iter().collect();
    searched.push(cache.join("onnxruntime").join(ONNXRUNTIME_VERSION).join(&file));
    match searched.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(LocateError::Missing { what: "the ONNX Runtime library", env: "ORT_DYLIB_PATH", searched }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set-up has run before the tests (scripts/test.sh): with no variable set, the library
    /// is where foley looks, and it is a real shared object of the pinned version.
    #[test]
    fn the_set_up_placed_onnxruntime_where_foley_finds_it() {
        let lib = locate_onnxruntime(None, None, &cache_dir()).expect("run scripts/setup.sh first");
        let bytes = std::fs::read(&lib).expect("readable");
        assert_eq!(&bytes[..4], b"\x7fELF", "{} is not a shared object", lib.display());
        let version = ONNXRUNTIME_VERSION.as_bytes();
        assert!(bytes.windows(version.len()).any(|w| w == version), "{} lacks {ONNXRUNTIME_VERSION}", lib.display());
    }

    #[test]
    fn a_missing_library_says_where_it_looked_and_what_to_do() {
        let empty = tempfile::tempdir().unwrap();
        let err = locate_onnxruntime(None, Some(empty.path()), empty.path()).unwrap_err().to_string();
        assert!(err.contains("scripts/setup.sh") && err.contains("ORT_DYLIB_PATH"), "{err}");
        assert!(err.contains(&empty.path().display().to_string()), "{err}");
    }
}
