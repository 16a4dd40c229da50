//! Training examples from a dataset in the Greatest Hits layout: per video the CNN features of
//! its frames (cached on disk, keyed by the encoder and the video's content), the cochleagram of
//! its sound on the same 90 Hz timeline, and its labelled contacts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::PredictError;
use super::align::{frames_end, step_count, step_frames};
use crate::data::{Action, Contact, Split, VideoEntry};
use crate::sound::{CochleagramParams, cochleagram_of_file};
use crate::vision::{FrameEncoder, InputSpec, RowLayout, RowParts, features, grid_values, motion_grid_of_video};

/// One video ready for training or evaluation.
#[derive(Debug, Clone)]
pub struct Example {
    pub id: String,
    pub split: Option<Split>,
    /// `frames * width` feature values.
    pub features: Vec<f32>,
    /// Presentation time of each feature row.
    pub times: Vec<f64>,
    /// `steps * bands` target values, step `i` at `i / 90` s.
    pub target: Vec<f32>,
    /// For each step, the feature row it holds.
    pub step_frame: Vec<u32>,
    /// For each step, how surely a contact lies on it: see [`contact_target`].
    pub contact_target: Vec<f32>,
    /// For each step, how near it lies to where an air swing stops short of the surface
    /// ([`VideoEntry::notes`]): see [`swing_nearness`]. All 0 in a video without them.
    pub swing_nearness: Vec<f32>,
    pub contacts: Vec<Contact>,
}

impl Example {
    #[must_use]
    pub fn steps(&self) -> usize {
        self.step_frame.len()
    }
}

/// How many labelled contacts of each material, per split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSummary {
    pub videos: BTreeMap<String, usize>,
    /// `split -> material -> contacts`.
    pub contacts: BTreeMap<String, BTreeMap<String, usize>>,
    pub hits: usize,
    pub scratches: usize,
}

impl DataSummary {
    pub fn add(&mut self, split: &str, contacts: &[Contact]) {
        *self.videos.entry(split.to_owned()).or_default() += 1;
        let per = self.contacts.entry(split.to_owned()).or_default();
        for c in contacts {
            *per.entry(c.material.clone().unwrap_or_else(|| "None".to_owned())).or_default() += 1;
            match c.action {
                Some(Action::Hit) => self.hits += 1,
                Some(Action::Scratch) => self.scratches += 1,
                _ => {}
            }
        }
    }
}

/// sha256 of a file's bytes, hex.
pub fn file_sha256(path: &Path) -> Result<String, PredictError> {
    crate::digest::file_sha256_hex(path).map_err(|source| PredictError::Io { path: path.to_owned(), source })
}

/// Where the features of `video` by the encoder with `encoder_sha256` are cached.
pub fn feature_cache_path(cache: &Path, encoder_sha256: &str, video_sha256: &str) -> PathBuf {
    cache.join("features").join(&encoder_sha256[..16.min(encoder_sha256.len())]).join(format!("{video_sha256}.npy"))
}

/// The features of `video`, from the cache or computed (and cached).
pub fn cached_features(
    video: &Path,
    encoder: &mut dyn FrameEncoder,
    cache: &Path,
    cancel: &AtomicBool,
) -> Result<(Vec<f64>, Vec<f32>), PredictError> {
    let path = feature_cache_path(cache, &encoder.spec().identity.onnx_sha256, &file_sha256(video)?);
    if let Some(cached) = read_cached_features(&path, encoder) {
        return Ok(cached);
    }
    create_parent(&path)?;
    features::write_features(video, &path, encoder, cancel, &mut |_| {})?;
    let (sidecar, rows) = features::read_features(&path)?;
    Ok((sidecar.times, rows))
}

/// The cached features at `path`, where they are whole and by this encoder.
fn read_cached_features(path: &Path, encoder: &dyn FrameEncoder) -> Option<(Vec<f64>, Vec<f32>)> {
    let (sidecar, rows) = features::read_features(path).ok()?;
    (sidecar.encoder == encoder.spec().identity).then_some((sidecar.times, rows))
}

fn create_parent(path: &Path) -> Result<(), PredictError> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|source| PredictError::Io { path: dir.to_owned(), source }),
        None => Ok(()),
    }
}

/// Where the motion grids of `side` x `side` cells of `video` at an input size are cached. The
/// grid is computed from the gray frames alone, so one file serves every encoder of that size.
pub fn motion_grid_cache_path(cache: &Path, input: &InputSpec, side: usize, video_sha256: &str) -> PathBuf {
    cache
        .join("motion-grid")
        .join(format!("v2-{}x{}-{side}x{side}", input.width, input.height))
        .join(format!("{video_sha256}.npy"))
}

