//! Streaming video decoding to RGB8 frames with presentation timestamps.

use std::path::{Path, PathBuf};

use ffmpeg_next::codec::threading;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::format::context::Input;
use ffmpeg_next::software::scaling;
use ffmpeg_next::{Discard, Rational, codec, decoder, frame, media};
use serde::Serialize;

use super::MediaError;
use super::input::{self, seconds, stream_start};
use super::scan::scan_video;

/// What a video stream is, as read from its container and a scan of its packet timestamps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoInfo {
    /// Width in pixels of the picture as displayed: the coded width, or the coded height where
    /// the display rotation is a quarter turn. Frames are delivered upright.
    pub width: u32,
    /// Height in pixels of the picture as displayed.
    pub height: u32,
    /// Average frame rate (frames per second).
    pub fps: f64,
    /// Whether the frame intervals vary (more than timestamp rounding explains).
    pub variable_rate: bool,
    /// Seconds from the first frame's timestamp to the end of the last frame.
    pub duration_s: f64,
    /// Number of frames in the stream.
    pub frame_count: u64,
    /// Clockwise rotation in degrees (0, 90, 180 or 270) the frames need for upright display.
    pub rotation_deg: u32,
    /// The codec's short name, e.g. `h264`.
    pub codec: String,
    /// Where the video stream's first frame sits on the container's clock, in seconds.
    pub container_start_s: f64,
    /// The SMPTE timecode of the first frame (`HH:MM:SS:FF`), where the file has one.
    pub timecode: Option<String>,
}

impl VideoInfo {
    /// Where the video starts on an editor's timeline, in seconds from midnight: its timecode
    /// where it has one, else its first frame's time on the container's clock.
    #[must_use]
    pub fn start_on_timeline_s(&self) -> f64 {
        self.timecode
            .as_deref()
            .and_then(|tc| crate::timeline::timecode_seconds(tc, self.fps))
            .unwrap_or(self.container_start_s.max(0.0))
    }
}

/// One decoded frame as tightly packed RGB8 rows.
#[derive(Clone, PartialEq)]
pub struct VideoFrame {
    /// Presentation time in seconds on the video's timeline (the first frame is at 0).
    pub time_s: f64,
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes, row after row, no padding.
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoFrame")
            .field("time_s", &self.time_s)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

/// How a [`VideoReader`] delivers frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoReaderOptions {
    /// Scale every frame to this `(width, height)`; `None` keeps the coded size.
    pub size: Option<(u32, u32)>,
    /// Decoder threads; 0 lets FFmpeg choose (one per core).
    pub threads: usize,
    /// Skip the codec's deblocking (loop) filter: cheaper decoding, slightly blockier pictures.
    /// For analysis at a small size only (e.g. the CNN's input); never for what people see.
    pub skip_loop_filter: bool,
}

/// Streams the frames of a video file's main video stream, in presentation order.
///
/// Memory does not grow with the video's length: frames are decoded on demand and only the
/// decoder's own reference frames are held.
pub struct VideoReader {
    path: PathBuf,
    input: Input,
    decoder: decoder::Video,
    stream_index: usize,
    time_base: Rational,
    /// The stream's first timestamp (time base units): time 0 on the video's timeline.
    origin: i64,
    info: VideoInfo,
    options: VideoReaderOptions,
    scaler: Option<ScalerFor>,
    /// A decoded frame that belongs after the one last returned (left over from a seek).
    pending: Option<(f64, frame::Video)>,
    eof_sent: bool,
    finished: bool,
    /// Time of the frame last returned.
    position_s: Option<f64>,
    /// While a seek decodes its way to a target (stream ticks), frames wholly before it that no
    /// other frame refers to are dropped unseen (most B-frames): seeking then costs less.
    catch_up_to: Option<i64>,
    /// The longest interval between consecutive frames, in stream ticks (from the packet scan).
    max_interval: i64,
    /// The shortest interval between consecutive frames, in stream ticks (at least 1): the step
    /// from a frame to the next when the decoder gives the next no usable timestamp.
    frame_step: i64,
    /// Timestamp (stream ticks) of the frame last decoded since the last seek.
    last_ts: Option<i64>,
    /// Whether the first frame was decoded and `origin` set from it. Time 0 is the first frame
    /// shown: where the container stores presentation times that is the scan's first timestamp,
    /// but where times are guessed from decode order (AVI with B-frames) the decoder reports the
    /// first frame a reorder delay late, and that frame's time becomes the origin instead, so the
    /// picture is not shifted. Settled at the first decode, not at open: reading the stream's
    /// description alone decodes nothing.
    origin_settled: bool,
}

