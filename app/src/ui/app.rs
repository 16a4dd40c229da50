//! The app's state and the commands that change it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};

use foley_engine::media::{self, AudioTrack, WavFormat};
use foley_engine::synthesis::{self, Method, write_placed_hits};
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;
use foley_engine::vision::Backend;

use super::audio::{AudioOut, SoundOutput as _};
use super::edits::Edit;
use super::generate::GenerateJob;
use super::panels;
use super::player::{Player, ProxyFrameSink, SoundClock};
use super::project::Project;
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
        if let Some(video) = video {
            app.apply(&cc.egui_ctx, Command::Open(video));
        }
        app
    }

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
    fn would_lose_edits(&self, command: &Command) -> bool {
        let replaces = matches!(
            command,
            Command::Open(_)
                | Command::Close
                | Command::Generate
                | Command::WithFile(Dialog::OpenVideo | Dialog::OpenProject, _)
        );
        replaces && self.session.as_ref().is_some_and(Session::unsaved)
    }

    fn close(&mut self) {
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

    fn show_dialog(&mut self, ctx: &egui::Context, kind: Dialog) {
        if self.dialog.is_some() {
            return;
        }
        let stem = self
            .player
            .as_ref()
            .and_then(|p| p.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "foley".to_owned());
        let (tx, rx) = mpsc::sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("file-dialog".to_owned()).spawn(move || {
            let d = rfd::FileDialog::new();
            let picked = match kind {
                Dialog::OpenVideo => d
                    .set_title("Open a video")
                    .add_filter("Video", &["mp4", "m4v", "mov", "mkv", "avi", "webm", "mpg", "mpeg", "ts", "mts"])
                    .add_filter("All files", &["*"])
                    .pick_file(),
                Dialog::OpenProject => d.set_title("Open a project").add_filter("foley project", &["json"]).pick_file(),
                Dialog::SaveProject => d
                    .set_title("Save the project")
                    .set_file_name(format!("{stem}.foley.json"))
                    .add_filter("foley project", &["json"])
                    .save_file(),
                Dialog::PickModel => d.set_title("Choose a model folder").pick_folder(),
                Dialog::ExportWav(_) => d
                    .set_title("Export the track")
                    .set_file_name(format!("{stem}_foley.wav"))
                    .add_filter("WAV", &["wav"])
                    .save_file(),
                Dialog::ExportVideo => d
                    .set_title("Export the video with its new sound")
                    .set_file_name(format!("{stem}_foley.mp4"))
                    .add_filter("Video", &["mp4", "mov", "mkv"])
                    .save_file(),
                Dialog::ExportHits => d
                    .set_title("Export the hits")
                    .set_file_name(format!("{stem}_hits.csv"))
                    .add_filter("CSV", &["csv"])
                    .save_file(),
                Dialog::ExportMarkers(edl) => {
                    let (label, ext) = if edl { ("EDL", "edl") } else { ("CSV", "csv") };
                    d.set_title("Export the hits as markers")
                        .set_file_name(format!("{stem}_markers.{ext}"))
                        .add_filter(label, &[ext])
                        .save_file()
                }
                Dialog::ExportStems => d.set_title("Choose a folder for the stems").pick_folder(),
            };
            let _ = tx.send(picked);
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.dialog = Some((kind, rx)),
            Err(e) => self.error = Some(format!("cannot show the file dialog: {e}")),
        }
    }

    fn dialog_done(&mut self, ctx: &egui::Context, kind: Dialog, path: PathBuf) {
        match kind {
            Dialog::OpenVideo => self.open(ctx, path),
            Dialog::PickModel => self.model_dir = Some(path),
            Dialog::OpenProject => self.open_project(ctx, &path),
            Dialog::SaveProject => self.save_project(&path),
            Dialog::ExportWav(format) => {
                let (Some(s), Some(p)) = (&self.session, &self.player) else { return };
                let (track, channels) = s.output();
                let track = track.to_vec();
                let bext =
                    media::BroadcastInfo::for_video(p.path(), p.info().start_on_timeline_s(), OUTPUT_SAMPLE_RATE);
                self.export(ctx, move || {
                    media::write_wav_with(&path, &track, OUTPUT_SAMPLE_RATE, channels, format, Some(&bext))
                        .map_err(|e| e.to_string())?;
                    Ok(format!("wrote {}", path.display()))
                });
            }
            Dialog::ExportVideo => {
                let (Some(s), Some(p)) = (&self.session, &self.player) else { return };
                let (samples, channels) = s.output();
                let track = AudioTrack { rate: OUTPUT_SAMPLE_RATE, start_s: 0.0, samples: samples.to_vec() };
                let video = p.path().to_path_buf();
                self.export(ctx, move || {
                    media::mux_channels_with_progress(&video, &track, channels, &path, None, &mut |_| {})
                        .map_err(|e| e.to_string())?;
                    Ok(format!("wrote {}", path.display()))
                });
            }
            Dialog::ExportHits => {
                let Some(s) = &self.session else { return };
                let hits = s.hits.hits().to_vec();
                self.export(ctx, move || {
                    write_placed_hits(&path, &hits).map_err(|e| e.to_string())?;
                    Ok(format!("wrote {}", path.display()))
                });
            }
            Dialog::ExportMarkers(edl) => {
                let (Some(s), Some(p)) = (&self.session, &self.player) else { return };
                let hits = s.hits.hits().to_vec();
                let clock = synthesis::MarkerClock::for_video(p.info());
                let title = format!("foley: {}", p.path().file_name().unwrap_or_default().to_string_lossy());
                self.export(ctx, move || {
                    if edl {
                        synthesis::write_markers_edl(&path, &hits, &clock, &title)
                    } else {
                        synthesis::write_markers_csv(&path, &hits, &clock)
                    }
                    .map_err(|e| e.to_string())?;
                    Ok(format!("wrote {}", path.display()))
                });
            }
            Dialog::ExportStems => {
                let (Some(s), Some(p)) = (&self.session, &self.player) else { return };
                let Some(db) = s.db().cloned() else {
                    self.error = Some("stems need a retrieval track: generate with retrieval".to_owned());
                    return;
                };
                let (hits, len) = (s.hits.hits().to_vec(), s.track.len());
                let (track, count) = s.output();
                let (track, channels) = (track.to_vec(), s.channels());
                let bext =
                    media::BroadcastInfo::for_video(p.path(), p.info().start_on_timeline_s(), OUTPUT_SAMPLE_RATE);
                self.export(ctx, move || {
                    std::fs::create_dir_all(&path).map_err(|e| format!("cannot make {}: {e}", path.display()))?;
                    let stems = synthesis::render_stems(&db, &hits, len, channels).map_err(|e| e.to_string())?;
                    let write = |name: &str, samples: &[f32]| {
                        media::write_wav_with(
                            &path.join(name),
                            samples,
                            OUTPUT_SAMPLE_RATE,
                            count,
                            WavFormat::Pcm24,
                            Some(&bext),
                        )
                        .map_err(|e| e.to_string())
                    };
                    write("mix.wav", &track)?;
                    for stem in &stems {
                        write(&format!("{}.wav", stem.material), &stem.samples)?;
                    }
                    Ok(format!("wrote {} stems and the mix to {}", stems.len(), path.display()))
                });
            }
        }
    }

    /// Runs an export on a named thread; its result shows when it is done.
    fn export(&mut self, ctx: &egui::Context, job: impl FnOnce() -> Result<String, String> + Send + 'static) {
        let (tx, rx) = mpsc::sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("foley-export".to_owned()).spawn(move || {
            let _ = tx.send(job());
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => {
                self.exports.push(rx);
                self.status = Some("exporting…".to_owned());
            }
            Err(e) => self.error = Some(format!("cannot export: {e}")),
        }
    }

    fn open(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.close();
        let (tx, rx) = mpsc::sync_channel(1);
        let wake_ctx = ctx.clone();
        let done_ctx = ctx.clone();
        let open_path = path.clone();
        // Timeline thumbnails come from the scrub proxy's pass over the video.
        let (thumbs_tx, thumbs_rx) = mpsc::sync_channel(8);
        self.thumbs_rx = Some(thumbs_rx);
        let sink = thumbnail_sink(thumbs_tx, ctx.clone());
        let spawned = std::thread::Builder::new().name("video-open".to_owned()).spawn(move || {
            let result = Player::open_with_proxy(&open_path, move || wake_ctx.request_repaint(), sink)
                .map_err(|e| e.to_string());
            let _ = tx.send(result);
            done_ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.opening = Some((path.clone(), rx)),
            Err(e) => self.error = Some(format!("cannot open {}: {e}", path.display())),
        }
        // The video's own sound, for A/B against the generated one.
        let (tx, rx) = mpsc::sync_channel(1);
        let ctx = ctx.clone();
        if std::thread::Builder::new()
            .name("audio-decode".to_owned())
            .spawn(move || {
                let _ = tx.send(media::read_audio(&path, OUTPUT_SAMPLE_RATE).ok().map(|t| t.samples));
                ctx.request_repaint();
            })
            .is_ok()
        {
            self.original_rx = Some(rx);
        }
    }

    fn open_project(&mut self, ctx: &egui::Context, path: &Path) {
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

    fn save_project(&mut self, path: &Path) {
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

    fn start_generation(&mut self, ctx: &egui::Context) {
        if self.generate.is_some() {
            return;
        }
        let video = match (&self.player, &self.opening) {
            (Some(p), _) => p.path().to_path_buf(),
            (None, Some((path, _))) => path.clone(),
            (None, None) => return,
        };
        let wake = ctx.clone();
        self.frames_while_generating.clear();
        match GenerateJob::start(video, self.model_dir.clone(), self.backend, self.method, move || {
            wake.request_repaint();
        }) {
            Ok(job) => self.generate = Some(job),
            Err(e) => self.error = Some(e),
        }
    }

    fn edit(&mut self, change: impl FnOnce(&mut Session) -> Result<(), String>) {
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

    fn audition(&mut self, index: usize) {
        let Some(session) = &self.session else { return };
        let Some(hit) = session.hits.hits().get(index) else { return };
        let samples = session
            .db()
            .and_then(|db| hit.clip.as_deref().and_then(|id| db.find(id)).and_then(|i| db.clip_samples(i).ok()));
        if let Some(p) = &mut self.player {
            p.pause();
        }
        if let (Some(samples), Some(audio)) = (samples, self.audio_out()) {
            audio.set_track(&samples, OUTPUT_SAMPLE_RATE, 1);
            audio.play_from(0.0);
        }
        // The next play or seek puts the whole track back.
        self.audition_pending = true;
        self.audio_sync.assume(self.sound_clock());
    }

    /// The output device, opened on first use; without one, says so once.
    fn audio_out(&mut self) -> Option<&mut AudioOut> {
        if self.audio.is_none() && !self.audio_failed {
            match AudioOut::open() {
                Ok(a) => self.audio = Some(a),
                Err(e) => {
                    self.audio_failed = true;
                    self.error = Some(format!("no sound output ({e}): everything else works, silently"));
                }
            }
        }
        self.audio.as_mut()
    }

    /// Puts the track to listen to on the output, at the playhead.
    fn load_track(&mut self) {
        let samples = match self.listen {
            Listen::Original => self.original.clone().map(|o| (o, 1)),
            Listen::Generated => self.session.as_ref().map(|s| {
                let (samples, channels) = s.output();
                (samples.to_vec(), channels)
            }),
        };
        let Some((samples, channels)) = samples else { return };
        if let Some(audio) = self.audio_out() {
            audio.set_track(&samples, OUTPUT_SAMPLE_RATE, channels);
        }
        self.audition_pending = false;
        self.audio_sync.reset();
        self.sync_audio();
    }

    /// The picture's clock as the sound must follow it; silent at 0 without a video.
    fn sound_clock(&self) -> SoundClock {
        self.player.as_ref().map_or(SoundClock { anchor_s: 0.0, since: None }, Player::sound_clock)
    }

    /// Starts, stops or moves the sound with the picture, when the picture's clock changed.
    /// Called after every command and every UI frame, so that a change the player makes itself
    /// (a seek's frame arriving, the end) is followed too.
    fn sync_audio(&mut self) {
        let clock = self.sound_clock();
        if self.audition_pending {
            if !self.audio_sync.is_current(clock) {
                self.load_track();
            }
            return;
        }
        if let Some(audio) = &mut self.audio {
            self.audio_sync.follow(clock, audio);
        }
    }

    fn remember(&mut self, path: &Path) {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }

    /// Collects the results of background work.
    fn poll_background(&mut self, ctx: &egui::Context) {
        if let Some((kind, rx)) = &self.dialog
            && let Ok(picked) = rx.try_recv()
        {
            let kind = *kind;
            self.dialog = None;
            if let Some(path) = picked {
                self.apply(ctx, Command::WithFile(kind, path));
            }
        }
        if let Some((path, rx)) = &self.opening
            && let Ok(result) = rx.try_recv()
        {
            let path = path.clone();
            self.opening = None;
            match result {
                Ok(player) => {
                    self.remember(&path);
                    self.player = Some(player);
                    self.texture = None;
                    self.error = None;
                }
                Err(message) => {
                    self.error = Some(message);
                    if let Some(job) = &self.generate {
                        job.cancel();
                    }
                }
            }
        }
        if let Some(rx) = &self.thumbs_rx {
            while let Ok((t, image)) = rx.try_recv() {
                let texture = ctx.load_texture(format!("thumb-{t}"), image, egui::TextureOptions::LINEAR);
                self.thumbnails.push((t, texture));
            }
        }
        if let Some(rx) = &self.original_rx
            && let Ok(original) = rx.try_recv()
        {
            self.original_rx = None;
            self.original = original;
        }
        if let Some(job) = &mut self.generate
            && let Some(result) = job.poll()
        {
            self.generate = None;
            let mut frames = std::mem::take(&mut self.frames_while_generating);
            frames.sort_by(f64::total_cmp);
            let longest = frames.last().copied().unwrap_or(0.0);
            log::info!(
                "UI frames while generating: {}, median {:.1} ms, longest {:.1} ms, {} over 16 ms",
                frames.len(),
                frames.get(frames.len() / 2).copied().unwrap_or(0.0),
                longest,
                frames.iter().filter(|&&f| f > 16.0).count()
            );
            self.longest_frame_ms = longest;
            // Taken whatever the outcome: a failed generation must not hand them to the next one.
            let saved_hits = self.pending_hits.take();
            match result.and_then(|generated| Session::new(generated, saved_hits)) {
                Ok(mut session) => {
                    // Stereo follows the setting where the track can be placed (retrieval).
                    if self.stereo && session.editable() {
                        self.error = session.set_stereo(true).err();
                    }
                    let image = std::mem::take(&mut session.generated.cochleagram_image);
                    session.cochleagram = Some(ctx.load_texture("cochleagram", image, egui::TextureOptions::LINEAR));
                    self.status =
                        Some(format!("{} hits by {}", session.hits.hits().len(), session.generated.method.as_str()));
                    self.session = Some(session);
                    self.listen = Listen::Generated;
                    self.load_track();
                }
                Err(e) => self.error = Some(e),
            }
        }
        self.exports.retain(|rx| match rx.try_recv() {
            Ok(Ok(message)) => {
                self.status = Some(message);
                false
            }
            Ok(Err(message)) => {
                self.error = Some(message);
                false
            }
            Err(mpsc::TryRecvError::Empty) => true,
            Err(mpsc::TryRecvError::Disconnected) => false,
        });
        if let Some(player) = &mut self.player
            && let Err(err) = player.update()
        {
            self.error = Some(err.to_string());
        }
        self.sync_audio();
        if let Some(player) = &mut self.player {
            player.upload_frame(ctx, &mut self.texture, "video-frame");
            if let Some(wait) = player.time_to_next_frame() {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(wait));
            } else if player.is_playing() {
                ctx.request_repaint_after(std::time::Duration::from_millis(10));
            }
        }
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

/// Picks small pictures for the timeline from the frames the scrub proxy decodes: about one
/// every 2 s (at most 120), 96 pixels wide, each sent as soon as it is made.
fn thumbnail_sink(tx: mpsc::SyncSender<(f64, egui::ColorImage)>, ctx: egui::Context) -> ProxyFrameSink {
    let mut next = 0_usize;
    let mut open = true;
    Box::new(move |info, frame| {
        let count = ((info.duration_s / 2.0).ceil() as usize).clamp(1, 120);
        if !open || next >= count || frame.time_s + 1e-6 < next as f64 * info.duration_s / count as f64 {
            return;
        }
        next += 1;
        let size = media::fit_within(frame.width, frame.height, (96, 192));
        match media::scale_frame(frame, size) {
            Ok(thumb) => {
                let image = egui::ColorImage::from_rgb([thumb.width as usize, thumb.height as usize], &thumb.rgb);
                // A closed channel means the video was closed: stop sending.
                open = tx.send((thumb.time_s, image)).is_ok();
                ctx.request_repaint();
            }
            Err(err) => log::warn!("thumbnail at {:.1} s: {err}", frame.time_s),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    fn settle(h: &mut Harness<'_, FoleyApp>, until: impl Fn(&FoleyApp) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !until(h.state()) {
            let app = h.state();
            assert!(
                std::time::Instant::now() < deadline,
                "the app never got there: typed {:?}, player {}, session {}, error {:?}",
                app.path_input,
                app.player.is_some(),
                app.session.is_some(),
                app.error
            );
            h.step();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        h.step();
    }

    /// The first screen, as a snapshot image (`UPDATE_SNAPSHOTS=1` rewrites it after an intended
    /// change); it lives in the workspace's `tests/snapshots`.
    #[test]
    fn the_welcome_screen_looks_as_it_should() {
        let mut h = Harness::builder()
            .with_size(egui::vec2(1000.0, 600.0))
            .build_ui_state(|ui, app: &mut FoleyApp| app.window_ui(ui), FoleyApp::default());
        h.run();
        assert!(h.query_by_label("Open video…").is_some());
        h.snapshot_options("main_welcome", &egui_kittest::SnapshotOptions::new().output_path("../tests/snapshots"));
    }

    #[test]
    fn open_generate_play_edit_undo_and_export_a_generated_video() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let bank = foley_engine::data::read_manifest(&foley_engine::paths::clipbank_manifest()).unwrap();
        let config = foley_engine::data::synth::SynthConfig {
            style: foley_engine::data::synth::Style::Drawn,
            ..foley_engine::data::synth::SynthConfig::new(1, 4.0, 7, 0.0)
        };
        foley_engine::data::synth::generate(&data, &bank, &[], &foley_engine::paths::cache_dir(), &config, &|_| {})
            .unwrap();
        let video = data.join("synth-7-00000_denoised.mp4");

        let mut h = Harness::builder()
            .with_size(egui::vec2(1400.0, 900.0))
            .build_ui_state(|ui, app: &mut FoleyApp| app.window_ui(ui), FoleyApp::default());
        h.step();
        // Open by typing the path, as a user without a file dialog would.
        let input = h.get_by_role(egui::accesskit::Role::TextInput);
        input.click();
        h.step();
        h.get_by_role(egui::accesskit::Role::TextInput).type_text(video.to_str().unwrap());
        h.step();
        h.get_by_label("Open").click();
        settle(&mut h, |app| app.player.is_some() && !app.busy());
        assert!(h.state().error.is_none(), "{:?}", h.state().error);

        h.get_by_label("Generate sound").click();
        settle(&mut h, |app| app.session.is_some() && !app.busy());
        let hits = h.state().session.as_ref().unwrap().hits.hits().len();
        assert!(hits > 0, "no hits generated");
        assert!(h.query_by_label_contains("looks like").is_some());
        // The main screen with its sound, once every thumbnail is in.
        settle(&mut h, |app| {
            // The proxy pass sends the thumbnails before it completes; the next frame shows them.
            app.player.as_ref().is_some_and(|p| p.proxy_progress().is_some_and(|(_, done)| done) && !p.seeking())
        });
        // Machines without a sound card say so; the picture is the same with one.
        assert!(h.state().error.as_deref().is_none_or(|e| e.starts_with("no sound output")), "{:?}", h.state().error);
        if h.state().error.is_some() {
            h.get_by_label("Dismiss").click();
            h.step();
            h.step();
        }
        // The sound comes from float inference, whose last bits may vary with the CPU's vector
        // units; a few hundred pixels of colour map may differ, a moved hit or panel may not.
        let options = egui_kittest::SnapshotOptions::new().output_path("../tests/snapshots").max_failed_pixels(1500);
        h.snapshot_options("main_generated", &options);

        // Play and pause with Space.
        h.key_press(egui::Key::Space);
        h.step();
        h.step();
        assert!(h.state().player.as_ref().unwrap().is_playing());
        h.key_press(egui::Key::Space);
        h.step();
        h.step();
        assert!(!h.state().player.as_ref().unwrap().is_playing());

        // J/K/L shuttle: L plays, L again doubles the speed (silently); J halves it; K stops.
        // From the middle, so that playing backwards has room before the start however slowly
        // the frames come on a busy machine.
        h.state_mut().player.as_mut().unwrap().seek(2.0);
        settle(&mut h, |app| app.player.as_ref().is_some_and(|p| !p.seeking()));
        let rate = |h: &Harness<'_, FoleyApp>| {
            let p = h.state().player.as_ref().unwrap();
            p.is_playing().then(|| p.shuttle_rate().unwrap_or(1.0))
        };
        for (key, expected) in [
            (egui::Key::L, Some(1.0)),
            (egui::Key::L, Some(2.0)),
            (egui::Key::J, Some(1.0)),
            (egui::Key::J, Some(-1.0)),
            (egui::Key::K, None),
        ] {
            h.key_press(key);
            h.step();
            assert_eq!(rate(&h), expected, "after {key:?}");
            if expected == Some(2.0) {
                h.step();
                assert!(h.query_by_label_contains("2x").is_some(), "the speed is shown");
            }
        }

        // Add a hit at the playhead, then undo it.
        let before = h.state().session.as_ref().unwrap().track.clone();
        h.get_by_label("Add hit at playhead").click();
        h.step();
        h.step();
        assert_eq!(h.state().session.as_ref().unwrap().hits.hits().len(), hits + 1, "{:?}", h.state().error);
        assert_ne!(h.state().session.as_ref().unwrap().track, before, "the track did not re-render");
        h.get_by_label("Undo").click();
        h.step();
        h.step();
        assert_eq!(h.state().session.as_ref().unwrap().hits.hits().len(), hits);
        assert_eq!(h.state().session.as_ref().unwrap().track, before);

        // Each material has a lane: muting the only one silences the track, soloing it while
        // muted plays it, and unmuting and unsoloing give the same track back.
        assert_eq!(h.state().session.as_ref().unwrap().lanes().len(), 1);
        h.get_by_label("M").click();
        h.step();
        h.step();
        assert!(h.state().session.as_ref().unwrap().track.iter().all(|s| *s == 0.0), "a muted lane is heard");
        h.get_by_label("S").click();
        h.step();
        h.step();
        assert_eq!(h.state().session.as_ref().unwrap().track, before, "a soloed lane is not heard");
        h.get_by_label("M").click();
        h.step();
        h.get_by_label("S").click();
        h.step();
        h.step();
        assert_eq!(h.state().session.as_ref().unwrap().track, before);

        // Stereo: each hit panned to where it is in the picture; exports follow.
        h.get_by_label("Stereo").click();
        h.step();
        h.step();
        assert!(h.state().stereo, "{:?}", h.state().error);
        let stereo = h.state().session.as_ref().unwrap().stereo.clone().expect("a stereo track");
        assert_eq!(stereo.len(), 2 * before.len());
        assert!(stereo.chunks_exact(2).any(|f| (f[0] - f[1]).abs() > 1e-3), "every hit sits in the centre");

        // Export the WAV, the video with its sound, the hits and the project.
        let out = |name: &str| dir.path().join(name);
        let ctx = h.ctx.clone();
        for (dialog, name) in [
            (Dialog::ExportWav(WavFormat::Pcm24), "track.wav"),
            (Dialog::ExportVideo, "with_sound.mp4"),
            (Dialog::ExportHits, "hits.csv"),
            (Dialog::ExportMarkers(true), "markers.edl"),
            (Dialog::ExportMarkers(false), "markers.csv"),
            (Dialog::ExportStems, "stems"),
            (Dialog::SaveProject, "work.foley.json"),
        ] {
            h.state_mut().apply(&ctx, Command::WithFile(dialog, out(name)));
        }
        settle(&mut h, |app| !app.busy());
        assert!(h.state().error.as_deref().is_none_or(|e| e.starts_with("no sound output")), "{:?}", h.state().error);
        let wav = hound::WavReader::open(out("track.wav")).unwrap();
        assert_eq!((wav.spec().sample_rate, wav.spec().bits_per_sample, wav.spec().channels), (48_000, 24, 2));
        assert_eq!(wav.len() as usize, 2 * h.state().session.as_ref().unwrap().track.len());
        let csv = std::fs::read_to_string(out("hits.csv")).unwrap();
        assert_eq!(csv.lines().count(), hits + 1);
        let edl = std::fs::read_to_string(out("markers.edl")).unwrap();
        assert_eq!(edl.lines().filter(|l| l.contains("|M:")).count(), hits, "{edl}");
        assert_eq!(std::fs::read_to_string(out("markers.csv")).unwrap().lines().count(), hits + 1);
        let mix = hound::WavReader::open(out("stems").join("mix.wav")).unwrap();
        assert_eq!(mix.len() as usize, 2 * h.state().session.as_ref().unwrap().track.len());
        let stems = std::fs::read_dir(out("stems")).unwrap().count();
        assert!(stems >= 2, "the mix and at least one material: {stems} files");
        let probe = media::probe(out("with_sound.mp4")).unwrap();
        assert!(probe.streams.iter().any(|s| s.kind == media::StreamKind::Audio));
        let project = super::super::project::Project::load(&out("work.foley.json")).unwrap();
        assert_eq!(project.hits.len(), hits);
        assert_eq!(project.video, video);

        // A project edited by hand, with a hit past the video's end, is refused with the reason,
        // and its hits do not reach the next generation.
        let mut edited = project.clone();
        edited.hits[0].time_s = 99.0;
        edited.save(&out("edited.foley.json")).unwrap();

        // Saved, then edited again: closing asks first, and "Keep editing" keeps the edit.
        assert!(!h.state().session.as_ref().unwrap().unsaved());
        h.state_mut().apply(&ctx, Command::AddHitAtPlayhead);
        h.step();
        h.state_mut().apply(&ctx, Command::Close);
        h.step();
        h.step();
        assert!(h.state().player.is_some() && h.query_by_label("Unsaved edits").is_some());
        h.get_by_label("Keep editing").click();
        h.step();
        h.step();
        assert!(h.state().held_for_edits.is_none());
        assert_eq!(h.state().session.as_ref().unwrap().hits.hits().len(), hits + 1);
        // Opening another project asks too; "Discard edits" goes on with it.
        h.state_mut().apply(&ctx, Command::WithFile(Dialog::OpenProject, out("edited.foley.json")));
        h.step();
        h.step();
        assert!(h.state().held_for_edits.is_some());
        h.get_by_label("Discard edits").click();
        settle(&mut h, |app| !app.busy() && app.error.as_deref().is_some_and(|e| e.contains("hit 1")));
        let error = h.state().error.clone().unwrap();
        assert!(error.contains("past the video's end"), "{error}");
        assert!(h.state().session.is_none() && h.state().pending_hits.is_none());
    }
}
