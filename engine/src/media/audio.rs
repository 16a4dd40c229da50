//! Decoding the first audio stream of a file to mono f32 at a chosen rate.

use std::path::{Path, PathBuf};

use ffmpeg_next::format::context::Input;
use ffmpeg_next::format::{Sample, sample};
use ffmpeg_next::software::resampling;
use ffmpeg_next::{ChannelLayout, codec, decoder, frame, media};
use serde::Serialize;

use super::MediaError;
use super::input::{self, seconds, stream_start};

/// What an audio stream is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioInfo {
    /// The decoder's short name, e.g. `aac`.
    pub codec: String,
    /// The stream's own sample rate.
    pub source_rate: u32,
    /// The stream's channel count (the reader mixes them down to mono).
    pub channels: u16,
    /// Where the track starts on the video's timeline, in seconds (negative when the audio starts
    /// before the first frame). For a file with no video stream, 0.
    pub start_s: f64,
    /// The container's figure for the track's length, in seconds, if it has one.
    pub duration_s: Option<f64>,
}

/// A whole decoded mono track.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioTrack {
    /// Samples per second.
    pub rate: u32,
    /// Time of the first sample on the video's timeline, in seconds.
    pub start_s: f64,
    /// Mono samples, nominally in [-1, 1].
    pub samples: Vec<f32>,
}

impl AudioTrack {
    /// Length in seconds.
    #[must_use]
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate)
    }
}

/// Resamples a mono track to `rate` Hz with FFmpeg's resampler (the one the readers use).
pub fn resample(track: &AudioTrack, rate: u32) -> Result<AudioTrack, MediaError> {
    if track.rate == rate {
        return Ok(track.clone());
    }
    if !(1_000..=768_000).contains(&rate) || track.rate == 0 {
        return Err(MediaError::InvalidArgument(format!("cannot resample from {} Hz to {rate} Hz", track.rate)));
    }
    let fail = |e| MediaError::InvalidArgument(format!("resampling from {} Hz to {rate} Hz failed: {e}", track.rate));
    super::init();
    let mono = ChannelLayout::MONO;
    let packed = Sample::F32(sample::Type::Packed);
    let context = resampling::Context::get(packed, mono, track.rate, packed, mono, rate).map_err(fail)?;
    let mut resampler = Resampler { context, channels: 1, source: (packed, mono.bits(), 1, track.rate) };
    let mut samples =
        Vec::with_capacity((track.samples.len() as u64 * u64::from(rate) / u64::from(track.rate)) as usize + 64);
    for chunk in track.samples.chunks(1 << 16) {
        let mut input = chunk.as_ptr().cast::<u8>();
        resampler.run(&raw mut input, chunk.len() as i32, &mut samples).map_err(fail)?;
    }
    resampler.drain(&mut samples).map_err(fail)?;
    Ok(AudioTrack { rate, start_s: track.start_s, samples })
}

/// Decodes the whole first audio stream of `path` to mono at `rate` Hz.
pub fn read_audio(path: impl AsRef<Path>, rate: u32) -> Result<AudioTrack, MediaError> {
    AudioReader::open(path, rate)?.read_all()
}

/// Streams the first audio stream of a file as blocks of mono f32 samples at a chosen rate.
///
/// Channels are averaged (not summed), so a signal present equally on every channel keeps its
/// level.
pub struct AudioReader {
    path: PathBuf,
    input: Input,
    decoder: decoder::Audio,
    stream_index: usize,
    rate: u32,
    info: AudioInfo,
    resampler: Option<Resampler>,
    eof_sent: bool,
    done: bool,
}

impl std::fmt::Debug for AudioReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioReader").field("path", &self.path).field("info", &self.info).finish_non_exhaustive()
    }
}

impl AudioReader {
    /// Opens the first audio stream of `path`, to be delivered at `rate` Hz.
    pub fn open(path: impl AsRef<Path>, rate: u32) -> Result<Self, MediaError> {
        let path = path.as_ref();
        if !(1_000..=768_000).contains(&rate) {
            return Err(MediaError::InvalidArgument(format!("sample rate {rate} Hz is out of range")));
        }
        let input = input::open(path)?;
        let stream = input
            .streams()
            .find(|s| s.parameters().medium() == media::Type::Audio)
            .ok_or_else(|| MediaError::NoAudioStream { path: path.to_path_buf() })?;
        let stream_index = stream.index();
        let context = codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| MediaError::codec(path, "cannot read the audio stream's parameters", e))?;
        let decoder = context
            .decoder()
            .audio()
            .map_err(|e| MediaError::codec(path, "cannot open a decoder for the audio stream", e))?;

