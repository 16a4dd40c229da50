//! `foley clips`: the clip database a model's retrieval searches.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use foley_engine::data::{Split, read_manifest};
use foley_engine::retrieval::{self, ClipDatabase};
use foley_engine::sound::CochleagramParams;
use foley_engine::vision;

#[derive(Debug, clap::Args)]
pub struct ClipsArgs {
    #[command(subcommand)]
    pub command: ClipsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ClipsCommand {
    /// Build a database (`clips.json`, `clips.safetensors`, `clips.wav`) into a model folder.
    Build(BuildArgs),
    /// Describe a model's clip database.
    Info {
        /// A model folder; default: `assets/models/default`.
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Every labelled contact of this dataset's split (Greatest Hits layout).
    #[arg(long, conflicts_with = "bank")]
    pub data: Option<PathBuf>,
    /// Every hit of the clip bank's recordings of the split (`assets/clipbank/manifest.csv`).
    #[arg(long)]
    pub bank: bool,
    /// Which split.
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,
    /// The model folder the database goes into (its cochleagram parameters are used).
    #[arg(long)]
    pub out: PathBuf,
    /// A dataset whose train videos teach the database how each material looks, so retrieval
    /// searches only clips of the material a video shows (with --data, that dataset's own videos
    /// are used unless --sound-only). Repeat it to learn from the videos of several datasets.
    #[arg(long, value_name = "DIR")]
    pub looks: Vec<PathBuf>,
    /// Retrieval by sound alone: no looks.
    #[arg(long, conflicts_with = "looks")]
    pub sound_only: bool,
    /// The encoder manifest whose features the looks are taken in; default: the one the model
    /// folder reads (its `encoder/` copy, else the set-up's default). For a folder the model is
    /// not trained into yet.
    #[arg(long, value_name = "MANIFEST", conflicts_with = "sound_only")]
    pub encoder: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Self {
        match s {
            SplitArg::Train => Self::Train,
            SplitArg::Test => Self::Test,
        }
    }
}

pub fn run(args: &ClipsArgs) -> anyhow::Result<()> {
    match &args.command {
        ClipsCommand::Build(b) => build(b),
        ClipsCommand::Info { model } => {
            let dir = model.clone().unwrap_or_else(foley_engine::predict::default_model_dir);
            let db = ClipDatabase::load(&dir)
                .with_context(|| format!("cannot load the clip database in {}", dir.display()))?;
            println!("{} clips from {}", db.len(), db.manifest.origin);
            match db.looks() {
                Some(l) => println!("the material is read from a video's look (looks of {} videos)", l.materials.len()),
                None => println!("retrieval by sound alone (no looks)"),
            }
            let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
            for e in &db.manifest.entries {
                let key = format!(
                    "{} {}",
                    e.material.as_deref().unwrap_or("(unlabelled)"),
                    e.action.as_deref().unwrap_or("(unlabelled)")
                );
                *counts.entry(key).or_default() += 1;
            }
            for (k, n) in counts {
                println!("{n:>6}  {k}");
            }
            Ok(())
        }
    }
}

fn build(args: &BuildArgs) -> anyhow::Result<()> {
    // The windows must be the cochleagram the model predicts.
    let params = if args.out.join("model.json").is_file() {
        foley_engine::predict::ModelBundle::load(&args.out)?.manifest.cochleagram
    } else {
        CochleagramParams::default()
    };
    let bar = super::progress::bar(0, "clips");
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let cancel = super::interrupt::flag();
    let looks_from: Vec<&std::path::Path> = if args.sound_only {
        Vec::new()
    } else if args.looks.is_empty() {
        args.data.iter().map(PathBuf::as_path).collect()
    } else {
        args.looks.iter().map(PathBuf::as_path).collect()
    };
    let looks = match looks_from.as_slice() {
        [] => None,
        dirs => {
            // The looks are in the features of the model's own encoder.
            let spec = match &args.encoder {
                Some(manifest) => vision::EncoderSpec::load(manifest)?,
                None => foley_engine::predict::encoder_spec_in(&args.out)?,
            };
            let mut encoder = vision::open_encoder(vision::Backend::Ort, spec)?;
            bar.set_message("looks");
            let looks = retrieval::dataset_looks(dirs, Split::Train, encoder.as_mut(), cancel, &mut progress)
                .with_context(|| {
                    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                    format!("cannot read how the videos of {} look", names.join(" and "))
                })?;
            bar.set_message("clips");
            Some(looks)
        }
    };
    let db = if let Some(data) = &args.data {
        retrieval::build_from_dataset(data, args.split.into(), &args.out, &params, looks, cancel, &mut progress)
            .with_context(|| format!("cannot build a clip database from {}", data.display()))?
    } else if args.bank {
        let manifest = foley_engine::paths::clipbank_manifest();
        let bank = read_manifest(&manifest)?;
        let cache = foley_engine::paths::cache_dir();
        retrieval::build_from_bank(&bank, &cache, args.split.into(), &args.out, &params, looks, &mut progress)
            .context("cannot build a clip database from the clip bank (run scripts/setup.sh first)")?
    } else {
        bail!("say where the clips come from: --data DIR or --bank");
    };
    bar.finish_and_clear();
    eprintln!(
        "{} clips from {} in {}{}",
        db.len(),
        db.manifest.origin,
        args.out.display(),
        db.looks().map_or_else(String::new, |l| format!("; looks of {} videos", l.materials.len()))
    );
    Ok(())
}
