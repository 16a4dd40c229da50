//! Scrub proxies: every frame of a video, small and intra-coded (JPEG), held in memory.
//!
//! Showing an arbitrary frame of an H.264 video means decoding forward from the key frame before
//! it: a quarter of a second for a 1080p video with 3 s between key frames on two cores. A proxy
//! frame decodes on its own in about a millisecond, so a player can put the right frame on screen
//! at once, at proxy resolution, while the full-resolution decoder catches up. Editors call these
//! proxy media.

use std::path::{Path, PathBuf};

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::{Rational, codec, decoder, encoder, frame};

use super::MediaError;
use super::video::VideoFrame;

/// JPEG quantiser scale (FFmpeg's `-q:v`; 2 is best, 31 worst). 5 keeps edges and texture
/// readable at about 15 KB per 640x360 frame.
const QUALITY: i32 = 5;

/// The largest proxy frame: enough to recognise the moment while dragging the playhead.
pub const PROXY_MAX_SIZE: (u32, u32) = (640, 360);

/// The proxy frame size for a video of `width` x `height`: its shape, within
/// [`PROXY_MAX_SIZE`], never larger than the video, even sides.
#[must_use]
pub fn proxy_size(width: u32, height: u32) -> (u32, u32) {
    fit_within(width, height, PROXY_MAX_SIZE)
}

/// `width` x `height` scaled down (never up) to fit in `bounds`, keeping its shape, even sides.
#[must_use]
pub fn fit_within(width: u32, height: u32, bounds: (u32, u32)) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (f64::from(bounds.0) / w).min(f64::from(bounds.1) / h).min(1.0);
    let even = |x: f64| ((x.round() as u32) & !1).max(2);
    (even(w * scale), even(h * scale))
}

/// The compressed frames of one video, in presentation order, as far as they have been made.
#[derive(Debug, Clone)]
pub struct ProxyFrames {
    size: (u32, u32),
    times: Vec<f64>,
    /// Where each frame's bytes end in `data`.
    ends: Vec<usize>,
    data: Vec<u8>,
    complete: bool,
}

impl ProxyFrames {
    /// An empty proxy whose frames will be `size`.
    #[must_use]
    pub fn new(size: (u32, u32)) -> Self {
        Self { size, times: Vec::new(), ends: Vec::new(), data: Vec::new(), complete: false }
    }

    /// Size of the frames.
    #[must_use]
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Frames made so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.times.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Memory the compressed frames take, in bytes.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// Whether every frame of the video is here.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Adds the next frame, shown from `time_s` on. Frames must come in presentation order.
    pub fn push(&mut self, time_s: f64, jpeg: &[u8]) -> Result<(), MediaError> {
        if self.complete || self.times.last().is_some_and(|&last| time_s <= last) {
            return Err(MediaError::InvalidArgument(format!(
                "proxy frame at {time_s} s comes after the last one or after the end"
            )));
        }
        self.data.extend_from_slice(jpeg);
        self.times.push(time_s);
        self.ends.push(self.data.len());
        Ok(())
    }

    /// Marks the proxy as holding every frame of the video.
    pub fn finish(&mut self) {
        self.complete = true;
    }

    /// The frame on screen at `time_s` (the last one at or before it, within a microsecond; the
    /// first for an earlier time) with its time, or `None` while the proxy does not yet reach
    /// that far.
    #[must_use]
    pub fn frame_at(&self, time_s: f64) -> Option<(f64, &[u8])> {
        let after = self.times.partition_point(|&t| t <= time_s + 1e-6);
        // A later frame may still come that is on screen at `time_s`.
        if after == self.times.len() && !self.complete {
            return None;
        }
        let index = after.saturating_sub(1);
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some((self.times[index], &self.data[start..self.ends[index]]))
    }
}

/// Compresses RGB frames into proxy frames.
pub struct ProxyEncoder {
    path: PathBuf,
    size: (u32, u32),
    encoder: encoder::Video,
    scaler: SendScaler,
}

impl std::fmt::Debug for ProxyEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyEncoder").field("path", &self.path).field("size", &self.size).finish_non_exhaustive()
    }
}

