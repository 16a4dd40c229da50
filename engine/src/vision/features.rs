//! A video's features, pipelined: one named thread decodes frames and builds the CNN's images,
//! another encodes them in batches, and the caller receives rows as they are ready. Bounded
//! channels between the stages keep memory flat whatever the video's length, and a cancel flag
//! stops every stage at its next frame or batch.
//!
//! Row t is `[cnn(space-time image t), cnn(first colour frame)]`, at frame t's presentation time;
//! with [`RowLayout::grid_side`], `[cnn(space-time image t), motion grid t, cnn(first colour
//! frame)]` (the grid from the same image: [`super::motion_grid`]).
//! On disk: a float32 `.npy` of shape `[frames, 2 * feature_size]` and a JSON sidecar with the
//! timestamps and the encoder's identity.

use std::io::{BufWriter, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde::{Deserialize, Serialize};

use super::motion_grid::{RowLayout, RowParts, motion_grid};
use super::{EncoderIdentity, FrameEncoder, FrameMotion, ImageBatch, SpaceTime, VisionError, colour_image, gray};
use crate::media::{VideoInfo, VideoReader, VideoReaderOptions, sidecar_path};

/// Batches in flight between two stages.
const CHANNEL_DEPTH: usize = 2;

/// A batch of images with the presentation times of their frames.
struct ImagesMsg {
    times: Vec<f64>,
    images: ImageBatch,
    /// Each image's motion grid, where the rows carry one.
    grids: Vec<f32>,
    /// The first colour frame's image, sent with the first batch.
    colour: Option<Vec<f32>>,
}

impl ImagesMsg {
    fn new(input: &super::InputSpec) -> Self {
        Self { times: Vec::new(), images: ImageBatch::new(input.width, input.height), grids: Vec::new(), colour: None }
    }
}

/// Encoded rows of a batch.
struct RowsMsg {
    times: Vec<f64>,
    space_time: Vec<f32>,
    grids: Vec<f32>,
    colour: Option<Vec<f32>>,
}

/// Receives each batch's frame times and rows.
pub type RowSink<'a> = dyn FnMut(&[f64], &[f32]) -> Result<(), VisionError> + 'a;

/// How far the job is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeaturesProgress {
    pub frames_done: u64,
    /// From the container's scan; the decoded count may differ slightly for damaged files.
    pub frames_total: u64,
}

/// Everything about a finished run except the rows themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct FeaturesSummary {
    pub frames: usize,
    pub feature_size: usize,
    pub encoder: EncoderIdentity,
    pub device: String,
    /// Where things moved in each frame (for stereo placement).
    pub motion: FrameMotion,
    /// The video's facts, from opening it for the job.
    pub video: VideoInfo,
}

/// Encodes every frame of `video`, handing each batch's rows (`times`, and `times.len()` rows of
/// `layout.width(feature_size)` values) to `sink` in order.
pub fn encode_video_streaming(
    video: &Path,
    encoder: &mut dyn FrameEncoder,
    layout: RowLayout,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
    sink: &mut RowSink<'_>,
) -> Result<FeaturesSummary, VisionError> {
    encode_video_streaming_with(video, encoder, CnnDecode::default(), layout, cancel, progress, sink)
}

/// How the features job decodes. The default decodes in full: skipping H.264's loop filter
/// decodes 10-20% faster but leaves block edges that the space-time images (differences of
/// frames) amplify, changing the features far more than the encoders differ from each other
/// (`foley bench encoder` measures both), so it serves only to measure that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CnnDecode {
    pub skip_loop_filter: bool,
}

