//! Video playback: a named decoding thread streams frames over a bounded channel; the UI thread
//! shows each frame when the playback clock reaches its timestamp.
//!
//! For editing, a second thread compresses every frame into a small in-memory proxy as it goes,
//! and a third answers seeks from that proxy: the right frame is on screen within milliseconds,
//! at proxy resolution, until the full-resolution decoder (which must decode forward from a key
//! frame) delivers it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use foley_engine::media::{
    self, MediaError, ProxyDecoder, ProxyEncoder, ProxyFrames, VideoFrame, VideoInfo, VideoReader, VideoReaderOptions,
};

/// Frames decoded ahead of the playhead. Small: memory stays bounded and seeks stay quick.
const QUEUE_FRAMES: usize = 6;

/// Frames larger than this are scaled down for display; the preview needs no more.
const MAX_PREVIEW: (u32, u32) = (1280, 720);

/// The fastest J/L shuttle speed, in either direction.
pub const MAX_SHUTTLE_RATE: f64 = 8.0;

/// Memory the proxy may take. At about 15 KB a frame this holds 20 minutes at 30 fps; past it,
/// seeks further on wait for the full-resolution decoder.
const PROXY_BUDGET_BYTES: usize = 512 << 20;

/// Called with each frame the proxy thread decodes (at proxy size), e.g. to pick thumbnails.
pub type ProxyFrameSink = Box<dyn FnMut(&VideoInfo, &VideoFrame) + Send>;

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

/// The sound's clock, from [`Player::sound_clock`]: silent at `anchor_s`, or playing from
/// `anchor_s` since the instant `since`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundClock {
    pub anchor_s: f64,
    pub since: Option<Instant>,
}

impl SoundClock {
    /// Where the sound is now, on the video's timeline.
    #[must_use]
    pub fn position_s(&self) -> f64 {
        self.anchor_s + self.since.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }
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

/// The latest seek the proxy reader should answer: a mailbox of one, since only the newest
/// matters while the playhead is dragged.
#[derive(Default)]
struct ScrubMailbox {
    request: Mutex<(Option<(f64, u64)>, bool)>,
    changed: Condvar,
}

impl ScrubMailbox {
    fn post(&self, time_s: f64, generation: u64) {
        self.request.lock().unwrap_or_else(PoisonError::into_inner).0 = Some((time_s, generation));
        self.changed.notify_one();
    }

    fn close(&self) {
        self.request.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        self.changed.notify_one();
    }

