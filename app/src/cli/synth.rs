//! `foley synth`: the main job: a silent video in, its sound track out (WAV, and optionally the
//! video with the track and the placed hits as CSV).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use foley_engine::media::{self, AudioTrack, WavFormat};
use foley_engine::retrieval::ClipDatabase;
use foley_engine::synthesis::{self, Method, SynthOptions};
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;
use foley_engine::vision;

use super::features::BackendArg;

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// The video.
    pub video: PathBuf,
    /// The track: a 48 kHz WAV (mono, or stereo with --stereo) exactly as long as the video,
    /// sample 0 on the first frame.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write a copy of the video with the track as its sound (.mp4, .mov or .mkv; the
    /// picture is copied, not re-encoded).
    #[arg(long, value_name = "OUT.mp4")]
    pub video_out: Option<PathBuf>,
    /// Also write the placed hits: `time_s,material,action,strength,clip,gain_db,x` (x: where in
    /// the picture, 0 left to 1 right).
    #[arg(long, value_name = "HITS.csv")]
    pub hits: Option<PathBuf>,
    /// A model folder (with its clip database); default: `assets/models/default`.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Where the CNN runs.
    #[arg(long, value_enum, default_value_t = BackendArg::Ort)]
    pub backend: BackendArg,
    /// `retrieval`: real recorded clips at the predicted hits; `parametric`: noise shaped to the
    /// predicted cochleagram.
    #[arg(long, value_enum, default_value_t = MethodArg::Retrieval)]
    pub method: MethodArg,
    /// Sample format of the WAV: pcm16, pcm24 or float.
    #[arg(long, default_value = "pcm16")]
    pub format: WavFormat,
    /// Also write one WAV per material (`MATERIAL.wav`, as long as the track, from the same
    /// start) and `mix.wav` into this folder (made if missing): the stems sum to the mix.
    #[arg(long, value_name = "DIR")]
    pub stems: Option<PathBuf>,
    /// Also write the hits as markers for an editor, at the video's timecode: `.edl` (timeline
    /// markers, as DaVinci Resolve imports them) or `.csv` (Premiere Pro's marker columns).
    /// May be given twice.
    #[arg(long, value_name = "FILE")]
    pub markers: Vec<PathBuf>,
    /// Retrieval's candidates per hit: the next hit of a material never takes the recording the
    /// last one took when another of these is near enough; 1 always takes the nearest.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub variation_k: u16,
    /// How far a candidate may be and still stand in for the nearest, as a multiple of the
    /// nearest's squared distance.
    #[arg(long, default_value_t = 3.0)]
    pub variation_distance: f32,
    /// Picks among equally near candidates: the same seed gives the same track.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A stereo track (and stems and video sound): each hit panned to where it happens in the
    /// picture, read from where the frames change around it.
    #[arg(long)]
    pub stereo: bool,
    /// Take every clip from this material (one the model's clip database has, e.g. `wood`),
    /// whatever the video looks like; by default the material is read from the video's look.
    #[arg(long, value_name = "NAME")]
    pub material: Option<String>,
    /// The contact probability a peak needs to be a hit, between 0 and 1: higher for footage
    /// where hits are placed where nothing is struck, lower where quiet hits are missed. Training
    /// sets the model so that 0.5 is its best on its validation videos.
    #[arg(long, value_name = "P", default_value_t = 0.5, value_parser = super::predict::hit_threshold)]
    pub hit_threshold: f32,
}

/// `--method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    Retrieval,
    Parametric,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Retrieval => Self::Retrieval,
            MethodArg::Parametric => Self::Parametric,
        }
    }
}

/// A temporary file beside `target`, renamed onto it only once every output is made.
fn staged_output(target: &Path) -> anyhow::Result<tempfile::TempPath> {
    media::staged_path(target).with_context(|| format!("cannot write {}", target.display()))
}

/// Fails early, before minutes of work, if an output cannot be written where asked.
fn check_output(path: &Path, extensions: &[&str]) -> anyhow::Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    if !extensions.contains(&ext.as_str()) {
        bail!("{}: the output must end in .{}", path.display(), extensions.join(" or ."));
    }
    if path.is_dir() {
        bail!("{}: is a folder", path.display());
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!("{}: the folder {} does not exist", path.display(), parent.display());
    }
    Ok(())
}

/// The clip database beside a model, if it has one.
pub fn load_database(model_dir: &Path) -> anyhow::Result<Option<ClipDatabase>> {
    if !model_dir.join(foley_engine::retrieval::MANIFEST_FILE).is_file() {
        return Ok(None);
    }
    Ok(Some(
        ClipDatabase::load(model_dir)
            .with_context(|| format!("cannot load the clip database in {}", model_dir.display()))?,
    ))
}

/// An output made beside its target, to be renamed onto it once every output is made.
type Staged = (tempfile::TempPath, PathBuf);

