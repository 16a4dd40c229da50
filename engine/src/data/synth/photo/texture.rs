//! A photo as a tiling texture: linear-light RGB (and coverage, where the photo has
//! transparency) with a mip pyramid, so a surface seen at a grazing angle far away is averaged
//! rather than aliased.

use std::path::Path;

use crate::data::DataError;

/// sRGB 0..255 to linear light.
fn srgb_to_linear(v: u8) -> f32 {
    let c = f32::from(v) / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

/// One level of the pyramid.
#[derive(Debug, Clone)]
struct Level {
    width: usize,
    height: usize,
    /// RGB and coverage per texel.
    texels: Vec<[f32; 4]>,
}

impl Level {
    fn fetch(&self, x: i64, y: i64) -> [f32; 4] {
        let (w, h) = (self.width as i64, self.height as i64);
        self.texels[(y.rem_euclid(h) * w + x.rem_euclid(w)) as usize]
    }

    /// Bilinear, wrapping: the photos tile.
    fn bilinear(&self, u: f32, v: f32) -> [f32; 4] {
        let (x, y) = (u * self.width as f32 - 0.5, v * self.height as f32 - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (ix, iy) = (x0 as i64, y0 as i64);
        let (a, b, c, d) =
            (self.fetch(ix, iy), self.fetch(ix + 1, iy), self.fetch(ix, iy + 1), self.fetch(ix + 1, iy + 1));
        std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            top + (bottom - top) * fy
        })
    }

    /// Half the size, each texel the mean of four.
    fn halved(&self) -> Self {
        let (width, height) = ((self.width / 2).max(1), (self.height / 2).max(1));
        let texels = (0..height)
            .flat_map(|y| {
                (0..width).map(move |x| {
                    let (x2, y2) = (2 * x as i64, 2 * y as i64);
                    let q = [
                        self.fetch(x2, y2),
                        self.fetch(x2 + 1, y2),
                        self.fetch(x2, y2 + 1),
                        self.fetch(x2 + 1, y2 + 1),
                    ];
                    std::array::from_fn(|k| (q[0][k] + q[1][k] + q[2][k] + q[3][k]) * 0.25)
                })
            })
            .collect();
        Self { width, height, texels }
    }
}

/// A tiling photo texture.
#[derive(Debug, Clone)]
pub struct Texture {
    levels: Vec<Level>,
}

impl Texture {
    /// Reads an 8-bit RGB or RGBA PNG (as the set-up writes them).
    pub fn read_png(path: &Path) -> Result<Self, DataError> {
        let read_error = |e: &dyn std::fmt::Display| DataError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        };
        let file = std::fs::File::open(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().map_err(|e| read_error(&e))?;
        let mut buffer = vec![0; reader.output_buffer_size().ok_or_else(|| read_error(&"image too large"))?];
        let info = reader.next_frame(&mut buffer).map_err(|e| read_error(&e))?;
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => return Err(read_error(&format!("{other:?} PNG; the set-up writes RGB or RGBA"))),
        };
        let lut: [f32; 256] = std::array::from_fn(|v| srgb_to_linear(v as u8));
        let texels = buffer[..info.buffer_size()]
            .chunks_exact(channels)
            .map(|p| {
                [
                    lut[p[0] as usize],
                    lut[p[1] as usize],
                    lut[p[2] as usize],
                    p.get(3).map_or(1.0, |a| f32::from(*a) / 255.0),
                ]
            })
            .collect();
        Ok(Self::from_level(Level { width: info.width as usize, height: info.height as usize, texels }))
    }

    /// A texture from linear RGB texels, fully opaque.
    #[cfg(test)]
    #[must_use]
    pub fn from_rgb(width: usize, height: usize, rgb: &[[f32; 3]]) -> Self {
        let texels = rgb.iter().map(|c| [c[0], c[1], c[2], 1.0]).collect();
        Self::from_level(Level { width, height, texels })
    }

    fn from_level(base: Level) -> Self {
        let mut levels = vec![base];
        while let Some(last) = levels.last().filter(|l| l.width > 1 || l.height > 1) {
            let next = last.halved();
            levels.push(next);
        }
        Self { levels }
    }

    /// Whether any texel is not fully opaque.
    #[must_use]
    pub fn has_transparency(&self) -> bool {
        self.levels[0].texels.iter().any(|t| t[3] < 0.999)
    }

    /// The colour and coverage at texture coordinates `(u, v)` (1.0 is one tile), where one
    /// screen pixel spans `footprint` tiles: trilinear between the two nearest levels.
    #[must_use]
    pub fn sample(&self, u: f32, v: f32, footprint: f32) -> [f32; 4] {
        let texels = footprint * self.levels[0].width.max(self.levels[0].height) as f32;
        let lod = texels.max(1.0).log2().min((self.levels.len() - 1) as f32);
        let low = lod.floor() as usize;
        let a = self.levels[low].bilinear(u, v);
        let Some(next) = self.levels.get(low + 1) else { return a };
        let t = lod - low as f32;
        if t <= 0.0 {
            return a;
        }
        let b = next.bilinear(u, v);
        std::array::from_fn(|k| a[k] + (b[k] - a[k]) * t)
    }

    /// The mean colour of the whole photo.
    #[must_use]
    pub fn mean(&self) -> [f32; 3] {
        let last = &self.levels[self.levels.len() - 1].texels[0];
        [last[0], last[1], last[2]]
    }

    /// This texture with every texel's colour laid over `under` by its coverage, fully opaque.
    #[must_use]
    pub fn over(&self, under: &Self, under_scale: f32) -> Self {
        let base = &self.levels[0];
        let texels = base
            .texels
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (x, y) = ((i % base.width) as f32 + 0.5, (i / base.width) as f32 + 0.5);
                let (u, v) = (x / base.width as f32 * under_scale, y / base.height as f32 * under_scale);
                let b = under.sample(u, v, under_scale / base.width as f32);
                [
                    t[0] * t[3] + b[0] * (1.0 - t[3]),
                    t[1] * t[3] + b[1] * (1.0 - t[3]),
                    t[2] * t[3] + b[2] * (1.0 - t[3]),
                    1.0,
                ]
            })
            .collect();
        Self::from_level(Level { width: base.width, height: base.height, texels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minified_checkerboard_averages_to_grey_and_tiles_wrap() {
        let rgb: Vec<[f32; 3]> =
            (0..64 * 64).map(|i| if (i % 64 / 4 + i / 64 / 4) % 2 == 0 { [1.0; 3] } else { [0.0; 3] }).collect();
        let t = Texture::from_rgb(64, 64, &rgb);
        // Seen at one texel per pixel, the squares stay sharp.
        let sharp = t.sample(2.0 / 64.0, 2.0 / 64.0, 1.0 / 64.0);
        assert!(sharp[0] > 0.95, "{sharp:?}");
        // Seen from far (a pixel spans many squares), it is their mean.
        let far = t.sample(0.3, 0.7, 0.5);
        assert!((far[0] - 0.5).abs() < 0.02, "{far:?}");
        // One tile over, the same texel.
        assert_eq!(t.sample(1.0 + 2.0 / 64.0, -1.0 + 2.0 / 64.0, 1.0 / 64.0), sharp);
        assert!((t.mean()[0] - 0.5).abs() < 1e-3);
        assert!(!t.has_transparency());
    }
}
