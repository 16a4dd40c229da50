//! The desktop app: open a video, play it, generate its sound, edit the hits, export.
//!
//! State lives in [`app::FoleyApp`]; panels are `*_ui` functions that read it and return
//! [`app::Command`]s; decoding ([`player`]), generation ([`generate`]), file dialogs and exports
//! run on named background threads.

mod app;
mod audio;
mod edits;
mod generate;
mod generate_bar;
mod inspector;
mod panels;
pub(crate) mod player;
mod project;
mod session;
mod study;
mod sync;
mod timeline;

use std::path::PathBuf;

use anyhow::anyhow;

/// Opens the main window, optionally with `video` loaded, and runs until it is closed.
pub fn run(video: Option<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("foley")
            .with_app_id("foley")
            .with_inner_size([1100.0, 760.0])
            .with_min_inner_size([480.0, 360.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native("foley", options, Box::new(move |cc| Ok(Box::new(app::FoleyApp::new(cc, video)))))
        .map_err(|err| anyhow!("cannot open the foley window: {err} (is a display available? `foley probe` and the other subcommands work without one)"))
}

/// Opens the study screen for `participant` on the study in `dir`.
pub fn run_study(dir: &std::path::Path, participant: &str) -> anyhow::Result<()> {
    let run = study::StudyRun::open(dir, participant, true)?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("foley study")
            .with_app_id("foley-study")
            .with_inner_size([960.0, 720.0]),
        ..Default::default()
    };
    eframe::run_native("foley-study", options, Box::new(move |_| Ok(Box::new(study::StudyApp { run }))))
        .map_err(|err| anyhow!("cannot open the study window: {err} (is a display available?)"))
}
