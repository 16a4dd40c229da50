//! Background work: opening a video, generating its sound, and collecting what they send back.

use std::path::PathBuf;
use std::sync::mpsc;

use foley_engine::media;
use foley_engine::synthesis::SynthOptions;
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;

use crate::ui::generate::GenerateJob;
use crate::ui::player::{Player, ProxyFrameSink};
use crate::ui::session::Session;

use super::{Command, FoleyApp, Listen};

impl FoleyApp {
    pub(super) fn open(&mut self, ctx: &egui::Context, path: PathBuf) {
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

    pub(super) fn start_generation(&mut self, ctx: &egui::Context) {
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
        let mut options = SynthOptions { method: self.method, ..SynthOptions::default() };
        options.contact_params.threshold = self.hit_threshold.0;
        match GenerateJob::start(video, self.model_dir.clone(), self.backend, options, move || {
            wake.request_repaint();
        }) {
            Ok(job) => self.generate = Some(job),
            Err(e) => self.error = Some(e),
        }
    }

    pub(super) fn poll_background(&mut self, ctx: &egui::Context) {
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
