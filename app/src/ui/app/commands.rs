//! Applying the commands the panels return.

use crate::ui::edits::Edit;
use crate::ui::player::Player;
use crate::ui::session::Session;
use crate::ui::timeline::View;

use super::{Command, Dialog, FoleyApp};

impl FoleyApp {
    /// Applies one command.
    pub fn apply(&mut self, ctx: &egui::Context, command: Command) {
        if self.would_lose_edits(&command) {
            self.held_for_edits = Some(command);
            return;
        }
        match command {
            Command::PickFile => self.show_dialog(ctx, Dialog::OpenVideo),
            Command::ShowDialog(d) => self.show_dialog(ctx, d),
            Command::WithFile(d, path) => self.dialog_done(ctx, d, path),
            Command::Open(path) => self.open(ctx, path),
            Command::Close => self.close(),
            Command::TogglePlay => {
                let playing = self.player.as_ref().is_some_and(Player::is_playing);
                self.apply(ctx, if playing { Command::Pause } else { Command::Play });
            }
            Command::Play => {
                if let Some(p) = &mut self.player {
                    p.play();
                }
                self.sync_audio();
            }
            Command::Pause => {
                if let Some(p) = &mut self.player {
                    p.pause();
                }
                self.sync_audio();
            }
            Command::Seek(t) => {
                if let Some(p) = &mut self.player {
                    p.seek(t);
                }
                self.sync_audio();
            }
            Command::Shuttle { forward } => {
                if let Some(p) = &mut self.player {
                    p.shuttle_press(forward);
                }
                self.sync_audio();
            }
            Command::StepForward => {
                if let Some(p) = &mut self.player {
                    p.step_forward();
                }
                self.sync_audio();
            }
            Command::StepBack => {
                if let Some(p) = &mut self.player {
                    p.step_back();
                }
                self.sync_audio();
            }
            Command::DismissError => self.error = None,
            Command::Generate => self.start_generation(ctx),
            Command::CancelGenerate => {
                if let Some(job) = &self.generate {
                    job.cancel();
                }
            }
            Command::SetBackend(b) => self.backend = b,
            Command::SetMethod(m) => self.method = m,
            Command::PickModel => self.show_dialog(ctx, Dialog::PickModel),
            Command::SetModel(dir) => self.model_dir = dir,
            Command::SetListen(l) => {
                self.listen = l;
                self.load_track();
            }
            Command::SetStereo(on) => {
                self.stereo = on;
                if let Some(s) = &mut self.session
                    && let Err(e) = s.set_stereo(on)
                {
                    self.error = Some(e);
                }
                self.load_track();
            }
            Command::SelectHit(i) => {
                if let Some(s) = &mut self.session {
                    s.selected = i;
                }
            }
            Command::EditHit(edit) => self.edit(|s| s.edit(edit)),
            Command::SetHitThreshold { threshold, apply } => {
                self.hit_threshold = super::HitThreshold(threshold);
                if apply && self.session.as_ref().is_some_and(Session::editable) {
                    self.edit(|s| match s.hits_at_threshold(threshold)? {
                        Some(edit) => s.edit(edit),
                        None => Ok(()),
                    });
                }
            }
            Command::ToggleLane { lane, solo } => {
                if let Some(s) = &mut self.session
                    && let Err(e) = s.toggle_lane(&lane, solo)
                {
                    self.error = Some(e);
                }
                self.load_track();
            }
            Command::Undo => self.edit(Session::undo),
            Command::Redo => self.edit(Session::redo),
            Command::DeleteSelected => {
                if let Some(index) = self.session.as_ref().and_then(|s| s.selected) {
                    self.apply(ctx, Command::EditHit(Edit::Delete { index }));
                }
            }
            Command::AddHitAtPlayhead => {
                let t = self.player.as_ref().map_or(0.0, Player::position_s);
                match self.session.as_ref().and_then(|s| s.new_hit(t)) {
                    Some(hit) => self.apply(ctx, Command::EditHit(Edit::Add(hit))),
                    None => self.error = Some("no clip to place here".to_owned()),
                }
            }
            Command::Audition(index) => self.audition(index),
            Command::SetView(v) => self.view = v,
            Command::DiscardEdits => {
                if let Some(session) = &mut self.session {
                    session.saved = session.hits.hits().to_vec();
                }
                if let Some(held) = self.held_for_edits.take() {
                    self.apply(ctx, held);
                }
            }
            Command::KeepEdits => self.held_for_edits = None,
            Command::SaveProject => match self.project_path.clone() {
                Some(path) => self.save_project(&path),
                None => self.show_dialog(ctx, Dialog::SaveProject),
            },
        }
    }

    /// Whether `command` would throw away hits edited since they were generated, opened or saved.
    pub(super) fn would_lose_edits(&self, command: &Command) -> bool {
        let replaces = matches!(
            command,
            Command::Open(_)
                | Command::Close
                | Command::Generate
                | Command::WithFile(Dialog::OpenVideo | Dialog::OpenProject, _)
        );
        replaces && self.session.as_ref().is_some_and(Session::unsaved)
    }

    pub(super) fn close(&mut self) {
        if let Some(job) = &self.generate {
            job.cancel();
        }
        self.player = None;
        self.texture = None;
        self.session = None;
        self.generate = None;
        self.original = None;
        self.original_rx = None;
        self.project_path = None;
        // Saved hits belong to the project's own video only.
        self.pending_hits = None;
        self.view = View::default();
        self.thumbnails.clear();
        self.thumbs_rx = None;
        if let Some(audio) = &mut self.audio {
            audio.clear();
        }
        self.audio_sync.reset();
    }

    pub(super) fn edit(&mut self, change: impl FnOnce(&mut Session) -> Result<(), String>) {
        let Some(session) = &mut self.session else { return };
        if !session.editable() {
            self.error = Some("hits of a parametric track cannot be edited; generate with retrieval".to_owned());
            return;
        }
        if let Err(e) = change(session) {
            self.error = Some(e);
        }
        self.load_track();
    }
}
