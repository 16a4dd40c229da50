//! A copy of a video with a new audio track: the video packets are copied unchanged, the audio is
//! encoded for the container.

use std::path::Path;

use ffmpeg_next::format::{Sample, sample};
use ffmpeg_next::{ChannelLayout, Packet, Rational, Rescale, codec, encoder, format, frame, media};
use serde::{Deserialize, Serialize};

use super::atomic::PendingFile;
use super::input::{self, stream_start};
use super::{AudioTrack, MediaError};

/// The audio codec of a muxed track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MuxAudioCodec {
    /// AAC-LC at 192 kbit/s (mp4, mov, mkv).
    Aac,
    /// 16-bit PCM (mov, mkv).
    Pcm16,
    /// 24-bit PCM (mov, mkv).
    Pcm24,
    /// Lossless FLAC, 16-bit (mkv).
    Flac,
}

impl MuxAudioCodec {
    fn id(self) -> codec::Id {
        match self {
            Self::Aac => codec::Id::AAC,
            Self::Pcm16 => codec::Id::PCM_S16LE,
            Self::Pcm24 => codec::Id::PCM_S24LE,
            Self::Flac => codec::Id::FLAC,
        }
    }

    pub(super) fn sample_format(self) -> Sample {
        match self {
            Self::Aac => Sample::F32(sample::Type::Planar),
            Self::Pcm16 | Self::Flac => Sample::I16(sample::Type::Packed),
            Self::Pcm24 => Sample::I32(sample::Type::Packed),
        }
    }
}

/// The containers the muxer writes, chosen by the output's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Mp4,
    Mov,
    Matroska,
}

impl Container {
    pub(super) fn from_path(path: &Path) -> Result<Self, MediaError> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("mp4" | "m4v") => Ok(Self::Mp4),
            Some("mov") => Ok(Self::Mov),
            Some("mkv") => Ok(Self::Matroska),
            _ => Err(MediaError::Unsupported {
                path: path.to_path_buf(),
                reason: "unsupported output container: use a .mp4, .m4v, .mov or .mkv file name".to_owned(),
            }),
        }
    }

    pub(super) fn format_name(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::Mov => "mov",
            Self::Matroska => "matroska",
        }
    }

    pub(super) fn default_codec(self) -> MuxAudioCodec {
        match self {
            Self::Mp4 | Self::Mov => MuxAudioCodec::Aac,
            Self::Matroska => MuxAudioCodec::Flac,
        }
    }

    fn allows(self, codec: MuxAudioCodec) -> bool {
        match self {
            Self::Mp4 => codec == MuxAudioCodec::Aac,
            Self::Mov => codec != MuxAudioCodec::Flac,
            Self::Matroska => true,
        }
    }
}

/// Writes a copy of `video` to `out` with `audio` as its only audio track.
///
/// The video stream is copied packet for packet; other audio, subtitle and data streams are
/// dropped. The track's time 0 is placed on the video's first frame (so `audio.start_s` is on the
/// video's timeline). The container follows `out`'s extension; `codec` defaults to AAC for
/// mp4/mov and FLAC for mkv. The output appears only once complete.
pub fn mux_audio(video: &Path, audio: &AudioTrack, out: &Path, codec: Option<MuxAudioCodec>) -> Result<(), MediaError> {
    mux_audio_with_progress(video, audio, out, codec, &mut |_| {})
}

/// [`mux_audio`], calling `progress` with the fraction done (0 to 1) as the video is copied.
pub fn mux_audio_with_progress(
    video: &Path,
    audio: &AudioTrack,
    out: &Path,
    codec: Option<MuxAudioCodec>,
    progress: &mut dyn FnMut(f64),
) -> Result<(), MediaError> {
    mux_channels_with_progress(video, audio, 1, out, codec, progress)
}

