//! Writing WAV files with hound, atomically.

use std::io::{BufWriter, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::MediaError;

/// Sample encoding of a written WAV file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WavFormat {
    /// 16-bit integer PCM.
    #[default]
    Pcm16,
    /// 24-bit integer PCM.
    Pcm24,
    /// 32-bit IEEE float.
    Float32,
}

impl std::str::FromStr for WavFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "16" | "pcm16" | "s16" => Ok(Self::Pcm16),
            "24" | "pcm24" | "s24" => Ok(Self::Pcm24),
            "32f" | "f32" | "float" | "float32" => Ok(Self::Float32),
            other => Err(format!("unknown WAV sample format {other:?} (use 16, 24 or f32)")),
        }
    }
}

/// The Broadcast WAV (`bext`) description of a track: where it sits on an editor's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BroadcastInfo {
    /// Free text, at most 256 bytes (longer is cut).
    pub description: String,
    /// Who made it, at most 32 bytes.
    pub originator: String,
    /// The track's first sample, in samples since midnight (its video's timecode).
    pub time_reference: u64,
}

impl BroadcastInfo {
    /// A track for `video` that starts `start_s` seconds from midnight, made now.
    #[must_use]
    pub fn for_video(video: &Path, start_s: f64, rate: u32) -> Self {
        let name = video.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        Self {
            description: format!("foley: the sound of {name}"),
            originator: "foley".to_owned(),
            time_reference: (start_s.max(0.0) * f64::from(rate)).round() as u64,
        }
    }

    /// The `bext` chunk (version 1, EBU Tech 3285), header included.
    fn chunk(&self) -> Vec<u8> {
        fn field(out: &mut Vec<u8>, text: &str, len: usize) {
            let bytes = text.as_bytes();
            let n = bytes.len().min(len);
            out.extend_from_slice(&bytes[..n]);
            out.resize(out.len() + len - n, 0);
        }
        let now = time::OffsetDateTime::now_utc();
        let mut body = Vec::with_capacity(602);
        field(&mut body, &self.description, 256);
        field(&mut body, &self.originator, 32);
        field(&mut body, "", 32);
        field(&mut body, &format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day()), 10);
        field(&mut body, &format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second()), 8);
        body.extend_from_slice(&self.time_reference.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        // UMID (64) and reserved (190): empty.
        body.resize(body.len() + 64 + 190, 0);
        let mut chunk = b"bext".to_vec();
        chunk.extend_from_slice(&(body.len() as u32).to_le_bytes());
        chunk.extend_from_slice(&body);
        chunk
    }
}

/// Writes mono or interleaved multi-channel `samples` to a WAV file at `path`.
///
/// The file is written beside the target under a temporary name and renamed into place once
/// complete, so a failure never leaves a half-written file and never destroys an existing one.
/// Integer formats clip samples to [-1, 1]; non-finite samples are refused.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32, channels: u16, format: WavFormat) -> Result<(), MediaError> {
    write_wav_with(path, samples, rate, channels, format, None)
}

/// As [`write_wav`], as a Broadcast WAV where `bext` is given: its chunk comes first, before
/// `fmt `, where editors look for it.
pub fn write_wav_with(
    path: &Path,
    samples: &[f32],
    rate: u32,
    channels: u16,
    format: WavFormat,
    bext: Option<&BroadcastInfo>,
) -> Result<(), MediaError> {
    if channels == 0 || !samples.len().is_multiple_of(usize::from(channels)) {
        return Err(MediaError::InvalidArgument(format!(
            "{} samples do not divide into {channels} channels",
            samples.len()
        )));
    }
    if rate == 0 {
        return Err(MediaError::InvalidArgument("sample rate 0".to_owned()));
    }
    if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
        return Err(MediaError::InvalidArgument(format!("sample {i} is {} (not a finite number)", samples[i])));
    }
    let (bits_per_sample, sample_format) = match format {
        WavFormat::Pcm16 => (16, hound::SampleFormat::Int),
        WavFormat::Pcm24 => (24, hound::SampleFormat::Int),
        WavFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample, sample_format };
    super::atomic::write_atomically(path, |file| {
        let Some(bext) = bext else { return write_samples(BufWriter::new(file), spec, samples, format) };
        // hound writes RIFF, fmt and data; the bext chunk goes in after the RIFF header. The
        // plain file goes to an unnamed temporary file beside the output first, then is copied
        // in blocks, so a long track is never held twice in memory.
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut plain = BufWriter::new(tempfile::tempfile_in(dir)?);
        write_samples(&mut plain, spec, samples, format)?;
        let mut plain = plain.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        let plain_len = plain.seek(SeekFrom::End(0))?;
        let chunk = bext.chunk();
        let riff_size = u32::try_from(plain_len - 8 + chunk.len() as u64)
            .map_err(|_| std::io::Error::other("the track is too long for a WAV file"))?;
        let mut out = BufWriter::new(file);
        out.write_all(b"RIFF")?;
        out.write_all(&riff_size.to_le_bytes())?;
        out.write_all(b"WAVE")?;
        out.write_all(&chunk)?;
        plain.seek(SeekFrom::Start(12))?;
        std::io::copy(&mut plain, &mut out)?;
        out.flush()
    })
}

fn write_samples<W: std::io::Write + std::io::Seek>(
    out: W,
    spec: hound::WavSpec,
    samples: &[f32],
    format: WavFormat,
) -> std::io::Result<()> {
    let mut writer = hound::WavWriter::new(out, spec).map_err(hound_io)?;
    match format {
        WavFormat::Pcm16 => {
            for &s in samples {
                writer.write_sample((s.clamp(-1.0, 1.0) * 32_767.0).round() as i16).map_err(hound_io)?;
            }
        }
        WavFormat::Pcm24 => {
            for &s in samples {
                writer.write_sample((s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32).map_err(hound_io)?;
            }
        }
        WavFormat::Float32 => {
            for &s in samples {
                writer.write_sample(s).map_err(hound_io)?;
            }
        }
    }
    writer.finalize().map_err(hound_io)
}

fn hound_io(err: hound::Error) -> std::io::Error {
    match err {
        hound::Error::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}
