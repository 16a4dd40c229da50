//! Training data: the Greatest Hits dataset layout, read as users bring it, and the bank of real
//! recordings foley's own training data is made from.

mod clipbank;
mod error;
mod greatest_hits;
pub(crate) mod preview;
pub mod synth;

pub use clipbank::{BankClip, MANIFEST_HEADER, read_manifest, write_manifest};
pub use error::DataError;
pub use greatest_hits::{
    Action, Contact, GreatestHits, KNOWN_MATERIALS, Split, VideoEntry, majority_material, read_times,
};
pub use preview::contact_sheet;
