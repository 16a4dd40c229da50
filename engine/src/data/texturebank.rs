//! The texture bank: photographs of surfaces (by material) and of backgrounds (walls, outdoors),
//! from Debian packages, listed in `assets/texturebank/manifest.csv` with their licenses,
//! checksums and split. The set-up checks each photo's sha256 and decodes it to
//! `textures/{id}.png` in the cache. Materials no package has a fitting photo of are listed as
//! `procedural`: the generator draws them itself.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{DataError, Split};

/// The manifest's columns, in order.
pub const TEXTURE_MANIFEST_HEADER: &[&str] = &[
    "id",
    "use",
    "material",
    "package",
    "version",
    "path",
    "member",
    "group",
    "license",
    "attribution",
    "sha256",
    "split",
];

/// What a row of the texture bank is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextureUse {
    /// A photo of a material's surface.
    Surface,
    /// A photo behind the surface: a wall (`material` is `wall`) or outdoors (`outdoor`).
    Background,
    /// A material the generator draws without a photo.
    Procedural,
}

/// One row of the texture bank.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TexturePhoto {
    pub id: String,
    #[serde(rename = "use")]
    pub usage: TextureUse,
    /// The material of a surface, or the kind of a background.
    pub material: String,
    pub package: String,
    pub version: String,
    /// The file inside the unpacked package.
    pub path: String,
    /// The file inside the zip archive `path`, if it is one.
    pub member: String,
    pub group: String,
    pub license: String,
    pub attribution: String,
    pub sha256: String,
    /// `None` for a procedural row.
    #[serde(deserialize_with = "optional_split")]
    pub split: Option<Split>,
}

fn optional_split<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Split>, D::Error> {
    let text = String::deserialize(d)?;
    match text.as_str() {
        "" => Ok(None),
        "train" => Ok(Some(Split::Train)),
        "test" => Ok(Some(Split::Test)),
        other => Err(serde::de::Error::custom(format!("split '{other}' is not train, test or empty"))),
    }
}

impl TexturePhoto {
    /// The decoded copy the set-up makes.
    #[must_use]
    pub fn decoded_path(&self, cache: &Path) -> PathBuf {
        cache.join("textures").join(format!("{}.png", self.id))
    }
}

/// The texture bank manifest of the checkout foley was built from.
#[must_use]
pub fn texturebank_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/texturebank/manifest.csv")
}

/// Reads the manifest.
pub fn read_texture_manifest(path: &Path) -> Result<Vec<TexturePhoto>, DataError> {
    let line_error = |line: usize, problem: String| DataError::Line { path: path.to_path_buf(), line, problem };
    let mut reader = csv::Reader::from_path(path).map_err(|e| line_error(1, e.to_string()))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| line_error(1, e.to_string()))?.iter().map(str::to_owned).collect();
    if header != TEXTURE_MANIFEST_HEADER {
        return Err(line_error(1, format!("header is {header:?}, expected {TEXTURE_MANIFEST_HEADER:?}")));
    }
    let mut photos = Vec::new();
    for (i, record) in reader.deserialize::<TexturePhoto>().enumerate() {
        let photo = record.map_err(|e| line_error(i + 2, e.to_string()))?;
        if photo.usage != TextureUse::Procedural && photo.split.is_none() {
            return Err(line_error(i + 2, format!("{} is a photo without a split", photo.id)));
        }
        photos.push(photo);
    }
    Ok(photos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_manifest_reads_and_gives_every_material_a_look_in_both_splits() {
        let photos = read_texture_manifest(&texturebank_manifest()).unwrap();
        let clips = crate::data::read_manifest(&crate::paths::clipbank_manifest()).unwrap();
        for clip in &clips {
            let procedural = photos.iter().any(|p| p.usage == TextureUse::Procedural && p.material == clip.material);
            for split in [Split::Train, Split::Test] {
                let photographed = photos
                    .iter()
                    .any(|p| p.usage == TextureUse::Surface && p.material == clip.material && p.split == Some(split));
                assert!(procedural || photographed, "{} has no {split:?} photo and is not procedural", clip.material);
            }
        }
        for split in [Split::Train, Split::Test] {
            assert!(photos.iter().any(|p| p.usage == TextureUse::Background && p.split == Some(split)));
        }
    }

    #[test]
    fn a_wrong_header_is_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.csv");
        std::fs::write(&path, "id,use\nx,surface\n").unwrap();
        let error = read_texture_manifest(&path).unwrap_err().to_string();
        assert!(error.contains("manifest.csv") && error.contains("header"), "{error}");
    }
}
