//! A contact sheet of a dataset, for a person to look at: for a few videos, frames around their
//! first contacts with the labels, and the sound's cochleagram with every labelled contact marked.

use std::path::Path;

use super::{DataError, GreatestHits};
use crate::colour::heat;
use crate::figures::Canvas;
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
        let mut reader = VideoReader::open_with(&video.video, VideoReaderOptions { threads: 0, ..Default::default() })?;
        let (w, h) = {
            let info = reader.info();
            let scale =
                (THUMB.0 as f64 / f64::from(info.width.max(1))).min(THUMB.1 as f64 / f64::from(info.height.max(1)));
            let even = |v: f64| ((v / 2.0).floor() as u32 * 2).max(2);
            (even(f64::from(info.width) * scale), even(f64::from(info.height) * scale))
        };
        reader.set_output_size(Some((w, h)))?;
        let (dx, dy) = ((THUMB.0 - w as usize) / 2, (THUMB.1 - h as usize) / 2);
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
    Ok(sheet.save(out)?)
}
