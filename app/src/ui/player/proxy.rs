//! The scrub proxy: one thread compresses every frame into a small in-memory copy as the video
//! is read, another answers the newest seek from it within milliseconds.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use foley_engine::media::{
    self, MediaError, ProxyDecoder, ProxyEncoder, ProxyFrames, VideoFrame, VideoInfo, VideoReader, VideoReaderOptions,
};

use super::{Reply, decode::lower_thread_priority};

/// Memory the proxy may take. At about 15 KB a frame this holds 20 minutes at 30 fps; past it,
/// seeks further on wait for the full-resolution decoder.
const PROXY_BUDGET_BYTES: usize = 512 << 20;

/// Called with each frame the proxy thread decodes (at proxy size), e.g. to pick thumbnails.
pub type ProxyFrameSink = Box<dyn FnMut(&VideoInfo, &VideoFrame) + Send>;

/// The latest seek the proxy reader should answer: a mailbox of one, since only the newest
/// matters while the playhead is dragged.
#[derive(Default)]
pub(super) struct ScrubMailbox {
    request: Mutex<(Option<(f64, u64)>, bool)>,
    changed: Condvar,
}

impl ScrubMailbox {
    pub(super) fn post(&self, time_s: f64, generation: u64) {
        self.request.lock().unwrap_or_else(PoisonError::into_inner).0 = Some((time_s, generation));
        self.changed.notify_one();
    }

    pub(super) fn close(&self) {
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

pub(super) struct ProxyThreads {
    pub(super) frames: Arc<Mutex<ProxyFrames>>,
    pub(super) mailbox: Arc<ScrubMailbox>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) threads: Vec<JoinHandle<()>>,
}

pub(super) fn start_proxy(
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
