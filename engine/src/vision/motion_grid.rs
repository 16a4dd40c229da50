//! A coarse map of where a frame moves: per cell of a square grid over the space-time image (8 x
//! 8 by default), the mean change of gray level from frame t-1 to t and from t to t+1.
//!
//! The CNN's features are pooled over the whole picture, so they say little about where a small
//! stick tip moves or how abruptly it stops. A stick that strikes stops within a frame and
//! rebounds (and throws up particles or ripples where it lands); an air swing slows down
//! gradually and stops short of the surface. The map keeps that: its cells' change over time
//! shows how the motion ends and where. A model may read it beside the features
//! ([`RowLayout::motion_grid`]; the shipped model does); it costs a pass over pixels the features
//! job already holds.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{InputSpec, SpaceTime, VisionError, gray};
use crate::media::{VideoReader, VideoReaderOptions};

/// Cells across and down of the grid a model reads unless told otherwise (the shipped model's).
pub const DEFAULT_GRID_SIDE: usize = 8;

/// Values per frame of a grid of `side` x `side` cells: two changes (t-1 to t, then t to t+1)
/// per cell, cells in row order.
#[must_use]
pub const fn grid_values(side: usize) -> usize {
    2 * side * side
}
/// Changes smaller than this (gray level, 0..1) are noise and compression, not motion.
const NOISE_LEVEL: f32 = 6.0 / 255.0;

/// What a features row holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowLayout {
    /// Cells across and down of the frame's motion grid ([`grid_values`] values) between the
    /// space-time features and the colour frame's; 0 where rows hold no grid.
    pub grid_side: usize,
}

impl RowLayout {
    /// Rows with a motion grid of `side` x `side` cells.
    #[must_use]
    pub const fn with_grid(side: usize) -> Self {
        Self { grid_side: side }
    }

    /// The layout whose grid has `values` values (0: none), if a square grid has that many.
    #[must_use]
    pub fn with_grid_values(values: usize) -> Option<Self> {
        let side = (values as f64 / 2.0).sqrt().round() as usize;
        let exact = side.checked_mul(side).and_then(|cells| cells.checked_mul(2)) == Some(values);
        exact.then_some(Self { grid_side: side })
    }

    /// Whether rows hold a motion grid.
    #[must_use]
    pub const fn has_grid(self) -> bool {
        self.grid_side > 0
    }

    /// Values per row for an encoder of `feature_size` features.
    #[must_use]
    pub fn width(self, feature_size: usize) -> usize {
        2 * feature_size + self.extra()
    }

    /// What a row of this layout holds, for people (a model's `feature_layout`).
    #[must_use]
    pub fn description(self) -> String {
        if self.has_grid() {
            let side = self.grid_side;
            format!(
                "per frame: encoder features of the space-time image (grayscale t-1, t, t+1), then its {side}x{side} motion grid (mean change t-1 to t, then t to t+1, square-rooted), then the features of the first colour frame; held over the 90 Hz steps of the frame"
            )
        } else {
            "per frame: encoder features of the space-time image (grayscale t-1, t, t+1), then of the first colour frame; held over the 90 Hz steps of the frame".to_owned()
        }
    }

    /// Values between the space-time and the colour features.
    #[must_use]
    pub const fn extra(self) -> usize {
        grid_values(self.grid_side)
    }

    /// Where a row of `width` values holds the colour frame's features (the video's look): its
    /// last values, as many as the space-time features before them.
    #[must_use]
    pub fn colour_range(self, width: usize) -> std::ops::Range<usize> {
        let feature_size = width.saturating_sub(self.extra()) / 2;
        width - feature_size..width
    }

    /// Where a row of `width` values holds the space-time image's features: its first values,
    /// as many as the colour features at its end.
    #[must_use]
    pub fn space_time_range(self, width: usize) -> std::ops::Range<usize> {
        0..self.colour_range(width).len()
    }

    /// The parts of `row`, a row of this layout for an encoder of `feature_size` features.
    ///
    /// # Panics
    /// If `row` is shorter than `self.width(feature_size)`.
    #[must_use]
    pub fn split(self, row: &[f32], feature_size: usize) -> RowParts<'_> {
        let (space_time, rest) = row.split_at(feature_size);
        let (grid, colour) = rest.split_at(self.extra());
        RowParts { space_time, grid, colour: &colour[..feature_size] }
    }

    /// Appends the row made of `parts` to `out`.
    pub fn push(self, parts: RowParts<'_>, out: &mut Vec<f32>) {
        debug_assert_eq!(parts.grid.len(), self.extra(), "a motion grid that the layout does not hold");
        out.extend_from_slice(parts.space_time);
        out.extend_from_slice(parts.grid);
        out.extend_from_slice(parts.colour);
    }
}

