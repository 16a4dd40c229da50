//! A video's look, what retrieval reads its material from: the encoder's features of colour
//! frames spread evenly over the video, averaged. Several frames see past the stick, hand or
//! passer-by that covers part of any one frame, and past one frame's lighting.

use std::path::Path;

use super::{FrameEncoder, ImageBatch, VisionError, colour_image};
use crate::media::{VideoReader, VideoReaderOptions};

/// The mean of the encoder's features of `frames` colour frames of `video`, at `i / frames` of
/// its duration for `i` in `0..frames` (the first is the first frame). A video with fewer frames
/// than asked gives the mean of the frames it has.
pub fn video_look(video: &Path, encoder: &mut dyn FrameEncoder, frames: usize) -> Result<Vec<f32>, VisionError> {
    let input = encoder.spec().manifest.input.clone();
    let mut reader = VideoReader::open_with(
        video,
        VideoReaderOptions { size: Some((input.width, input.height)), threads: 0, ..Default::default() },
    )?;
    let duration = reader.info().duration_s;
    let count = (reader.info().frame_count.max(1) as usize).min(frames.max(1));
    let mut batch = ImageBatch::new(input.width, input.height);
    for i in 0..count {
        let frame = if i == 0 { reader.next_frame()? } else { reader.seek(i as f64 * duration / count as f64)? };
        let frame = frame.ok_or_else(|| VisionError::NoFrames { path: video.to_owned() })?;
        batch.push_planes(&colour_image(&frame.rgb, &input));
    }
    let features = encoder.encode(&batch)?;
    let width = encoder.feature_size();
    let mut look = vec![0.0f32; width];
    for row in features.chunks_exact(width) {
        look.iter_mut().zip(row).for_each(|(l, v)| *l += v / count as f32);
    }
    Ok(look)
}

/// The encoder's features of the first frame of `video` as a colour image: what a model sees of
/// a clip's look (the last values of every features row).
pub fn first_frame_features(video: &Path, encoder: &mut dyn FrameEncoder) -> Result<Vec<f32>, VisionError> {
    video_look(video, encoder, 1)
}