/// [`encode_video_streaming`], decoding as `decoding` says.
pub fn encode_video_streaming_with(
    video: &Path,
    encoder: &mut dyn FrameEncoder,
    decoding: CnnDecode,
    layout: RowLayout,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
    sink: &mut RowSink<'_>,
) -> Result<FeaturesSummary, VisionError> {
    let spec = encoder.spec().clone();
    let input = spec.manifest.input.clone();
    let feature_size = encoder.feature_size();
    let batch_size = encoder.preferred_batch().max(1);
    let device = encoder.device();
    let options = VideoReaderOptions {
        size: Some((input.width, input.height)),
        threads: 0,
        skip_loop_filter: decoding.skip_loop_filter,
    };
    let reader = VideoReader::open_with(video, options)?;
    let video_info = reader.info().clone();
    let frames_total = video_info.frame_count;

    let (image_tx, image_rx) = sync_channel::<ImagesMsg>(CHANNEL_DEPTH);
    let (rows_tx, rows_rx) = sync_channel::<Result<RowsMsg, VisionError>>(CHANNEL_DEPTH);
    std::thread::scope(|scope| {
        let decode = std::thread::Builder::new()
            .name("foley-decode".into())
            .spawn_scoped(scope, move || decode_stage(reader, &input, batch_size, layout, cancel, &image_tx));
        let encode = std::thread::Builder::new()
            .name("foley-encode".into())
            .spawn_scoped(scope, move || encode_stage(encoder, image_rx, &rows_tx, cancel));
        let (decode, encode) = match (decode, encode) {
            (Ok(d), Ok(e)) => (d, e),
            (Err(e), _) | (_, Err(e)) => {
                cancel.store(true, Ordering::Relaxed);
                return Err(VisionError::Io { path: video.to_owned(), source: e });
            }
        };
        let collected = collect(rows_rx, feature_size, layout, frames_total, cancel, progress, sink);
        if collected.is_err() {
            // Stop the other stages; they exit at their next send or frame.
            cancel.store(true, Ordering::Relaxed);
        }
        let decoded = decode.join().map_err(|_| VisionError::Gpu("the decoding thread panicked".to_owned()))?;
        encode.join().map_err(|_| VisionError::Gpu("the encoding thread panicked".to_owned()))?;
        let frames = collected?;
        let motion = decoded?;
        if cancel.load(Ordering::Relaxed) {
            return Err(VisionError::Cancelled);
        }
        if frames == 0 {
            return Err(VisionError::NoFrames { path: video.to_owned() });
        }
        Ok(FeaturesSummary { frames, feature_size, encoder: spec.identity.clone(), device, motion, video: video_info })
    })
}

fn decode_stage(
    mut reader: VideoReader,
    input: &super::InputSpec,
    batch_size: usize,
    layout: RowLayout,
    cancel: &AtomicBool,
    out: &SyncSender<ImagesMsg>,
) -> Result<FrameMotion, VisionError> {
    let mut space_time = SpaceTime::default();
    let mut motion = FrameMotion::default();
    let mut colour = None;
    let mut first = true;
    let mut pending = ImagesMsg::new(input);
    let send = |msg: &mut ImagesMsg, flush: bool| -> bool {
        if msg.times.len() >= batch_size || (flush && !msg.times.is_empty()) {
            let full = std::mem::replace(msg, ImagesMsg::new(input));
            return out.send(full).is_ok();
        }
        true
    };
    let (width, height) = (input.width as usize, input.height as usize);
    let add = |msg: &mut ImagesMsg, t: f64, image: &[f32]| {
        msg.times.push(t);
        msg.images.push_planes(image);
        if layout.has_grid() {
            msg.grids.extend(motion_grid(image, width, height, input, layout.grid_side));
        }
    };
    while let Some(frame) = reader.next_frame()? {
        if cancel.load(Ordering::Relaxed) {
            return Ok(motion.finish());
        }
        if colour.is_none() {
            colour = Some(colour_image(&frame.rgb, input));
        }
        let gray = gray(&frame.rgb);
        motion.push(frame.time_s, &gray, input.width as usize);
        if let Some((t, image)) = space_time.push(frame.time_s, gray, input) {
            if first {
                pending.colour = colour.take();
                first = false;
            }
            add(&mut pending, t, &image);
            if !send(&mut pending, false) {
                return Ok(motion.finish());
            }
        }
    }
    if let Some((t, image)) = space_time.finish(input) {
        if first {
            pending.colour = colour.take();
        }
        add(&mut pending, t, &image);
    }
    send(&mut pending, true);
    Ok(motion.finish())
}

