//! The main job: a video in, a 48 kHz track exactly as long as the video out, with the hits it
//! placed. The predicted cochleagram becomes sound either by retrieval (real recorded clips at
//! the detected hits) or parametrically (noise shaped to the predicted envelopes).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::mix::limit;
use super::render::render_retrieval;
use super::retrieve::{Variation, choose_clips};
use super::{PlacedHit, SynthesisError};
use crate::media::VideoInfo;
use crate::predict::contacts::ContactParams;
use crate::predict::{ModelBundle, predict_video_streaming};
use crate::predict::{PredictedSound, predicted_hits};
use crate::retrieval::{ClipDatabase, RetrievalError};
use crate::sound::{Carrier, Cochleagram, CochleagramParams, HitParams, ResynthParams, resynthesize};
use crate::timeline::{OUTPUT_SAMPLE_RATE, sample_at};
use crate::vision::features::FeaturesProgress;
use crate::vision::{FrameEncoder, FrameMotion};

/// How the predicted sound becomes a waveform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Real recorded clips at the detected hits (the paper's example-based synthesis).
    #[default]
    Retrieval,
    /// Noise shaped to the predicted band envelopes (McDermott and Simoncelli).
    Parametric,
}

impl Method {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retrieval => "retrieval",
            Self::Parametric => "parametric",
        }
    }
}

/// What to make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynthOptions {
    pub method: Method,
    /// Never use a clip cut from this source (the video's own id, when evaluating on videos the
    /// database was built from).
    pub exclude_source: Option<String>,
    /// How hits are found in a predicted cochleagram (a model without a contact head).
    pub hit_params: HitParams,
    /// How hits are found in predicted contact probabilities (a model with a contact head).
    pub contact_params: ContactParams,
    /// How retrieval varies its clips.
    pub variation: Variation,
    /// Search only clips of this material, whatever the video looks like (for a user who knows
    /// the surface); `None`: the material the video's look shows, where the database reads it.
    pub material: Option<String>,
}

/// A made track: the hits the job placed, and the track rendered from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthesis {
    /// Mono, 48 kHz, sample 0 on the first frame, `round(duration_s * 48000)` samples.
    pub track: Vec<f32>,
    pub placement: Placement,
}

/// What a video looks like: the mean features of `frames` colour frames spread over it, by the
/// encoder with this sha256 (`vision::video_look`).
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    pub features: Vec<f32>,
    pub encoder_sha256: String,
    pub frames: usize,
}

impl Look {
    /// `video`'s look taken as `db`'s looks were (as many frames), to read its material with
    /// them; `None` where there is no database or it has no looks.
    pub fn of_video(
        video: &Path,
        db: Option<&ClipDatabase>,
        encoder: &mut dyn FrameEncoder,
    ) -> Result<Option<Self>, SynthesisError> {
        let Some(looks) = db.and_then(ClipDatabase::looks) else { return Ok(None) };
        let features = crate::vision::video_look(video, encoder, looks.frames).map_err(RetrievalError::from)?;
        Ok(Some(Self { features, encoder_sha256: encoder.spec().identity.onnx_sha256.clone(), frames: looks.frames }))
    }
}

/// Samples in a track for a video of `duration_s`.
#[must_use]
pub fn track_len(duration_s: f64) -> usize {
    sample_at(duration_s, 0.0, OUTPUT_SAMPLE_RATE).max(0) as usize
}

/// The parametric resynthesis of `predicted`, fitted to `len` samples (limited to -1 dBFS).
pub fn render_parametric(
    predicted: &Cochleagram,
    params: &CochleagramParams,
    len: usize,
) -> Result<Vec<f32>, SynthesisError> {
    // Modulated tones: this runs for every evaluated video and study clip, and band-by-band
    // imposition would take more than twice as long for a track a little closer to the target.
    let settings = ResynthParams { carrier: Carrier::ModulatedTones, ..ResynthParams::default() };
    let (audio, _) = resynthesize(predicted, params, &settings)?;
    let mut track = vec![0.0f32; len];
    let offset = sample_at(audio.start_s, 0.0, OUTPUT_SAMPLE_RATE);
    for (k, &s) in audio.samples.iter().enumerate() {
        if let Some(out) = usize::try_from(offset + k as i64).ok().and_then(|i| track.get_mut(i)) {
            *out = s;
        }
    }
    limit(&mut track, OUTPUT_SAMPLE_RATE);
    Ok(track)
}

