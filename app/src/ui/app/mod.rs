//! The app's state and the commands that change it: commands applied in [`commands`], file
//! dialogs and the exports they start in [`files`], background work collected in [`tasks`],
//! projects in [`project_io`], and the sound kept with the picture in [`playback`].

mod commands;
mod files;
mod playback;
mod project_io;
mod tasks;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use foley_engine::media::WavFormat;
use foley_engine::synthesis::Method;
use foley_engine::vision::Backend;

use super::audio::AudioOut;
use super::edits::Edit;
use super::generate::GenerateJob;
use super::panels;
use super::player::Player;
use super::session::Session;
use super::sync::AudioSync;
use super::timeline::View;

const MAX_RECENT: usize = 10;

/// Which sound plays with the picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub enum Listen {
    /// The video's own sound track.
    Original,
    #[default]
    Generated,
}

/// The contact probability a peak needs to be a hit, as `foley synth --hit-threshold`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct HitThreshold(pub f32);

impl Default for HitThreshold {
    fn default() -> Self {
        Self(foley_engine::predict::contacts::ContactParams::default().threshold)
    }
}

impl HitThreshold {
    /// The lowest and highest the app offers: the ends give no hits or a hit at every wiggle.
    pub const RANGE: std::ops::RangeInclusive<f32> = 0.05..=0.95;
}

/// What a file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    OpenVideo,
    OpenProject,
    SaveProject,
    PickModel,
    ExportWav(WavFormat),
    ExportVideo,
    ExportHits,
    /// The hits as editor markers: `true` for an EDL, `false` for a CSV.
    ExportMarkers(bool),
    /// One WAV per material and the mix, into a folder.
    ExportStems,
}

/// What the user asked for, collected from the panels and applied once per frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show the file dialog.
    PickFile,
    Open(PathBuf),
    Close,
    TogglePlay,
    Play,
    Pause,
    Seek(f64),
    /// J (`false`) or L (`true`): shuttle backwards or forwards, faster on each press.
    Shuttle {
        forward: bool,
    },
    StepForward,
    StepBack,
    DismissError,
    Generate,
    CancelGenerate,
    SetBackend(Backend),
    SetMethod(Method),
    PickModel,
    SetModel(Option<PathBuf>),
    SetListen(Listen),
    /// Stereo on or off for generated tracks.
    SetStereo(bool),
    /// The hit threshold for generations; `apply`: also find the open track's hits again at it
    /// (one edit), else only show it (while a slider is dragged).
    SetHitThreshold {
        threshold: f32,
        apply: bool,
    },
    SelectHit(Option<usize>),
    EditHit(Edit),
    /// Mute (`solo` false) or solo a material's lane, or undo that.
    ToggleLane {
        lane: String,
        solo: bool,
    },
    Undo,
    Redo,
    AddHitAtPlayhead,
    DeleteSelected,
    Audition(usize),
    SetView(View),
    ShowDialog(Dialog),
    /// What a dialog does once its file is chosen (also for a file chosen without a dialog).
    WithFile(Dialog, PathBuf),
    SaveProject,
    /// Go on with the command held back because it would lose unsaved edits; the edits are lost.
    DiscardEdits,
    /// Drop that command and keep the edits.
    KeepEdits,
}

