//! `foley eval`: the model's tracks for a dataset's test split against the real sound, beside
//! baselines, written as a report.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::eval::{EvalOptions, EvalProgress, evaluate_synthesis};
use foley_engine::paths::cache_dir;
use foley_engine::vision;

use super::features::BackendArg;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A dataset in the Greatest Hits layout: its test split is scored, its train split gives the
    /// clips.
    #[arg(long)]
    pub data: PathBuf,
    /// A model folder; default: `assets/models/default`.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The report folder: `report.md`, `metrics.csv`, `scores.json`, `cochleagrams.png`, `metrics.png`.
    #[arg(long)]
    pub out: PathBuf,
    /// A second model run on the same videos with the same retrieval and the same encoder:
    /// baseline (c), a model trained with `--layers 0` (a per-frame layer instead of the LSTM),
    /// or any other model to compare with. The report gives the first model's hit figures less
    /// its, with an interval from draws of the test videos.
    #[arg(long, visible_alias = "compare", value_name = "MODEL_DIR")]
    pub baseline_model: Option<PathBuf>,
    /// Models whose outputs are averaged step by step with the model's, which is then scored as
    /// one (an ensemble): each must read the same features (the same encoder and layout) and
    /// predict the same outputs; its own clip database is not used. Repeat for more.
    #[arg(long, value_name = "MODEL_DIR")]
    pub average_with: Vec<PathBuf>,
    /// Where the CNN runs.
    #[arg(long, value_enum, default_value_t = BackendArg::Ort)]
    pub backend: BackendArg,
    /// Seed of the random-clip baseline.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The cache folder whose `features/` keeps CNN features; default: foley's cache.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Retrieval's candidate recordings per hit, as `foley synth --variation-k`; 1 always takes
    /// the nearest clip.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub variation_k: u16,
}

/// The processor and core count, for reports.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    format!("{cpu}, {cores} cores")
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let bundle = super::predict::load_model(args.model.as_ref())?;
    let own_clips = super::synth::load_database(&bundle.dir)?;
    let load = |dir: &PathBuf, what: &str| {
        foley_engine::predict::ModelBundle::load(dir)
            .with_context(|| format!("cannot load the {what} in {}", dir.display()))
    };
    let second = args.baseline_model.as_ref().map(|dir| load(dir, "second model")).transpose()?;
    let averaged =
        args.average_with.iter().map(|dir| load(dir, "model to average with")).collect::<anyhow::Result<Vec<_>>>()?;
    // The other models read the same features: evaluation checks them against this encoder.
    let mut encoder = vision::open_encoder(args.backend.into(), bundle.encoder_spec()?)?;
    let options = EvalOptions {
        data: args.data.clone(),
        out: args.out.clone(),
        cache: args.cache.clone().unwrap_or_else(cache_dir),
        seed: args.seed,
        variation: foley_engine::synthesis::Variation {
            k: args.variation_k.into(),
            ..foley_engine::synthesis::Variation::default()
        },
        figures: 3,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine: machine(),
    };
    let bar = super::progress::bar(0, "clips");
    let cancel = super::interrupt::flag();
    let report = evaluate_synthesis(
        &bundle,
        own_clips.as_ref(),
        second.as_ref(),
        &averaged,
        encoder.as_mut(),
        &options,
        cancel,
        &mut |p| {
            let (what, done, total) = match p {
                EvalProgress::Clips { done, total } => ("clips", done, total),
                EvalProgress::Looks { done, total } => ("looks", done, total),
                EvalProgress::Videos { done, total } => ("videos", done, total),
            };
            bar.set_message(what);
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let report = report.with_context(|| format!("cannot evaluate on {}", args.data.display()))?;
    println!(
        "{:<40} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "method", "hit AP", "acc.", "err. ms", "material", "action", "correct", "corr. F1", "loud. r"
    );
    let opt = |v: Option<f64>, digits: usize| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"));
    for m in &report.methods {
        println!(
            "{:<40} {:>7.3} {:>7.3} {:>9} {:>9} {:>9} {:>9.3} {:>9.3} {:>9}",
            m.method,
            m.hit_ap,
            m.hit_accuracy,
            opt(m.median_error_ms, 1),
            opt(m.material_accuracy, 3),
            opt(m.action_accuracy, 3),
            m.correct_hits,
            m.correct_f1,
            opt(m.loudness_correlation, 3)
        );
    }
    eprintln!("report in {}", args.out.join("report.md").display());
    Ok(())
}
