//! The CNN's inputs (DESIGN section 1): per frame t the *space-time image*, whose three channels
//! are the grayscale frames t-1, t and t+1 (motion), and once per clip the first colour frame
//! (appearance). Both are scaled to the encoder's input size and normalised with its mean/std.
//!
//! Frames are scaled to the input size as a whole (no crop), so a contact anywhere in the
//! picture stays visible to the CNN; the aspect ratio is not kept.

use super::{InputSpec, VisionError};

/// A batch of normalised images in NCHW order (converted to the model's layout by each encoder).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBatch {
    pub width: u32,
    pub height: u32,
    /// `len() * 3 * height * width` values, image after image, channel planes in order.
    pub data: Vec<f32>,
}

impl ImageBatch {
    #[must_use]
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, data: Vec::new() }
    }

    /// Values per image.
    #[must_use]
    pub fn image_len(&self) -> usize {
        3 * self.width as usize * self.height as usize
    }

    /// Number of images.
    #[must_use]
    pub fn len(&self) -> usize {
        self.data.len() / self.image_len().max(1)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Image `i` as three planes.
    #[must_use]
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.data[i * n..(i + 1) * n]
    }

    /// Appends one image given as three planes.
    pub fn push_planes(&mut self, planes: &[f32]) {
        debug_assert_eq!(planes.len(), self.image_len());
        self.data.extend_from_slice(planes);
    }

    /// The same images in NHWC order.
    #[must_use]
    pub fn to_nhwc(&self) -> Vec<f32> {
        let plane = self.width as usize * self.height as usize;
        let mut out = Vec::with_capacity(self.data.len());
        for image in self.data.chunks_exact(3 * plane) {
            for p in 0..plane {
                out.extend([image[p], image[plane + p], image[2 * plane + p]]);
            }
        }
        out
    }

    /// Checks the batch fits an encoder's input.
    pub fn check_size(&self, spec: &InputSpec) -> Result<(), VisionError> {
        if self.width != spec.width || self.height != spec.height {
            return Err(VisionError::BatchShape {
                expected: format!("{}x{}", spec.width, spec.height),
                got: format!("{}x{}", self.width, self.height),
            });
        }
        Ok(())
    }
}

/// Luma (BT.601) of packed RGB8, 0..255.
#[must_use]
pub fn gray(rgb: &[u8]) -> Vec<f32> {
    rgb.chunks_exact(3).map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])).collect()
}

/// Normalises three 0..255 planes in place: `(x / 255 - mean[c]) / std[c]`.
pub fn normalise_planes(planes: &mut [f32], spec: &InputSpec) {
    let plane = planes.len() / 3;
    for (c, values) in planes.chunks_exact_mut(plane).enumerate() {
        let (mean, std) = (spec.mean[c], spec.std[c]);
        for v in values {
            *v = (*v / 255.0 - mean) / std;
        }
    }
}

/// The colour image of packed RGB8 at the input size, as normalised planes.
#[must_use]
pub fn colour_image(rgb: &[u8], spec: &InputSpec) -> Vec<f32> {
    let plane = rgb.len() / 3;
    let mut planes = vec![0.0; 3 * plane];
    for (p, px) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            planes[c * plane + p] = f32::from(px[c]);
        }
    }
    normalise_planes(&mut planes, spec);
    planes
}

/// The space-time image of three grayscale frames, as normalised planes.
#[must_use]
pub fn space_time_image(before: &[f32], now: &[f32], after: &[f32], spec: &InputSpec) -> Vec<f32> {
    let mut planes = Vec::with_capacity(3 * now.len());
    planes.extend_from_slice(before);
    planes.extend_from_slice(now);
    planes.extend_from_slice(after);
    normalise_planes(&mut planes, spec);
    planes
}