/// What the job decided before any sound is made: the hits, and what they were read from. A
/// [`Synthesis`] is this with its track rendered; a long track can instead be written block by
/// block ([`super::TrackBlocks`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub method: Method,
    pub hits: Vec<PlacedHit>,
    /// The predicted cochleagram the hits were read from.
    pub cochleagram: Cochleagram,
    /// From a model with a contact head, the contact probability at each step of `cochleagram`:
    /// the hits can be found again at another threshold without running the model again.
    pub contact: Option<Vec<f32>>,
    /// The video's length: the end of its last frame, seconds.
    pub duration_s: f64,
    /// The material read from the video's look, when the clip database can read it.
    pub material: Option<String>,
    /// The video's facts (its rate and timecode place the track on an editor's timeline), where
    /// the hits were placed from the video itself rather than from a prediction alone.
    pub video: Option<VideoInfo>,
    /// Where each frame changed (16 bytes a frame), from the same source: it places the hits in
    /// the picture, and hits added later.
    pub motion: Option<FrameMotion>,
}

impl Placement {
    /// Samples in its track.
    #[must_use]
    pub fn track_len(&self) -> usize {
        track_len(self.duration_s)
    }

    /// Renders the whole (mono) track: the clips at the hits, or the parametric resynthesis of
    /// the cochleagram by `params`.
    pub fn render(self, db: Option<&ClipDatabase>, params: &CochleagramParams) -> Result<Synthesis, SynthesisError> {
        let len = self.track_len();
        let track = match self.method {
            Method::Retrieval => {
                let db = db.ok_or_else(|| SynthesisError::NoDatabase("the model has none".into()))?;
                render_retrieval(db, &self.hits, len)?
            }
            Method::Parametric => render_parametric(&self.cochleagram, params, len)?,
        };
        Ok(Synthesis { track, placement: self })
    }
}

/// Makes the track of a predicted sound for a video of `duration_s`: clips (or the parametric
/// resynthesis) at the prediction's hits.
pub fn synthesize_prediction(
    predicted: PredictedSound,
    duration_s: f64,
    db: Option<&ClipDatabase>,
    params: &CochleagramParams,
    options: &SynthOptions,
    look: Option<&Look>,
) -> Result<Synthesis, SynthesisError> {
    place_prediction(predicted, duration_s, db, params, options, look)?.render(db, params)
}

/// The hits of a predicted sound for a video of `duration_s`, each with its clip (for
/// retrieval), before any sound is made.
pub fn place_prediction(
    predicted: PredictedSound,
    duration_s: f64,
    db: Option<&ClipDatabase>,
    params: &CochleagramParams,
    options: &SynthOptions,
    look: Option<&Look>,
) -> Result<Placement, SynthesisError> {
    let material = match (options.method, db) {
        (Method::Retrieval, Some(db)) => match &options.material {
            Some(m) => Some(known_material(db, m)?),
            None => look.and_then(|l| db.material_of(&l.features, &l.encoder_sha256, l.frames)),
        },
        _ => None,
    };
    let hits =
        place_hits(&predicted.cochleagram, predicted.contact.as_deref(), db, params, options, material.as_deref())?;
    Ok(Placement {
        method: options.method,
        hits,
        cochleagram: predicted.cochleagram,
        contact: predicted.contact,
        duration_s,
        material,
        video: None,
        motion: None,
    })
}

