//! Test fixtures, made at test time with the `ffmpeg` command the set-up installs, so that no
//! media binaries live in git.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

#[path = "../../app/src/cli/bench/fixtures.rs"]
mod fixtures;

/// Runs `ffmpeg -v error -y ARGS... OUT` and returns OUT. Panics with ffmpeg's message on failure
/// (a fixture that cannot be made is a broken test set-up, not a skipped test).
pub fn ffmpeg(args: &[&str], out: &Path) -> PathBuf {
    fixtures::run_ffmpeg(args, out).unwrap_or_else(|e| panic!("{e:#}"))
}

/// A silent H.264 test-pattern video in mp4: `frames` frames at `rate` (e.g. "30000/1001"), with
/// B-frames and a key frame every 12 frames so seeks must decode forward.
pub fn h264_video(dir: &Path, name: &str, rate: &str, frames: u32, size: &str) -> PathBuf {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={size}:rate={rate}"),
            "-frames:v",
            &frames.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "12",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
        ],
        &dir.join(name),
    )
}

/// A variable-rate video: frame n is shown at `vfr_time(n)`.
pub fn vfr_video(dir: &Path, name: &str, frames: u32) -> PathBuf {
    // 30 fps for 20 frames, then 15 fps, as when a camera slows down in low light.
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=30",
            "-frames:v",
            &frames.to_string(),
            "-vf",
            "setpts=(N+max(N-20\\,0))/30/TB",
            "-fps_mode",
            "passthrough",
            "-video_track_timescale",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "0",
            "-pix_fmt",
            "yuv420p",
        ],
        &dir.join(name),
    )
}

/// The presentation time of frame `n` of [`vfr_video`].
pub fn vfr_time(n: u32) -> f64 {
    f64::from(n + n.saturating_sub(20)) / 30.0
}

/// A sine tone of amplitude 0.5 as an audio file (the codec follows the extension), `channels` channels.
pub fn tone(dir: &Path, name: &str, freq: u32, seconds: f64, rate: u32, channels: u32) -> PathBuf {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("aevalsrc=0.5*sin(2*PI*{freq}*t):s={rate}:d={seconds}"),
            "-af",
            &format!("pan={}c|{}", channels, (0..channels).map(|c| format!("c{c}=c0")).collect::<Vec<_>>().join("|")),
        ],
        &dir.join(name),
    )
}

/// The H.264 video of [`h264_video`] with a tone track of `codec` (e.g. "aac", "libmp3lame", "ac3").
pub fn video_with_audio(dir: &Path, name: &str, audio_codec: &str, video_codec: &[&str]) -> PathBuf {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:sample_rate=48000:duration=2",
        "-t",
        "2",
        "-map",
        "0:v",
        "-map",
        "1:a",
    ];
    args.extend_from_slice(video_codec);
    args.extend_from_slice(&["-c:a", audio_codec]);
    ffmpeg(&args, &dir.join(name))
}
