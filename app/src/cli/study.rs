//! `foley study`: prepare a real-vs-predicted study, run it for a participant, report on it.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, bail};
use foley_engine::study::{self, PrepareOptions};
use foley_engine::synthesis::Method;
use foley_engine::vision;

#[derive(Debug, clap::Args)]
pub struct StudyArgs {
    #[command(subcommand)]
    pub command: StudyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StudyCommand {
    /// Pick clips with their real sound, make the predicted tracks, write the study folder
    /// (`trials.csv`, `study.json`, `media/`).
    Prepare {
        /// A dataset in the Greatest Hits layout (its test split is used).
        #[arg(long)]
        data: PathBuf,
        /// The new study folder.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10)]
        clips: usize,
        /// Length of each clip, seconds.
        #[arg(long, default_value_t = 4.0)]
        seconds: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Methods to compare with the real sound, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "retrieval")]
        method: Vec<String>,
        /// A model folder; default: the shipped model.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Open the study screen for one participant (resumes where they stopped).
    Run {
        /// The study folder.
        study: PathBuf,
        #[arg(long)]
        participant: String,
    },
    /// Per method, how often the predicted sound was chosen as real (95% Wilson intervals),
    /// overall, per material and per participant: `report.md` and `chart.png`.
    Report {
        /// The study folder (its `results.csv` is read).
        study: PathBuf,
        /// Where to write the report; default: the study folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(args: &StudyArgs) -> anyhow::Result<()> {
    match &args.command {
        StudyCommand::Prepare { data, out, clips, seconds, seed, method, model } => {
            let methods = method
                .iter()
                .map(|m| match m.trim() {
                    "retrieval" => Ok(Method::Retrieval),
                    "parametric" => Ok(Method::Parametric),
                    other => bail!("unknown method `{other}`: use retrieval or parametric"),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let bundle = super::predict::load_model(model.as_ref())?;
            let db = super::synth::load_database(&bundle.dir)?;
            let mut encoder = vision::open_encoder(vision::Backend::Ort, bundle.encoder_spec()?)?;
            let options = PrepareOptions {
                data: data.clone(),
                out: out.clone(),
                clips: *clips,
                seconds: *seconds,
                seed: *seed,
                methods,
            };
            let bar = super::progress::bar(*clips as u64, "clips");
            let settings = study::prepare_study(
                &options,
                &bundle,
                db.as_ref(),
                encoder.as_mut(),
                &AtomicBool::new(false),
                &mut |done, _| bar.set_position(done as u64),
            );
            bar.finish_and_clear();
            let settings = settings.with_context(|| format!("cannot prepare the study in {}", out.display()))?;
            eprintln!(
                "study in {}: {} clips x {} methods = {} trials; run it with `foley study run {} --participant ID`",
                out.display(),
                settings.clips.len(),
                settings.methods.len(),
                settings.clips.len() * settings.methods.len(),
                out.display()
            );
            Ok(())
        }
        StudyCommand::Run { study, participant } => crate::ui::run_study(study, participant),
        StudyCommand::Report { study: dir, out } => {
            let report = study::report_study(dir)?;
            let out = out.clone().unwrap_or_else(|| dir.clone());
            study::write_report(&report, dir, &out)?;
            println!("{} answers from {} participants", report.answers, report.participants);
            for g in &report.overall {
                let clustered = g.by_participant.map_or_else(String::new, |(low, high)| {
                    format!("; participants resampled {:.1}% - {:.1}%", 100.0 * low, 100.0 * high)
                });
                println!(
                    "{:<12} predicted chosen as real in {} of {} trials: {:.1}% (95% interval {:.1}% - {:.1}%{clustered})",
                    g.method,
                    g.predicted_chosen,
                    g.trials,
                    100.0 * g.share,
                    100.0 * g.low,
                    100.0 * g.high
                );
            }
            eprintln!("report in {}", out.join("report.md").display());
            Ok(())
        }
    }
}
