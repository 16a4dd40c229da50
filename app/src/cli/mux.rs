//! `foley mux`: a copy of a video with a new audio track.

use std::path::PathBuf;

use foley_engine::media::{self, MuxAudioCodec};
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;

#[derive(Debug, clap::Args)]
pub struct MuxArgs {
    /// The video whose picture is kept.
    pub video: PathBuf,
    /// The new sound: any audio file FFmpeg reads, or a video's audio track. It starts on the
    /// video's first frame.
    pub audio: PathBuf,
    /// The output video (.mp4, .m4v, .mov or .mkv).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Audio codec (default: aac for mp4/mov, flac for mkv).
    #[arg(long, value_enum)]
    pub codec: Option<CodecArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CodecArg {
    Aac,
    Pcm16,
    Pcm24,
    Flac,
}

impl From<CodecArg> for MuxAudioCodec {
    fn from(c: CodecArg) -> Self {
        match c {
            CodecArg::Aac => Self::Aac,
            CodecArg::Pcm16 => Self::Pcm16,
            CodecArg::Pcm24 => Self::Pcm24,
            CodecArg::Flac => Self::Flac,
        }
    }
}

pub fn run(args: &MuxArgs) -> anyhow::Result<()> {
    let mut track = media::read_audio(&args.audio, OUTPUT_SAMPLE_RATE)?;
    // The new track is placed from the first frame, whatever its own container said.
    track.start_s = 0.0;
    let bar = super::progress::bar(1000, "muxing");
    let result =
        media::mux_audio_with_progress(&args.video, &track, &args.output, args.codec.map(Into::into), &mut |f| {
            bar.set_position((f * 1000.0) as u64);
        });
    bar.finish_and_clear();
    result?;
    eprintln!("wrote {} ({:.2} s of audio)", args.output.display(), track.duration_s());
    Ok(())
}