impl ProxyEncoder {
    /// An encoder for frames of `size` made from `video` (named in errors).
    pub fn new(video: &Path, size: (u32, u32)) -> Result<Self, MediaError> {
        super::init();
        let (w, h) = size;
        if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 {
            return Err(MediaError::InvalidArgument(format!("proxy size {w}x{h} must be even and positive")));
        }
        let fail = |what: &str| {
            let what = what.to_owned();
            move |e| MediaError::codec(video, what, e)
        };
        let codec = encoder::find(codec::Id::MJPEG).ok_or_else(|| {
            MediaError::codec(video, "this FFmpeg has no JPEG encoder", ffmpeg_next::Error::EncoderNotFound)
        })?;
        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(fail("cannot set up the proxy encoder"))?;
        enc.set_width(w);
        enc.set_height(h);
        enc.set_format(Pixel::YUVJ420P);
        enc.set_time_base(Rational::new(1, 1000));
        // A fixed quantiser: every frame gets the same quality, none waits on rate control.
        enc.set_qmin(QUALITY);
        enc.set_qmax(QUALITY);
        enc.set_threading(codec::threading::Config {
            kind: codec::threading::Type::None,
            count: 1,
            ..Default::default()
        });
        let encoder = enc.open().map_err(fail("cannot open the proxy encoder"))?;
        let scaler = scaling::Context::get(Pixel::RGB24, w, h, Pixel::YUVJ420P, w, h, scaling::Flags::BILINEAR)
            .map_err(fail("cannot set up the proxy colour conversion"))?;
        Ok(Self { path: video.to_path_buf(), size, encoder, scaler: SendScaler(scaler) })
    }

    /// Compresses `frame`, which must have the encoder's size.
    pub fn encode(&mut self, frame: &VideoFrame) -> Result<Vec<u8>, MediaError> {
        let (w, h) = self.size;
        if (frame.width, frame.height) != self.size || frame.rgb.len() != w as usize * h as usize * 3 {
            return Err(MediaError::InvalidArgument(format!(
                "a {}x{} frame given to a {w}x{h} proxy encoder",
                frame.width, frame.height
            )));
        }
        let rgb = super::video::padded_rows(&frame.rgb, frame.width, frame.height);
        let mut yuv = frame::Video::empty();
        self.scaler
            .0
            .run(&rgb, &mut yuv)
            .map_err(|e| MediaError::codec(&self.path, "cannot convert a proxy frame", e))?;
        yuv.set_pts(Some((frame.time_s * 1000.0).round() as i64));
        let fail = |e| MediaError::codec(&self.path, "cannot encode a proxy frame", e);
        self.encoder.send_frame(&yuv).map_err(fail)?;
        let mut packet = ffmpeg_next::Packet::empty();
        // JPEG is intra-only with no delay: each frame gives its packet at once.
        self.encoder.receive_packet(&mut packet).map_err(fail)?;
        Ok(packet.data().map(<[u8]>::to_vec).unwrap_or_default())
    }
}

/// Turns proxy frames back into RGB.
pub struct ProxyDecoder {
    decoder: decoder::Video,
    scaler: Option<(SendScaler, (Pixel, u32, u32))>,
}

impl std::fmt::Debug for ProxyDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyDecoder").finish_non_exhaustive()
    }
}

impl ProxyDecoder {
    pub fn new() -> Result<Self, MediaError> {
        super::init();
        let fail = |e| MediaError::InvalidArgument(format!("cannot open FFmpeg's JPEG decoder: {e}"));
        let codec = decoder::find(codec::Id::MJPEG).ok_or_else(|| fail(ffmpeg_next::Error::DecoderNotFound))?;
        let mut context = codec::context::Context::new_with_codec(codec);
        context.set_threading(codec::threading::Config {
            kind: codec::threading::Type::None,
            count: 1,
            ..Default::default()
        });
        let decoder = context.decoder().video().map_err(fail)?;
        Ok(Self { decoder, scaler: None })
    }

    /// Decodes one proxy frame, shown from `time_s`.
    pub fn decode(&mut self, time_s: f64, jpeg: &[u8]) -> Result<VideoFrame, MediaError> {
        let fail = |e| MediaError::InvalidArgument(format!("a proxy frame does not decode: {e}"));
        self.decoder.send_packet(&ffmpeg_next::Packet::copy(jpeg)).map_err(fail)?;
        let mut raw = frame::Video::empty();
        self.decoder.receive_frame(&mut raw).map_err(fail)?;
        let source = (raw.format(), raw.width(), raw.height());
        if self.scaler.as_ref().is_none_or(|(_, s)| *s != source) {
            let context = scaling::Context::get(
                source.0,
                source.1,
                source.2,
                Pixel::RGB24,
                source.1,
                source.2,
                scaling::Flags::BILINEAR,
            )
            .map_err(fail)?;
            self.scaler = Some((SendScaler(context), source));
        }
        let Some((scaler, _)) = self.scaler.as_mut() else { unreachable!("scaler was just created") };
        let mut rgb = frame::Video::empty();
        scaler.0.run(&raw, &mut rgb).map_err(fail)?;
        Ok(VideoFrame {
            time_s,
            width: source.1,
            height: source.2,
            rgb: super::video::packed_rows(&rgb, source.1 as usize * 3, source.2 as usize),
        })
    }
}

