//! Training data: the Greatest Hits dataset layout, read as users bring it, and the banks of real
//! recordings and photos foley's own training data is made from.

mod clipbank;
mod error;
mod greatest_hits;
pub(crate) mod preview;
pub mod synth;
mod texturebank;

pub use clipbank::{BankClip, MANIFEST_HEADER, read_manifest, write_manifest};
pub use error::DataError;
pub use greatest_hits::{
    Action, Contact, EXTRA_MATERIALS, GreatestHits, KNOWN_MATERIALS, Split, VideoEntry, VideoNotes, is_known_material,
    majority_material, read_times,
};
pub use preview::contact_sheet;
pub use texturebank::{TEXTURE_MANIFEST_HEADER, TexturePhoto, TextureUse, read_texture_manifest, texturebank_manifest};
