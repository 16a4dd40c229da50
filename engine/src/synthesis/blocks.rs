//! The retrieval track made a block at a time, limited as it goes: a long track is written
//! without ever being held whole. Collecting every block gives exactly the whole-track render.

use std::collections::{HashMap, VecDeque};

use super::mix::{CEILING, LimiterPass, loudest, place_clip_in_channel};
use super::render::{Channels, Stem, pan_gains};
use super::{PlacedHit, SynthesisError};
use crate::retrieval::ClipDatabase;
use crate::timeline::{OUTPUT_SAMPLE_RATE, sample_at};

/// Frames mixed per block: one second.
const BLOCK_FRAMES: usize = OUTPUT_SAMPLE_RATE as usize;

/// One hit's clip on the track.
struct ClipSpan {
    clip: usize,
    /// The frame of the clip's onset, and the span the clip covers.
    at: i64,
    start: i64,
    end: i64,
    onset: usize,
    /// The gain of each channel (the pan included).
    gains: [f32; 2],
    /// Its stem (its material's, in the order materials first appear).
    stem: usize,
}

/// The next frames of a track: the limited mix and, when asked for, each material's stem (with
/// the mix's gain, so the stems sum to the mix but for the peaks the final clamp cuts); all
/// interleaved as the track's channels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackBlock {
    pub mix: Vec<f32>,
    /// In the order of [`TrackBlocks::stem_materials`]; empty without stems.
    pub stems: Vec<Vec<f32>>,
}

/// Renders the clips of placed hits into `len` frames, one block per [`TrackBlocks::next_block`].
/// Memory holds a block, the limiter's look-ahead and the clips still to be placed, whatever the
/// track's length.
pub struct TrackBlocks<'a> {
    db: &'a ClipDatabase,
    placements: Vec<ClipSpan>,
    /// Each clip's last frame on the track: once mixed past it, the clip is dropped.
    last_use: HashMap<usize, i64>,
    clips: HashMap<usize, Vec<f32>>,
    len: usize,
    channels: usize,
    materials: Option<Vec<String>>,
    rendered: usize,
    limiter: Option<LimiterPass>,
    /// Mixed frames whose gain is not known yet (interleaved), and the stems' same frames.
    pending: VecDeque<f32>,
    pending_stems: Vec<VecDeque<f32>>,
}

impl std::fmt::Debug for TrackBlocks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackBlocks")
            .field("len", &self.len)
            .field("channels", &self.channels)
            .field("rendered", &self.rendered)
            .finish_non_exhaustive()
    }
}

impl<'a> TrackBlocks<'a> {
    /// Starts the track of `hits` (those without a clip are silent); `stems` asks for one stem a
    /// material beside the mix. Every clip is checked to be in `db` before anything is made.
    pub fn new(
        db: &'a ClipDatabase,
        hits: &[PlacedHit],
        len: usize,
        channels: Channels,
        stems: bool,
    ) -> Result<Self, SynthesisError> {
        let mut materials: Vec<String> = Vec::new();
        let mut placements = Vec::new();
        let mut last_use: HashMap<usize, i64> = HashMap::new();
        for hit in hits {
            let material = hit.material.clone().unwrap_or_else(|| "unknown".to_owned());
            let stem = materials.iter().position(|m| *m == material).unwrap_or_else(|| {
                materials.push(material);
                materials.len() - 1
            });
            let Some(id) = hit.clip.as_deref() else { continue };
            let clip = db.find(id).ok_or_else(|| {
                SynthesisError::NoDatabase(format!("the clip `{id}` is not in the database in {}", db.dir.display()))
            })?;
            let entry = &db.manifest.entries[clip];
            let at = sample_at(hit.time_s, 0.0, OUTPUT_SAMPLE_RATE);
            let start = at - i64::from(entry.onset);
            let end = start + i64::from(entry.audio_len);
            let gain = 10f32.powf(hit.gain_db / 20.0);
            let gains = match channels {
                Channels::Mono => [gain, 0.0],
                Channels::Stereo => pan_gains(hit.x).map(|pan| gain * pan),
            };
            let last = last_use.entry(clip).or_insert(end);
            *last = (*last).max(end);
            placements.push(ClipSpan { clip, at, start, end, onset: entry.onset as usize, gains, stem });
        }
        let channels = usize::from(channels.count());
        Ok(Self {
            db,
            placements,
            last_use,
            clips: HashMap::new(),
            len,
            channels,
            pending_stems: if stems { vec![VecDeque::new(); materials.len()] } else { Vec::new() },
            materials: stems.then_some(materials),
            rendered: 0,
            limiter: Some(LimiterPass::new(len, OUTPUT_SAMPLE_RATE)),
            pending: VecDeque::new(),
        })
    }

