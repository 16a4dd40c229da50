//! The engine's modules form layers: each imports only modules of the layers below it, so none
//! imports another that imports it back (ARCHITECTURE.md draws the same table).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// From the bottom up.
const LAYERS: &[&[&str]] = &[
    &["colour", "digest", "metrics", "paths", "timeline"],
    &["media"],
    &["figures", "sound"],
    &["vision"],
    &["data"],
    &["predict", "retrieval"],
    &["synthesis"],
    &["eval", "study"],
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The engine modules a source file names as `crate::module`.
fn imports(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .map(|(i, _)| {
            let rest = &text[i + "crate::".len()..];
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer_of = |name: &str| LAYERS.iter().position(|layer| layer.contains(&name));
    let mut seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let layer = layer_of(&name).unwrap_or_else(|| panic!("module `{name}` is in no layer"));
        seen.insert(name.clone());
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        for file in files {
            for import in imports(&std::fs::read_to_string(&file).unwrap()) {
                if import == name {
                    continue;
                }
                match layer_of(&import) {
                    Some(l) if l < layer => {}
                    _ => wrong.push(format!("{} imports crate::{import}", file.strip_prefix(&src).unwrap().display())),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
    let listed: BTreeSet<String> = LAYERS.iter().flat_map(|l| l.iter().map(|s| (*s).to_owned())).collect();
    assert_eq!(seen, listed, "the layers list exactly the engine's modules");
}

#[test]
fn the_import_reader_sees_nested_paths() {
    let found = imports("use crate::media::X;\nlet y = crate::sound::hits(crate::media::z);");
    assert_eq!(found, BTreeSet::from(["media".to_owned(), "sound".to_owned()]));
}