/// A seek at most this far ahead of the frame last returned decodes forward from there instead
/// of going back to a key frame: scrubbing forward then costs only the frames in between.
const FORWARD_DECODE_S: f64 = 2.0;

impl std::fmt::Debug for VideoReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoReader").field("path", &self.path).field("info", &self.info).finish_non_exhaustive()
    }
}

struct ScalerFor {
    context: scaling::Context,
    source: (Pixel, u32, u32),
}

// SAFETY: an SwsContext has no thread affinity; it is owned by one reader and used by one thread
// at a time (`&mut self`), so moving it to another thread is sound. The FFmpeg wrapper only lacks
// the marker because it holds a raw pointer.
unsafe impl Send for ScalerFor {}

impl VideoReader {
    /// Opens the main video stream of `path`, delivering frames at their coded size.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MediaError> {
        Self::open_with(path, VideoReaderOptions::default())
    }

    /// Opens the main video stream of `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: VideoReaderOptions) -> Result<Self, MediaError> {
        let path = path.as_ref();
        if let Some((w, h)) = options.size
            && (w == 0 || h == 0 || w > 16_384 || h > 16_384)
        {
            return Err(MediaError::InvalidArgument(format!("frame size {w}x{h} is out of range")));
        }
        let scan = scan_video(path)?;
        let input = input::open(path)?;
        let stream = input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| MediaError::NoVideoStream { path: path.to_path_buf() })?;
        let stream_index = stream.index();
        let time_base = stream.time_base();
        let mut context = codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| MediaError::codec(path, "cannot read the video stream's parameters", e))?;
        context.set_threading(threading::Config {
            kind: threading::Type::Frame,
            count: options.threads,
            ..Default::default()
        });
        let mut decoder = context
            .decoder()
            .video()
            .map_err(|e| MediaError::codec(path, "cannot open a decoder for the video stream", e))?;
        if options.skip_loop_filter {
            decoder.skip_loop_filter(Discard::All);
        }
        let origin = scan.first_pts;
        let rotation_deg = rotation_of(&stream);
        let (width, height) = if rotation_deg % 180 == 90 {
            (decoder.height(), decoder.width())
        } else {
            (decoder.width(), decoder.height())
        };
        let info = VideoInfo {
            width,
            height,
            fps: scan.average_fps(&[stream.avg_frame_rate(), stream.rate()]),
            variable_rate: scan.is_variable(),
            duration_s: seconds(scan.span_ticks(), time_base),
            frame_count: scan.count,
            rotation_deg,
            codec: decoder.id().name().to_owned(),
            container_start_s: seconds(stream_start(&stream).unwrap_or(origin), time_base),
            timecode: timecode_of(&input, &stream),
        };
        Ok(Self {
            path: path.to_path_buf(),
            input,
            decoder,
            stream_index,
            time_base,
            origin,
            info,
            options,
            scaler: None,
            pending: None,
            eof_sent: false,
            finished: false,
            position_s: None,
            catch_up_to: None,
            max_interval: scan.max_interval,
            frame_step: scan.min_interval.max(1),
            last_ts: None,
            origin_settled: false,
        })
    }

    /// Decodes the first frame, if none was yet, so that the origin is known (a seek needs it);
    /// the frame is kept for the next read.
    fn settle_origin(&mut self) -> Result<(), MediaError> {
        if !self.origin_settled
            && let Some(first) = self.next_decoded()?
        {
            self.pending = Some(first);
        }
        Ok(())
    }

    /// The stream's description.
    #[must_use]
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The file being read.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Scales the frames delivered from now on to `size` (`None`: the coded size), e.g. once the
    /// coded size is known from [`info`](Self::info).
    pub fn set_output_size(&mut self, size: Option<(u32, u32)>) -> Result<(), MediaError> {
        if let Some((w, h)) = size
            && (w == 0 || h == 0 || w > 16_384 || h > 16_384)
        {
            return Err(MediaError::InvalidArgument(format!("frame size {w}x{h} is out of range")));
        }
        self.options.size = size;
        self.scaler = None;
        Ok(())
    }

    /// Size of the frames this reader delivers.
    #[must_use]
    pub fn output_size(&self) -> (u32, u32) {
        self.options.size.unwrap_or((self.info.width, self.info.height))
    }

    /// The next frame in presentation order, or `None` after the last one.
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame>, MediaError> {
        match self.next_decoded()? {
            Some((t, raw)) => {
                self.position_s = Some(t);
                self.convert(t, &raw).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Iterates over the remaining frames.
    pub fn frames(&mut self) -> impl Iterator<Item = Result<VideoFrame, MediaError>> + '_ {
        std::iter::from_fn(move || self.next_frame().transpose())
    }

    /// Seeks to `time_s` on the video's timeline and returns the frame on screen at that time: the
    /// last frame whose timestamp is at or before it (or the first frame, for a time before it).
    /// Reading continues with the frame after the one returned.
    pub fn seek(&mut self, time_s: f64) -> Result<Option<VideoFrame>, MediaError> {
        if !time_s.is_finite() {
            return Err(MediaError::InvalidArgument(format!("seek time {time_s} is not a finite number")));
        }
        // A frame counts as "at" the time if it is within a microsecond: timestamps that went
        // through a decimal representation must still land on their own frame.
        let target = time_s + 1e-6;
        self.settle_origin()?;
        let target_ts = self.origin as f64
            + target * f64::from(self.time_base.denominator()) / f64::from(self.time_base.numerator());
        self.catch_up_to = Some(target_ts.floor() as i64);
        if self.position_s.is_some_and(|p| target > p && target - p <= FORWARD_DECODE_S) && !self.finished {
            let mut shown = None;
            while let Some((t, raw)) = self.next_decoded()? {
                if t <= target {
                    shown = Some((t, raw));
                } else {
                    self.pending = Some((t, raw));
                    break;
                }
            }
            if let Some((t, raw)) = shown {
                self.position_s = Some(t);
                return self.convert(t, &raw).map(Some);
            }
            // The frame already returned is still the one on screen: seek back to it below.
        }
        // avformat_seek_file takes AV_TIME_BASE units when no stream is named.
        let av_ts = (seconds(target_ts as i64, self.time_base) * f64::from(ffmpeg_next::ffi::AV_TIME_BASE)) as i64;
        if self.input.seek(av_ts, ..av_ts).is_err() {
            // Before the first key frame, or a container that cannot seek backwards by time:
            // restart from the beginning and decode forward.
            self.input
                .seek(i64::MIN, ..)
                .map_err(|e| MediaError::codec(&self.path, format!("cannot seek to {time_s:.3} s"), e))?;
        }
        self.decoder.flush();
        self.last_ts = None;
        self.pending = None;
        self.eof_sent = false;
        self.finished = false;

        let mut shown: Option<(f64, frame::Video)> = None;
        while let Some((t, raw)) = self.next_decoded()? {
            if t <= target {
                shown = Some((t, raw));
            } else if shown.is_none() {
                // The time is before the first frame: that first frame is what is on screen.
                shown = Some((t, raw));
                break;
            } else {
                self.pending = Some((t, raw));
                break;
            }
        }
        match shown {
            Some((t, raw)) => {
                self.position_s = Some(t);
                self.convert(t, &raw).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Decodes the next frame without converting it, with its time in seconds.
    fn next_decoded(&mut self) -> Result<Option<(f64, frame::Video)>, MediaError> {
        if let Some(pending) = self.pending.take() {
            return Ok(Some(pending));
        }
        if self.finished {
            return Ok(None);
        }
        let mut raw = frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut raw) {
                Ok(()) => {
                    let ts = next_timestamp(raw.timestamp().or(raw.pts()), self.last_ts, self.frame_step, self.origin);
                    if !self.origin_settled {
                        self.origin = ts;
                        self.origin_settled = true;
                    }
                    self.last_ts = Some(ts);
                    return Ok(Some((seconds(ts - self.origin, self.time_base), raw)));
                }
                Err(ffmpeg_next::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ffmpeg_next::Error::Other { errno: ffmpeg_next::util::error::EAGAIN }) => {}
                Err(e) => {
                    return Err(MediaError::Damaged {
                        path: self.path.clone(),
                        detail: format!("decoding failed: {e}"),
                    });
                }
            }
            if self.eof_sent {
                self.finished = true;
                return Ok(None);
            }
            self.feed_packet()?;
        }
    }

    fn feed_packet(&mut self) -> Result<(), MediaError> {
        let (catch_up_to, max_interval) = (self.catch_up_to, self.max_interval);
        input::feed_decoder(
            &mut self.input,
            self.stream_index,
            &mut self.decoder,
            &mut self.eof_sent,
            &self.path,
            |packet, decoder| {
                // The next frame starts at most `max_interval` after this one; when that is
                // still at or before the seek's target, this frame is never on screen and,
                // unless others refer to it, need not be decoded at all.
                let passed_over =
                    catch_up_to.zip(packet.pts()).is_some_and(|(to, pts)| max_interval > 0 && pts + max_interval <= to);
                decoder.skip_frame(if passed_over { Discard::NonReference } else { Discard::Default });
            },
        )
    }

    fn convert(&mut self, time_s: f64, raw: &frame::Video) -> Result<VideoFrame, MediaError> {
        let (out_w, out_h) = self.output_size();
        let rotation = self.info.rotation_deg;
        // Scaled in the coded orientation, then turned upright.
        let (scaled_w, scaled_h) = if rotation % 180 == 90 { (out_h, out_w) } else { (out_w, out_h) };
        let source = (raw.format(), raw.width(), raw.height());
        if self.scaler.as_ref().is_none_or(|s| s.source != source) {
            let context = scaling::Context::get(
                source.0,
                source.1,
                source.2,
                Pixel::RGB24,
                scaled_w,
                scaled_h,
                scaling::Flags::BILINEAR,
            )
            .map_err(|e| MediaError::codec(&self.path, format!("cannot convert {:?} frames to RGB", source.0), e))?;
            self.scaler = Some(ScalerFor { context, source });
        }
        let Some(scaler) = self.scaler.as_mut() else { unreachable!("scaler was just created") };
        let mut rgb_frame = frame::Video::empty();
        scaler
            .context
            .run(raw, &mut rgb_frame)
            .map_err(|e| MediaError::codec(&self.path, "cannot convert a frame to RGB", e))?;
        let coded = packed_rows(&rgb_frame, scaled_w as usize * 3, scaled_h as usize);
        Ok(VideoFrame {
            time_s,
            width: out_w,
            height: out_h,
            rgb: turned_clockwise(coded, scaled_w as usize, scaled_h as usize, rotation),
        })
    }
}

/// Packed RGB rows of a `w` x `h` picture turned clockwise by `degrees` (0, 90, 180 or 270).
fn turned_clockwise(rgb: Vec<u8>, w: usize, h: usize, degrees: u32) -> Vec<u8> {
    if degrees == 0 {
        return rgb;
    }
    let mut out = vec![0_u8; rgb.len()];
    for y in 0..h {
        for x in 0..w {
            // Clockwise by 90, (x, y) lands at (h-1-y, x) of an h-wide picture; by 180 at
            // (w-1-x, h-1-y); by 270 at (y, w-1-x) of an h-wide picture.
            let to = match degrees {
                90 => x * h + (h - 1 - y),
                180 => (h - 1 - y) * w + (w - 1 - x),
                _ => (w - 1 - x) * h + y,
            };
            out[to * 3..to * 3 + 3].copy_from_slice(&rgb[(y * w + x) * 3..(y * w + x) * 3 + 3]);
        }
    }
    out
}

/// The timestamp of a decoded frame: FFmpeg's best-effort one when it follows the previous
/// frame's, else one frame period after the previous frame. Files with packed B-frames (DivX-style
/// AVI) leave most frames without a PTS and the last one flushed out of the decoder without any
/// timestamp; counting on from the previous frame keeps such a video's frames in order and its
/// length right. Without a previous frame, a frame lacking a timestamp starts the video.
fn next_timestamp(decoded: Option<i64>, previous: Option<i64>, step: i64, origin: i64) -> i64 {
    match (decoded, previous) {
        (Some(ts), Some(prev)) if ts > prev => ts,
        (Some(ts), None) => ts,
        (_, Some(prev)) => prev + step,
        (None, None) => origin,
    }
}

/// Copies the rows of plane 0, dropping the padding FFmpeg adds when the stride exceeds the row.
pub(super) fn packed_rows(frame: &frame::Video, row_bytes: usize, rows: usize) -> Vec<u8> {
    let stride = frame.stride(0);
    let data = frame.data(0);
    if stride == row_bytes {
        return data[..row_bytes * rows].to_vec();
    }
    let mut out = Vec::with_capacity(row_bytes * rows);
    for row in data.chunks(stride).take(rows) {
        out.extend_from_slice(&row[..row_bytes]);
    }
    out
}

/// Packed RGB8 rows in an FFmpeg frame, each row padded to the frame's stride.
pub(super) fn padded_rows(rgb: &[u8], width: u32, height: u32) -> frame::Video {
    let row = width as usize * 3;
    let mut out = frame::Video::new(Pixel::RGB24, width, height);
    // The padding would otherwise be uninitialised memory that the converter's vector code reads.
    out.data_mut(0).fill(0);
    let stride = out.stride(0);
    for (y, src) in rgb.chunks_exact(row).enumerate() {
        out.data_mut(0)[y * stride..y * stride + row].copy_from_slice(src);
    }
    out
}

/// Clockwise rotation for display, from the stream's display matrix, in whole quarter turns.
/// The `timecode` tag of the video stream (MP4, MOV) or of the container (Matroska), any case.
fn timecode_of(input: &Input, stream: &ffmpeg_next::format::stream::Stream<'_>) -> Option<String> {
    let find = |tags: ffmpeg_next::DictionaryRef<'_>| {
        tags.iter().find(|(k, _)| k.eq_ignore_ascii_case("timecode")).map(|(_, v)| v.trim().to_owned())
    };
    find(stream.metadata()).or_else(|| find(input.metadata())).filter(|tc| !tc.is_empty())
}

fn rotation_of(stream: &ffmpeg_next::format::stream::Stream<'_>) -> u32 {
    for side in stream.side_data() {
        if side.kind() == ffmpeg_next::codec::packet::side_data::Type::DisplayMatrix && side.data().len() >= 36 {
            let m: Vec<f64> = side
                .data()
                .chunks_exact(4)
                .take(9)
                .map(|b| f64::from(i32::from_ne_bytes([b[0], b[1], b[2], b[3]])))
                .collect();
            // The matrix maps source to display coordinates; its first row gives the angle.
            let degrees = m[1].atan2(m[0]).to_degrees();
            let quarter = (degrees / 90.0).round() as i64;
            return (quarter.rem_euclid(4) * 90) as u32;
        }
    }
    0
}
