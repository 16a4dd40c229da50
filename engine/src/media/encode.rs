//! Writing new videos: RGB frames encoded as H.264, with an optional mono audio track.

use std::path::Path;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::{Dictionary, Rational, Rescale, codec, encoder, format, frame};

use super::atomic::PendingFile;
use super::mux::{AudioFeeder, Container, MuxFailure, drain, open_audio_encoder, out_err};
use super::{AudioTrack, MediaError};

/// How [`encode_video`] encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    pub width: u32,
    pub height: u32,
    /// Frame rate as a fraction, e.g. `(30000, 1001)`.
    pub fps: (i32, i32),
    /// x264 constant rate factor (lower is better quality; 18-23 is usual).
    pub crf: u32,
    /// x264 preset (`ultrafast` ... `veryslow`).
    pub preset: String,
}

/// Encodes `frames` (packed RGB8 rows, `width * height * 3` bytes each, in display order at the
/// given rate) as H.264 in the container `path`'s extension names (mp4, m4v, mov or mkv), with
/// `audio` (mono, its sample 0 on the first frame) as AAC (mp4, mov) or FLAC (mkv). The encoder
/// runs on one thread in bit-exact mode, so the same frames and sound give the same bytes. The
/// file appears only when complete. Returns the number of
/// frames written.
pub fn encode_video(
    path: &Path,
    frames: &mut dyn Iterator<Item = Vec<u8>>,
    audio: Option<&AudioTrack>,
    options: &EncodeOptions,
) -> Result<u64, MediaError> {
    super::init();
    let (w, h) = (options.width, options.height);
    if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 || options.fps.0 <= 0 || options.fps.1 <= 0 {
        return Err(MediaError::InvalidArgument(format!(
            "cannot encode {w}x{h} at {}/{} fps (sizes must be even and positive)",
            options.fps.0, options.fps.1
        )));
    }
    let container = Container::from_path(path)?;
    let (pending, file) = PendingFile::beside(path)?;
    drop(file);
    let written = write(pending.path(), container, frames, audio, options).map_err(|e| match e {
        MuxFailure::Media(e) => e,
        MuxFailure::Output(what, source) => MediaError::codec(path, what, source),
    })?;
    pending.commit()?;
    Ok(written)
}

