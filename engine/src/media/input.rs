//! Opening a media file for reading, with checks that turn the common mistakes into clear errors
//! before FFmpeg sees the file.

use std::path::Path;

use ffmpeg_next::format::context::Input;

use super::MediaError;

/// Opens `path` for demuxing.
pub(crate) fn open(path: &Path) -> Result<Input, MediaError> {
    super::init();
    check_readable_file(path)?;
    ffmpeg_next::format::input(path)
        .map_err(|err| MediaError::NotMedia { path: path.to_path_buf(), reason: describe_open_error(&err) })
}

/// Checks that `path` is a readable, non-empty regular file.
pub(crate) fn check_readable_file(path: &Path) -> Result<(), MediaError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => MediaError::NotFound { path: path.to_path_buf() },
        _ => MediaError::Read { path: path.to_path_buf(), source },
    })?;
    if meta.is_dir() {
        return Err(MediaError::IsDirectory { path: path.to_path_buf() });
    }
    if meta.len() == 0 {
        return Err(MediaError::Empty { path: path.to_path_buf() });
    }
    std::fs::File::open(path).map(drop).map_err(|source| MediaError::Read { path: path.to_path_buf(), source })
}

fn describe_open_error(err: &ffmpeg_next::Error) -> String {
    match err {
        ffmpeg_next::Error::InvalidData => {
            "its contents are not a known container, or its index is missing (a truncated \
             recording often lacks the index that is written last)"
                .to_owned()
        }
        other => other.to_string(),
    }
}

/// Seconds of `ts` in `time_base`.
pub(crate) fn seconds(ts: i64, time_base: ffmpeg_next::Rational) -> f64 {
    ts as f64 * f64::from(time_base.numerator()) / f64::from(time_base.denominator())
}

/// A stream's start time in its own time base, if the container knows it.
pub(crate) fn stream_start(stream: &ffmpeg_next::format::stream::Stream<'_>) -> Option<i64> {
    let start = stream.start_time();
    (start != ffmpeg_next::ffi::AV_NOPTS_VALUE).then_some(start)
}

/// Reads the next packet into a fresh packet. (`av_read_frame` does not release what a reused
/// packet held, so reusing one leaks every packet's data.)
pub(crate) fn read_packet(input: &mut Input) -> Result<ffmpeg_next::Packet, ffmpeg_next::Error> {
    let mut packet = ffmpeg_next::Packet::empty();
    packet.read(input).map(|()| packet)
}

/// Sends the next packet of stream `stream` to `decoder`, or end of stream once the file is
/// exhausted (and sets `eof_sent`). `before_send` may adjust the decoder for each packet just
/// before it is sent. A damaged packet is skipped: it spoils at most what depends on it, and the
/// decoder resynchronises, as players do.
pub(crate) fn feed_decoder(
    input: &mut Input,
    stream: usize,
    decoder: &mut ffmpeg_next::decoder::Opened,
    eof_sent: &mut bool,
    path: &Path,
    mut before_send: impl FnMut(&ffmpeg_next::Packet, &mut ffmpeg_next::decoder::Opened),
) -> Result<(), MediaError> {
    if *eof_sent {
        return Ok(());
    }
    let damaged = |what: &str, e: ffmpeg_next::Error| MediaError::Damaged {
        path: path.to_path_buf(),
        detail: format!("{what} failed: {e}"),
    };
    loop {
        match read_packet(input) {
            Ok(packet) if packet.stream() == stream => {
                before_send(&packet, decoder);
                return match decoder.send_packet(&packet) {
                    Ok(()) | Err(ffmpeg_next::Error::InvalidData) => Ok(()),
                    Err(e) => Err(damaged("decoding", e)),
                };
            }
            Ok(_) | Err(ffmpeg_next::Error::InvalidData) => {}
            Err(ffmpeg_next::Error::Eof) => {
                *eof_sent = true;
                // Sending end of stream twice is harmless; an error only means it was sent.
                let _ = decoder.send_eof();
                return Ok(());
            }
            Err(e) => return Err(damaged("reading", e)),
        }
    }
}
