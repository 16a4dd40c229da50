//! Figures for people to look at, written as PNG files: charts drawn with plotters (a real font,
//! axes with ticks and units, legends) for the loss curve, the evaluation and the study report,
//! and a pixel `Canvas` for pictures a chart library does not fit (contact sheets, cochleagram
//! strips). Both draw into an RGB buffer that `png` encodes through a temporary file.

mod canvas;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea as _};
use plotters::style::{FontStyle, IntoFont as _, RGBColor, TextStyle};

pub(crate) use canvas::Canvas;

use crate::media::MediaError;

/// The font every figure's text is set in (see `assets/README.md`), registered as plotters'
/// `sans-serif` so that no system font is looked for.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The family name charts ask for.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// The background of every figure: the app's dark grey.
pub(crate) const BACKGROUND: [u8; 3] = [24, 24, 24];

#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("{}: cannot draw the figure: {reason}", path.display())]
    Draw { path: PathBuf, reason: String },
    #[error(transparent)]
    Media(#[from] MediaError),
}

/// A drawing area over a figure's pixels.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// What a chart's drawing code returns: plotters' own errors, boxed.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the built-in font cannot be read".to_owned())
        })
        .clone()
}

/// Runs `draw` on `rgb` (`width x height`, 3 bytes a pixel) as a plotters drawing area.
pub(crate) fn draw_on(
    rgb: &mut [u8],
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<(), String> {
    register_font()?;
    let backend = BitMapBackend::with_buffer_and_format(rgb, (width, height)).map_err(|e| e.to_string())?;
    let area = backend.into_drawing_area();
    draw(&area).map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// Draws a `width x height` chart on the figures' background with `draw` and writes it to `path`.
pub(crate) fn chart_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<(), FigureError> {
    let mut rgb = BACKGROUND.repeat(width as usize * height as usize);
    draw_on(&mut rgb, (width, height), draw)
        .map_err(|reason| FigureError::Draw { path: path.to_path_buf(), reason })?;
    write_png(path, (width, height), &rgb)
}

/// Writes RGB pixels as a PNG through a temporary file beside `path`.
pub(crate) fn write_png(path: &Path, (width, height): (u32, u32), rgb: &[u8]) -> Result<(), FigureError> {
    crate::media::write_atomically(path, |file| {
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
        writer.write_image_data(rgb).map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)
    })?;
    Ok(())
}

/// A colour as plotters takes it.
pub(crate) fn rgb([r, g, b]: [u8; 3]) -> plotters::style::RGBColor {
    plotters::style::RGBColor(r, g, b)
}

/// Light text and axes on the dark background.
pub(crate) const INK: [u8; 3] = [225, 225, 225];

/// Text in the figures' font at `size` pixels, in `colour`.
pub(crate) fn font(size: u32, colour: [u8; 3]) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&rgb(colour))
}

/// A chart's title, above its plot area.
pub(crate) fn caption_font() -> TextStyle<'static> {
    font(20, INK)
}

/// The figures' look for a chart's axes: light axes, labels and descriptions, a dim grid.
pub(crate) fn dark_mesh<X: Ranged, Y: Ranged, DB: DrawingBackend>(mesh: &mut MeshStyle<'_, '_, X, Y, DB>) {
    mesh.axis_style(rgb(INK))
        .label_style(font(13, INK))
        .axis_desc_style(font(14, INK))
        .light_line_style(RGBColor(40, 40, 40))
        .bold_line_style(RGBColor(60, 60, 60));
}

/// Series colours, told apart by people with the common colour blindnesses (Okabe and Ito).
pub(crate) const PALETTE: [[u8; 3]; 7] =
    [[230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167]];

/// A PNG's size and RGB pixels, for tests that look at a figure.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn read_png(path: &Path) -> ((u32, u32), Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    ((info.width, info.height), buf)
}

/// How many pixels of each row of an RGB picture `width` wide are exactly `colour`.
#[cfg(test)]
pub(crate) fn pixels_per_row(rgb: &[u8], width: u32, colour: [u8; 3]) -> Vec<usize> {
    rgb.chunks_exact(width as usize * 3).map(|row| row.chunks_exact(3).filter(|p| **p == colour).count()).collect()
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    use super::*;

    #[test]
    fn a_chart_is_a_png_of_its_size_with_text_in_the_built_in_font() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.png");
        chart_png(&path, (200, 100), |area| {
            area.draw_text("loss 0.5", &(FONT_FAMILY, 20).into_font().color(&rgb(INK)), (10, 10))?;
            Ok(())
        })
        .unwrap();
        let (size, pixels) = read_png(&path);
        assert_eq!(size, (200, 100));
        // The text drew light pixels, anti-aliased (grey levels between ink and background).
        let lit = pixels.chunks_exact(3).filter(|p| p[0] > 150).count();
        let grey = pixels.chunks_exact(3).filter(|p| p[0] > 40 && p[0] < 150).count();
        assert!(lit > 50 && grey > 20, "{lit} lit, {grey} anti-aliased");
        let files: Vec<_> = dir.path().read_dir().unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(files, ["chart.png"], "only the figure, no temporary file");
    }
}
