//! A contact sheet of a dataset, for a person to look at: for a few videos, frames around their
//! first contacts with the labels, and the sound's cochleagram with every labelled contact marked.

use std::path::Path;

use super::{DataError, GreatestHits};
use crate::colour::heat;
use crate::media::{self, VideoReader, VideoReaderOptions};
use crate::sound::{CochleagramParams, cochleagram_of};

const THUMB: (usize, usize) = (228, 128);
const OFFSETS: [f64; 4] = [-0.2, -0.07, 0.0, 0.1];
const LABEL_H: usize = 12;
const BAND_H: usize = 2;

/// Draws up to `videos` videos of `dataset` (one of each material first) into a PNG at `out`.
pub fn contact_sheet(dataset: &GreatestHits, out: &Path, videos: usize) -> Result<(), DataError> {
    // One video per material first, so the sheet shows the variety.
    let mut chosen = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for video in &dataset.videos {
        let contacts = video.contacts()?;
        let material = contacts.first().and_then(|c| c.material.clone()).unwrap_or_default();
        if !contacts.is_empty() && seen.insert(material) {
            chosen.push((video, contacts));
        }
    }
    chosen.truncate(videos.max(1));
    let params = CochleagramParams::default();
    let width = THUMB.0 * OFFSETS.len();
    let row_h = LABEL_H + THUMB.1 + params.bands() * BAND_H + 6;
    let mut sheet = Canvas::new(width, row_h * chosen.len().max(1));
    for (row, (video, contacts)) in chosen.iter().enumerate() {
        let y0 = row * row_h;
        let first = &contacts[0];
        let label = format!(
            "{}  {} {} {}  first contact {:.3} s",
            video.id,
            first.material.as_deref().unwrap_or("none"),
            first.action.as_ref().map_or("none".to_owned(), |a| format!("{a:?}").to_lowercase()),
            first.reaction.as_deref().unwrap_or("none"),
            first.time_s
        );
        sheet.text(2, y0 + 2, &label, [255, 255, 255]);
        // Each frame fits its cell with its own aspect ratio (portrait videos too).
        let (w, h) = {
            let info = VideoReader::open(&video.video)?.info().clone();
            let scale =
                (THUMB.0 as f64 / f64::from(info.width.max(1))).min(THUMB.1 as f64 / f64::from(info.height.max(1)));
            let even = |v: f64| ((v / 2.0).floor() as u32 * 2).max(2);
            (even(f64::from(info.width) * scale), even(f64::from(info.height) * scale))
        };
        let (dx, dy) = ((THUMB.0 - w as usize) / 2, (THUMB.1 - h as usize) / 2);
        let mut reader = VideoReader::open_with(
            &video.video,
            VideoReaderOptions { size: Some((w, h)), threads: 0, ..Default::default() },
        )?;
        for (k, offset) in OFFSETS.iter().enumerate() {
            if let Some(frame) = reader.seek((first.time_s + offset).max(0.0))? {
                sheet.blit(k * THUMB.0 + dx, y0 + LABEL_H + dy, w as usize, &frame.rgb);
                sheet.text(k * THUMB.0 + 3, y0 + LABEL_H + 3, &format!("{offset:+.2} s"), [255, 255, 0]);
            }
        }
        // The sound's cochleagram over the whole video, low bands at the bottom.
        let audio_path = video.audio.clone().unwrap_or_else(|| video.video.clone());
        let track = media::read_audio(&audio_path, params.sample_rate)?;
        let c = cochleagram_of(&track, &params).map_err(|e| DataError::Line {
            path: audio_path.clone(),
            line: 0,
            problem: e.to_string(),
        })?;
        let peak = c.data.iter().copied().fold(0.0_f32, f32::max).max(1e-6);
        let top = y0 + LABEL_H + THUMB.1 + 2;
        let steps = c.steps().max(1);
        for x in 0..width {
            let step = x * steps / width;
            for band in 0..c.bands {
                let value = if step < c.steps() { c.row(step)[band] / peak } else { 0.0 };
                let colour = heat(value);
                for dy in 0..BAND_H {
                    sheet.set(x, top + (c.bands - 1 - band) * BAND_H + dy, colour);
                }
            }
        }
        let duration = track.duration_s().max(1e-6);
        for contact in contacts {
            let x = ((contact.time_s / duration) * width as f64) as usize;
            for dy in 0..4 {
                sheet.set(x.min(width - 1), top + dy, [255, 255, 255]);
            }
        }
    }
    sheet.save(out)
}

pub(crate) struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Self { width, height, rgb: vec![24; width * height * 3] }
    }

    pub(crate) fn set(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            self.rgb[i..i + 3].copy_from_slice(&colour);
        }
    }

    fn blit(&mut self, x0: usize, y0: usize, width: usize, rgb: &[u8]) {
        for (y, row) in rgb.chunks_exact(width * 3).enumerate() {
            for (x, px) in row.chunks_exact(3).enumerate() {
                self.set(x0 + x, y0 + y, [px[0], px[1], px[2]]);
            }
        }
    }

    /// Text in a 5x7 pixel font (lowercase, digits and a little punctuation; others as blanks).
    pub(crate) fn text(&mut self, x0: usize, y0: usize, text: &str, colour: [u8; 3]) {
        for (i, ch) in text.chars().enumerate() {
            let glyph = glyph(ch.to_ascii_lowercase());
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        self.set(x0 + i * 6 + col, y0 + row, colour);
                    }
                }
            }
        }
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), DataError> {
        let (width, height) = (self.width as u32, self.height as u32);
        crate::media::write_atomically(path, |file| {
            let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
            writer.write_image_data(&self.rgb).map_err(std::io::Error::other)?;
            writer.finish().map_err(std::io::Error::other)
        })?;
        Ok(())
    }
}

/// Rows of a 5x7 glyph, most significant of the low 5 bits on the left.
fn glyph(c: char) -> [u8; 7] {
    match c {
        'a' => [0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f],
        'b' => [0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x1e],
        'c' => [0x00, 0x00, 0x0e, 0x10, 0x10, 0x10, 0x0e],
        'd' => [0x01, 0x01, 0x0f, 0x11, 0x11, 0x11, 0x0f],
        'e' => [0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e],
        'f' => [0x06, 0x08, 0x1c, 0x08, 0x08, 0x08, 0x08],
        'g' => [0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e],
        'h' => [0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x11],
        'i' => [0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e],
        'j' => [0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c],
        'k' => [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12],
        'l' => [0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
        'm' => [0x00, 0x00, 0x1a, 0x15, 0x15, 0x15, 0x15],
        'n' => [0x00, 0x00, 0x1e, 0x11, 0x11, 0x11, 0x11],
        'o' => [0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e],
        'p' => [0x00, 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10],
        'q' => [0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x01],
        'r' => [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10],
        's' => [0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e],
        't' => [0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06],
        'u' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d],
        'v' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04],
        'w' => [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a],
        'x' => [0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11],
        'y' => [0x00, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e],
        'z' => [0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f],
        '0' => [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
        '1' => [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
        '2' => [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
        '3' => [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
        '4' => [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
        '5' => [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
        '6' => [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
        '7' => [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
        '9' => [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c],
        '-' => [0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00],
        ':' => [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        '@' => [0x0e, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0e],
        _ => [0; 7],
    }
}
