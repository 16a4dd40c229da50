//! The app's state and the commands that change it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};

use super::panels;
use super::player::Player;

const MAX_RECENT: usize = 10;

/// What the user asked for, collected from the panels and applied once per frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show the file dialog.
    PickFile,
    Open(PathBuf),
    Close,
    TogglePlay,
    Seek(f64),
    StepForward,
    StepBack,
    DismissError,
}

/// The app. Persisted fields survive a restart; runtime handles are rebuilt.
#[derive(Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct FoleyApp {
    /// Most recent first.
    pub recent: Vec<PathBuf>,
    #[serde(skip)]
    pub player: Option<Player>,
    #[serde(skip)]
    pub texture: Option<egui::TextureHandle>,
    /// A message for the user, shown until dismissed.
    #[serde(skip)]
    pub error: Option<String>,
    /// The path typed into the open box.
    #[serde(skip)]
    pub path_input: String,
    /// A file being opened in the background.
    #[serde(skip)]
    pub opening: Option<(PathBuf, Receiver<Result<Player, String>>)>,
    #[serde(skip)]
    dialog: Option<Receiver<Option<PathBuf>>>,
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
        match command {
            Command::PickFile => self.pick_file(ctx),
            Command::Open(path) => self.open(ctx, path),
            Command::Close => {
                self.player = None;
                self.texture = None;
            }
            Command::TogglePlay => {
                if let Some(p) = &mut self.player {
                    if p.is_playing() { p.pause() } else { p.play() }
                }
            }
            Command::Seek(t) => {
                if let Some(p) = &mut self.player {
                    p.seek(t);
                }
            }
            Command::StepForward => {
                if let Some(p) = &mut self.player {
                    p.step_forward();
                }
            }
            Command::StepBack => {
                if let Some(p) = &mut self.player {
                    p.step_back();
                }
            }
            Command::DismissError => self.error = None,
        }
    }

    fn pick_file(&mut self, ctx: &egui::Context) {
        if self.dialog.is_some() {
            return;
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("file-dialog".to_owned()).spawn(move || {
            let picked = rfd::FileDialog::new()
                .set_title("Open a video")
                .add_filter("Video", &["mp4", "m4v", "mov", "mkv", "avi", "webm", "mpg", "mpeg", "ts", "mts"])
                .add_filter("All files", &["*"])
                .pick_file();
            let _ = tx.send(picked);
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.dialog = Some(rx),
            Err(e) => self.error = Some(format!("cannot show the file dialog: {e}")),
        }
    }

    fn open(&mut self, ctx: &egui::Context, path: PathBuf) {
        let (tx, rx) = mpsc::sync_channel(1);
        let wake_ctx = ctx.clone();
        let done_ctx = ctx.clone();
        let open_path = path.clone();
        let spawned = std::thread::Builder::new().name("video-open".to_owned()).spawn(move || {
            let result = Player::open(&open_path, move || wake_ctx.request_repaint()).map_err(|e| e.to_string());
            let _ = tx.send(result);
            done_ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.opening = Some((path, rx)),
            Err(e) => self.error = Some(format!("cannot open {}: {e}", path.display())),
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
        if let Some(rx) = &self.dialog
            && let Ok(picked) = rx.try_recv()
        {
            self.dialog = None;
            if let Some(path) = picked {
                self.open(ctx, path);
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
                Err(message) => self.error = Some(message),
            }
        }
        if let Some(player) = &mut self.player {
            if let Err(err) = player.update() {
                self.error = Some(err.to_string());
            }
            if player.take_frame_changed()
                && let Some(frame) = player.current_frame()
            {
                let image = egui::ColorImage::from_rgb([frame.width as usize, frame.height as usize], &frame.rgb);
                match &mut self.texture {
                    Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                    None => self.texture = Some(ctx.load_texture("video-frame", image, egui::TextureOptions::LINEAR)),
                }
            }
            if let Some(wait) = player.time_to_next_frame() {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(wait));
            } else if player.is_playing() {
                ctx.request_repaint_after(std::time::Duration::from_millis(10));
            }
        }
    }
}

impl eframe::App for FoleyApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_background(&ctx);
        let mut commands = Vec::new();
        commands.extend(panels::dropped_files(&ctx));
        commands.extend(panels::shortcuts(&ctx));
        commands.extend(panels::menu_bar_ui(ui, self));
        commands.extend(panels::error_ui(ui, self));
        if self.player.is_some() {
            commands.extend(panels::transport_ui(ui, self));
            panels::video_ui(ui, self);
        } else {
            commands.extend(panels::welcome_ui(ui, self));
        }
        for command in commands {
            self.apply(&ctx, command);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self);
    }
}