/// The parts of one features row, in the order a [`RowLayout`] puts them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowParts<'a> {
    /// The encoder's features of the space-time image.
    pub space_time: &'a [f32],
    /// The motion grid ([`grid_values`] values), empty in a layout without one.
    pub grid: &'a [f32],
    /// The encoder's features of the video's first colour frame.
    pub colour: &'a [f32],
}

/// The motion grid of `side` x `side` cells of a space-time image (three normalised gray planes
/// of `width` x `height`, frames t-1, t, t+1, normalised as `spec` says): each cell's mean change
/// above the noise level, square-rooted so that a small moving tip stands out beside a large
/// moving arm.
#[must_use]
pub fn motion_grid(image: &[f32], width: usize, height: usize, spec: &InputSpec, side: usize) -> Vec<f32> {
    let plane = width * height;
    let mut out = vec![0.0f32; grid_values(side)];
    if plane == 0 || image.len() < 3 * plane {
        return out;
    }
    let columns: Vec<usize> = (0..width).map(|x| x * side / width).collect();
    let mut counts = vec![0u32; side * side];
    for y in 0..height {
        let row = y * side / height;
        for &column in &columns {
            counts[row * side + column] += 1;
        }
    }
    for pair in 0..2 {
        // Normalisation subtracts the same mean from both planes: only the std scales a change.
        let (a, b) = (&image[pair * plane..(pair + 1) * plane], &image[(pair + 1) * plane..(pair + 2) * plane]);
        let (std_a, std_b) = (spec.std[pair], spec.std[pair + 1]);
        let (mean_a, mean_b) = (spec.mean[pair], spec.mean[pair + 1]);
        let sums = &mut out[pair * side * side..(pair + 1) * side * side];
        for y in 0..height {
            let row = y * side / height;
            let (ra, rb) = (&a[y * width..(y + 1) * width], &b[y * width..(y + 1) * width]);
            let cells = &mut sums[row * side..(row + 1) * side];
            for ((&va, &vb), &column) in ra.iter().zip(rb).zip(&columns) {
                let d = ((vb * std_b + mean_b) - (va * std_a + mean_a)).abs();
                if d > NOISE_LEVEL {
                    cells[column] += d;
                }
            }
        }
        for (s, &n) in sums.iter_mut().zip(&counts) {
            *s = (*s / n.max(1) as f32).sqrt();
        }
    }
    out
}

