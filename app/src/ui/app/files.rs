//! File dialogs on their own thread, and what is done with the chosen file: open, save, export.

use std::path::PathBuf;
use std::sync::mpsc;

use foley_engine::media::{self, AudioTrack, WavFormat};
use foley_engine::synthesis::{self, write_placed_hits};
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;

use super::{Dialog, FoleyApp};

impl FoleyApp {
    pub(super) fn show_dialog(&mut self, ctx: &egui::Context, kind: Dialog) {
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

    pub(super) fn dialog_done(&mut self, ctx: &egui::Context, kind: Dialog, path: PathBuf) {
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
    pub(super) fn export(
        &mut self,
        ctx: &egui::Context,
        job: impl FnOnce() -> Result<String, String> + Send + 'static,
    ) {
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
}
