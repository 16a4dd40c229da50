//! `foley train`: fit the sound predictor on a dataset in the Greatest Hits layout.

use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::data::Split;
use foley_engine::paths::cache_dir;
use foley_engine::predict::{self, LearningRateSchedule, TrainOptions, TrainProgress};
use foley_engine::retrieval;
use foley_engine::vision;

use super::features::BackendArg;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The dataset folder (`{id}_denoised.mp4`, `{id}_denoised.wav`, `{id}_times.txt`,
    /// `train.txt`); the `train` list is used, a share of it held out for validation.
    #[arg(long)]
    pub data: PathBuf,
    /// Output folder: the model bundle (`model.safetensors`, `model.json`), `metrics.csv`,
    /// `loss_curve.png` and a checkpoint. Run the same command again to continue an interrupted
    /// run.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    pub epochs: usize,
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    pub seed: u64,
    /// LSTM hidden size.
    #[arg(long, default_value_t = TrainOptions::default().hidden)]
    pub hidden: usize,
    /// Stacked LSTM layers; 0 replaces the LSTM by a per-frame layer (the projection feeds the
    /// output), the baseline `foley eval --baseline-model` compares against.
    #[arg(long, default_value_t = TrainOptions::default().layers)]
    pub layers: usize,
    /// Width the 2560-d features are projected to first.
    #[arg(long, default_value_t = TrainOptions::default().projection)]
    pub projection: usize,
    /// Epochs without a better validation hit AP before stopping (the best epoch is the one with
    /// the best validation hit AP, the lower loss breaking ties).
    #[arg(long, default_value_t = TrainOptions::default().patience)]
    pub patience: usize,
    /// Weight of the contact head's loss beside the cochleagram's; 0 trains a model without the
    /// head, whose hits are then found in its predicted cochleagram.
    #[arg(long, default_value_t = TrainOptions::default().contact_weight)]
    pub contact_weight: f64,
    /// Also read each frame's motion grid: where in a grid of cells (8x8 unless --grid-side
    /// says otherwise) the picture changed and by how much (computed from the frames, cached
    /// beside the features).
    #[arg(long)]
    pub motion_grid: bool,
    /// Cells across and down of the motion grid, 1 to 56 (the encoder's 224-pixel input makes
    /// cells of 4 pixels or more): a finer grid shows where a small tip stops.
    #[arg(long, value_name = "N", default_value_t = vision::DEFAULT_GRID_SIDE, requires = "motion_grid")]
    pub grid_side: usize,
    /// How far past a moment the network looks before it predicts that moment's sound, in
    /// milliseconds (rounded to 90 Hz steps): a contact and an air swing that stops short look
    /// alike until the stick rebounds or stays. The sound of a video's last moments is predicted
    /// with its last frame held. A per-frame model (`--layers 0`) reads none.
    #[arg(long, value_name = "MS", default_value_t = 100.0)]
    pub lookahead_ms: f64,
    /// Centre each video's space-time features on their running mean over this many
    /// milliseconds (a time constant), so that the network reads what changes in a video rather
    /// than how the video looks; 0 reads them as they come.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub centring_ms: u32,
    /// Share of each frame's CNN features zeroed at random while training (0 to below 1), so
    /// that the network cannot lean on the few that single out its training videos.
    #[arg(long, value_name = "SHARE", default_value_t = TrainOptions::default().input_dropout)]
    pub input_dropout: f32,
    /// How much more the contact loss counts around where an air swing stops short of the
    /// surface (listed in the generator's `{id}_scene.json`; videos without notes have none), so
    /// that the network learns to tell the two apart; 0 counts every moment alike.
    #[arg(long, value_name = "W", default_value_t = TrainOptions::default().swing_weight)]
    pub swing_weight: f64,
    /// Train on each video's first and last windows in every epoch, beside random ones, so that
    /// the network knows a video's start and its held last frame (true or false).
    #[arg(long, value_name = "BOOL", default_value_t = TrainOptions::default().end_windows, action = clap::ArgAction::Set)]
    pub end_windows: bool,
    /// Adam's learning rate (where a schedule starts).
    #[arg(long, value_name = "RATE", default_value_t = TrainOptions::default().learning_rate)]
    pub learning_rate: f64,
    /// How the learning rate moves over the epochs: `constant`, or `cosine` (down half a cosine
    /// to a twentieth of it at the last batch of the last epoch).
    #[arg(long, value_enum, default_value_t = ScheduleArg::from(TrainOptions::default().schedule))]
    pub schedule: ScheduleArg,
    /// Validate and save a moving average of the weights, which keeps this share of itself at
    /// each step (0.998: about the last 500 steps), rather than the weights the last step left;
    /// 0 keeps no average.
    #[arg(long, value_name = "SHARE", default_value_t = TrainOptions::default().average_decay)]
    pub average_decay: f64,
    /// Networks to train, from seeds SEED, SEED+1, ..., each alone on the same videos and
    /// validation videos; with more than one the model is their ensemble, which averages their
    /// outputs (each network's run is kept in OUT/networks/K).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub networks: usize,
    /// Leave the clip database out: the model folder then needs one from `foley clips build`
    /// before it can make a track (saves reading every training video once more where that
    /// database is built anyway).
    #[arg(long)]
    pub no_clips: bool,
    /// Where the CNN runs while computing features.
    #[arg(long, value_enum, default_value_t = BackendArg::Ort)]
    pub backend: BackendArg,
    /// An encoder manifest; default: the set-up's EfficientNet-Lite0.
    #[arg(long, value_name = "MANIFEST")]
    pub encoder: Option<PathBuf>,
    /// The cache folder whose `features/` keeps CNN features (per encoder and video content);
    /// default: foley's cache.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleArg {
    Constant,
    Cosine,
}

