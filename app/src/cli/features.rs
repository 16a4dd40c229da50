//! `foley features`: the CNN features of every frame of a video.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::vision::{self, Backend, EncoderSpec};

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// The video.
    pub video: PathBuf,
    /// Output `.npy` (float32, [frames, 2 x feature size]: the space-time image's features, then
    /// the first colour frame's); `OUT.json` beside it holds the timestamps and the encoder.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Where the CNN runs: `ort` (ONNX Runtime, CPU) or `wgpu` (compute shaders on a GPU).
    #[arg(long, value_enum, default_value_t = BackendArg::Ort)]
    pub backend: BackendArg,
    /// An encoder manifest (JSON naming an ONNX file); default: the set-up's EfficientNet-Lite0.
    #[arg(long, value_name = "MANIFEST")]
    pub model: Option<PathBuf>,
}

/// `--backend` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Ort,
    Wgpu,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Ort => Backend::Ort,
            BackendArg::Wgpu => Backend::Wgpu,
        }
    }
}

/// The encoder manifest at `path`, or the default one.
pub fn load_spec(path: Option<&PathBuf>) -> anyhow::Result<EncoderSpec> {
    Ok(match path {
        Some(p) => EncoderSpec::load(p)?,
        None => EncoderSpec::default_encoder()?,
    })
}

pub fn run(args: &FeaturesArgs) -> anyhow::Result<()> {
    let spec = load_spec(args.model.as_ref())?;
    let mut encoder = vision::open_encoder(args.backend.into(), spec)?;
    eprintln!("encoder: {} on {}", encoder.spec().identity.name, encoder.device());
    let bar = super::progress::bar(0, "encoding");
    let cancel = super::interrupt::flag();
    let start = std::time::Instant::now();
    let summary = vision::write_features(&args.video, &args.output, encoder.as_mut(), cancel, &mut |p| {
        bar.set_length(p.frames_total);
        bar.set_position(p.frames_done);
    });
    bar.finish_and_clear();
    let summary = summary.with_context(|| format!("cannot compute the features of {}", args.video.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} ({} frames x {} values, {:.0} frames/s) and {}",
        args.output.display(),
        summary.frames,
        2 * summary.feature_size,
        summary.frames as f64 / seconds.max(1e-9),
        foley_engine::media::sidecar_path(&args.output).display()
    );
    Ok(())
}