    /// Waits for the next request; `None` once closed.
    fn take(&self) -> Option<(f64, u64)> {
        let mut guard = self.request.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if guard.1 {
                return None;
            }
            if let Some(request) = guard.0.take() {
                return Some(request);
            }
            guard = self.changed.wait(guard).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

struct ProxyThreads {
    frames: Arc<Mutex<ProxyFrames>>,
    mailbox: Arc<ScrubMailbox>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
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

    /// The playhead, in seconds on the video's timeline.
    pub fn position_s(&self) -> f64 {
        match self.playing_since {
            Some(since) => {
                let t = self.anchor_time_s + self.rate * since.elapsed().as_secs_f64();
                if self.rate == 1.0 { t } else { t.clamp(0.0, self.info.duration_s.max(0.0)) }
            }
            None => self.current.as_ref().map_or(self.anchor_time_s, |f| f.time_s),
        }
    }

    /// The shuttle speed while shuttling (any rate but normal playback), else `None`.
    #[must_use]
    pub fn shuttle_rate(&self) -> Option<f64> {
        (self.playing_since.is_some() && self.rate != 1.0).then_some(self.rate)
    }

    pub fn current_frame(&self) -> Option<&VideoFrame> {
        self.current.as_ref()
    }

    /// True once after the frame on screen changed.
    pub fn take_frame_changed(&mut self) -> bool {
        std::mem::take(&mut self.frame_changed)
    }

    /// Where the sound must be: it changes whenever the clock is re-anchored (play, pause, seek,
    /// a seek's frame arriving, a shuttle starting or ending, a step, the end), and only then.
    /// Sound plays only at normal speed with the picture there: not while a seek's frame is
    /// awaited, not while shuttling.
    #[must_use]
    pub fn sound_clock(&self) -> SoundClock {
        let since = self.playing_since.filter(|_| self.rate == 1.0 && !self.awaiting_seek);
        let anchor_s = match (since, self.shuttle_rate()) {
            (Some(_), _) | (None, Some(_)) => self.anchor_time_s,
            (None, None) if self.awaiting_seek => self.anchor_time_s,
            (None, None) => self.position_s(),
        };
        SoundClock { anchor_s, since }
    }

    pub fn play(&mut self) {
        if self.shuttle_rate().is_some() {
            self.pause();
        }
        if self.playing_since.is_none() {
            if self.at_end && self.next.is_none() {
                self.seek(0.0);
            }
            // A seek's frame that has not come yet re-anchors the clock when it comes; until
            // then the target, not the stale frame on screen, is the playhead.
            if !self.awaiting_seek {
                self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
            }
            self.playing_since = Some(Instant::now());
        }
    }

    pub fn pause(&mut self) {
        if self.shuttle_rate().is_some() {
            let t = self.position_s();
            self.playing_since = None;
            self.rate = 1.0;
            self.shuttle_in_flight = false;
            // The frame on screen may be the proxy's: fetch the full-resolution one.
            self.seek(t);
        } else if self.playing_since.take().is_some() {
            self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
        }
    }

    /// What J (`forward` false) and L do, as in editing tools: from a standstill, play at normal
    /// speed that way; pressed again, double the speed (up to [`MAX_SHUTTLE_RATE`]); pressed
    /// against the direction of play, halve it, and past normal speed, turn round.
    pub fn shuttle_press(&mut self, forward: bool) {
        let current = if self.is_playing() { self.rate } else { 0.0 };
        let sign = if forward { 1.0 } else { -1.0 };
        let rate = if current == 0.0 {
            sign
        } else if current.signum() == sign {
            (current * 2.0).clamp(-MAX_SHUTTLE_RATE, MAX_SHUTTLE_RATE)
        } else if current.abs() > 1.0 {
            current / 2.0
        } else {
            sign
        };
        self.shuttle(rate);
    }

    /// Plays at `rate` times normal speed, backwards for a negative rate. A rate of 1 is normal
    /// playback; any other shows, at each moment, the frame due then (from the scrub proxy where
    /// it reaches), without sound.
    pub fn shuttle(&mut self, rate: f64) {
        if !rate.is_finite() || rate == 0.0 {
            self.pause();
            return;
        }
        if rate == 1.0 {
            self.play();
            return;
        }
        let t = self.position_s();
        if self.shuttle_rate().is_none() {
            // Streaming ends; frames already decoded for it are stale.
            let _ = self.requests.try_send(Request::Hold);
            self.generation += 1;
            self.next = None;
            self.awaiting_seek = false;
            self.step_pending = false;
        }
        self.rate = rate.clamp(-MAX_SHUTTLE_RATE, MAX_SHUTTLE_RATE);
        self.anchor_time_s = t;
        self.playing_since = Some(Instant::now());
        self.shuttle_in_flight = false;
        self.at_end = false;
    }

    /// Shows the frame on screen at `time_s`; playback continues from there if it was running.
    pub fn seek(&mut self, time_s: f64) {
        let time_s = time_s.clamp(0.0, self.info.duration_s.max(0.0));
        if self.shuttle_rate().is_some() {
            // The shuttle goes on from there and fetches the frame itself.
            self.anchor_time_s = time_s;
            self.playing_since = Some(Instant::now());
            self.shuttle_in_flight = false;
            return;
        }
        self.generation += 1;
        self.next = None;
        self.at_end = false;
        self.awaiting_seek = true;
        self.seek_started = Some(Instant::now());
        self.step_pending = false;
        self.anchor_time_s = time_s;
        if self.playing_since.is_some() {
            self.playing_since = Some(Instant::now());
        }
        // The queue holds at most a few requests; a full one means seeks are already pending
        // and the newest generation still wins when it gets through.
        let _ = self.requests.try_send(Request::Seek { time_s, generation: self.generation });
        if let Some(proxy) = &self.proxy {
            proxy.mailbox.post(time_s, self.generation);
        }
    }

    /// Shows the next frame (pauses first).
    pub fn step_forward(&mut self) {
        self.pause();
        match self.next.take() {
            Some(next) => self.show(next),
            None => self.step_pending = !self.at_end,
        }
    }

    /// Shows the previous frame (pauses first).
    pub fn step_back(&mut self) {
        self.pause();
        if let Some(current) = &self.current {
            // Just before the current frame's timestamp, the previous frame is on screen.
            let target = current.time_s - 1e-3;
            if target >= 0.0 {
                self.seek(target);
            }
        }
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

    /// Shows what came for the shuttle and asks for the frame due at the clock.
    fn update_shuttle(&mut self) -> Result<(), MediaError> {
        loop {
            match self.replies.try_recv() {
                Ok(Reply::Preview { frame, generation } | Reply::Frame { frame, generation })
                    if generation == self.generation && self.shuttle_in_flight =>
                {
                    self.show(frame);
                    self.shuttle_in_flight = false;
                    // A full-resolution seek streams on after its frame; the shuttle needs no more.
                    let _ = self.requests.try_send(Request::Hold);
                }
                Ok(Reply::End { generation }) if generation == self.generation => self.shuttle_in_flight = false,
                Ok(Reply::Failed(err)) => {
                    self.pause();
                    return Err(err);
                }
                Ok(_) => {} // stale, or more than the shuttle asked for
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let t = self.position_s();
        if !self.shuttle_in_flight {
            let due = self.proxy.as_ref().map(|proxy| {
                proxy.frames.lock().unwrap_or_else(PoisonError::into_inner).frame_at(t).map(|(time, _)| time)
            });
            let shown = self.current.as_ref().map(|f| f.time_s);
            match due {
                Some(Some(time)) if Some(time) == shown => {}
                Some(Some(_)) => {
                    self.generation += 1;
                    self.shuttle_in_flight = true;
                    if let Some(proxy) = &self.proxy {
                        proxy.mailbox.post(t, self.generation);
                    }
                }
                // Where the proxy does not reach, the full-resolution decoder seeks.
                _ => {
                    self.generation += 1;
                    self.shuttle_in_flight =
                        self.requests.try_send(Request::Seek { time_s: t, generation: self.generation }).is_ok();
                }
            }
        }
        let duration = self.info.duration_s.max(0.0);
        if !self.shuttle_in_flight && ((self.rate < 0.0 && t <= 0.0) || (self.rate > 0.0 && t >= duration)) {
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

    /// Seconds until the next frame is due, while playing.
    pub fn time_to_next_frame(&self) -> Option<f64> {
        if let Some(rate) = self.shuttle_rate() {
            return Some((1.0 / (self.info.fps.max(1.0) * rate.abs())).max(0.005));
        }
        let next = self.next.as_ref()?;
        self.is_playing().then(|| (next.time_s - self.position_s()).max(0.0))
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

fn start_proxy(
    path: &Path,
    info: &VideoInfo,
    sink: ProxyFrameSink,
    replies: SyncSender<Reply>,
    wake: Arc<dyn Fn() + Send + Sync>,
) -> std::io::Result<ProxyThreads> {
    let size = media::proxy_size(info.width, info.height);
    let frames = Arc::new(Mutex::new(ProxyFrames::new(size)));
    let mailbox = Arc::new(ScrubMailbox::default());
    let stop = Arc::new(AtomicBool::new(false));
    let build = {
        let (path, info, frames, stop) = (path.to_path_buf(), info.clone(), Arc::clone(&frames), Arc::clone(&stop));
        std::thread::Builder::new().name("video-proxy".to_owned()).spawn(move || {
            if let Err(err) = build_proxy(&path, &info, &frames, &stop, sink) {
                // Seeks still work, from the full-resolution decoder alone.
                log::warn!("no scrub proxy: {err}");
            }
        })?
    };
    let serve = {
        let (frames, mailbox) = (Arc::clone(&frames), Arc::clone(&mailbox));
        std::thread::Builder::new()
            .name("video-scrub".to_owned())
            .spawn(move || serve_proxy(&frames, &mailbox, &replies, &*wake))?
    };
    Ok(ProxyThreads { frames, mailbox, stop, threads: vec![build, serve] })
}

/// Decodes the whole video once at proxy size and compresses each frame into `frames`.
fn build_proxy(
    path: &Path,
    info: &VideoInfo,
    frames: &Mutex<ProxyFrames>,
    stop: &AtomicBool,
    mut sink: ProxyFrameSink,
) -> Result<(), MediaError> {
    lower_thread_priority();
    let size = frames.lock().unwrap_or_else(PoisonError::into_inner).size();
    // One thread: the proxy must not slow playback or generation down.
    let mut reader =
        VideoReader::open_with(path, VideoReaderOptions { size: Some(size), threads: 1, ..Default::default() })?;
    // Without a proxy the sink still gets every frame (the thumbnails do not depend on it).
    let mut encoder = ProxyEncoder::new(path, size).inspect_err(|e| log::warn!("no scrub proxy: {e}")).ok();
    while let Some(frame) = reader.next_frame()? {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        sink(info, &frame);
        if let Some(proxy) = &mut encoder {
            let added = proxy.encode(&frame).and_then(|jpeg| {
                let mut frames = frames.lock().unwrap_or_else(PoisonError::into_inner);
                let fits = frames.byte_len() + jpeg.len() <= PROXY_BUDGET_BYTES;
                if fits { frames.push(frame.time_s, &jpeg).map(|()| true) } else { Ok(false) }
            });
            match added {
                Ok(true) => {}
                // Past the budget, later seeks wait for the full-resolution decoder.
                Ok(false) => encoder = None,
                Err(e) => {
                    log::warn!("scrub proxy stopped at {:.3} s: {e}", frame.time_s);
                    encoder = None;
                }
            }
        }
    }
    if encoder.is_some() {
        frames.lock().unwrap_or_else(PoisonError::into_inner).finish();
    }
    Ok(())
}

/// Answers each newest seek with the proxy's frame, when the proxy reaches that far.
fn serve_proxy(frames: &Mutex<ProxyFrames>, mailbox: &ScrubMailbox, replies: &SyncSender<Reply>, wake: &dyn Fn()) {
    let mut decoder = match ProxyDecoder::new() {
        Ok(decoder) => decoder,
        Err(err) => {
            log::warn!("no scrub proxy: {err}");
            return;
        }
    };
    while let Some((time_s, generation)) = mailbox.take() {
        // Copy the bytes out so the builder is not held up while this frame decodes.
        let found = frames
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .frame_at(time_s)
            .map(|(time, jpeg)| (time, jpeg.to_vec()));
        let Some((time, jpeg)) = found else { continue };
        match decoder.decode(time, &jpeg) {
            Ok(frame) => {
                if replies.send(Reply::Preview { frame, generation }).is_err() {
                    return;
                }
                wake();
            }
            Err(err) => log::warn!("scrub proxy frame at {time:.3} s: {err}"),
        }
    }
}

/// Asks the scheduler to run the calling thread after the others (Linux `nice` 10).
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority only read their integer arguments; a failure leaves
        // the priority as it was, which is harmless.
        let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) };
        if done != 0 {
            log::debug!("could not lower the proxy thread's priority");
        }
    }
}

fn decode_loop(mut reader: VideoReader, requests: &Receiver<Request>, replies: &SyncSender<Reply>, wake: &dyn Fn()) {
    let mut generation = 0;
    let mut idle = true; // nothing to decode until the first seek
    loop {
        // Take every waiting request; only the newest one matters.
        let mut seek = None;
        loop {
            match requests.try_recv() {
                Ok(Request::Seek { time_s, generation }) => seek = Some((time_s, generation)),
                Ok(Request::Hold) => {
                    seek = None;
                    idle = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if seek.is_none() && idle {
            match requests.recv() {
                Ok(Request::Seek { time_s, generation }) => seek = Some((time_s, generation)),
                Ok(Request::Hold) => continue,
                Err(_) => return,
            }
        }
        let result = match seek {
            Some((time_s, g)) => {
                generation = g;
                reader.seek(time_s)
            }
            None => reader.next_frame(),
        };
        idle = !matches!(result, Ok(Some(_)));
        let reply = match result {
            Ok(Some(frame)) => Reply::Frame { frame, generation },
            Ok(None) => Reply::End { generation },
            Err(err) => Reply::Failed(err),
        };
        if replies.send(reply).is_err() {
            return;
        }
        wake();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    pub(crate) fn video_25fps(dir: &Path) -> PathBuf {
        let path = dir.join("v.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:d=2"])
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
            .arg(&path)
            .status()
            .expect("ffmpeg (scripts/setup.sh installs it)");
        assert!(status.success());
        path
    }

    /// Calls `update` until `done` holds, for at most two seconds.
    pub(crate) fn pump(player: &mut Player, done: impl Fn(&Player) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !done(player) && Instant::now() < deadline {
            player.update().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(done(player), "timed out; on screen: {:?}", player.current_frame());
    }

    pub(crate) fn shown(player: &Player) -> Option<f64> {
        player.current_frame().map(|f| f.time_s)
    }

    #[test]
    fn plays_at_the_timestamps_and_seeks_and_steps() {
        let dir = tempfile::tempdir().unwrap();
        let mut player = Player::open(&video_25fps(dir.path()), || {}).unwrap();
        pump(&mut player, |p| shown(p) == Some(0.0));

        let started = Instant::now();
        player.play();
        pump(&mut player, |p| shown(p).is_some_and(|t| t >= 0.4));
        // The frame at 0.4 s came when the clock reached 0.4 s, not before.
        let elapsed = started.elapsed().as_secs_f64();
        // Not before: the upper bound only guards against a stalled clock on a busy machine.
        assert!((0.38..3.0).contains(&elapsed), "0.4 s of video shown after {elapsed} s");
        player.pause();

        player.seek(1.0);
        // A step asked for before the seek's frames arrive is not lost.
        player.step_forward();
        pump(&mut player, |p| shown(p) == Some(1.04));
        player.step_back();
        pump(&mut player, |p| shown(p) == Some(1.0));
        player.step_forward();
        pump(&mut player, |p| shown(p) == Some(1.04));
        player.step_back();
        pump(&mut player, |p| shown(p) == Some(1.0));
        player.step_back();
        pump(&mut player, |p| shown(p) == Some(0.96));

        // Playing past the end stops on the last frame.
        player.seek(1.9);
        player.play();
        pump(&mut player, |p| !p.is_playing());
        assert_eq!(shown(&player), Some(1.96));
    }

    #[test]
    fn seeks_show_the_proxy_frame_first_and_shuttles_run_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        let frames_seen = Arc::new(Mutex::new(0_usize));
        let counter = Arc::clone(&frames_seen);
        let sink: ProxyFrameSink = Box::new(move |_, _| *counter.lock().unwrap() += 1);
        let mut player = Player::open_with_proxy(&video_25fps(dir.path()), || {}, sink).unwrap();
        pump(&mut player, |p| p.proxy_progress() == Some((50, true)));
        assert_eq!(*frames_seen.lock().unwrap(), 50, "the sink sees every frame");

        player.seek(1.0);
        pump(&mut player, |p| !p.seeking());
        assert_eq!(shown(&player), Some(1.0));
        assert!(player.last_seek_first_ms().unwrap() <= player.last_seek_ms().unwrap());

        // J from a standstill plays backwards; again, twice as fast.
        player.shuttle_press(false);
        assert_eq!(player.shuttle_rate(), Some(-1.0));
        player.shuttle_press(false);
        assert_eq!(player.shuttle_rate(), Some(-2.0));
        let mut times = Vec::new();
        pump(&mut player, |p| {
            let t = shown(p).unwrap();
            t <= 0.6
        });
        while let Some(t) = shown(&player) {
            times.push(t);
            if t <= 0.2 {
                break;
            }
            player.update().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(times.windows(2).all(|w| w[1] <= w[0]), "backwards shuttle went forwards: {times:?}");
        // It stops at the first frame, in full.
        pump(&mut player, |p| !p.is_playing() && !p.seeking());
        assert_eq!(shown(&player), Some(0.0));
        assert_eq!(player.shuttle_rate(), None);

        // L against a backwards shuttle halves it, then turns round to normal playback.
        player.shuttle(-4.0);
        player.shuttle_press(true);
        assert_eq!(player.shuttle_rate(), Some(-2.0));
        player.shuttle_press(true);
        player.shuttle_press(true);
        assert!(player.is_playing() && player.shuttle_rate().is_none(), "L at -1x plays forwards");
        // Faster forwards: 4x reaches the end of 2 s within a second and stops on the last frame.
        player.shuttle(4.0);
        pump(&mut player, |p| !p.is_playing() && !p.seeking());
        assert_eq!(shown(&player), Some(1.96));
    }
}