        let audio_start = seconds(stream_start(&stream).unwrap_or(0), stream.time_base());
        let video_start =
            input.streams().best(media::Type::Video).and_then(|v| stream_start(&v).map(|s| seconds(s, v.time_base())));
        let duration = stream.duration();
        let info = AudioInfo {
            codec: decoder.id().name().to_owned(),
            source_rate: decoder.rate(),
            channels: decoder.channels(),
            start_s: video_start.map_or(0.0, |v| audio_start - v),
            duration_s: (duration > 0).then(|| seconds(duration, stream.time_base())),
        };
        Ok(Self {
            path: path.to_path_buf(),
            input,
            decoder,
            stream_index,
            rate,
            info,
            resampler: None,
            eof_sent: false,
            done: false,
        })
    }

    /// The stream's description.
    #[must_use]
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The rate of the delivered samples.
    #[must_use]
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The next block of mono samples (of no fixed size), or `None` at the end of the stream.
    pub fn next_block(&mut self) -> Result<Option<Vec<f32>>, MediaError> {
        let mut decoded = frame::Audio::empty();
        let mut out = Vec::new();
        while !self.done {
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => {
                    self.resample(&decoded, &mut out)?;
                    if !out.is_empty() {
                        return Ok(Some(out));
                    }
                    continue;
                }
                Err(ffmpeg_next::Error::Eof) => {
                    if let Some(resampler) = self.resampler.as_mut() {
                        resampler.drain(&mut out).map_err(|e| MediaError::codec(&self.path, "resampling failed", e))?;
                    }
                    self.done = true;
                    break;
                }
                Err(ffmpeg_next::Error::Other { errno: ffmpeg_next::util::error::EAGAIN }) => {}
                Err(e) => {
                    return Err(MediaError::Damaged {
                        path: self.path.clone(),
                        detail: format!("audio decoding failed: {e}"),
                    });
                }
            }
            self.feed_packet()?;
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// Decodes everything that is left into one track.
    pub fn read_all(mut self) -> Result<AudioTrack, MediaError> {
        let mut samples = Vec::new();
        while let Some(block) = self.next_block()? {
            samples.extend_from_slice(&block);
        }
        Ok(AudioTrack { rate: self.rate, start_s: self.info.start_s, samples })
    }

    fn feed_packet(&mut self) -> Result<(), MediaError> {
        input::feed_decoder(
            &mut self.input,
            self.stream_index,
            &mut self.decoder,
            &mut self.eof_sent,
            &self.path,
            |_, _| {},
        )
    }

    fn resample(&mut self, decoded: &frame::Audio, out: &mut Vec<f32>) -> Result<(), MediaError> {
        let channels = decoded.channels().max(1);
        let layout =
            if decoded.channel_layout().is_empty() || decoded.channel_layout().channels() != i32::from(channels) {
                ChannelLayout::default(i32::from(channels))
            } else {
                decoded.channel_layout()
            };
        let source = (decoded.format(), layout.bits(), channels, decoded.rate());
        if self.resampler.as_ref().is_none_or(|r| r.source != source) {
            if let Some(old) = self.resampler.as_mut() {
                old.drain(out).map_err(|e| MediaError::codec(&self.path, "resampling failed", e))?;
            }
            let context = resampling::Context::get(
                decoded.format(),
                layout,
                decoded.rate(),
                Sample::F32(sample::Type::Packed),
                layout,
                self.rate,
            )
            .map_err(|e| MediaError::codec(&self.path, "cannot set up audio resampling", e))?;
            self.resampler = Some(Resampler { context, channels: usize::from(channels), source });
        }
        let Some(resampler) = self.resampler.as_mut() else { unreachable!("resampler was just created") };
        resampler.convert(decoded, out).map_err(|e| MediaError::codec(&self.path, "resampling failed", e))
    }
}

/// swresample, driven through its C API: the safe wrapper sizes its output by the input's sample
/// count, which loses samples whenever the output rate is higher than the input's.
struct Resampler {
    context: resampling::Context,
    channels: usize,
    source: (Sample, u64, u16, u32),
}

impl Resampler {
    fn convert(&mut self, input: &frame::Audio, out: &mut Vec<f32>) -> Result<(), ffmpeg_next::Error> {
        let in_count = i32::try_from(input.samples()).map_err(|_| ffmpeg_next::Error::InvalidData)?;
        // SAFETY: the frame is a decoded audio frame whose extended_data holds `samples` samples
        // per plane, in the format and layout this context was made for.
        let data = unsafe { (*input.as_ptr()).extended_data.cast::<*const u8>() };
        self.run(data, in_count, out)
    }

    /// Emits what the resampler still holds (the tail of its filter).
    fn drain(&mut self, out: &mut Vec<f32>) -> Result<(), ffmpeg_next::Error> {
        self.run(std::ptr::null_mut(), 0, out)
    }

    fn run(&mut self, data: *mut *const u8, in_count: i32, out: &mut Vec<f32>) -> Result<(), ffmpeg_next::Error> {
        // SAFETY: the context is valid for its lifetime; we only read its pending-sample count.
        let capacity = unsafe { ffmpeg_next::ffi::swr_get_out_samples(self.context.as_mut_ptr(), in_count) };
        if capacity < 0 {
            return Err(ffmpeg_next::Error::from(capacity));
        }
        let mut interleaved = vec![0.0_f32; capacity as usize * self.channels + self.channels];
        let mut out_ptr = interleaved.as_mut_ptr().cast::<u8>();
        // SAFETY: `interleaved` holds `capacity` packed f32 frames of `channels` channels, which
        // is what swr_get_out_samples says this call can produce; input pointers are valid for
        // `in_count` samples or null for draining.
        let produced = unsafe {
            ffmpeg_next::ffi::swr_convert(self.context.as_mut_ptr(), &raw mut out_ptr, capacity + 1, data, in_count)
        };
        if produced < 0 {
            return Err(ffmpeg_next::Error::from(produced));
        }
        let produced = produced as usize;
        let scale = 1.0 / self.channels as f32;
        out.extend(
            interleaved[..produced * self.channels].chunks_exact(self.channels).map(|f| f.iter().sum::<f32>() * scale),
        );
        Ok(())
    }
}
