//! Generating a video's sound in the background: the whole pipeline (CNN, LSTM, retrieval) on a
//! named thread, progress over a bounded channel, cancel at any frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use foley_engine::predict::{self, ModelBundle};
use foley_engine::retrieval::{ClipDatabase, MANIFEST_FILE};
use foley_engine::synthesis::{Method, SynthOptions, Synthesis, synthesize_video};
use foley_engine::vision::{self, Backend};

/// A finished generation.
#[derive(Debug)]
pub struct Generated {
    pub synthesis: Synthesis,
    /// The predicted cochleagram as an image, made here rather than on the UI thread.
    pub cochleagram_image: egui::ColorImage,
    pub db: Option<Arc<ClipDatabase>>,
    pub method: Method,
}

enum Message {
    Device(String),
    Progress {
        done: u64,
        total: u64,
    },
    /// Boxed: the finished generation is large and sent once; progress is small and often.
    Finished(Box<Result<Generated, String>>),
}

/// A running generation.
#[derive(Debug)]
pub struct GenerateJob {
    rx: Receiver<Message>,
    cancel: Arc<AtomicBool>,
    pub done: u64,
    pub total: u64,
    /// The encoder's device, once it is open (e.g. the wgpu adapter's name).
    pub device: Option<String>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

impl GenerateJob {
    /// Starts generating the sound of `video`. `wake` is called whenever there is news.
    pub fn start(
        video: PathBuf,
        model_dir: Option<PathBuf>,
        backend: Backend,
        options: SynthOptions,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        // Progress messages may be dropped when the window is behind; the last one always arrives.
        let (tx, rx) = sync_channel(16);
        let cancel = Arc::new(AtomicBool::new(false));
        let job_cancel = Arc::clone(&cancel);
        std::thread::Builder::new()
            .name("foley-generate".to_owned())
            .spawn(move || {
                let result = run(&video, model_dir, backend, &options, &job_cancel, &tx, &wake);
                let _ = tx.send(Message::Finished(Box::new(result)));
                wake();
            })
            .map_err(|e| format!("cannot start generating: {e}"))?;
        Ok(Self { rx, cancel, done: 0, total: 0, device: None })
    }

    /// Asks the job to stop; it finishes with an error saying it was cancelled.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Takes the news; returns the result once the job has finished.
    pub fn poll(&mut self) -> Option<Result<Generated, String>> {
        while let Ok(message) = self.rx.try_recv() {
            match message {
                Message::Device(d) => self.device = Some(d),
                Message::Progress { done, total } => {
                    self.done = done;
                    self.total = total;
                }
                Message::Finished(result) => return Some(*result),
            }
        }
        None
    }
}

fn run(
    video: &std::path::Path,
    model_dir: Option<PathBuf>,
    backend: Backend,
    options: &SynthOptions,
    cancel: &AtomicBool,
    tx: &SyncSender<Message>,
    wake: &dyn Fn(),
) -> Result<Generated, String> {
    let dir = model_dir.unwrap_or_else(predict::default_model_dir);
    let bundle = ModelBundle::load(&dir).map_err(|e| format!("cannot load the model: {e}"))?;
    let db = if dir.join(MANIFEST_FILE).is_file() {
        Some(Arc::new(ClipDatabase::load(&dir).map_err(|e| format!("cannot load the clip database: {e}"))?))
    } else {
        None
    };
    let method = options.method;
    if method == Method::Retrieval && db.is_none() {
        return Err(format!("the model in {} has no clip database; choose the parametric method", dir.display()));
    }
    let spec = bundle.encoder_spec().map_err(|e| e.to_string())?;
    let mut encoder = vision::open_encoder(backend, spec).map_err(|e| e.to_string())?;
    let _ = tx.send(Message::Device(encoder.device()));
    let synthesis =
        synthesize_video(video, &bundle, db.as_deref(), encoder.as_mut(), options, cancel, &mut |p| match tx
            .try_send(Message::Progress { done: p.frames_done, total: p.frames_total })
        {
            Ok(()) => wake(),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        })
        // A real failure is reported as itself even when a cancel was asked for meanwhile.
        .map_err(|e| if e.is_cancelled() { "generation cancelled".to_owned() } else { e.to_string() })?;
    let cochleagram_image = super::session::cochleagram_image(&synthesis.placement.cochleagram);
    Ok(Generated { synthesis, cochleagram_image, db, method })
}