/// The app. Persisted fields survive a restart; runtime handles are rebuilt.
#[derive(Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct FoleyApp {
    /// Most recent first.
    pub recent: Vec<PathBuf>,
    pub backend: Backend,
    pub method: Method,
    /// `None`: the shipped model.
    pub model_dir: Option<PathBuf>,
    /// Generated tracks in stereo: each hit panned to where it happens in the picture.
    pub stereo: bool,
    pub hit_threshold: HitThreshold,
    #[serde(skip)]
    pub player: Option<Player>,
    #[serde(skip)]
    pub texture: Option<egui::TextureHandle>,
    /// A message for the user, shown until dismissed.
    #[serde(skip)]
    pub error: Option<String>,
    /// What the last finished background task did.
    #[serde(skip)]
    pub status: Option<String>,
    /// The path typed into the open box.
    #[serde(skip)]
    pub path_input: String,
    /// A file being opened in the background.
    #[serde(skip)]
    pub opening: Option<(PathBuf, Receiver<Result<Player, String>>)>,
    #[serde(skip)]
    pub generate: Option<GenerateJob>,
    #[serde(skip)]
    pub session: Option<Session>,
    /// Hits of a reopened project, applied when its generation finishes.
    #[serde(skip)]
    pending_hits: Option<Vec<foley_engine::synthesis::PlacedHit>>,
    #[serde(skip)]
    pub project_path: Option<PathBuf>,
    #[serde(skip)]
    pub original: Option<Vec<f32>>,
    #[serde(skip)]
    original_rx: Option<Receiver<Option<Vec<f32>>>>,
    #[serde(skip)]
    pub listen: Listen,
    #[serde(skip)]
    pub view: View,
    #[serde(skip)]
    audio: Option<AudioOut>,
    #[serde(skip)]
    audio_failed: bool,
    /// A clip alone is on the output; the next play or seek restores the track.
    #[serde(skip)]
    audition_pending: bool,
    /// What the output was last told, so the sound follows every change of the picture's clock.
    #[serde(skip)]
    audio_sync: AudioSync,
    #[serde(skip)]
    dialog: Option<(Dialog, Receiver<Option<PathBuf>>)>,
    #[serde(skip)]
    exports: Vec<Receiver<Result<String, String>>>,
    /// Small pictures along the timeline: (time, picture), in time order.
    #[serde(skip)]
    pub thumbnails: Vec<(f64, egui::TextureHandle)>,
    #[serde(skip)]
    thumbs_rx: Option<Receiver<(f64, egui::ColorImage)>>,
    /// egui's CPU time of every frame while the current generation runs, ms.
    #[serde(skip)]
    frames_while_generating: Vec<f64>,
    #[serde(skip)]
    longest_frame_ms: f64,
    /// A command that would lose unsaved edits, held until the user says what to do.
    #[serde(skip)]
    pub held_for_edits: Option<Command>,
}

impl std::fmt::Debug for FoleyApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoleyApp").field("recent", &self.recent).field("player", &self.player).finish_non_exhaustive()
    }
}

impl FoleyApp {
    pub fn new(cc: &eframe::CreationContext<'_>, video: Option<PathBuf>) -> Self {
        let mut app: Self = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
        if !HitThreshold::RANGE.contains(&app.hit_threshold.0) {
            app.hit_threshold = HitThreshold::default();
        }
        if let Some(video) = video {
            app.apply(&cc.egui_ctx, Command::Open(video));
        }
        app
    }
}

impl eframe::App for FoleyApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if self.generate.is_some() {
            self.frames_while_generating.push(f64::from(frame.info().cpu_usage.unwrap_or(0.0)) * 1000.0);
        }
        self.window_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self);
    }
}

impl FoleyApp {
    /// One frame of the whole window: background results in, panels drawn, commands applied.
    pub fn window_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll_background(&ctx);
        let mut commands = Vec::new();
        commands.extend(panels::dropped_files(&ctx));
        commands.extend(panels::shortcuts(&ctx, self));
        commands.extend(panels::menu_bar_ui(ui, self));
        commands.extend(panels::error_ui(ui, self));
        commands.extend(panels::unsaved_edits_ui(ui, self));
        if self.player.is_some() {
            commands.extend(panels::transport_ui(ui, self));
            commands.extend(panels::timeline_panel_ui(ui, self));
            commands.extend(panels::inspector_panel_ui(ui, self));
            panels::video_ui(ui, self);
        } else {
            commands.extend(panels::welcome_ui(ui, self));
        }
        for command in commands {
            self.apply(&ctx, command);
        }
    }

    /// Whether background work (opening, generating, exporting) is still running.
    #[must_use]
    pub fn busy(&self) -> bool {
        self.opening.is_some() || self.generate.is_some() || !self.exports.is_empty()
    }
}
