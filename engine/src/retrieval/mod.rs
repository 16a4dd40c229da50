//! Example-based retrieval: a database of real recorded contacts, each with its hit-centred
//! cochleagram window, searched for the clip whose sound is nearest to a predicted one.

mod build;
mod database;
mod error;
mod index;
mod looks;
mod window;

pub use build::{
    CLIP_S, DatabaseBuilder, LabelledContact, PRE_ROLL_S, build_from_bank, build_from_dataset, dataset_looks,
};
pub use database::{
    AUDIO_FILE, CLIP_SAMPLE_RATE, ClipDatabase, ClipEntry, DATABASE_VERSION, DatabaseManifest, LooksInfo,
    MANIFEST_FILE, TENSORS_FILE,
};
pub use error::RetrievalError;
pub use index::{RANK, SearchIndex, squared_distance};
pub use looks::{LOOK_FRAMES, LookClassifier, LookSet};
pub use window::{HIT_STEP, WINDOW_STEPS, hit_window, loudness};
