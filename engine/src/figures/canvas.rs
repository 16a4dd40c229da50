//! A picture drawn pixel by pixel (frames, cochleagram strips, ticks), with labels set in the
//! figures' font when it is saved.

use std::path::Path;

use plotters::prelude::*;

use super::{BACKGROUND, FONT_FAMILY, FigureError, draw_on, rgb, write_png};

/// Label height in pixels: fits the 12-pixel rows left for labels.
const LABEL_PX: f64 = 11.0;

pub(crate) struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
    /// Labels, drawn over the pixels when saved: (left, top, text, colour).
    labels: Vec<(usize, usize, String, [u8; 3])>,
}

impl Canvas {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Self { width, height, rgb: BACKGROUND.repeat(width * height), labels: Vec::new() }
    }

    pub(crate) fn set(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            self.rgb[i..i + 3].copy_from_slice(&colour);
        }
    }

    /// Copies an RGB picture `width` pixels wide with its top left corner at (`x0`, `y0`).
    pub(crate) fn blit(&mut self, x0: usize, y0: usize, width: usize, rgb: &[u8]) {
        for (y, row) in rgb.chunks_exact(width * 3).enumerate() {
            for (x, px) in row.chunks_exact(3).enumerate() {
                self.set(x0 + x, y0 + y, [px[0], px[1], px[2]]);
            }
        }
    }

    /// A label with its top left corner at (`x0`, `y0`).
    pub(crate) fn text(&mut self, x0: usize, y0: usize, text: &str, colour: [u8; 3]) {
        self.labels.push((x0, y0, text.to_owned(), colour));
    }

    /// Sets the labels over the pixels and writes a PNG to `path`.
    pub(crate) fn save(mut self, path: &Path) -> Result<(), FigureError> {
        let size = (self.width as u32, self.height as u32);
        let labels = std::mem::take(&mut self.labels);
        draw_on(&mut self.rgb, size, |area| {
            for (x, y, text, colour) in &labels {
                let style = (FONT_FAMILY, LABEL_PX).into_font().color(&rgb(*colour));
                area.draw_text(text, &style, (*x as i32, *y as i32))?;
            }
            Ok(())
        })
        .map_err(|reason| FigureError::Draw { path: path.to_path_buf(), reason })?;
        write_png(path, size, &self.rgb)
    }
}