/// [`mux_audio_with_progress`] for a track of `channels` (1 or 2): `audio.samples` holds
/// interleaved frames, `audio.rate` of them a second.
pub fn mux_channels_with_progress(
    video: &Path,
    audio: &AudioTrack,
    channels: u16,
    out: &Path,
    codec: Option<MuxAudioCodec>,
    progress: &mut dyn FnMut(f64),
) -> Result<(), MediaError> {
    if !matches!(channels, 1 | 2) || !audio.samples.len().is_multiple_of(usize::from(channels.max(1))) {
        return Err(MediaError::InvalidArgument(format!(
            "{} samples are not whole frames of {channels} channels (1 or 2)",
            audio.samples.len()
        )));
    }
    let container = Container::from_path(out)?;
    let codec = codec.unwrap_or(container.default_codec());
    if !container.allows(codec) {
        return Err(MediaError::Unsupported {
            path: out.to_path_buf(),
            reason: format!(
                "a .{} file cannot hold {codec:?} audio",
                out.extension().unwrap_or_default().to_string_lossy()
            ),
        });
    }
    if audio.samples.iter().any(|s| !s.is_finite()) {
        return Err(MediaError::InvalidArgument("the audio track holds non-finite samples".to_owned()));
    }
    if same_file(video, out) {
        return Err(MediaError::InvalidArgument(format!(
            "the output {} would overwrite the input video",
            out.display()
        )));
    }
    // Scan first: it refuses truncated files and files with no frames before anything is written.
    let scan = super::scan::scan_video(video)?;
    let (pending, file) = PendingFile::beside(out)?;
    drop(file);
    Muxer { total_packets: scan.count, channels, progress }
        .run(video, audio, pending.path(), container, codec)
        .map_err(|err| match err {
            MuxFailure::Media(e) => e,
            MuxFailure::Output(what, e) => MediaError::codec(out, what, e),
        })?;
    pending.commit()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub(super) enum MuxFailure {
    Media(MediaError),
    Output(&'static str, ffmpeg_next::Error),
}

impl From<MediaError> for MuxFailure {
    fn from(e: MediaError) -> Self {
        Self::Media(e)
    }
}

pub(super) fn out_err(what: &'static str) -> impl FnOnce(ffmpeg_next::Error) -> MuxFailure {
    move |e| MuxFailure::Output(what, e)
}

struct Muxer<'p> {
    total_packets: u64,
    channels: u16,
    progress: &'p mut dyn FnMut(f64),
}

impl Muxer<'_> {
    fn run(
        &mut self,
        video: &Path,
        audio: &AudioTrack,
        temp: &Path,
        container: Container,
        codec: MuxAudioCodec,
    ) -> Result<(), MuxFailure> {
        let mut input = input::open(video)?;
        let in_stream = input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| MediaError::NoVideoStream { path: video.to_path_buf() })?;
        let in_index = in_stream.index();
        let in_tb = in_stream.time_base();
        let video_start = stream_start(&in_stream).unwrap_or(0);
        let video_params = in_stream.parameters();

        let mut output =
            format::output_as(temp, container.format_name()).map_err(out_err("cannot create the output"))?;
        let global_header = output.format().flags().contains(format::flag::Flags::GLOBAL_HEADER);

        let mut out_video =
            output.add_stream(encoder::find(codec::Id::None)).map_err(out_err("cannot add the video stream"))?;
        out_video.set_parameters(video_params);
        // SAFETY: the parameters belong to the stream just added; a zero tag lets the muxer pick
        // the tag its container uses for this codec (an AVI FourCC is not valid in mp4).
        unsafe {
            (*out_video.parameters().as_mut_ptr()).codec_tag = 0;
        }
        out_video.set_time_base(in_tb);

        let rate = audio.rate;
        let audio_tb = Rational::new(1, rate as i32);
        let (mut enc, out_audio_index) = open_audio_encoder(&mut output, codec, rate, self.channels, global_header)?;

        output
            .write_header()
            .map_err(out_err("the container refused the streams (is the video codec allowed in it?)"))?;
        let out_video_tb = output.stream(0).map_or(in_tb, |s| s.time_base());
        let out_audio_tb = output.stream(out_audio_index).map_or(audio_tb, |s| s.time_base());

        // Sample 0 of the track sits on the first frame, shifted by the track's own start.
        let offset = (audio.start_s * f64::from(rate)).round() as i64;
        let channels = usize::from(self.channels);
        let skip = usize::try_from(-offset).unwrap_or(0).min(audio.samples.len() / channels);
        let first_pts = video_start.rescale(in_tb, audio_tb) + offset.max(0);
        let mut feeder = AudioFeeder {
            samples: &audio.samples[skip * channels..],
            channels,
            next: 0,
            next_pts: first_pts,
            frame_size: match enc.frame_size() {
                0 => 1024,
                n => n as usize,
            },
            format: codec.sample_format(),
            rate,
        };

        let mut copied = 0_u64;
        loop {
            match input::read_packet(&mut input) {
                Ok(mut packet) => {
                    if packet.stream() != in_index {
                        continue;
                    }
                    copied += 1;
                    if copied.is_multiple_of(64) {
                        (self.progress)(copied as f64 / self.total_packets.max(1) as f64);
                    }
                    // Keep the file interleaved: audio up to this packet's time goes first.
                    let until = packet.dts().or(packet.pts()).unwrap_or(video_start).rescale(in_tb, audio_tb);
                    feeder.feed_until(until, &mut enc, &mut output, out_audio_index, out_audio_tb)?;
                    packet.rescale_ts(in_tb, out_video_tb);
                    packet.set_position(-1);
                    packet.set_stream(0);
                    packet.write_interleaved(&mut output).map_err(out_err("cannot write a video packet"))?;
                }
                Err(ffmpeg_next::Error::Eof) => break,
                Err(ffmpeg_next::Error::InvalidData) => {}
                Err(e) => {
                    return Err(MediaError::Damaged {
                        path: video.to_path_buf(),
                        detail: format!("reading failed: {e}"),
                    }
                    .into());
                }
            }
        }
        feeder.feed_until(i64::MAX, &mut enc, &mut output, out_audio_index, out_audio_tb)?;
        enc.send_eof().map_err(out_err("cannot finish the audio encoder"))?;
        drain(&mut enc, &mut output, out_audio_index, audio_tb, out_audio_tb)?;
        output.write_trailer().map_err(out_err("cannot finish the output file"))?;
        (self.progress)(1.0);
        Ok(())
    }
}