    /// The stems' materials ("unknown" for hits without one); empty without stems.
    #[must_use]
    pub fn stem_materials(&self) -> &[String] {
        self.materials.as_deref().unwrap_or_default()
    }

    /// The next frames, `None` once the whole track was given. Blocks vary in length (the
    /// limiter holds back its look-ahead) and the last may be empty.
    pub fn next_block(&mut self) -> Result<Option<TrackBlock>, SynthesisError> {
        if self.limiter.is_none() {
            return Ok(None);
        }
        let mut gains: Vec<(usize, f32)> = Vec::new();
        if self.rendered < self.len {
            let (lo, hi) = (self.rendered, (self.rendered + BLOCK_FRAMES).min(self.len));
            let (mix, stems) = self.mix(lo, hi)?;
            let Some(limiter) = self.limiter.as_mut() else { return Ok(None) };
            gains.extend(mix.chunks_exact(self.channels).filter_map(|frame| limiter.push(loudest(frame))));
            self.pending.extend(mix);
            for (pending, stem) in self.pending_stems.iter_mut().zip(stems) {
                pending.extend(stem);
            }
            self.rendered = hi;
        }
        if self.rendered == self.len {
            gains.extend(self.limiter.take().map(LimiterPass::finish).unwrap_or_default());
        }
        let n = gains.len() * self.channels;
        let mut block = TrackBlock {
            mix: self.pending.drain(..n).collect(),
            stems: self.pending_stems.iter_mut().map(|p| p.drain(..n).collect()).collect(),
        };
        for (k, (_, g)) in gains.iter().enumerate() {
            let frame = k * self.channels..(k + 1) * self.channels;
            block.mix[frame.clone()].iter_mut().for_each(|s| *s = (*s * g).clamp(-CEILING, CEILING));
            for stem in &mut block.stems {
                stem[frame.clone()].iter_mut().for_each(|s| *s *= g);
            }
        }
        Ok(Some(block))
    }

    /// The whole track and its stems (each `len` frames), block after block.
    pub fn collect(mut self) -> Result<(Vec<f32>, Vec<Stem>), SynthesisError> {
        let samples = self.len * self.channels;
        let mut mix = Vec::with_capacity(samples);
        let mut stems: Vec<Vec<f32>> = self.pending_stems.iter().map(|_| Vec::with_capacity(samples)).collect();
        while let Some(block) = self.next_block()? {
            mix.extend(block.mix);
            for (stem, part) in stems.iter_mut().zip(block.stems) {
                stem.extend(part);
            }
        }
        let materials = self.materials.take().unwrap_or_default();
        Ok((mix, materials.into_iter().zip(stems).map(|(material, samples)| Stem { material, samples }).collect()))
    }

    /// Frames `lo..hi` of the mix and of each stem, not limited: every clip that reaches into
    /// them added in the hits' order, as if the whole track were mixed at once.
    fn mix(&mut self, lo: usize, hi: usize) -> Result<(Vec<f32>, Vec<Vec<f32>>), SynthesisError> {
        let channels = self.channels;
        let mut mix = vec![0.0f32; (hi - lo) * channels];
        let mut stems = vec![vec![0.0f32; (hi - lo) * channels]; self.pending_stems.len()];
        let (lo, hi) = (lo as i64, hi as i64);
        for p in self.placements.iter().filter(|p| p.start < hi && p.end > lo) {
            let clip = match self.clips.entry(p.clip) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(self.db.clip_samples(p.clip)?),
            };
            for (channel, &gain) in p.gains.iter().take(channels).enumerate() {
                place_clip_in_channel(&mut mix, channels, channel, clip, p.onset, p.at - lo, gain);
                if let Some(stem) = stems.get_mut(p.stem) {
                    place_clip_in_channel(stem, channels, channel, clip, p.onset, p.at - lo, gain);
                }
            }
        }
        let last_use = &self.last_use;
        self.clips.retain(|clip, _| last_use.get(clip).is_some_and(|&end| end > hi));
        Ok((mix, stems))
    }
}
