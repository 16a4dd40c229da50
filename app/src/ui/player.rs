//! Video playback: a named decoding thread streams frames over a bounded channel; the UI thread
//! shows each frame when the playback clock reaches its timestamp.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Instant;

use foley_engine::media::{MediaError, VideoFrame, VideoInfo, VideoReader};

/// Frames decoded ahead of the playhead. Small: memory stays bounded and seeks stay quick.
const QUEUE_FRAMES: usize = 6;

/// Frames larger than this are scaled down for display; the preview needs no more.
const MAX_PREVIEW: (u32, u32) = (1280, 720);

enum Request {
    Seek { time_s: f64, generation: u64 },
}

enum Reply {
    Frame { frame: VideoFrame, generation: u64 },
    End { generation: u64 },
    Failed(MediaError),
}

/// A video being played: the decoding thread, the frames it sent ahead, and the clock.
pub struct Player {
    path: PathBuf,
    info: VideoInfo,
    requests: SyncSender<Request>,
    replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
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
    /// Set when the current frame changed since the UI last uploaded it.
    frame_changed: bool,
    /// When the pending seek was asked for.
    seek_started: Option<Instant>,
    /// How long the last seek took to show its frame, ms.
    last_seek_ms: Option<f64>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Player {
    /// Opens `path` and starts decoding from its first frame. `wake` is called whenever a frame
    /// arrives, so the UI can repaint.
    pub fn open(path: &Path, wake: impl Fn() + Send + 'static) -> Result<Self, MediaError> {
        let mut reader = VideoReader::open(path)?;
        let info = reader.info().clone();
        reader.set_output_size(Some(preview_size(&info)))?;
        let (requests, request_rx) = mpsc::sync_channel(4);
        let (reply_tx, replies) = mpsc::sync_channel(QUEUE_FRAMES);
        let thread = std::thread::Builder::new()
            .name("video-decode".to_owned())
            .spawn(move || decode_loop(reader, &request_rx, &reply_tx, &wake))
            .map_err(|e| MediaError::Read { path: path.to_path_buf(), source: e })?;
        let mut player = Self {
            path: path.to_path_buf(),
            info,
            requests,
            replies,
            thread: Some(thread),
            generation: 0,
            current: None,
            next: None,
            at_end: false,
            awaiting_seek: false,
            step_pending: false,
            playing_since: None,
            anchor_time_s: 0.0,
            frame_changed: false,
            seek_started: None,
            last_seek_ms: None,
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
            Some(since) => self.anchor_time_s + since.elapsed().as_secs_f64(),
            None => self.current.as_ref().map_or(self.anchor_time_s, |f| f.time_s),
        }
    }

    pub fn current_frame(&self) -> Option<&VideoFrame> {
        self.current.as_ref()
    }

    /// True once after the frame on screen changed.
    pub fn take_frame_changed(&mut self) -> bool {
        std::mem::take(&mut self.frame_changed)
    }

    pub fn play(&mut self) {
        if self.playing_since.is_none() {
            if self.at_end && self.next.is_none() {
                self.seek(0.0);
            }
            self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
            self.playing_since = Some(Instant::now());
        }
    }

    pub fn pause(&mut self) {
        if self.playing_since.take().is_some() {
            self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
        }
    }

    /// Shows the frame on screen at `time_s`; playback continues from there if it was running.
    pub fn seek(&mut self, time_s: f64) {
        let time_s = time_s.clamp(0.0, self.info.duration_s.max(0.0));
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
        loop {
            if self.next.is_none() {
                match self.replies.try_recv() {
                    Ok(Reply::Frame { frame, generation }) if generation == self.generation => {
                        if self.awaiting_seek {
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

    /// How long the last seek took from the request to its frame being ready to show, ms.
    #[must_use]
    pub fn last_seek_ms(&self) -> Option<f64> {
        self.last_seek_ms
    }

    /// Whether a seek's frame is still on its way.
    #[must_use]
    pub fn seeking(&self) -> bool {
        self.awaiting_seek
    }

    /// Seconds until the next frame is due, while playing.
    pub fn time_to_next_frame(&self) -> Option<f64> {
        let next = self.next.as_ref()?;
        self.is_playing().then(|| (next.time_s - self.position_s()).max(0.0))
    }

    fn show(&mut self, frame: VideoFrame) {
        self.current = Some(frame);
        self.frame_changed = true;
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        // Dropping the channels ends the thread: its next send or receive fails.
        let (dead_tx, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.requests, dead_tx));
        let (_, dead_rx) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.replies, dead_rx));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn preview_size(info: &VideoInfo) -> (u32, u32) {
    let (w, h) = (info.width.max(1), info.height.max(1));
    let scale = (f64::from(MAX_PREVIEW.0) / f64::from(w)).min(f64::from(MAX_PREVIEW.1) / f64::from(h)).min(1.0);
    // Even sizes keep swscale on its fast paths.
    let even = |x: f64| ((x.round() as u32) & !1).max(2);
    (even(f64::from(w) * scale), even(f64::from(h) * scale))
}

fn decode_loop(mut reader: VideoReader, requests: &Receiver<Request>, replies: &SyncSender<Reply>, wake: &dyn Fn()) {
    let mut generation = 0;
    let mut exhausted = true; // nothing to decode until the first seek
    loop {
        // Take every waiting request; only the newest seek matters.
        let mut seek = None;
        loop {
            match requests.try_recv() {
                Ok(Request::Seek { time_s, generation }) => seek = Some((time_s, generation)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if seek.is_none() && exhausted {
            match requests.recv() {
                Ok(Request::Seek { time_s, generation }) => seek = Some((time_s, generation)),
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
        exhausted = !matches!(result, Ok(Some(_)));
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
mod tests {
    use super::*;
    use std::time::Duration;

    fn video_25fps(dir: &Path) -> PathBuf {
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
    fn pump(player: &mut Player, done: impl Fn(&Player) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !done(player) && Instant::now() < deadline {
            player.update().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(done(player), "timed out; on screen: {:?}", player.current_frame());
    }

    fn shown(player: &Player) -> Option<f64> {
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
}