/// The motion grid of `side` x `side` cells of every frame of `video`, decoded as the features
/// job decodes it: the frames' times and `times.len()` rows of [`grid_values`] values.
pub fn motion_grid_of_video(
    video: &Path,
    spec: &InputSpec,
    side: usize,
    cancel: &AtomicBool,
) -> Result<(Vec<f64>, Vec<f32>), VisionError> {
    let options = VideoReaderOptions { size: Some((spec.width, spec.height)), threads: 0, ..Default::default() };
    let mut reader = VideoReader::open_with(video, options)?;
    let (width, height) = (spec.width as usize, spec.height as usize);
    let mut space_time = SpaceTime::default();
    let (mut times, mut rows) = (Vec::new(), Vec::new());
    while let Some(frame) = reader.next_frame()? {
        if cancel.load(Ordering::Relaxed) {
            return Err(VisionError::Cancelled);
        }
        if let Some((t, image)) = space_time.push(frame.time_s, gray(&frame.rgb), spec) {
            times.push(t);
            rows.extend(motion_grid(&image, width, height, spec, side));
        }
    }
    if let Some((t, image)) = space_time.finish(spec) {
        times.push(t);
        rows.extend(motion_grid(&image, width, height, spec, side));
    }
    if times.is_empty() {
        return Err(VisionError::NoFrames { path: video.to_owned() });
    }
    Ok((times, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::{Layout, space_time_image};

    fn spec(width: u32, height: u32) -> InputSpec {
        InputSpec { name: "x".into(), width, height, layout: Layout::Nchw, mean: [0.5; 3], std: [0.25; 3] }
    }

    #[test]
    fn a_row_splits_into_the_parts_it_was_made_of() {
        let (space_time, colour) = ([1.0, 2.0, 3.0], [7.0, 8.0, 9.0]);
        let grid: Vec<f32> = (0..grid_values(8)).map(|i| -(i as f32)).collect();
        let fine: Vec<f32> = (0..grid_values(16)).map(|i| -(i as f32)).collect();
        for (layout, grid) in [
            (RowLayout::default(), &[][..]),
            (RowLayout::with_grid(8), &grid[..]),
            (RowLayout::with_grid(16), &fine[..]),
        ] {
            let parts = RowParts { space_time: &space_time, grid, colour: &colour };
            let mut row = Vec::new();
            layout.push(parts, &mut row);
            assert_eq!(row.len(), layout.width(3));
            assert_eq!(layout.split(&row, 3), parts);
            assert_eq!(&row[layout.colour_range(row.len())], &colour);
            assert_eq!(row[..3], space_time);
            assert_eq!(&row[layout.space_time_range(row.len())], &space_time);
        }
    }

    #[test]
    fn a_still_picture_has_no_motion() {
        let s = spec(16, 16);
        let frame: Vec<f32> = (0..256).map(|i| (i % 251) as f32).collect();
        let image = space_time_image(&frame, &frame, &frame, &s);
        for side in [8, 16] {
            assert!(motion_grid(&image, 16, 16, &s, side).iter().all(|&v| v == 0.0));
        }
    }

    #[test]
    fn a_change_lands_in_its_cell_and_its_pair() {
        let s = spec(16, 16);
        let before = vec![100.0f32; 256];
        let mut after = before.clone();
        // Pixel (x 13, y 2) is in cell (6, 1) of the 8 x 8 grid (2 x 2 pixels a cell).
        after[2 * 16 + 13] = 100.0 + 102.0;
        let image = space_time_image(&before, &after, &after, &s);
        let grid = motion_grid(&image, 16, 16, &s, 8);
        let cell = 8 + 6;
        // One pixel of four changed by 102/255 = 0.4: the mean is 0.1, its root about 0.316.
        assert!((grid[cell] - 0.1f32.sqrt()).abs() < 1e-4, "{}", grid[cell]);
        assert_eq!(grid.iter().filter(|&&v| v > 0.0).count(), 1, "only that cell, only t-1 to t");
        // Below the noise level nothing counts.
        let mut faint = before.clone();
        faint[0] += 5.0;
        let image = space_time_image(&before, &before, &faint, &s);
        assert!(motion_grid(&image, 16, 16, &s, 8).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_finer_grid_splits_the_same_motion_into_smaller_cells() {
        let s = spec(32, 32);
        let before: Vec<f32> = (0..32 * 32).map(|i| ((i * 37) % 200) as f32).collect();
        let after: Vec<f32> =
            before.iter().enumerate().map(|(i, v)| if i % 7 < 3 { v + 40.0 + (i % 5) as f32 } else { *v }).collect();
        let image = space_time_image(&before, &after, &before, &s);
        let (coarse, fine) = (motion_grid(&image, 32, 32, &s, 8), motion_grid(&image, 32, 32, &s, 16));
        assert_eq!((coarse.len(), fine.len()), (grid_values(8), grid_values(16)));
        assert!(coarse.iter().any(|&v| v > 0.1), "{coarse:?}");
        // Each coarse cell's mean change is the mean of its four finer cells' (values are roots).
        for pair in 0..2 {
            for (row, col) in (0..8).flat_map(|r| (0..8).map(move |c| (r, c))) {
                let fine_at = |r: usize, c: usize| fine[pair * 256 + r * 16 + c].powi(2);
                let mean = (fine_at(2 * row, 2 * col)
                    + fine_at(2 * row, 2 * col + 1)
                    + fine_at(2 * row + 1, 2 * col)
                    + fine_at(2 * row + 1, 2 * col + 1))
                    / 4.0;
                let value = coarse[pair * 64 + row * 8 + col].powi(2);
                assert!((mean - value).abs() < 1e-5, "cell ({row}, {col}) of change {pair}: {mean} and {value}");
            }
        }
    }

    #[test]
    fn a_layout_knows_its_grid_from_the_grid_s_values() {
        for side in [0, 1, 8, 16] {
            let layout = RowLayout::with_grid_values(grid_values(side)).unwrap();
            assert_eq!(layout, RowLayout::with_grid(side));
            assert_eq!(layout.extra(), grid_values(side));
            assert_eq!(layout.has_grid(), side > 0);
        }
        for values in [1, 3, 64, 100, 129, usize::MAX] {
            assert_eq!(RowLayout::with_grid_values(values), None, "{values} values make no square grid of two changes");
        }
        assert_eq!(RowLayout::with_grid(8).width(1280), 2 * 1280 + 128);
        assert!(RowLayout::with_grid(16).description().contains("16x16 motion grid"));
        assert!(!RowLayout::default().description().contains("motion grid"));
    }

    #[test]
    fn uneven_sizes_cover_every_pixel_once() {
        for (side, width, height) in [(8, 21, 13), (16, 37, 29)] {
            let s = spec(width as u32, height as u32);
            let before = vec![0.0f32; width * height];
            let after = vec![255.0f32; width * height];
            let image = space_time_image(&before, &before, &after, &s);
            let grid = motion_grid(&image, width, height, &s, side);
            let (first, second) = grid.split_at(side * side);
            assert!(first.iter().all(|&v| v == 0.0));
            assert!(second.iter().all(|&v| (v - 1.0).abs() < 1e-5), "{side}: {second:?}");
        }
    }
}