/// Turns a stream of grayscale frames into their space-time images, one frame late: the image of
/// frame t is ready when frame t+1 arrives, and the last one at [`SpaceTime::finish`]. The first
/// and last frames use themselves for the missing neighbour.
#[derive(Debug, Default)]
pub struct SpaceTime {
    /// The frame before the held one (None for the first frame).
    before: Option<(f64, Vec<f32>)>,
    held: Option<(f64, Vec<f32>)>,
}

impl SpaceTime {
    /// Adds frame `time_s`; returns the space-time image of the previous frame, with its time.
    pub fn push(&mut self, time_s: f64, frame: Vec<f32>, spec: &InputSpec) -> Option<(f64, Vec<f32>)> {
        let out = self.held.as_ref().map(|(t, now)| {
            let before = self.before.as_ref().map_or(now.as_slice(), |(_, b)| b.as_slice());
            (*t, space_time_image(before, now, &frame, spec))
        });
        if let Some(held) = self.held.take() {
            self.before = Some(held);
        }
        self.held = Some((time_s, frame));
        out
    }

    /// The last frame's image (its next neighbour is itself).
    pub fn finish(&mut self, spec: &InputSpec) -> Option<(f64, Vec<f32>)> {
        let (t, now) = self.held.take()?;
        let before = self.before.take().map_or_else(|| now.clone(), |(_, b)| b);
        Some((t, space_time_image(&before, &now, &now, spec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::Layout;

    fn identity_spec() -> InputSpec {
        // mean 0, std 1/255 leaves 0..255 values unchanged, so the test reads raw gray levels.
        InputSpec { name: "x".into(), width: 2, height: 1, layout: Layout::Nchw, mean: [0.0; 3], std: [1.0 / 255.0; 3] }
    }

    #[test]
    fn space_time_channels_are_previous_current_next_with_edges_replicated() {
        let spec = identity_spec();
        let mut st = SpaceTime::default();
        let frames: Vec<Vec<f32>> = (0..3).map(|i| vec![10.0 * i as f32, 10.0 * i as f32 + 1.0]).collect();
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            out.extend(st.push(i as f64 / 30.0, f.clone(), &spec));
        }
        out.extend(st.finish(&spec));
        assert_eq!(out.len(), 3);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3);
        // Frame 0: (0, 0, 1); frame 1: (0, 1, 2); frame 2: (1, 2, 2).
        assert!(close(&out[0].1, &[0.0, 1.0, 0.0, 1.0, 10.0, 11.0]), "{:?}", out[0].1);
        assert!(close(&out[1].1, &[0.0, 1.0, 10.0, 11.0, 20.0, 21.0]), "{:?}", out[1].1);
        assert!(close(&out[2].1, &[10.0, 11.0, 20.0, 21.0, 20.0, 21.0]), "{:?}", out[2].1);
        assert!((out[2].0 - 2.0 / 30.0).abs() < 1e-12);
    }

    #[test]
    fn a_single_frame_gives_one_image_of_itself() {
        let spec = identity_spec();
        let mut st = SpaceTime::default();
        assert!(st.push(0.0, vec![5.0, 6.0], &spec).is_none());
        let (t, image) = st.finish(&spec).expect("one image");
        assert_eq!(t, 0.0);
        assert!(image.chunks(2).all(|c| (c[0] - 5.0).abs() < 1e-3 && (c[1] - 6.0).abs() < 1e-3));
        assert!(st.finish(&spec).is_none());
    }

    #[test]
    fn normalisation_uses_the_mean_and_std_per_channel() {
        let spec = InputSpec { mean: [0.5, 0.25, 0.0], std: [0.5, 0.25, 1.0], ..identity_spec() };
        let planes = colour_image(&[255, 0, 51, 0, 255, 255], &spec);
        let expected = [1.0, -1.0, -1.0, 3.0, 0.2, 1.0];
        assert!(planes.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-5), "{planes:?}");
    }

    #[test]
    fn nhwc_interleaves_the_planes() {
        let mut batch = ImageBatch::new(2, 1);
        batch.push_planes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(batch.to_nhwc(), vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        assert_eq!(batch.len(), 1);
    }
}