fn encode_stage(
    encoder: &mut dyn FrameEncoder,
    images: Receiver<ImagesMsg>,
    out: &SyncSender<Result<RowsMsg, VisionError>>,
    cancel: &AtomicBool,
) {
    for msg in images {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let colour = match &msg.colour {
            Some(planes) => {
                let mut batch = ImageBatch::new(msg.images.width, msg.images.height);
                batch.push_planes(planes);
                match encoder.encode(&batch) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        let _ = out.send(Err(e));
                        return;
                    }
                }
            }
            None => None,
        };
        let result = encoder.encode(&msg.images).map(|space_time| RowsMsg {
            times: msg.times,
            space_time,
            grids: msg.grids,
            colour,
        });
        let failed = result.is_err();
        if out.send(result).is_err() || failed {
            return;
        }
    }
}

fn collect(
    rows: Receiver<Result<RowsMsg, VisionError>>,
    feature_size: usize,
    layout: RowLayout,
    frames_total: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
    sink: &mut RowSink<'_>,
) -> Result<usize, VisionError> {
    let mut colour: Option<Vec<f32>> = None;
    let mut frames = 0usize;
    for msg in rows {
        let msg = msg?;
        if colour.is_none() {
            colour = msg.colour;
        }
        let colour =
            colour.as_deref().ok_or_else(|| VisionError::Gpu("the colour frame was not encoded".to_owned()))?;
        let grid_len = layout.extra();
        let mut block = Vec::with_capacity(msg.times.len() * layout.width(feature_size));
        for (i, space_time) in msg.space_time.chunks_exact(feature_size).enumerate() {
            let grid = &msg.grids[i * grid_len..(i + 1) * grid_len];
            layout.push(RowParts { space_time, grid, colour }, &mut block);
        }
        sink(&msg.times, &block)?;
        frames += msg.times.len();
        progress(FeaturesProgress { frames_done: frames as u64, frames_total: frames_total.max(frames as u64) });
        if cancel.load(Ordering::Relaxed) {
            return Err(VisionError::Cancelled);
        }
    }
    Ok(frames)
}

/// A video's features in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFeatures {
    /// Presentation time of each row's frame, seconds.
    pub times: Vec<f64>,
    /// `times.len()` rows of `layout.width(feature_size)` values.
    pub rows: Vec<f32>,
    pub feature_size: usize,
    /// What a row holds beside the two images' features.
    pub layout: RowLayout,
    pub encoder: EncoderIdentity,
}

impl VideoFeatures {
    /// Values per row.
    #[must_use]
    pub fn width(&self) -> usize {
        self.layout.width(self.feature_size)
    }

    /// Row `i`.
    #[must_use]
    pub fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * self.width()..(i + 1) * self.width()]
    }
}

