//! Writing WAV files with hound, atomically.

use std::io::BufWriter;
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

/// Writes mono or interleaved multi-channel `samples` to a WAV file at `path`.
///
/// The file is written beside the target under a temporary name and renamed into place once
/// complete, so a failure never leaves a half-written file and never destroys an existing one.
/// Integer formats clip samples to [-1, 1]; non-finite samples are refused.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32, channels: u16, format: WavFormat) -> Result<(), MediaError> {
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
        let mut writer = hound::WavWriter::new(BufWriter::new(file), spec).map_err(hound_io)?;
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
    })
}

fn hound_io(err: hound::Error) -> std::io::Error {
    match err {
        hound::Error::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}
