//! How fast an encoder runs: one batch encoded again and again, after a first call that warms it
//! up (the session's or the pipeline's first-run work is not timed). `foley bench encoder` and the
//! `encoder_speed` example print it.

use std::time::Instant;

use super::{FrameEncoder, ImageBatch, VisionError};

/// Images encoded and the time they took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    pub images: usize,
    pub seconds: f64,
}

impl Throughput {
    #[must_use]
    pub fn frames_per_s(&self) -> f64 {
        self.images as f64 / self.seconds
    }

    #[must_use]
    pub fn ms_per_image(&self) -> f64 {
        self.seconds * 1000.0 / self.images as f64
    }
}

/// Encodes `batch` once untimed, then enough times for at least `images` images (at least once),
/// timed; the features are read back every call, as the features job does.
pub fn time_encoder(
    encoder: &mut dyn FrameEncoder,
    batch: &ImageBatch,
    images: usize,
) -> Result<Throughput, VisionError> {
    std::hint::black_box(encoder.encode(batch)?);
    let rounds = images.div_ceil(batch.len().max(1)).max(1);
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(encoder.encode(batch)?);
    }
    Ok(Throughput { images: rounds * batch.len(), seconds: start.elapsed().as_secs_f64() })
}