fn read_cached_grid(path: &Path, side: usize) -> Option<Vec<f32>> {
    let bytes = std::fs::read(path).ok()?;
    let npy = npyz::NpyFile::new(&bytes[..]).ok()?;
    if npy.shape().get(1) != Some(&(grid_values(side) as u64)) {
        return None;
    }
    npy.into_vec::<f32>().ok()
}

fn write_grid(path: &Path, rows: &[f32], side: usize) -> Result<(), PredictError> {
    create_parent(path)?;
    let values = grid_values(side);
    crate::media::atomic::write_atomically(path, |mut file| {
        use std::io::Write as _;
        file.write_all(&features::npy_header(rows.len() / values, values))?;
        file.write_all(bytemuck::cast_slice(rows))
    })?;
    Ok(())
}

/// The features rows of `video` with its motion grids of `side` x `side` cells put between (see
/// [`with_motion_grid`]), each part from the cache or computed (and cached); where neither is
/// cached, both come from one decoding.
fn cached_features_with_grid(
    video: &Path,
    encoder: &mut dyn FrameEncoder,
    side: usize,
    cache: &Path,
    cancel: &AtomicBool,
) -> Result<(Vec<f64>, Vec<f32>), PredictError> {
    let key = file_sha256(video)?;
    let features_path = feature_cache_path(cache, &encoder.spec().identity.onnx_sha256, &key);
    let grid_path = motion_grid_cache_path(cache, &encoder.spec().manifest.input, side, &key);
    let (times, plain, grid) = match (read_cached_features(&features_path, encoder), read_cached_grid(&grid_path, side))
    {
        (Some((times, rows)), Some(grid)) => (times, rows, grid),
        (Some((times, rows)), None) => {
            let (_, grid) = motion_grid_of_video(video, &encoder.spec().manifest.input, side, cancel)?;
            write_grid(&grid_path, &grid, side)?;
            (times, rows, grid)
        }
        (None, cached_grid) => {
            create_parent(&features_path)?;
            let mut grid = Vec::new();
            let wanted = cached_grid.is_none().then_some((side, &mut grid));
            features::write_features_and_grid(video, &features_path, encoder, wanted, cancel, &mut |_| {})?;
            let (sidecar, rows) = features::read_features(&features_path)?;
            let grid = match cached_grid {
                Some(cached) => cached,
                None => {
                    write_grid(&grid_path, &grid, side)?;
                    grid
                }
            };
            (sidecar.times, rows, grid)
        }
    };
    let rows = with_motion_grid(video, &plain, times.len(), &grid, side)?;
    Ok((times, rows))
}

/// Features rows with a motion grid of `side` x `side` cells put between each row's space-time
/// and colour features.
fn with_motion_grid(
    video: &Path,
    plain: &[f32],
    frames: usize,
    grid: &[f32],
    side: usize,
) -> Result<Vec<f32>, PredictError> {
    let values = grid_values(side);
    if frames == 0 || grid.len() != frames * values || !plain.len().is_multiple_of(2 * frames) {
        return Err(PredictError::Data {
            path: video.to_owned(),
            reason: format!(
                "its motion grid has {} rows and its features {frames}; delete the cache to compute both again",
                grid.len() / values.max(1)
            ),
        });
    }
    let feature_size = plain.len() / frames / 2;
    let (cached, joined) = (RowLayout::default(), RowLayout::with_grid(side));
    let mut rows = Vec::with_capacity(plain.len() + grid.len());
    for (row, cells) in plain.chunks_exact(2 * feature_size).zip(grid.chunks_exact(values)) {
        joined.push(RowParts { grid: cells, ..cached.split(row, feature_size) }, &mut rows);
    }
    Ok(rows)
}

/// Loads one video: features (rows as `layout` says), target cochleagram on the step grid,
/// contacts.
pub fn load_example(
    entry: &VideoEntry,
    encoder: &mut dyn FrameEncoder,
    layout: RowLayout,
    cache: &Path,
    params: &CochleagramParams,
    cancel: &AtomicBool,
) -> Result<Example, PredictError> {
    let (times, features) = if layout.has_grid() {
        cached_features_with_grid(&entry.video, encoder, layout.grid_side, cache, cancel)?
    } else {
        cached_features(&entry.video, encoder, cache, cancel)?
    };
    let sound = entry.audio.as_deref().unwrap_or(&entry.video);
    let c = cochleagram_of_file(sound, params, &mut |_| {})?;
    // Step 0 of the cochleagram sits at the sound's start; shift it onto the video's step grid.
    let offset = (c.start_s * params.step_rate_hz).round() as i64;
    let bands = c.bands;
    let steps = step_count(frames_end(&times), params.step_rate_hz).min((c.steps() as i64 + offset).max(0) as usize);
    let mut target = vec![0.0f32; steps * bands];
    for i in 0..steps {
        let src = i as i64 - offset;
        if src >= 0 && (src as usize) < c.steps() {
            target[i * bands..(i + 1) * bands].copy_from_slice(c.row(src as usize));
        }
    }
    let contacts = entry.contacts()?;
    Ok(Example {
        contact_target: contact_target(&contacts, steps, params.step_rate_hz),
        swing_nearness: swing_nearness(&entry.notes()?.swings, steps, params.step_rate_hz),
        contacts,
        id: entry.id.clone(),
        split: entry.split,
        step_frame: step_frames(&times, params.step_rate_hz, 0, steps),
        features,
        times,
        target,
    })
}

