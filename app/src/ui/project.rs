//! The project file: the video, the model, the method and the edited hits, as JSON, so work
//! survives a restart. Written atomically: a crash while saving keeps the previous file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use foley_engine::synthesis::{Method, PlacedHit};
use serde::{Deserialize, Serialize};

/// `*.foley.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Always `"foley-project"`.
    pub format: String,
    pub version: u32,
    pub video: PathBuf,
    /// `None`: the shipped model.
    pub model: Option<PathBuf>,
    pub method: Method,
    pub hits: Vec<PlacedHit>,
}

pub const PROJECT_VERSION: u32 = 1;

impl Project {
    pub fn new(video: PathBuf, model: Option<PathBuf>, method: Method, hits: Vec<PlacedHit>) -> Self {
        Self { format: "foley-project".into(), version: PROJECT_VERSION, video, model, method, hits }
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut temp =
            tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write {}", path.display()))?;
        temp.write_all(&json)?;
        temp.as_file().sync_all()?;
        temp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let project: Self =
            serde_json::from_str(&text).with_context(|| format!("{}: not a foley project", path.display()))?;
        if project.format != "foley-project" {
            bail!("{}: not a foley project (format {:?})", path.display(), project.format);
        }
        if project.version != PROJECT_VERSION {
            bail!(
                "{}: project version {} is not one this foley reads ({PROJECT_VERSION})",
                path.display(),
                project.version
            );
        }
        Ok(project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_round_trips_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.foley.json");
        let hits = vec![PlacedHit {
            time_s: 1.5,
            material: Some("wood".into()),
            action: Some("hit".into()),
            strength: 2.0,
            clip: Some("c".into()),
            gain_db: -3.0,
            x: None,
        }];
        let project = Project::new("/v.mp4".into(), None, Method::Retrieval, hits);
        project.save(&path).unwrap();
        assert_eq!(Project::load(&path).unwrap(), project);
        std::fs::write(&path, "{\"format\": \"other\"}").unwrap();
        assert!(Project::load(&path).unwrap_err().to_string().contains("not a foley project"));
    }
}