/// Adds an audio stream of `codec` at `rate` with `channels` (1 or 2) to `output` and opens its
/// encoder (time base 1/rate). Returns the encoder and the stream's index.
pub(super) fn open_audio_encoder(
    output: &mut format::context::Output,
    codec: MuxAudioCodec,
    rate: u32,
    channels: u16,
    global_header: bool,
) -> Result<(encoder::Audio, usize), MuxFailure> {
    let audio_codec = encoder::find(codec.id()).ok_or(MuxFailure::Output(
        "this FFmpeg has no encoder for the audio codec",
        ffmpeg_next::Error::EncoderNotFound,
    ))?;
    let mut out_audio = output.add_stream(audio_codec).map_err(out_err("cannot add the audio stream"))?;
    let audio_tb = Rational::new(1, rate as i32);
    let mut enc = codec::context::Context::new_with_codec(audio_codec)
        .encoder()
        .audio()
        .map_err(out_err("cannot set up the audio encoder"))?;
    enc.set_rate(rate as i32);
    enc.set_channel_layout(layout(channels));
    enc.set_channels(i32::from(channels));
    enc.set_format(codec.sample_format());
    enc.set_time_base(audio_tb);
    if codec == MuxAudioCodec::Aac {
        enc.set_bit_rate(192_000);
    }
    if global_header {
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let enc = enc.open_as(audio_codec).map_err(out_err("cannot open the audio encoder"))?;
    out_audio.set_parameters(&enc);
    out_audio.set_time_base(audio_tb);
    Ok((enc, out_audio.index()))
}

fn layout(channels: u16) -> ChannelLayout {
    if channels == 2 { ChannelLayout::STEREO } else { ChannelLayout::MONO }
}

/// Cuts the track into encoder frames and sends them in time order.
pub(super) struct AudioFeeder<'a> {
    /// Interleaved frames of `channels`.
    pub(super) samples: &'a [f32],
    pub(super) channels: usize,
    /// Frames sent so far.
    pub(super) next: usize,
    pub(super) next_pts: i64,
    pub(super) frame_size: usize,
    pub(super) format: Sample,
    pub(super) rate: u32,
}

impl AudioFeeder<'_> {
    pub(super) fn feed_until(
        &mut self,
        until_pts: i64,
        enc: &mut encoder::Audio,
        output: &mut format::context::Output,
        stream: usize,
        out_tb: Rational,
    ) -> Result<(), MuxFailure> {
        let tb = Rational::new(1, self.rate as i32);
        let frames = self.samples.len() / self.channels;
        while self.next < frames && self.next_pts <= until_pts {
            let n = self.frame_size.min(frames - self.next);
            let chunk = &self.samples[self.next * self.channels..(self.next + n) * self.channels];
            let mut frame = frame::Audio::new(self.format, n, layout(self.channels as u16));
            frame.set_rate(self.rate);
            // A planar format holds a plane per channel; a packed one the frames interleaved.
            let planes = if self.format.is_planar() { self.channels } else { 1 };
            let per_plane = self.channels / planes;
            for p in 0..planes {
                let values = chunk.iter().skip(p).step_by(planes).take(n * per_plane);
                match self.format {
                    Sample::F32(_) => {
                        for (d, s) in frame.plane_mut::<f32>(p).iter_mut().zip(values) {
                            *d = *s;
                        }
                    }
                    Sample::I16(_) => {
                        for (d, s) in frame.plane_mut::<i16>(p).iter_mut().zip(values) {
                            *d = (s.clamp(-1.0, 1.0) * 32_767.0).round() as i16;
                        }
                    }
                    _ => {
                        // 24-bit PCM travels in the top bits of 32-bit samples.
                        for (d, s) in frame.plane_mut::<i32>(p).iter_mut().zip(values) {
                            *d = ((s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32) << 8;
                        }
                    }
                }
            }
            frame.set_pts(Some(self.next_pts));
            enc.send_frame(&frame).map_err(out_err("cannot encode the audio"))?;
            drain(enc, output, stream, tb, out_tb)?;
            self.next += n;
            self.next_pts += n as i64;
        }
        Ok(())
    }
}

pub(super) fn drain(
    enc: &mut encoder::Audio,
    output: &mut format::context::Output,
    stream: usize,
    enc_tb: Rational,
    out_tb: Rational,
) -> Result<(), MuxFailure> {
    let mut packet = Packet::empty();
    while enc.receive_packet(&mut packet).is_ok() {
        packet.set_stream(stream);
        packet.rescale_ts(enc_tb, out_tb);
        packet.write_interleaved(output).map_err(out_err("cannot write an audio packet"))?;
    }
    Ok(())
}
