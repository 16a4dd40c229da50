//! From a predicted cochleagram to a sound track: hits detected in the prediction, the nearest
//! real clip for each placed on its hit's sample with a matched gain (or the parametric
//! resynthesis), mixed and limited, as long as the video; mono, or stereo with each hit panned to
//! where it happened in the picture.

mod blocks;
mod error;
mod hits_csv;
mod job;
mod markers;
mod mix;
mod render;
mod retrieve;

pub use blocks::{TrackBlock, TrackBlocks};
pub use error::SynthesisError;
pub use hits_csv::{HITS_HEADER, PlacedHit, read_placed_hits, write_placed_hits};
pub use job::{
    Look, Method, Placement, SynthOptions, Synthesis, known_material, place_prediction, place_video, render_parametric,
    synthesize_prediction, synthesize_video, track_len,
};
pub use markers::{MARKERS_CSV_HEADER, MarkerClock, write_markers_csv, write_markers_edl};
pub use mix::{CEILING, limit, place_clip};
pub use render::{Channels, Stem, pan_gains, render_retrieval, render_retrieval_in, render_stems};
pub use retrieve::{GAIN_RANGE_DB, NEAR_EQUAL, Variation, choose_clips, gain_db};
