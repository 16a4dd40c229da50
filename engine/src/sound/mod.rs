//! Sound features: the cochleagram the whole method predicts and searches in, hit detection on
//! it, and its parametric resynthesis to a waveform.

mod cochleagram;
mod error;
mod filterbank;
mod gradient;
mod hits;
mod lbfgs;
mod noise;
mod npy;
mod resynth;
mod workers;

pub use cochleagram::{Cochleagram, CochleagramAnalyzer, CochleagramParams, cochleagram_of, cochleagram_of_file};
pub use error::SoundError;
pub use filterbank::ErbCosineFilterbank;
pub use hits::{
    Hit, HitCandidate, HitParams, candidate_detections, detect_hits, hit_candidates, level_onset, onset_strength,
    write_hits_csv,
};
pub use noise::add_room_noise;
pub use npy::{CochleagramSidecar, read_cochleagram, write_cochleagram};
pub use resynth::{Carrier, ResynthParams, ResynthReport, resynthesize, resynthesize_with_progress};
