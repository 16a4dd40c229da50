//! A description of a media file: container, streams and the main video stream's timing.

use std::path::{Path, PathBuf};

use ffmpeg_next::{codec, media};
use serde::Serialize;

use super::input::{self, seconds};
use super::{AudioInfo, AudioReader, MediaError, VideoInfo, VideoReader};

/// What kind of data a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Video,
    Audio,
    Subtitle,
    Data,
    Attachment,
    Unknown,
}

/// One stream of a container.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamReport {
    pub index: usize,
    pub kind: StreamKind,
    /// Codec short name, e.g. `h264`, `aac`.
    pub codec: String,
    /// Codec long name, e.g. `H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10`.
    pub codec_long: String,
    /// Video only: coded size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<(u32, u32)>,
    /// Audio only: sample rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Audio only: channel count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u16>,
    /// The container's figure for the stream's length, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
}

/// Everything `foley probe` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    pub path: PathBuf,
    /// Container short name(s) as FFmpeg knows them, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    pub container_long: String,
    /// The container's duration in seconds, if known.
    pub duration_s: Option<f64>,
    pub streams: Vec<StreamReport>,
    /// The main video stream, measured by a scan of its packets.
    pub video: Option<VideoInfo>,
    /// The first audio stream.
    pub audio: Option<AudioInfo>,
}

/// Describes the media file at `path`. A file with a damaged or empty video stream is an error; a
/// file with no video stream at all is described (with `video: None`).
pub fn probe(path: impl AsRef<Path>) -> Result<ProbeReport, MediaError> {
    let path = path.as_ref();
    let input = input::open(path)?;
    let format = input.format();
    let duration = input.duration();
    let mut streams = Vec::new();
    let mut has_video = false;
    let mut has_audio = false;
    for stream in input.streams() {
        let params = stream.parameters();
        let kind = match params.medium() {
            media::Type::Video => StreamKind::Video,
            media::Type::Audio => StreamKind::Audio,
            media::Type::Subtitle => StreamKind::Subtitle,
            media::Type::Data => StreamKind::Data,
            media::Type::Attachment => StreamKind::Attachment,
            media::Type::Unknown => StreamKind::Unknown,
        };
        has_video |= kind == StreamKind::Video;
        has_audio |= kind == StreamKind::Audio;
        let id = params.id();
        let descriptor = codec::decoder::find(id);
        let context = codec::context::Context::from_parameters(params).ok();
        let (size, sample_rate, channels) = match (kind, context) {
            (StreamKind::Video, Some(c)) => (c.decoder().video().ok().map(|v| (v.width(), v.height())), None, None),
            (StreamKind::Audio, Some(c)) => {
                c.decoder().audio().ok().map_or((None, None, None), |a| (None, Some(a.rate()), Some(a.channels())))
            }
            _ => (None, None, None),
        };
        streams.push(StreamReport {
            index: stream.index(),
            kind,
            codec: id.name().to_owned(),
            codec_long: descriptor.map_or_else(String::new, |c| c.description().to_owned()),
            size,
            sample_rate,
            channels,
            duration_s: (stream.duration() > 0).then(|| seconds(stream.duration(), stream.time_base())),
        });
    }
    let report_base = (format.name().to_owned(), format.description().to_owned());
    drop(input);
    let video = if has_video { Some(VideoReader::open(path)?.info().clone()) } else { None };
    let audio = if has_audio {
        Some(AudioReader::open(path, crate::timeline::OUTPUT_SAMPLE_RATE)?.info().clone())
    } else {
        None
    };
    Ok(ProbeReport {
        path: path.to_path_buf(),
        container: report_base.0,
        container_long: report_base.1,
        duration_s: (duration > 0).then(|| duration as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE)),
        streams,
        video,
        audio,
    })
}
