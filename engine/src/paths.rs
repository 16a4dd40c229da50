//! Where foley finds its data: the default model, the default encoder and the ONNX Runtime
//! library, whether installed (`scripts/install.sh`, the Debian package) or in the checkout it was
//! built from (after `scripts/setup.sh`), and the cache of fetched assets. No environment variable
//! is needed; each can be overridden by one.

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

/// Where a file was found, and by which rule: what `foley --version` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub rule: &'static str,
}

/// The data folder of an installation, relative to the executable: `PREFIX/bin/foley` keeps its
/// data in `PREFIX/share/foley`.
const SHARE_BESIDE_EXE: &str = "../share/foley";
/// The ONNX Runtime library of an installation, relative to the executable.
const LIB_BESIDE_EXE: &str = "../lib/foley";

/// Candidates for `relative` (a path inside an installation's data folder), in the order they
/// are tried: `$FOLEY_DATA`, the installation beside the executable, the checkout's own copy
/// (`checkout`), `$XDG_DATA_HOME/foley` (or `~/.local/share/foley`), `/usr/share/foley`.
fn data_candidates(relative: &str, checkout: PathBuf) -> Vec<Found> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let data_home = env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share")));
    candidates_in(relative, checkout, env("FOLEY_DATA"), exe_dir(), data_home)
}

fn candidates_in(
    relative: &str,
    checkout: PathBuf,
    foley_data: Option<PathBuf>,
    exe_dir: Option<PathBuf>,
    data_home: Option<PathBuf>,
) -> Vec<Found> {
    let mut found = Vec::new();
    if let Some(dir) = foley_data {
        found.push(Found { path: dir.join(relative), rule: "FOLEY_DATA" });
    }
    if let Some(dir) = exe_dir {
        found.push(Found { path: dir.join(SHARE_BESIDE_EXE).join(relative), rule: "installed beside the executable" });
    }
    found.push(Found { path: checkout, rule: "the checkout foley was built from" });
    if let Some(dir) = data_home {
        found.push(Found { path: dir.join("foley").join(relative), rule: "the user's data folder" });
    }
    found.push(Found { path: Path::new("/usr/share/foley").join(relative), rule: "installed for all users" });
    found
}

fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf))
}

/// The first of `candidates` where `marker` (a file inside it, or "" for the path itself) exists.
fn first_existing(
    what: &'static str,
    env: &'static str,
    candidates: Vec<Found>,
    marker: &str,
) -> Result<Found, LocateError> {
    let exists = |f: &Found| if marker.is_empty() { f.path.is_file() } else { f.path.join(marker).is_file() };
    match candidates.iter().position(exists) {
        Some(i) => {
            let found = candidates[i].clone();
            Ok(Found { path: found.path.canonicalize().unwrap_or(found.path), rule: found.rule })
        }
        None => Err(LocateError::Missing { what, env, searched: candidates.into_iter().map(|f| f.path).collect() }),
    }
}

/// The default model's folder (`models/default` of an installation, `assets/models/default` of
/// the checkout).
pub fn locate_default_model() -> Result<Found, LocateError> {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models/default");
    first_existing("the default model", "FOLEY_DATA", data_candidates("models/default", checkout), "model.json")
}

/// The default encoder's manifest (`efficientnet-lite0/encoder.json` of an installation, the
/// set-up's export in the cache of a checkout).
pub fn locate_default_encoder() -> Result<Found, LocateError> {
    let relative = "efficientnet-lite0/encoder.json";
    let checkout = cache_dir().join("assets").join(relative);
    first_existing("the default encoder", "FOLEY_DATA", data_candidates(relative, checkout), "")
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

/// The ONNX Runtime shared library: `$ORT_DYLIB_PATH`, else beside the `foley` executable or in
/// its installation's `../lib/foley`, else where the set-up placed it in the cache.
pub fn onnxruntime_library() -> Result<PathBuf, LocateError> {
    locate_onnxruntime_found().map(|f| f.path)
}

/// As [`onnxruntime_library`], with the rule that found it.
pub fn locate_onnxruntime_found() -> Result<Found, LocateError> {
    locate_onnxruntime(std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from), exe_dir().as_deref(), &cache_dir())
}

