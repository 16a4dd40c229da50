//! `foley predict`: the predicted cochleagram of a silent video.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::predict::{self, ModelBundle};
use foley_engine::sound::{self, CochleagramParams};
use foley_engine::synthesis::SynthOptions;
use foley_engine::vision;

use super::features::BackendArg;

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// The video.
    pub video: PathBuf,
    /// Output `.npy` (float32, [steps, 42] at 90 Hz from the first frame), with `OUT.json` beside
    /// it as `foley cochleagram` writes, so real and predicted compare directly.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A model folder (from `foley train`); default: the model shipped in `assets/models/default`.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Also write the predicted hits, as `foley hits` writes a sound's (`time_s,strength`; the
    /// strength is the detector's confidence): where `foley synth` would place clips.
    #[arg(long, value_name = "HITS.csv")]
    pub hits: Option<PathBuf>,
    /// Where the CNN runs.
    #[arg(long, value_enum, default_value_t = BackendArg::Ort)]
    pub backend: BackendArg,
    /// The contact probability a peak needs to be a hit, between 0 and 1: higher gives fewer
    /// hits, lower more. Training sets the model so that 0.5 is its best on its validation videos.
    #[arg(long, value_name = "P", default_value_t = 0.5, value_parser = hit_threshold)]
    pub hit_threshold: f32,
}

/// A `--hit-threshold`: a probability strictly between 0 and 1.
pub fn hit_threshold(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err("a contact probability between 0 and 1, such as 0.7".to_owned()),
    }
}

/// Detection at `threshold` needs a model that predicts contact probabilities: one without a
/// contact head finds hits in its cochleagram's rises.
pub fn check_hit_threshold(bundle: &ModelBundle, threshold: f32) -> anyhow::Result<()> {
    let default = foley_engine::predict::contacts::ContactParams::default().threshold;
    if threshold != default && !bundle.manifest.config.contact_head {
        anyhow::bail!(
            "--hit-threshold needs a model with a contact head; the model in {} finds hits in its cochleagram's rises",
            bundle.dir.display()
        );
    }
    Ok(())
}

/// The model at `path`, or the default one.
pub fn load_model(path: Option<&PathBuf>) -> anyhow::Result<ModelBundle> {
    let dir = path.cloned().unwrap_or_else(predict::default_model_dir);
    ModelBundle::load(&dir).with_context(|| format!("cannot load the model in {}", dir.display()))
}

pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    let bundle = load_model(args.model.as_ref())?;
    check_hit_threshold(&bundle, args.hit_threshold)?;
    let mut encoder = vision::open_encoder(args.backend.into(), bundle.encoder_spec()?)?;
    let bar = super::progress::bar(0, "encoding");
    let cancel = super::interrupt::flag();
    let prediction = predict::predict_video_streaming(&args.video, &bundle, encoder.as_mut(), cancel, &mut |p| {
        bar.set_length(p.frames_total);
        bar.set_position(p.frames_done);
    });
    bar.finish_and_clear();
    let prediction = prediction.with_context(|| format!("cannot predict the sound of {}", args.video.display()))?;
    let c = &prediction.sound.cochleagram;
    let params: CochleagramParams = bundle.manifest.cochleagram.clone();
    sound::write_cochleagram(&args.output, c, &params, Some("predicted"))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} steps x {} bands at {} Hz) and {}",
        args.output.display(),
        c.steps(),
        c.bands,
        c.rate_hz,
        foley_engine::media::sidecar_path(&args.output).display()
    );
    if let Some(path) = &args.hits {
        // The synthesis's own detector settings, so these are the times it would place clips at.
        let mut options = SynthOptions::default();
        options.contact_params.threshold = args.hit_threshold;
        let hits = prediction.sound.hits(&options.hit_params, &options.contact_params);
        sound::write_hits_csv(path, &hits).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {} ({} hits)", path.display(), hits.len());
    }
    Ok(())
}
