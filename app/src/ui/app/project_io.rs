//! Opening and saving projects, and the recent files list.

use std::path::Path;

use crate::ui::project::Project;

use super::{FoleyApp, MAX_RECENT};

impl FoleyApp {
    pub(super) fn open_project(&mut self, ctx: &egui::Context, path: &Path) {
        match Project::load(path) {
            Ok(project) => {
                self.model_dir = project.model.clone();
                self.method = project.method;
                self.open(ctx, project.video.clone());
                self.pending_hits = Some(project.hits);
                self.project_path = Some(path.to_path_buf());
                self.start_generation(ctx);
            }
            Err(e) => self.error = Some(format!("{e:#}")),
        }
    }

    pub(super) fn save_project(&mut self, path: &Path) {
        let (Some(player), Some(session)) = (&self.player, &self.session) else {
            self.error = Some("nothing to save: generate the sound first".to_owned());
            return;
        };
        let project = Project::new(
            player.path().to_path_buf(),
            self.model_dir.clone(),
            session.generated.method,
            session.hits.hits().to_vec(),
        );
        match project.save(path) {
            Ok(()) => {
                self.project_path = Some(path.to_path_buf());
                self.status = Some(format!("saved {}", path.display()));
                if let Some(session) = &mut self.session {
                    session.saved = session.hits.hits().to_vec();
                }
            }
            Err(e) => self.error = Some(format!("{e:#}")),
        }
    }

    pub(super) fn remember(&mut self, path: &Path) {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }
}
