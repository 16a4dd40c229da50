//! Video playback: a named decoding thread streams frames over a bounded channel; the UI thread
//! shows each frame when the playback clock reaches its timestamp.
//!
//! For editing, a second thread compresses every frame into a small in-memory proxy as it goes,
//! and a third answers seeks from that proxy: the right frame is on screen within milliseconds,
//! at proxy resolution, until the full-resolution decoder (which must decode forward from a key
//! frame) delivers it.

mod clock;
mod decode;
mod proxy;
#[cfg(test)]
pub(crate) mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use foley_engine::media::{self, MediaError, VideoFrame, VideoInfo, VideoReader};

pub use clock::SoundClock;
use decode::decode_loop;
pub use proxy::ProxyFrameSink;
use proxy::{ProxyThreads, start_proxy};

/// Frames decoded ahead of the playhead. Small: memory stays bounded and seeks stay quick.
const QUEUE_FRAMES: usize = 6;

/// Frames larger than this are scaled down for display; the preview needs no more.
const MAX_PREVIEW: (u32, u32) = (1280, 720);

/// The fastest J/L shuttle speed, in either direction.
pub const MAX_SHUTTLE_RATE: f64 = 8.0;

enum Request {
    Seek {
        time_s: f64,
        generation: u64,
    },
    /// Stop decoding ahead until the next seek.
    Hold,
}

enum Reply {
    Frame {
        frame: VideoFrame,
        generation: u64,
    },
    /// The seek's frame from the proxy: on screen until the full-resolution one arrives.
    Preview {
        frame: VideoFrame,
        generation: u64,
    },
    End {
        generation: u64,
    },
    Failed(MediaError),
}

