//! Training data: the Greatest Hits dataset layout, read as users bring it.

mod error;
mod greatest_hits;

pub use error::DataError;
pub use greatest_hits::{Action, Contact, GreatestHits, KNOWN_MATERIALS, Split, VideoEntry, read_times};
