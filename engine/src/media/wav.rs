//! Writing WAV files with hound, atomically.

use std::fs::File;
use std::io::{BufWriter, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::MediaError;
use super::atomic::PendingFile;

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
    let mut wav = WavStream::create(path, rate, channels, format, bext)?;
    wav.write(samples)?;
    wav.finish()
}

/// A WAV file written block by block, so a track need not be held whole: it appears at its path
/// only once [`WavStream::finish`] succeeds (until then it is a temporary file beside it, removed
/// if the stream is dropped). The same rules as [`write_wav_with`].
pub struct WavStream {
    path: PathBuf,
    pending: PendingFile,
    writer: hound::WavWriter<BufWriter<File>>,
    format: WavFormat,
    channels: usize,
    written: u64,
    /// With a `bext` chunk: the samples go to an unnamed temporary file first (hound writes RIFF,
    /// fmt and data only), copied after the chunk at the end; this is the chunk and the file.
    broadcast: Option<(Vec<u8>, File)>,
}

impl std::fmt::Debug for WavStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavStream").field("path", &self.path).field("written", &self.written).finish_non_exhaustive()
    }
}

impl WavStream {
    /// Starts a WAV file at `path` of `channels` at `rate`.
    pub fn create(
        path: &Path,
        rate: u32,
        channels: u16,
        format: WavFormat,
        bext: Option<&BroadcastInfo>,
    ) -> Result<Self, MediaError> {
        if channels == 0 {
            return Err(MediaError::InvalidArgument("a WAV file of 0 channels".to_owned()));
        }
        if rate == 0 {
            return Err(MediaError::InvalidArgument("sample rate 0".to_owned()));
        }
        let (bits_per_sample, sample_format) = match format {
            WavFormat::Pcm16 => (16, hound::SampleFormat::Int),
            WavFormat::Pcm24 => (24, hound::SampleFormat::Int),
            WavFormat::Float32 => (32, hound::SampleFormat::Float),
        };
        let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample, sample_format };
        let (pending, file) = PendingFile::beside(path)?;
        let write_err = |source| MediaError::Write { path: path.to_path_buf(), source };
        let (target, broadcast) = match bext {
            None => (file, None),
            Some(bext) => {
                let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let plain = tempfile::tempfile_in(dir).map_err(write_err)?;
                // Two handles on the unnamed file: hound's writer owns one, the copy reads the other.
                let reader = plain.try_clone().map_err(write_err)?;
                drop(file);
                (plain, Some((bext.chunk(), reader)))
            }
        };
        let writer = hound::WavWriter::new(BufWriter::new(target), spec).map_err(|e| write_err(hound_io(e)))?;
        Ok(Self {
            path: path.to_path_buf(),
            pending,
            writer,
            format,
            channels: usize::from(channels),
            written: 0,
            broadcast,
        })
    }

    /// Appends interleaved whole frames.
    pub fn write(&mut self, samples: &[f32]) -> Result<(), MediaError> {
        if !samples.len().is_multiple_of(self.channels) {
            return Err(MediaError::InvalidArgument(format!(
                "{} samples do not divide into {} channels",
                samples.len(),
                self.channels
            )));
        }
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(MediaError::InvalidArgument(format!(
                "sample {} is {} (not a finite number)",
                self.written + i as u64,
                samples[i]
            )));
        }
        let writer = &mut self.writer;
        let written: Result<(), hound::Error> = match self.format {
            WavFormat::Pcm16 => {
                samples.iter().try_for_each(|&s| writer.write_sample((s.clamp(-1.0, 1.0) * 32_767.0).round() as i16))
            }
            WavFormat::Pcm24 => {
                samples.iter().try_for_each(|&s| writer.write_sample((s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32))
            }
            WavFormat::Float32 => samples.iter().try_for_each(|&s| writer.write_sample(s)),
        };
        written.map_err(|e| MediaError::Write { path: self.path.clone(), source: hound_io(e) })?;
        self.written += samples.len() as u64;
        Ok(())
    }

    /// Completes the file and renames it onto its path.
    pub fn finish(self) -> Result<(), MediaError> {
        let Self { path, pending, writer, broadcast, .. } = self;
        let write_err = |source| MediaError::Write { path: path.clone(), source };
        writer.finalize().map_err(|e| write_err(hound_io(e)))?;
        if let Some((chunk, mut plain)) = broadcast {
            let copied = (|| {
                let plain_len = plain.seek(SeekFrom::End(0))?;
                let riff_size = u32::try_from(plain_len - 8 + chunk.len() as u64)
                    .map_err(|_| std::io::Error::other("the track is too long for a WAV file"))?;
                let mut out = BufWriter::new(File::create(pending.path())?);
                out.write_all(b"RIFF")?;
                out.write_all(&riff_size.to_le_bytes())?;
                out.write_all(b"WAVE")?;
                out.write_all(&chunk)?;
                plain.seek(SeekFrom::Start(12))?;
                std::io::copy(&mut plain, &mut out)?;
                out.flush()
            })();
            copied.map_err(write_err)?;
        }
        pending.commit()
    }
}

fn hound_io(err: hound::Error) -> std::io::Error {
    match err {
        hound::Error::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}