/// A video being played: the decoding thread, the frames it sent ahead, and the clock.
pub struct Player {
    path: PathBuf,
    info: VideoInfo,
    requests: SyncSender<Request>,
    replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
    /// The proxy and the threads that make and read it; `None` for plain playback.
    proxy: Option<ProxyThreads>,
    /// Frames with a different generation were decoded before the latest seek and are stale.
    generation: u64,
    /// The frame on screen.
    current: Option<VideoFrame>,
    /// The next frame, waiting for the clock.
    next: Option<VideoFrame>,
    at_end: bool,
    /// The next frame of the current generation is a seek's result and goes on screen at once.
    awaiting_seek: bool,
    /// A step forward was asked for before the next frame had arrived.
    step_pending: bool,
    /// `Some` while playing: the wall-clock instant that corresponds to `anchor_time_s`.
    playing_since: Option<Instant>,
    anchor_time_s: f64,
    /// Video seconds per second while playing: 1 is normal playback; any other rate (faster,
    /// or negative for backwards) is a shuttle, which shows the frame due at the clock instead
    /// of streaming every frame.
    rate: f64,
    /// While shuttling: a frame has been asked for and has not come yet.
    shuttle_in_flight: bool,
    /// Set when the current frame changed since the UI last uploaded it.
    frame_changed: bool,
    /// When the pending seek was asked for.
    seek_started: Option<Instant>,
    /// How long the last seek took to show its frame at full resolution, ms.
    last_seek_ms: Option<f64>,
    /// How long the last seek took to show its frame at all (from the proxy, or in full), ms.
    last_seek_first_ms: Option<f64>,
    /// The frame on screen is the proxy's, awaiting its full-resolution version.
    showing_preview: bool,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Player {
    /// Opens `path` and starts decoding from its first frame. `wake` is called whenever a frame
    /// arrives, so the UI can repaint.
    pub fn open(path: &Path, wake: impl Fn() + Send + Sync + 'static) -> Result<Self, MediaError> {
        Self::start(path, Arc::new(wake), None)
    }

    /// Opens `path` for editing: as [`open`](Self::open), and also builds the scrub proxy in the
    /// background, passing each of its frames to `sink`.
    pub fn open_with_proxy(
        path: &Path,
        wake: impl Fn() + Send + Sync + 'static,
        sink: ProxyFrameSink,
    ) -> Result<Self, MediaError> {
        Self::start(path, Arc::new(wake), Some(sink))
    }

    fn start(path: &Path, wake: Arc<dyn Fn() + Send + Sync>, sink: Option<ProxyFrameSink>) -> Result<Self, MediaError> {
        let mut reader = VideoReader::open(path)?;
        let info = reader.info().clone();
        reader.set_output_size(Some(media::fit_within(info.width, info.height, MAX_PREVIEW)))?;
        let (requests, request_rx) = mpsc::sync_channel(4);
        let (reply_tx, replies) = mpsc::sync_channel(QUEUE_FRAMES);
        let spawn_failed = |e| MediaError::Read { path: path.to_path_buf(), source: e };
        let proxy = match sink {
            Some(sink) => {
                Some(start_proxy(path, &info, sink, reply_tx.clone(), Arc::clone(&wake)).map_err(spawn_failed)?)
            }
            None => None,
        };
        let thread = std::thread::Builder::new()
            .name("video-decode".to_owned())
            .spawn(move || decode_loop(reader, &request_rx, &reply_tx, &*wake))
            .map_err(spawn_failed)?;
        let mut player = Self {
            path: path.to_path_buf(),
            info,
            requests,
            replies,
            thread: Some(thread),
            proxy,
            generation: 0,
            current: None,
            next: None,
            at_end: false,
            awaiting_seek: false,
            step_pending: false,
            playing_since: None,
            anchor_time_s: 0.0,
            rate: 1.0,
            shuttle_in_flight: false,
            frame_changed: false,
            seek_started: None,
            last_seek_ms: None,
            last_seek_first_ms: None,
            showing_preview: false,
        };
        player.seek(0.0);
        Ok(player)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    pub fn is_playing(&self) -> bool {
        self.playing_since.is_some()
    }

    pub fn current_frame(&self) -> Option<&VideoFrame> {
        self.current.as_ref()
    }

    /// True once after the frame on screen changed.
    pub fn take_frame_changed(&mut self) -> bool {
        std::mem::take(&mut self.frame_changed)
    }

    /// Takes what the decoding thread sent and advances the clock. Returns an error once if
    /// decoding failed. Call once per UI frame.
    pub fn update(&mut self) -> Result<(), MediaError> {
        if self.shuttle_rate().is_some() {
            return self.update_shuttle();
        }
        loop {
            if self.next.is_none() {
                match self.replies.try_recv() {
                    Ok(Reply::Preview { frame, generation }) if generation == self.generation => {
                        // Too late if the full-resolution frame is already there.
                        if self.awaiting_seek && !self.showing_preview {
                            self.show(frame);
                            self.showing_preview = true;
                            self.last_seek_first_ms = self.seek_started.map(|t| t.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                    Ok(Reply::Frame { frame, generation }) if generation == self.generation => {
                        if self.awaiting_seek {
                            if !std::mem::take(&mut self.showing_preview) {
                                self.last_seek_first_ms = self.seek_started.map(|t| t.elapsed().as_secs_f64() * 1000.0);
                            }
                            self.show(frame);
                            self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
                            if self.playing_since.is_some() {
                                self.playing_since = Some(Instant::now());
                            }
                            self.awaiting_seek = false;
                            self.last_seek_ms = self.seek_started.take().map(|t| t.elapsed().as_secs_f64() * 1000.0);
                        } else if std::mem::take(&mut self.step_pending) {
                            self.show(frame);
                        } else {
                            self.next = Some(frame);
                        }
                    }
                    Ok(Reply::End { generation }) if generation == self.generation => {
                        self.at_end = true;
                        self.awaiting_seek = false;
                        self.showing_preview = false;
                    }
                    Ok(Reply::Failed(err)) => {
                        self.pause();
                        return Err(err);
                    }
                    Ok(_) => {} // stale: decoded before the latest seek
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let Some(next) = &self.next else { continue };
            if self.is_playing() && next.time_s <= self.position_s() {
                let next = self.next.take();
                if let Some(next) = next {
                    self.show(next);
                }
            } else {
                break;
            }
        }
        if self.is_playing() && self.at_end && self.next.is_none() {
            self.pause();
        }
        Ok(())
    }

    /// Puts the frame on screen into `texture` (creating it) when it changed since the last call.
    pub fn upload_frame(&mut self, ctx: &egui::Context, texture: &mut Option<egui::TextureHandle>, name: &str) {
        if self.take_frame_changed()
            && let Some(frame) = self.current_frame()
        {
            let image = egui::ColorImage::from_rgb([frame.width as usize, frame.height as usize], &frame.rgb);
            match texture {
                Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                None => *texture = Some(ctx.load_texture(name, image, egui::TextureOptions::LINEAR)),
            }
        }
    }

    /// How long the last seek took from the request to its full-resolution frame being ready
    /// to show, ms.
    #[must_use]
    pub fn last_seek_ms(&self) -> Option<f64> {
        self.last_seek_ms
    }

    /// How long the last seek took from the request to its frame being ready to show at any
    /// resolution, ms.
    #[must_use]
    pub fn last_seek_first_ms(&self) -> Option<f64> {
        self.last_seek_first_ms
    }

    /// Frames in the scrub proxy so far, and whether it holds the whole video (`None` without
    /// one).
    #[must_use]
    pub fn proxy_progress(&self) -> Option<(usize, bool)> {
        let proxy = self.proxy.as_ref()?;
        let frames = proxy.frames.lock().unwrap_or_else(PoisonError::into_inner);
        Some((frames.len(), frames.is_complete()))
    }

    /// Whether a seek's frame is still on its way.
    #[must_use]
    pub fn seeking(&self) -> bool {
        self.awaiting_seek
    }

    fn show(&mut self, frame: VideoFrame) {
        self.current = Some(frame);
        self.frame_changed = true;
        self.showing_preview = false;
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        // Dropping the channels ends the thread: its next send or receive fails.
        let (dead_tx, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.requests, dead_tx));
        let (_, dead_rx) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.replies, dead_rx));
        let mut threads: Vec<JoinHandle<()>> = self.thread.take().into_iter().collect();
        if let Some(proxy) = self.proxy.take() {
            proxy.stop.store(true, Ordering::Relaxed);
            proxy.mailbox.close();
            threads.extend(proxy.threads);
        }
        // Joined on a thread of their own: a frame being decoded may take a while to finish, and
        // closing a video must not freeze the window meanwhile. Should that thread not start, the
        // handles are dropped and the threads end unjoined all the same.
        if !threads.is_empty() {
            let _ = std::thread::Builder::new().name("player-close".to_owned()).spawn(move || {
                for thread in threads {
                    let _ = thread.join();
                }
            });
        }
    }
}