fn locate_onnxruntime(explicit: Option<PathBuf>, exe_dir: Option<&Path>, cache: &Path) -> Result<Found, LocateError> {
    if let Some(path) = explicit {
        return Ok(Found { path, rule: "ORT_DYLIB_PATH" });
    }
    let file = format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}");
    let mut candidates = Vec::new();
    if let Some(dir) = exe_dir {
        candidates.push(Found { path: dir.join(&file), rule: "beside the executable" });
        candidates.push(Found { path: dir.join(LIB_BESIDE_EXE).join(&file), rule: "installed beside the executable" });
    }
    candidates.push(Found {
        path: cache.join("onnxruntime").join(ONNXRUNTIME_VERSION).join(&file),
        rule: "the set-up's cache",
    });
    first_existing("the ONNX Runtime library", "ORT_DYLIB_PATH", candidates, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set-up has run before the tests (scripts/test.sh): with no variable set, the library
    /// is where foley looks, and it is a real shared object of the pinned version.
    #[test]
    fn the_set_up_placed_onnxruntime_where_foley_finds_it() {
        let lib = locate_onnxruntime(None, None, &cache_dir()).expect("run scripts/setup.sh first").path;
        let bytes = std::fs::read(&lib).expect("readable");
        assert_eq!(&bytes[..4], b"\x7fELF", "{} is not a shared object", lib.display());
        let version = ONNXRUNTIME_VERSION.as_bytes();
        assert!(bytes.windows(version.len()).any(|w| w == version), "{} lacks {ONNXRUNTIME_VERSION}", lib.display());
    }

    /// An explicit folder wins, then an installation beside the executable, then the checkout,
    /// then the user's and the system's data folders; the first that holds the file is taken.
    #[test]
    fn data_is_looked_for_in_order_and_the_first_copy_wins() {
        let root = tempfile::tempdir().unwrap();
        let dir = |name: &str| root.path().join(name);
        let candidates = || {
            candidates_in(
                "models/default",
                dir("checkout/assets/models/default"),
                Some(dir("explicit")),
                Some(dir("prefix/bin")),
                Some(dir("home/.local/share")),
            )
        };
        let rules: Vec<&str> = candidates().iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [
                "FOLEY_DATA",
                "installed beside the executable",
                "the checkout foley was built from",
                "the user's data folder",
                "installed for all users"
            ]
        );
        let err =
            first_existing("the default model", "FOLEY_DATA", candidates(), "model.json").unwrap_err().to_string();
        assert!(err.contains(&dir("prefix/bin/../share/foley/models/default").display().to_string()), "{err}");
        let place = |path: PathBuf| {
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("model.json"), "{}").unwrap();
        };
        place(dir("home/.local/share/foley/models/default"));
        let found = first_existing("the default model", "FOLEY_DATA", candidates(), "model.json").unwrap();
        assert_eq!(found.rule, "the user's data folder");
        place(dir("prefix/share/foley/models/default"));
        std::fs::create_dir_all(dir("prefix/bin")).unwrap();
        let found = first_existing("the default model", "FOLEY_DATA", candidates(), "model.json").unwrap();
        assert_eq!(
            (found.rule, found.path),
            ("installed beside the executable", dir("prefix/share/foley/models/default"))
        );
        place(dir("explicit/models/default"));
        assert_eq!(first_existing("m", "FOLEY_DATA", candidates(), "model.json").unwrap().rule, "FOLEY_DATA");
    }

    #[test]
    fn a_missing_library_says_where_it_looked_and_what_to_do() {
        let empty = tempfile::tempdir().unwrap();
        let err = locate_onnxruntime(None, Some(empty.path()), empty.path()).unwrap_err().to_string();
        assert!(err.contains("scripts/setup.sh") && err.contains("ORT_DYLIB_PATH"), "{err}");
        assert!(err.contains(&empty.path().display().to_string()), "{err}");
    }
}