/// `frame` scaled to `size` (e.g. a timeline thumbnail from a proxy frame).
pub fn scale_frame(frame: &VideoFrame, size: (u32, u32)) -> Result<VideoFrame, MediaError> {
    super::init();
    let (w, h) = size;
    if w == 0 || h == 0 || w > 16_384 || h > 16_384 {
        return Err(MediaError::InvalidArgument(format!("frame size {w}x{h} is out of range")));
    }
    if frame.rgb.len() != frame.width as usize * frame.height as usize * 3 {
        return Err(MediaError::InvalidArgument(format!(
            "a {}x{} frame has {} bytes",
            frame.width,
            frame.height,
            frame.rgb.len()
        )));
    }
    let fail = |e| MediaError::InvalidArgument(format!("cannot scale a frame: {e}"));
    let mut scaler =
        scaling::Context::get(Pixel::RGB24, frame.width, frame.height, Pixel::RGB24, w, h, scaling::Flags::AREA)
            .map_err(fail)?;
    let mut out = frame::Video::empty();
    scaler.run(&super::video::padded_rows(&frame.rgb, frame.width, frame.height), &mut out).map_err(fail)?;
    Ok(VideoFrame {
        time_s: frame.time_s,
        width: w,
        height: h,
        rgb: super::video::packed_rows(&out, w as usize * 3, h as usize),
    })
}

struct SendScaler(scaling::Context);

// SAFETY: an SwsContext has no thread affinity; it is owned by one encoder or decoder and used
// through `&mut self` only, so moving it to another thread is sound.
unsafe impl Send for SendScaler {}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(time_s: f64, (w, h): (u32, u32), shift: u32) -> VideoFrame {
        let rgb = (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| [((x + shift) % 256) as u8, (y % 256) as u8, ((x + y) / 4 % 256) as u8])
            })
            .collect();
        VideoFrame { time_s, width: w, height: h, rgb }
    }

    #[test]
    fn frames_round_trip_and_are_found_by_time() {
        let size = (64, 48);
        let mut encoder = ProxyEncoder::new(Path::new("v.mp4"), size).unwrap();
        let mut decoder = ProxyDecoder::new().unwrap();
        let mut proxy = ProxyFrames::new(size);
        let originals: Vec<VideoFrame> = (0..5).map(|i| gradient(f64::from(i) * 0.04, size, i * 40)).collect();
        for frame in &originals {
            proxy.push(frame.time_s, &encoder.encode(frame).unwrap()).unwrap();
        }
        // Until the proxy is complete, a time past its last frame has no answer.
        assert!(proxy.frame_at(0.2).is_none());
        assert_eq!(proxy.frame_at(0.1).unwrap().0, 0.08);
        proxy.finish();
        assert_eq!(proxy.frame_at(0.2).unwrap().0, 0.16);
        assert_eq!(proxy.frame_at(-1.0).unwrap().0, 0.0);
        assert!(proxy.push(0.5, &[1, 2]).is_err(), "a complete proxy takes no more frames");

        for (i, original) in originals.iter().enumerate() {
            let (time, jpeg) = proxy.frame_at(original.time_s).unwrap();
            assert_eq!(time, original.time_s);
            let decoded = decoder.decode(time, jpeg).unwrap();
            assert_eq!((decoded.width, decoded.height), size);
            // JPEG is lossy, but each frame comes back as itself, not as its neighbour.
            let error = |a: &VideoFrame, b: &VideoFrame| {
                a.rgb.iter().zip(&b.rgb).map(|(&x, &y)| f64::from(x.abs_diff(y))).sum::<f64>() / a.rgb.len() as f64
            };
            let own = error(&decoded, original);
            assert!(own < 8.0, "frame {i}: mean error {own}");
            for (j, other) in originals.iter().enumerate().filter(|(j, _)| *j != i) {
                assert!(error(&decoded, other) > 2.0 * own, "frame {i} looks like frame {j}");
            }
        }
    }

    #[test]
    fn frames_out_of_order_or_of_the_wrong_size_are_refused() {
        let mut proxy = ProxyFrames::new((64, 48));
        proxy.push(0.1, &[1]).unwrap();
        assert!(proxy.push(0.1, &[1]).is_err());
        let mut encoder = ProxyEncoder::new(Path::new("v.mp4"), (64, 48)).unwrap();
        assert!(encoder.encode(&gradient(0.0, (32, 24), 0)).is_err());
        assert!(ProxyEncoder::new(Path::new("v.mp4"), (63, 48)).is_err());
    }

    #[test]
    fn sizes_keep_the_shape_within_bounds() {
        assert_eq!(proxy_size(1920, 1080), (640, 360));
        assert_eq!(proxy_size(1080, 1920), (202, 360));
        assert_eq!(proxy_size(320, 240), (320, 240));
        let thumb = scale_frame(&gradient(0.3, (64, 48), 0), (16, 12)).unwrap();
        assert_eq!((thumb.width, thumb.height, thumb.rgb.len(), thumb.time_s), (16, 12, 16 * 12 * 3, 0.3));
    }
}