/// The hits `options`' detectors find in a prediction, each with a clip of `material` (or of
/// any material) for retrieval.
fn place_hits(
    cochleagram: &Cochleagram,
    contact: Option<&[f32]>,
    db: Option<&ClipDatabase>,
    params: &CochleagramParams,
    options: &SynthOptions,
    material: Option<&str>,
) -> Result<Vec<PlacedHit>, SynthesisError> {
    let detected = predicted_hits(cochleagram, contact, &options.hit_params, &options.contact_params);
    Ok(match options.method {
        Method::Retrieval => {
            let db = db.ok_or_else(|| SynthesisError::NoDatabase("the model has none".into()))?;
            db.check_compatible(params)?;
            let chosen = choose_clips(
                cochleagram,
                &detected,
                db,
                params.compression,
                options.exclude_source.as_deref(),
                material,
                &options.variation,
            );
            chosen.into_iter().map(|(h, _)| h).collect()
        }
        Method::Parametric => detected
            .iter()
            .map(|h| PlacedHit {
                time_s: h.time_s,
                material: None,
                action: None,
                strength: h.strength,
                clip: None,
                gain_db: 0.0,
                x: None,
            })
            .collect(),
    })
}

impl Placement {
    /// The hits found again in the same prediction by `options`' detectors (another contact
    /// threshold, say), with clips of the material this placement read (or `options.material`)
    /// and their places in the picture, as the job would have placed them.
    pub fn place_again(
        &self,
        db: Option<&ClipDatabase>,
        params: &CochleagramParams,
        options: &SynthOptions,
    ) -> Result<Vec<PlacedHit>, SynthesisError> {
        let material = match (&options.material, db) {
            (Some(m), Some(db)) => Some(known_material(db, m)?),
            _ => self.material.clone(),
        };
        let mut hits =
            place_hits(&self.cochleagram, self.contact.as_deref(), db, params, options, material.as_deref())?;
        self.locate(&mut hits);
        Ok(hits)
    }

    /// Gives each hit its place in the picture, from the frames' motion where the placement has it.
    fn locate(&self, hits: &mut [PlacedHit]) {
        if let Some(motion) = &self.motion {
            for hit in hits {
                hit.x = motion.x_at(hit.time_s);
            }
        }
    }
}

/// `material` where the database has clips of it, else an error naming those it has.
pub fn known_material(db: &ClipDatabase, material: &str) -> Result<String, SynthesisError> {
    let known = db.materials();
    if known.iter().any(|k| k == material) {
        Ok(material.to_owned())
    } else {
        Err(SynthesisError::UnknownMaterial { material: material.to_owned(), dir: db.dir.clone(), known })
    }
}

/// Encodes `video`, predicts its cochleagram and makes its (mono) track; each hit has its place
/// in the picture, for a stereo render. Memory stays flat with the video's length up to the
/// track: features are consumed as they are computed.
pub fn synthesize_video(
    video: &Path,
    bundle: &ModelBundle,
    db: Option<&ClipDatabase>,
    encoder: &mut dyn FrameEncoder,
    options: &SynthOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<Synthesis, SynthesisError> {
    place_video(video, bundle, db, encoder, options, cancel, progress)?.render(db, &bundle.manifest.cochleagram)
}

/// Encodes `video`, predicts its cochleagram and places its hits (each with its place in the
/// picture), making no sound yet: memory stays flat with the video's length.
pub fn place_video(
    video: &Path,
    bundle: &ModelBundle,
    db: Option<&ClipDatabase>,
    encoder: &mut dyn FrameEncoder,
    options: &SynthOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<Placement, SynthesisError> {
    if options.method == Method::Retrieval {
        let db =
            db.ok_or_else(|| SynthesisError::NoDatabase(format!("none beside the model in {}", bundle.dir.display())))?;
        db.check_compatible(&bundle.manifest.cochleagram)?;
    }
    let prediction = predict_video_streaming(video, bundle, encoder, cancel, progress)?;
    let look = match (options.method, &options.material) {
        (Method::Retrieval, None) => Look::of_video(video, db, encoder)?,
        _ => None,
    };
    let mut placed = place_prediction(
        prediction.sound,
        prediction.duration_s,
        db,
        &bundle.manifest.cochleagram,
        options,
        look.as_ref(),
    )?;
    placed.video = prediction.video;
    placed.motion = Some(prediction.motion);
    let mut hits = std::mem::take(&mut placed.hits);
    placed.locate(&mut hits);
    placed.hits = hits;
    Ok(placed)
}