/// Encodes every frame of `video` into memory.
pub fn encode_video(
    video: &Path,
    encoder: &mut dyn FrameEncoder,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<VideoFeatures, VisionError> {
    encode_video_as(video, encoder, RowLayout::default(), cancel, progress)
}

/// Encodes every frame of `video` into memory, its rows laid out as `layout` says (a model's
/// `ModelConfig::layout`, for one that reads motion grids).
pub fn encode_video_as(
    video: &Path,
    encoder: &mut dyn FrameEncoder,
    layout: RowLayout,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<VideoFeatures, VisionError> {
    let mut times = Vec::new();
    let mut rows = Vec::new();
    let summary = encode_video_streaming(video, encoder, layout, cancel, progress, &mut |t, r| {
        times.extend_from_slice(t);
        rows.extend_from_slice(r);
        Ok(())
    })?;
    Ok(VideoFeatures { times, rows, feature_size: summary.feature_size, layout, encoder: summary.encoder })
}

/// The JSON written beside a features `.npy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturesSidecar {
    /// Always `"foley-features"`.
    pub format: String,
    pub version: u32,
    pub video: String,
    pub frames: usize,
    /// Columns `0..feature_size` are the space-time image's features, the rest the first colour
    /// frame's.
    pub feature_size: usize,
    pub encoder: EncoderIdentity,
    /// Where the encoder ran.
    pub device: String,
    /// Presentation time of each row's frame, seconds.
    pub times: Vec<f64>,
}

/// Bytes reserved for the `.npy` header, so it can be rewritten with the final row count.
const NPY_HEADER_LEN: usize = 128;

pub(crate) fn npy_header(rows: usize, cols: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    let len = NPY_HEADER_LEN - 10;
    header.extend_from_slice(&u16::try_from(len).unwrap_or(0).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.resize(NPY_HEADER_LEN - 1, b' ');
    header.push(b'\n');
    header
}

/// Encodes `video` and writes `out` (`.npy`) and its sidecar, each complete or not at all. Rows
/// are written as they arrive, so memory does not grow with the video.
pub fn write_features(
    video: &Path,
    out: &Path,
    encoder: &mut dyn FrameEncoder,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<FeaturesSummary, VisionError> {
    write_features_and_grid(video, out, encoder, None, cancel, progress)
}

/// [`write_features`], and where `grid` is given (`side`, rows), each frame's motion grid of
/// `side` x `side` cells ([`grid_values`](super::grid_values) values) appended to its rows from
/// the same decoding: what training a motion-grid model on an empty cache needs, in one pass.
pub fn write_features_and_grid(
    video: &Path,
    out: &Path,
    encoder: &mut dyn FrameEncoder,
    mut grid: Option<(usize, &mut Vec<f32>)>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(FeaturesProgress),
) -> Result<FeaturesSummary, VisionError> {
    let io = |source| VisionError::Io { path: out.to_owned(), source };
    let (pending, file) = crate::media::atomic::PendingFile::beside(out)?;
    let mut writer = BufWriter::new(file);
    let feature_size = encoder.feature_size();
    let cols = 2 * feature_size;
    writer.write_all(&npy_header(0, cols)).map_err(io)?;
    let mut times = Vec::new();
    let layout = grid.as_ref().map_or_else(RowLayout::default, |(side, _)| RowLayout::with_grid(*side));
    let width = layout.width(feature_size);
    let summary = encode_video_streaming(video, encoder, layout, cancel, progress, &mut |t, rows| {
        times.extend_from_slice(t);
        match grid.as_mut() {
            None => writer.write_all(bytemuck::cast_slice(rows)).map_err(io),
            Some((_, grid)) => {
                for row in rows.chunks_exact(width) {
                    let parts = layout.split(row, feature_size);
                    grid.extend_from_slice(parts.grid);
                    writer.write_all(bytemuck::cast_slice(parts.space_time)).map_err(io)?;
                    writer.write_all(bytemuck::cast_slice(parts.colour)).map_err(io)?;
                }
                Ok(())
            }
        }
    })?;
    let mut file = writer.into_inner().map_err(|e| io(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(&npy_header(summary.frames, cols)).map_err(io)?;
    drop(file);
    let sidecar = FeaturesSidecar {
        format: "foley-features".to_owned(),
        version: 1,
        video: video.display().to_string(),
        frames: summary.frames,
        feature_size: summary.feature_size,
        encoder: summary.encoder.clone(),
        device: summary.device.clone(),
        times,
    };
    let json = serde_json::to_vec_pretty(&sidecar).map_err(|e| io(e.into()))?;
    let sidecar_out = sidecar_path(out);
    let (sidecar_pending, mut sidecar_file) = crate::media::atomic::PendingFile::beside(&sidecar_out)?;
    sidecar_file.write_all(&json).map_err(|source| VisionError::Io { path: sidecar_out.clone(), source })?;
    drop(sidecar_file);
    crate::media::atomic::commit_pair(pending, sidecar_pending)?;
    Ok(summary)
}

/// Reads a features `.npy` and its sidecar.
pub fn read_features(path: &Path) -> Result<(FeaturesSidecar, Vec<f32>), VisionError> {
    let io = |source| VisionError::Io { path: path.to_owned(), source };
    let sidecar_file = sidecar_path(path);
    let text = std::fs::read_to_string(&sidecar_file)
        .map_err(|source| VisionError::Io { path: sidecar_file.clone(), source })?;
    let sidecar: FeaturesSidecar = serde_json::from_str(&text)
        .map_err(|e| VisionError::Manifest { path: sidecar_file.clone(), reason: e.to_string() })?;
    let bytes = std::fs::read(path).map_err(io)?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(io)?;
    let shape = npy.shape().to_vec();
    let data: Vec<f32> = npy.into_vec().map_err(io)?;
    if shape != [sidecar.frames as u64, 2 * sidecar.feature_size as u64] {
        return Err(VisionError::Manifest {
            path: path.to_owned(),
            reason: format!("shape {shape:?} does not match its sidecar ({} frames)", sidecar.frames),
        });
    }
    Ok((sidecar, data))
}
