//! Media input and output: decoding video frames and audio with FFmpeg, writing WAV files, and
//! muxing a new audio track into a copy of a video.
//!
//! Every error names the file it concerns and what is wrong with it, in words a user can act on.

pub(crate) mod atomic;
mod audio;
mod encode;
mod error;
mod input;
mod mux;
mod probe;
mod proxy;
mod scan;
mod video;
mod wav;

pub(crate) use atomic::{publish, write_atomically, write_bytes_atomically};
pub use atomic::{sidecar_path, staged_path};
pub use audio::{AudioInfo, AudioReader, AudioTrack, read_audio, resample};
pub use encode::{EncodeOptions, encode_video};
pub use error::MediaError;
pub(crate) use input::check_readable_file;
pub use mux::{MuxAudioCodec, mux_audio, mux_audio_with_progress, mux_channels_with_progress};
pub use probe::{ProbeReport, StreamKind, StreamReport, probe};
pub use proxy::{PROXY_MAX_SIZE, ProxyDecoder, ProxyEncoder, ProxyFrames, fit_within, proxy_size, scale_frame};
pub use video::{VideoFrame, VideoInfo, VideoReader, VideoReaderOptions};
pub use wav::{BroadcastInfo, WavFormat, WavStream, write_wav, write_wav_with};

/// Initialises FFmpeg once per process. Every entry point of this module calls it; calling it again
/// is free.
pub fn init() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        // ffmpeg::init only registers devices on old FFmpeg versions; it cannot fail on 5.x and
        // later, and an error here would resurface on the first open with the file named.
        if let Err(err) = ffmpeg_next::init() {
            log::warn!("FFmpeg initialisation reported: {err}");
        }
        // FFmpeg's own console messages would duplicate (and interleave with) the errors we
        // return, which name the file and the problem.
        let level = if std::env::var_os("FOLEY_FFMPEG_LOG").is_some() {
            ffmpeg_next::util::log::Level::Info
        } else {
            ffmpeg_next::util::log::Level::Quiet
        };
        ffmpeg_next::util::log::set_level(level);
    });
}

/// FFmpeg's library versions, for `foley probe` and bug reports.
#[must_use]
pub fn ffmpeg_versions() -> String {
    fn v(x: u32) -> String {
        format!("{}.{}.{}", x >> 16, (x >> 8) & 0xff, x & 0xff)
    }
    format!("libavformat {}, libavcodec {}", v(ffmpeg_next::format::version()), v(ffmpeg_next::codec::version()))
}