impl From<LearningRateSchedule> for ScheduleArg {
    fn from(schedule: LearningRateSchedule) -> Self {
        match schedule {
            LearningRateSchedule::Constant => Self::Constant,
            LearningRateSchedule::Cosine => Self::Cosine,
        }
    }
}

impl From<ScheduleArg> for LearningRateSchedule {
    fn from(schedule: ScheduleArg) -> Self {
        match schedule {
            ScheduleArg::Constant => Self::Constant,
            ScheduleArg::Cosine => Self::Cosine,
        }
    }
}

fn average_decay(share: f64) -> anyhow::Result<f64> {
    anyhow::ensure!((0.0..1.0).contains(&share), "--average-decay must be at least 0 and below 1, not {share}");
    Ok(share)
}

fn learning_rate(rate: f64) -> anyhow::Result<f64> {
    anyhow::ensure!(rate > 0.0 && rate <= 0.1, "--learning-rate must be above 0 and at most 0.1, not {rate}");
    Ok(rate)
}

/// Milliseconds of lookahead as whole steps of the 90 Hz feature rate.
fn lookahead_steps(ms: f64) -> anyhow::Result<usize> {
    anyhow::ensure!((0.0..=1000.0).contains(&ms), "--lookahead-ms must be between 0 and 1000, not {ms}");
    Ok((ms / 1000.0 * foley_engine::timeline::FEATURE_RATE_HZ).round() as usize)
}

fn dropout_share(share: f32) -> anyhow::Result<f32> {
    anyhow::ensure!((0.0..1.0).contains(&share), "--input-dropout must be at least 0 and below 1, not {share}");
    Ok(share)
}

fn grid_side(side: usize) -> anyhow::Result<usize> {
    anyhow::ensure!((1..=56).contains(&side), "--grid-side must be between 1 and 56, not {side}");
    Ok(side)
}

fn network_count(networks: usize) -> anyhow::Result<usize> {
    anyhow::ensure!((1..=8).contains(&networks), "--networks must be between 1 and 8, not {networks}");
    Ok(networks)
}