/// What a retrieval track is made of.
struct Track<'a> {
    hits: &'a [synthesis::PlacedHit],
    len: usize,
    channels: synthesis::Channels,
    bext: &'a media::BroadcastInfo,
}

/// Writes the retrieval track to `wav` (and, with `--stems`, `mix.wav` and one WAV a material)
/// block by block, so that memory stays flat with the video's length; returns the whole track
/// only where `keep` asks for it (the muxer takes it whole), and the staged stems.
fn write_retrieval(
    db: &ClipDatabase,
    track: &Track<'_>,
    args: &SynthArgs,
    wav: &Path,
    keep: bool,
) -> anyhow::Result<(Option<Vec<f32>>, Vec<Staged>)> {
    let cannot_make = || format!("cannot make the track of {}", args.video.display());
    let mut blocks = synthesis::TrackBlocks::new(db, track.hits, track.len, track.channels, args.stems.is_some())
        .with_context(cannot_make)?;
    let open = |staged: &Path, target: &Path| {
        media::WavStream::create(staged, OUTPUT_SAMPLE_RATE, track.channels.count(), args.format, Some(track.bext))
            .with_context(|| format!("cannot write {}", target.display()))
    };
    let mut mixes = vec![(open(wav, &args.output)?, args.output.clone())];
    let mut stems = Vec::new();
    let mut staged = Vec::new();
    if let Some(dir) = &args.stems {
        let mix = dir.join("mix.wav");
        let temp = staged_output(&mix)?;
        mixes.push((open(&temp, &mix)?, mix.clone()));
        staged.push((temp, mix));
        for material in blocks.stem_materials() {
            let path = dir.join(format!("{material}.wav"));
            let temp = staged_output(&path)?;
            stems.push((open(&temp, &path)?, path.clone()));
            staged.push((temp, path));
        }
    }
    let mut kept = keep.then(|| Vec::with_capacity(track.len * usize::from(track.channels.count())));
    while let Some(block) = blocks.next_block().with_context(cannot_make)? {
        for (writer, target) in &mut mixes {
            writer.write(&block.mix).with_context(|| format!("cannot write {}", target.display()))?;
        }
        for ((writer, target), samples) in stems.iter_mut().zip(&block.stems) {
            writer.write(samples).with_context(|| format!("cannot write {}", target.display()))?;
        }
        if let Some(kept) = &mut kept {
            kept.extend_from_slice(&block.mix);
        }
    }
    for (writer, target) in mixes.into_iter().chain(stems) {
        writer.finish().with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok((kept, staged))
}

pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    check_output(&args.output, &["wav"])?;
    if let Some(v) = &args.video_out {
        check_output(v, &["mp4", "m4v", "mov", "mkv"])?;
        if v.exists() && std::fs::canonicalize(v).ok() == std::fs::canonicalize(&args.video).ok() {
            bail!("{}: --video-out would replace the video being read", v.display());
        }
    }
    if let Some(h) = &args.hits {
        check_output(h, &["csv"])?;
    }
    for m in &args.markers {
        check_output(m, &["edl", "csv"])?;
    }
    if let Some(dir) = &args.stems {
        if args.method == MethodArg::Parametric {
            bail!("--stems needs --method retrieval: a parametric track has no hits to split by material");
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make the stems folder {}", dir.display()))?;
    }
    if args.stereo && args.method == MethodArg::Parametric {
        bail!("--stereo needs --method retrieval: a parametric track has no hits to place");
    }
    if args.material.is_some() && args.method == MethodArg::Parametric {
        bail!("--material needs --method retrieval: a parametric track has no clips to choose");
    }
    let channels = if args.stereo { synthesis::Channels::Stereo } else { synthesis::Channels::Mono };
    let bundle = super::predict::load_model(args.model.as_ref())?;
    super::predict::check_hit_threshold(&bundle, args.hit_threshold)?;
    let method: Method = args.method.into();
    let db = load_database(&bundle.dir)?;
    if method == Method::Retrieval && db.is_none() {
        bail!(
            "the model in {} has no clip database (clips.json); build one with `foley clips build --bank --out {}` \
             or use --method parametric",
            bundle.dir.display(),
            bundle.dir.display()
        );
    }
    // Checked before the video is read, not after.
    if let (Some(m), Some(db)) = (&args.material, &db) {
        synthesis::known_material(db, m)?;
    }
    let mut encoder = vision::open_encoder(args.backend.into(), bundle.encoder_spec()?)?;
    let bar = super::progress::bar(0, "listening");
    let cancel = super::interrupt::flag();
    if !(args.variation_distance.is_finite() && args.variation_distance >= 1.0) {
        bail!("--variation-distance must be a number of at least 1 (a multiple of the nearest's distance)");
    }
    let variation = synthesis::Variation {
        k: args.variation_k.into(),
        max_distance_ratio: args.variation_distance,
        seed: args.seed,
    };
    let mut options = SynthOptions { method, variation, material: args.material.clone(), ..SynthOptions::default() };
    options.contact_params.threshold = args.hit_threshold;
    let placed =
        synthesis::place_video(&args.video, &bundle, db.as_ref(), encoder.as_mut(), &options, cancel, &mut |p| {
            bar.set_length(p.frames_total);
            bar.set_position(p.frames_done);
        });
    bar.finish_and_clear();
    if super::interrupt::requested() {
        bail!("nothing was written");
    }
    let placement = placed.with_context(|| format!("cannot make the sound of {}", args.video.display()))?;

    // Every WAV and marker says where it is on an editor's timeline: the video's timecode.
    let info = placement.video.clone().with_context(|| format!("the job did not read {}", args.video.display()))?;
    let bext = media::BroadcastInfo::for_video(&args.video, info.start_on_timeline_s(), OUTPUT_SAMPLE_RATE);
    let len = placement.track_len();
    // Every output is made beside its target first and renamed only once all are made: a run that
    // fails or is interrupted leaves none of them, and the files of an earlier run stay as they were.
    let wav = staged_output(&args.output)?;
    let (track_for_video, stems) = match &db {
        Some(db) if method == Method::Retrieval => {
            let track = Track { hits: &placement.hits, len, channels, bext: &bext };
            write_retrieval(db, &track, args, &wav, args.video_out.is_some())?
        }
        _ => {
            let track = synthesis::render_parametric(&placement.cochleagram, &bundle.manifest.cochleagram, len)
                .with_context(|| format!("cannot make the sound of {}", args.video.display()))?;
            media::write_wav_with(&wav, &track, OUTPUT_SAMPLE_RATE, channels.count(), args.format, Some(&bext))
                .with_context(|| format!("cannot write {}", args.output.display()))?;
            (Some(track), Vec::new())
        }
    };
    let mut outputs = vec![(wav, args.output.clone())];
    outputs.extend(stems);
    if let Some(path) = &args.hits {
        let csv = staged_output(path)?;
        synthesis::write_placed_hits(&csv, &placement.hits)
            .with_context(|| format!("cannot write {}", path.display()))?;
        outputs.push((csv, path.clone()));
    }
    let clock = synthesis::MarkerClock::for_video(&info);
    for path in &args.markers {
        let staged = staged_output(path)?;
        let title = format!("foley: {}", args.video.file_name().unwrap_or_default().to_string_lossy());
        let written = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("edl")) {
            synthesis::write_markers_edl(&staged, &placement.hits, &clock, &title)
        } else {
            synthesis::write_markers_csv(&staged, &placement.hits, &clock)
        };
        written.with_context(|| format!("cannot write {}", path.display()))?;
        outputs.push((staged, path.clone()));
    }
    if let Some(path) = &args.video_out {
        let video = staged_output(path)?;
        let samples = track_for_video.unwrap_or_default();
        let sound = AudioTrack { rate: OUTPUT_SAMPLE_RATE, start_s: 0.0, samples };
        let bar = super::progress::bar(1000, "muxing");
        let muxed = media::mux_channels_with_progress(&args.video, &sound, channels.count(), &video, None, &mut |f| {
            bar.set_position((f * 1000.0) as u64);
        });
        bar.finish_and_clear();
        muxed.with_context(|| format!("cannot write {}", path.display()))?;
        outputs.push((video, path.clone()));
    }
    if super::interrupt::requested() {
        bail!("nothing was written");
    }
    let written: Vec<PathBuf> = outputs.iter().skip(1).map(|(_, target)| target.clone()).collect();
    for (temp, target) in outputs {
        temp.persist(&target).with_context(|| format!("cannot write {}", target.display()))?;
    }

    let mut materials: Vec<(String, usize)> = Vec::new();
    for h in &placement.hits {
        let m = h.material.clone().unwrap_or_else(|| "-".into());
        match materials.iter_mut().find(|(name, _)| *name == m) {
            Some((_, n)) => *n += 1,
            None => materials.push((m, 1)),
        }
    }
    let listing: Vec<String> = materials.iter().map(|(m, n)| format!("{n} {m}")).collect();
    match (&args.material, &placement.material) {
        (Some(m), _) => eprintln!("clips of {m} only, as asked"),
        (None, Some(m)) => eprintln!("the video looks like {m}: clips of {m} only"),
        (None, None) => {}
    }
    let detector = if bundle.manifest.config.contact_head {
        format!("contact probability {} or more", args.hit_threshold)
    } else {
        "rises of the predicted cochleagram".to_owned()
    };
    eprintln!(
        "{} hits ({}) by {} in {:.2} s of video, at {detector}",
        placement.hits.len(),
        if listing.is_empty() { "none".to_owned() } else { listing.join(", ") },
        method.as_str(),
        placement.duration_s,
    );
    eprintln!(
        "wrote {} ({} samples at 48 kHz, {})",
        args.output.display(),
        len,
        if args.stereo { "stereo" } else { "mono" }
    );
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