/// Width of a contact's bump in the contact target, steps.
const CONTACT_SIGMA_STEPS: f64 = 1.0;

/// The contact head's target: per step, `exp(-d^2 / 2 sigma^2)` for the distance `d` in steps to
/// the nearest contact (0 beyond three sigma). A contact between two steps leaves both high, so
/// the peak of the prediction can be placed between them.
#[must_use]
pub fn contact_target(contacts: &[Contact], steps: usize, rate_hz: f64) -> Vec<f32> {
    bumps(contacts.iter().map(|c| c.time_s), steps, rate_hz, CONTACT_SIGMA_STEPS)
}

/// Width of the bump around where an air swing stops, steps: a stop is no instant like a
/// contact; the stick slows into it and recoils over a few frames.
const SWING_SIGMA_STEPS: f64 = 3.0;

/// Per step, `exp(-d^2 / 2 sigma^2)` for the distance `d` in steps to the nearest of `swings`
/// (seconds; 0 beyond three sigma): where training weighs the contact head's loss more, since a
/// swing that stops short of the surface is what a contact most looks like.
#[must_use]
pub fn swing_nearness(swings: &[f64], steps: usize, rate_hz: f64) -> Vec<f32> {
    bumps(swings.iter().copied(), steps, rate_hz, SWING_SIGMA_STEPS)
}

fn bumps(times: impl Iterator<Item = f64>, steps: usize, rate_hz: f64, sigma: f64) -> Vec<f32> {
    let mut out = vec![0.0f32; steps];
    let reach = 3.0 * sigma;
    for t in times {
        let at = t * rate_hz;
        let lo = (at - reach).ceil().max(0.0) as usize;
        let hi = ((at + reach).floor().max(-1.0) + 1.0) as usize;
        for (i, v) in out.iter_mut().enumerate().take(hi.min(steps)).skip(lo) {
            let d = (i as f64 - at) / sigma;
            *v = v.max((-0.5 * d * d).exp() as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_motion_grid_goes_between_the_space_time_and_the_colour_features() {
        // Two frames of 3 + 3 features.
        let plain = [1.0, 2.0, 3.0, 9.0, 9.0, 9.0, 4.0, 5.0, 6.0, 9.0, 9.0, 9.0];
        for side in [8, 16] {
            let values = grid_values(side);
            let grid: Vec<f32> = (0..2 * values).map(|i| -(i as f32)).collect();
            let rows = with_motion_grid(Path::new("v.mp4"), &plain, 2, &grid, side).unwrap();
            let width = 6 + values;
            assert_eq!(rows.len(), 2 * width);
            assert_eq!(&rows[..3], &[1.0, 2.0, 3.0]);
            assert_eq!(&rows[3..3 + values], &grid[..values]);
            assert_eq!(&rows[width - 3..width + 3], &[9.0, 9.0, 9.0, 4.0, 5.0, 6.0]);
            assert_eq!(&rows[width + 3..2 * width - 3], &grid[values..]);
            // A grid of another frame count, or of another size, is refused, naming the video.
            let err = with_motion_grid(Path::new("v.mp4"), &plain, 2, &grid[..values], side).unwrap_err();
            assert!(err.to_string().contains("v.mp4") && err.to_string().contains("1 rows"), "{err}");
            assert!(with_motion_grid(Path::new("v.mp4"), &plain, 2, &grid, side / 2).is_err());
        }
    }

    #[test]
    fn grids_of_each_size_are_cached_apart() {
        let input = InputSpec {
            name: "x".into(),
            width: 224,
            height: 224,
            layout: crate::vision::Layout::Nchw,
            mean: [0.5; 3],
            std: [0.25; 3],
        };
        let (coarse, fine) = (
            motion_grid_cache_path(Path::new("c"), &input, 8, "abc"),
            motion_grid_cache_path(Path::new("c"), &input, 16, "abc"),
        );
        assert_ne!(coarse, fine);
        assert!(fine.to_string_lossy().contains("16x16"), "{}", fine.display());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.npy");
        let rows: Vec<f32> = (0..3 * grid_values(8)).map(|i| i as f32).collect();
        write_grid(&path, &rows, 8).unwrap();
        assert_eq!(read_cached_grid(&path, 8), Some(rows));
        assert_eq!(read_cached_grid(&path, 16), None, "an 8 x 8 grid read as a 16 x 16 one");
    }
}