fn swing_weight(weight: f64) -> anyhow::Result<f64> {
    anyhow::ensure!((0.0..=100.0).contains(&weight), "--swing-weight must be between 0 and 100, not {weight}");
    Ok(weight)
}

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let options = TrainOptions {
        epochs: args.epochs,
        seed: args.seed,
        hidden: args.hidden,
        layers: args.layers,
        projection: args.projection,
        patience: args.patience,
        contact_weight: args.contact_weight,
        motion_grid: args.motion_grid,
        grid_side: grid_side(args.grid_side)?,
        lookahead: lookahead_steps(args.lookahead_ms)?,
        centring_ms: args.centring_ms,
        input_dropout: dropout_share(args.input_dropout)?,
        swing_weight: swing_weight(args.swing_weight)?,
        end_windows: args.end_windows,
        learning_rate: learning_rate(args.learning_rate)?,
        schedule: args.schedule.into(),
        average_decay: average_decay(args.average_decay)?,
        networks: network_count(args.networks)?,
        ..TrainOptions::default()
    };
    let spec = super::features::load_spec(args.encoder.as_ref())?;
    let mut encoder = vision::open_encoder(args.backend.into(), spec)?;
    eprintln!("encoder: {} on {}", encoder.spec().identity.name, encoder.device());
    let preparing = super::progress::bar(0, "features");
    let fitting = super::progress::bar(0, "epoch");
    let cancel = super::interrupt::flag();
    let features_root = args.cache.clone().unwrap_or_else(cache_dir);
    let report = predict::train(&args.data, &args.out, &options, encoder.as_mut(), &features_root, cancel, &mut |p| {
        match p {
            TrainProgress::Preparing { done, total } => {
                preparing.set_length(*total as u64);
                preparing.set_position(*done as u64);
                if done == total {
                    preparing.finish_and_clear();
                }
            }
            TrainProgress::Fitting { epoch, epochs, batch, batches, loss } => {
                fitting.set_length(*batches as u64);
                fitting.set_position(*batch as u64);
                fitting.set_message(format!("epoch {epoch}/{epochs} loss {loss:.3}"));
            }
            TrainProgress::Network { index, count, seed } => {
                fitting.suspend(|| eprintln!("network {index} of {count} (seed {seed})"));
            }
            TrainProgress::Combining => {
                fitting.suspend(|| eprintln!("scoring the ensemble on the validation videos"));
            }
            TrainProgress::Epoch(row) => {
                fitting.suspend(|| eprintln!(
                "epoch {:>3}: train loss {:.4}, validation loss {:.4}, band correlation {:.3}, hit F1 {:.3}, AP {:.3}, median error {} ({:.0} s)",
                row.epoch,
                row.train_loss,
                row.val_loss,
                row.val_band_correlation,
                row.val_hit_f1,
                row.val_hit_ap,
                row.val_hit_median_error_ms.map_or_else(|| "-".to_owned(), |e| format!("{e:.1} ms")),
                row.seconds
            ));
            }
        }
    });
    fitting.finish_and_clear();
    let report = report.with_context(|| format!("training on {} failed", args.data.display()))?;
    let bundle = predict::ModelBundle::load(&args.out)?;
    if !args.no_clips {
        build_clips(args, &bundle, encoder.as_mut(), cancel)?;
    }
    if let Some((epoch, batch)) = report.resumed_from_epoch {
        eprintln!("continued the run in {} from epoch {epoch}, batch {batch}", args.out.display());
    }
    let kept = if bundle.manifest.members.is_empty() {
        format!("best epoch {}", report.best.epoch)
    } else {
        let members: Vec<String> = bundle
            .manifest
            .members
            .iter()
            .map(|m| format!("seed {} epoch {} AP {:.3}", m.seed, m.validation.epoch, m.validation.hit_ap))
            .collect();
        format!("an ensemble of {} networks ({})", members.len(), members.join(", "))
    };
    eprintln!(
        "model in {} ({} weights; {} training and {} validation videos); {kept}: validation hit AP {:.3}, loss {:.4}, band correlation {:.3}, hit F1 {:.3}",
        args.out.display(),
        report.parameters,
        report.train_videos,
        report.validation_videos,
        report.best.hit_ap,
        report.best.loss,
        report.best.band_correlation,
        report.best.hit_f1
    );
    Ok(())
}