fn write(
    temp: &Path,
    container: Container,
    frames: &mut dyn Iterator<Item = Vec<u8>>,
    audio: Option<&AudioTrack>,
    options: &EncodeOptions,
) -> Result<u64, MuxFailure> {
    let (w, h) = (options.width, options.height);
    let mut output = format::output_as(temp, container.format_name()).map_err(out_err("cannot create the output"))?;
    let global_header = output.format().flags().contains(format::flag::Flags::GLOBAL_HEADER);

    let h264 = encoder::find_by_name("libx264")
        .ok_or(MuxFailure::Output("this FFmpeg has no H.264 encoder (libx264)", ffmpeg_next::Error::EncoderNotFound))?;
    let mut out_video = output.add_stream(h264).map_err(out_err("cannot add the video stream"))?;
    let video_tb = Rational::new(options.fps.1, options.fps.0);
    let mut enc = codec::context::Context::new_with_codec(h264)
        .encoder()
        .video()
        .map_err(out_err("cannot set up the video encoder"))?;
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(Pixel::YUV420P);
    enc.set_time_base(video_tb);
    enc.set_frame_rate(Some(Rational::new(options.fps.0, options.fps.1)));
    // Bit-exact mode and one thread: as reproducible as the encoder allows.
    let mut flags = codec::Flags::BITEXACT;
    if global_header {
        flags |= codec::Flags::GLOBAL_HEADER;
    }
    enc.set_flags(flags);
    enc.set_threading(codec::threading::Config { kind: codec::threading::Type::None, count: 1, ..Default::default() });
    let mut settings = Dictionary::new();
    settings.set("preset", &options.preset);
    settings.set("crf", &options.crf.to_string());
    settings.set("threads", "1");
    // x264's AVX-512 code gave different bytes for the same frames now and then within one
    // process; its AVX2 code always gives the same ones. (Only named where AVX-512 is present,
    // so AVX2 is too: x264 takes the named instruction sets as given.)
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        settings.set("x264-params", "asm=AVX2");
    }

    let mut enc = enc.open_with(settings).map_err(out_err("cannot open the H.264 encoder"))?;
    out_video.set_parameters(&enc);
    out_video.set_time_base(video_tb);

    let audio_codec = container.default_codec();
    let mut audio_out = match audio {
        Some(track) => {
            let (enc, index) = open_audio_encoder(&mut output, audio_codec, track.rate, 1, global_header)?;
            Some((enc, index, track))
        }
        None => None,
    };
    output.write_header().map_err(out_err("cannot write the header"))?;
    let out_video_tb = output.stream(0).map_or(video_tb, |s| s.time_base());
    let mut feeder = audio_out.as_mut().map(|(enc, index, track)| {
        let tb = output.stream(*index).map_or(Rational::new(1, track.rate as i32), |s| s.time_base());
        let feeder = AudioFeeder {
            samples: &track.samples,
            channels: 1,
            next: 0,
            next_pts: 0,
            frame_size: match enc.frame_size() {
                0 => 1024,
                n => n as usize,
            },
            format: audio_codec.sample_format(),
            rate: track.rate,
        };
        (feeder, tb)
    });

    let mut scaler = scaling::Context::get(Pixel::RGB24, w, h, Pixel::YUV420P, w, h, scaling::Flags::BILINEAR)
        .map_err(out_err("cannot set up the colour conversion"))?;
    let row = w as usize * 3;
    let mut count = 0_u64;
    for rgb in frames {
        if rgb.len() != row * h as usize {
            return Err(MediaError::InvalidArgument(format!(
                "frame {count} has {} bytes; a {w}x{h} RGB frame has {}",
                rgb.len(),
                row * h as usize
            ))
            .into());
        }
        let input = super::video::padded_rows(&rgb, w, h);
        let mut yuv = frame::Video::empty();
        scaler.run(&input, &mut yuv).map_err(out_err("cannot convert a frame to YUV"))?;
        yuv.set_pts(Some(count as i64));
        if let (Some((feeder, tb)), Some((audio_enc, index, track))) = (feeder.as_mut(), audio_out.as_mut()) {
            let until = (count as i64).rescale(video_tb, Rational::new(1, track.rate as i32));
            feeder.feed_until(until, audio_enc, &mut output, *index, *tb)?;
        }
        enc.send_frame(&yuv).map_err(out_err("cannot encode a frame"))?;
        drain_video(&mut enc, &mut output, video_tb, out_video_tb)?;
        count += 1;
    }
    enc.send_eof().map_err(out_err("cannot finish the video encoder"))?;
    drain_video(&mut enc, &mut output, video_tb, out_video_tb)?;
    if let (Some((feeder, tb)), Some((audio_enc, index, track))) = (feeder.as_mut(), audio_out.as_mut()) {
        feeder.feed_until(i64::MAX, audio_enc, &mut output, *index, *tb)?;
        audio_enc.send_eof().map_err(out_err("cannot finish the audio encoder"))?;
        drain(audio_enc, &mut output, *index, Rational::new(1, track.rate as i32), *tb)?;
    }
    output.write_trailer().map_err(out_err("cannot finish the output file"))?;
    Ok(count)
}

fn drain_video(
    enc: &mut encoder::Video,
    output: &mut format::context::Output,
    enc_tb: Rational,
    out_tb: Rational,
) -> Result<(), MuxFailure> {
    let mut packet = ffmpeg_next::Packet::empty();
    while enc.receive_packet(&mut packet).is_ok() {
        packet.set_stream(0);
        // Every frame lasts one frame period. Without it the container gives the last frame no
        // duration, and its edit list then ends before that frame: players and decoders drop it.
        packet.set_duration(1);
        packet.rescale_ts(enc_tb, out_tb);
        packet.write_interleaved(output).map_err(out_err("cannot write a video packet"))?;
    }
    Ok(())
}