/// The clips retrieval searches: every labelled contact of the training videos.
fn build_clips(
    args: &TrainArgs,
    bundle: &predict::ModelBundle,
    encoder: &mut dyn vision::FrameEncoder,
    cancel: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<()> {
    let bar = super::progress::bar(0, "looks");
    let looks = retrieval::dataset_looks(&[&args.data], Split::Train, encoder, cancel, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("cannot read how the videos of {} look", args.data.display()))?;
    bar.set_message("clips");
    let clips = retrieval::build_from_dataset(
        &args.data,
        Split::Train,
        &args.out,
        &bundle.manifest.cochleagram,
        Some(looks),
        cancel,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let clips = clips.with_context(|| format!("cannot build the clip database of {}", args.data.display()))?;
    eprintln!("{} clips from the training videos for retrieval", clips.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;
    use foley_engine::predict::{LearningRateSchedule, TrainOptions};

    use super::{TrainArgs, average_decay, grid_side, learning_rate, lookahead_steps, swing_weight};

    #[derive(clap::Parser)]
    struct Command {
        #[command(flatten)]
        args: TrainArgs,
    }

    #[test]
    fn lookahead_is_rounded_to_whole_steps_and_bounded() {
        assert_eq!(lookahead_steps(0.0).unwrap(), 0);
        assert_eq!(lookahead_steps(100.0).unwrap(), 9);
        assert_eq!(lookahead_steps(30.0).unwrap(), 3);
        let default = Command::try_parse_from(["train", "--data", "d", "--out", "o"]).unwrap().args;
        assert_eq!(lookahead_steps(default.lookahead_ms).unwrap(), TrainOptions::default().lookahead);
        let err = lookahead_steps(-5.0).unwrap_err().to_string();
        assert!(err.contains("--lookahead-ms") && err.contains("-5"), "{err}");
        assert!(lookahead_steps(f64::NAN).is_err());
    }

    #[test]
    fn the_grid_side_defaults_to_the_engine_s_and_needs_the_grid() {
        let default = Command::try_parse_from(["train", "--data", "d", "--out", "o"]).unwrap().args;
        assert_eq!(default.grid_side, TrainOptions::default().grid_side);
        let fine =
            Command::try_parse_from(["train", "--data", "d", "--out", "o", "--motion-grid", "--grid-side", "16"]);
        assert_eq!(fine.unwrap().args.grid_side, 16);
        let alone = Command::try_parse_from(["train", "--data", "d", "--out", "o", "--grid-side", "16"]);
        assert!(alone.is_err(), "--grid-side without --motion-grid is refused");
        for bad in [0, 57, 1000] {
            let err = grid_side(bad).unwrap_err().to_string();
            assert!(err.contains("--grid-side") && err.contains(&bad.to_string()), "{err}");
        }
        assert_eq!(grid_side(16).unwrap(), 16);
    }

    #[test]
    fn swing_weight_and_end_windows_default_to_the_engine_s_and_can_be_turned_off() {
        let default = Command::try_parse_from(["train", "--data", "d", "--out", "o"]).unwrap().args;
        assert_eq!(default.swing_weight, TrainOptions::default().swing_weight);
        assert_eq!(default.end_windows, TrainOptions::default().end_windows);
        let off = Command::try_parse_from([
            "train",
            "--data",
            "d",
            "--out",
            "o",
            "--swing-weight",
            "0",
            "--end-windows",
            "false",
        ])
        .unwrap()
        .args;
        assert_eq!((off.swing_weight, off.end_windows), (0.0, false));
        assert!(swing_weight(0.0).is_ok());
        let err = swing_weight(-1.0).unwrap_err().to_string();
        assert!(err.contains("--swing-weight") && err.contains("-1"), "{err}");
        assert!(swing_weight(f64::NAN).is_err());
    }

    #[test]
    fn learning_rate_and_schedule_default_to_the_engine_s_and_are_checked() {
        let default = Command::try_parse_from(["train", "--data", "d", "--out", "o"]).unwrap().args;
        assert_eq!(default.learning_rate, TrainOptions::default().learning_rate);
        assert_eq!(LearningRateSchedule::from(default.schedule), TrainOptions::default().schedule);
        let set = Command::try_parse_from([
            "train",
            "--data",
            "d",
            "--out",
            "o",
            "--learning-rate",
            "0.002",
            "--schedule",
            "cosine",
        ])
        .unwrap()
        .args;
        assert_eq!(learning_rate(set.learning_rate).unwrap(), 0.002);
        assert_eq!(LearningRateSchedule::from(set.schedule), LearningRateSchedule::Cosine);
        for bad in [0.0, -1e-3, 0.5, f64::NAN] {
            let err = learning_rate(bad).unwrap_err().to_string();
            assert!(err.contains("--learning-rate"), "{err}");
        }
        assert_eq!(default.average_decay, TrainOptions::default().average_decay);
        assert_eq!(average_decay(0.998).unwrap(), 0.998);
        for bad in [1.0, -0.1, f64::NAN] {
            let err = average_decay(bad).unwrap_err().to_string();
            assert!(err.contains("--average-decay"), "{err}");
        }
    }
}
