//! Media I/O against fixtures made at test time.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

#[path = "../../tests/support/mod.rs"]
mod support;

use std::path::Path;

use foley_engine::media::{
    self, AudioReader, AudioTrack, MediaError, MuxAudioCodec, VideoReader, VideoReaderOptions, WavFormat,
};

fn all_frame_times(path: &Path) -> Vec<f64> {
    let mut reader = VideoReader::open(path).expect("open");
    reader.frames().map(|f| f.expect("frame").time_s).collect()
}

#[test]
fn constant_rate_timestamps_follow_the_frame_rate() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, num, den) in [("30", 30.0, 1.0), ("30000/1001", 30_000.0, 1001.0), ("25", 25.0, 1.0), ("60", 60.0, 1.0)]
    {
        let path = support::h264_video(dir.path(), &format!("cfr_{}.mp4", num / den), rate, 45, "160x120");
        let reader = VideoReader::open(&path).unwrap();
        let info = reader.info().clone();
        let fps = num / den;
        assert_eq!(info.frame_count, 45, "{rate}");
        assert!(!info.variable_rate, "{rate} reported as variable");
        assert!((info.fps - fps).abs() < 1e-6, "{rate}: fps {}", info.fps);
        assert!((info.duration_s - 45.0 / fps).abs() < 1e-3, "{rate}: duration {}", info.duration_s);
        let times = all_frame_times(&path);
        assert_eq!(times.len(), 45, "{rate}");
        for (i, t) in times.iter().enumerate() {
            let expected = i as f64 / fps;
            // mp4 time bases round to ticks; one tick of a 1/15360 (or finer) base is < 70 us.
            assert!((t - expected).abs() < 1e-4, "{rate}: frame {i} at {t}, expected {expected}");
        }
    }
}

/// The same 72 frames at 23.976 fps in containers whose timestamps decoders report differently:
/// DivX-style AVI with B-frames (most frames without a PTS, the last flushed out with none),
/// Matroska with B-frames, Ogg/Theora, an MPEG-2 program stream and VP9 in WebM.
#[test]
fn frames_of_every_container_cover_the_video_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 72;
    let fps = 24_000.0 / 1001.0;
    let source = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=24000/1001", "-frames:v", "72"];
    let cases: [(&str, &[&str]); 5] = [
        ("divx.avi", &["-c:v", "mpeg4", "-vtag", "DIVX", "-bf", "2", "-q:v", "4"]),
        ("bframes.mkv", &["-c:v", "libx264", "-preset", "ultrafast", "-bf", "3", "-pix_fmt", "yuv420p"]),
        ("theora.ogv", &["-c:v", "libtheora", "-q:v", "5"]),
        ("mpeg2.mpg", &["-c:v", "mpeg2video", "-bf", "2", "-q:v", "4", "-f", "vob"]),
        ("vp9.webm", &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]),
    ];
    for (name, codec) in cases {
        let args: Vec<&str> = source.iter().chain(codec).copied().collect();
        let path = support::ffmpeg(&args, &dir.path().join(name));
        let info = VideoReader::open(&path).unwrap().info().clone();
        let times = all_frame_times(&path);
        assert_eq!(times.len(), frames, "{name}: frames decoded");
        assert_eq!(info.frame_count, frames as u64, "{name}: frames counted");
        assert!((info.duration_s - frames as f64 / fps).abs() < 1.0 / fps, "{name}: duration {}", info.duration_s);
        assert!(times.windows(2).all(|w| w[1] > w[0]), "{name}: frame times out of order: {times:?}");
        // Where the frame belongs (the first one at 0 even where the decoder reports a B-frame
        // stream's frames a reorder delay late), and inside the video's span.
        for (i, t) in times.iter().enumerate() {
            let expected = i as f64 / fps;
            assert!((t - expected).abs() < 0.25 / fps, "{name}: frame {i} at {t}, expected {expected}");
            assert!(*t >= 0.0 && *t < info.duration_s + 1e-3, "{name}: frame {i} at {t} outside the video");
        }
    }
}

#[test]
fn variable_rate_timestamps_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["vfr.mp4", "vfr.mkv"] {
        let path = support::vfr_video(dir.path(), name, 40);
        let info = VideoReader::open(&path).unwrap().info().clone();
        assert!(info.variable_rate, "{name} not reported as variable");
        assert_eq!(info.frame_count, 40);
        let times = all_frame_times(&path);
        assert_eq!(times.len(), 40);
        for (n, t) in times.iter().enumerate() {
            let expected = support::vfr_time(n as u32);
            assert!((t - expected).abs() < 1.5e-3, "{name}: frame {n} at {t}, expected {expected}");
        }
    }
}

#[test]
fn frames_are_scaled_and_packed() {
    let dir = tempfile::tempdir().unwrap();
    // 322 wide: FFmpeg pads rows of odd-sized RGB frames, which must not leak into the output.
    let path = support::h264_video(dir.path(), "odd.mp4", "25", 5, "322x240");
    let mut reader =
        VideoReader::open_with(&path, VideoReaderOptions { size: Some((224, 224)), threads: 1, ..Default::default() })
            .unwrap();
    let frame = reader.next_frame().unwrap().unwrap();
    assert_eq!((frame.width, frame.height, frame.rgb.len()), (224, 224, 224 * 224 * 3));
    let mut native = VideoReader::open(&path).unwrap();
    let frame = native.next_frame().unwrap().unwrap();
    assert_eq!((frame.width, frame.height, frame.rgb.len()), (322, 240, 322 * 240 * 3));
    // testsrc2 is colourful: the pixels are real picture data.
    assert!(frame.rgb.iter().any(|&b| b > 32));
    // The size can change once the coded size is known.
    native.set_output_size(Some((112, 84))).unwrap();
    let frame = native.next_frame().unwrap().unwrap();
    assert_eq!((frame.width, frame.height, frame.rgb.len()), (112, 84, 112 * 84 * 3));
    assert!(native.set_output_size(Some((0, 10))).is_err());
}

/// Skipping the loop filter changes the pictures a little (the deblocking is what it skips) and
/// nothing else: the same frames at the same times.
#[test]
fn skipping_the_loop_filter_keeps_every_frame_and_changes_pixels_only_slightly() {
    let dir = tempfile::tempdir().unwrap();
    // Deblocking matters where blocks show: noise at a low bit rate, with the filter on.
    let path = support::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25,noise=alls=30:allf=t",
            "-frames:v",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-b:v",
            "150k",
            "-pix_fmt",
            "yuv420p",
        ],
        &dir.path().join("blocky.mp4"),
    );
    let read = |skip_loop_filter| {
        let options = VideoReaderOptions { size: Some((160, 120)), threads: 1, skip_loop_filter };
        VideoReader::open_with(&path, options).unwrap().frames().map(Result::unwrap).collect::<Vec<_>>()
    };
    let (full, cheap) = (read(false), read(true));
    assert_eq!(full.len(), 30);
    assert_eq!(full.iter().map(|f| f.time_s).collect::<Vec<_>>(), cheap.iter().map(|f| f.time_s).collect::<Vec<_>>());
    let (mut sum, mut count) = (0_u64, 0_u64);
    for (a, b) in full.iter().zip(&cheap) {
        sum += a.rgb.iter().zip(&b.rgb).map(|(x, y)| u64::from(x.abs_diff(*y))).sum::<u64>();
        count += a.rgb.len() as u64;
    }
    let mean = sum as f64 / count as f64;
    assert!(mean > 0.0, "skipping the loop filter changed nothing: the option is not applied");
    assert!(mean < 4.0, "skipping the loop filter changed pixels by {mean:.2} levels on average");
}

#[test]
fn seeking_returns_the_frame_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::h264_video(dir.path(), "seek.mp4", "30000/1001", 90, "160x120");
    let mut sequential = VideoReader::open(&path).unwrap();
    let frames: Vec<_> = sequential.frames().map(Result::unwrap).collect();
    let mut reader = VideoReader::open(&path).unwrap();
    let period: f64 = 1001.0 / 30_000.0;
    // Forward, backward, onto key frames, between frames, before the start and past the end.
    for (target, expected) in [
        (1.5, (1.5 / period).floor() as usize),
        (0.0, 0),
        (2.0, (2.0 / period).floor() as usize),
        (12.0 * period, 12),
        (13.0 * period - 1e-3, 12),
        (0.5 * period, 0),
        (-1.0, 0),
        (100.0, 89),
        (37.0 * period, 37),
        // Short moves forward decode on from where the reader is, without going back to a key frame.
        (40.0 * period, 40),
        (40.5 * period, 40),
        (55.0 * period, 55),
        (55.0 * period + 0.9, (55.0 + 0.9 / period).floor() as usize),
    ] {
        let frame = reader.seek(target).unwrap().expect("a frame");
        assert_eq!(frame.time_s, frames[expected].time_s, "seek to {target}");
        assert!(frame.rgb == frames[expected].rgb, "seek to {target}: pixels differ from frame {expected}");
    }
    // Reading continues after the frame a seek returned, forward or backward.
    let shown = reader.seek(30.0 * period).unwrap().unwrap();
    assert_eq!(shown.time_s, frames[30].time_s);
    let shown = reader.seek(33.0 * period).unwrap().unwrap();
    assert_eq!(shown.time_s, frames[33].time_s);
    assert_eq!(reader.next_frame().unwrap().unwrap().time_s, frames[34].time_s);
    let shown = reader.seek(20.0 * period).unwrap().unwrap();
    assert_eq!(shown.time_s, frames[20].time_s);
    let next = reader.next_frame().unwrap().unwrap();
    assert_eq!(next.time_s, frames[21].time_s);
    assert!(next.rgb == frames[21].rgb);
}

#[test]
fn seeking_reaches_every_frame_past_unreferenced_b_frames() {
    // Without a B-pyramid every B-frame is one no other frame refers to: those a seek passes
    // over are dropped undecoded, and the target itself must never be one of them.
    let dir = tempfile::tempdir().unwrap();
    let path = support::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25",
            "-frames:v",
            "60",
            "-c:v",
            "libx264",
            "-g",
            "30",
            "-bf",
            "3",
            "-x264-params",
            "b-pyramid=none:b-adapt=0:scenecut=0",
            "-pix_fmt",
            "yuv420p",
        ],
        &dir.path().join("nonref.mp4"),
    );
    let frames: Vec<_> = VideoReader::open(&path).unwrap().frames().map(Result::unwrap).collect();
    assert_eq!(frames.len(), 60);
    // Frame threads decode several packets at once: the per-packet choice must hold there too.
    let mut reader =
        VideoReader::open_with(&path, VideoReaderOptions { size: None, threads: 2, ..Default::default() }).unwrap();
    for i in 0..frames.len() {
        // Alternate between the far end and the target so every seek goes through a key frame.
        let far = if i < 30 { 59 } else { 0 };
        reader.seek(frames[far].time_s).unwrap().unwrap();
        for target in [frames[i].time_s, frames[i].time_s + 0.02] {
            let frame = reader.seek(target).unwrap().expect("a frame");
            assert_eq!(frame.time_s, frames[i].time_s, "seek to {target}");
            assert!(frame.rgb == frames[i].rgb, "seek to {target}: pixels differ from frame {i}");
        }
        // Reading on after a seek yields the following frame, whole.
        if let Some(next) = frames.get(i + 1) {
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!(frame.time_s, next.time_s);
            assert!(frame.rgb == next.rgb, "frame after {i} differs");
        }
    }
}

#[test]
fn audio_is_mixed_to_mono_and_resampled() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::tone(dir.path(), "tone.wav", 440, 2.0, 44_100, 2);
    let track = media::read_audio(&path, 48_000).unwrap();
    assert_eq!(track.rate, 48_000);
    assert_eq!(track.start_s, 0.0);
    // Every input sample accounted for: 2 s at 48 kHz, give or take the filter's edges.
    assert!((track.samples.len() as i64 - 96_000).abs() <= 48, "{} samples", track.samples.len());
    // Both channels carry the same 0.5-amplitude tone: the mono mix keeps the level.
    let middle = &track.samples[4_800..91_200];
    let rms = (middle.iter().map(|s| s * s).sum::<f32>() / middle.len() as f32).sqrt();
    assert!((rms - 0.5 / 2f32.sqrt()).abs() < 0.01, "rms {rms}");
    let crossings = middle.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count() as f64;
    let freq = crossings / (middle.len() as f64 / 48_000.0);
    assert!((freq - 440.0).abs() < 2.0, "frequency {freq}");
}

#[test]
fn audio_start_is_placed_on_the_video_timeline() {
    let dir = tempfile::tempdir().unwrap();
    // The audio starts 0.5 s after the first frame.
    let video = support::h264_video(dir.path(), "v.mp4", "25", 50, "160x120");
    let audio = support::tone(dir.path(), "a.wav", 440, 1.0, 48_000, 1);
    let delayed = support::ffmpeg(
        &[
            "-i",
            video.to_str().unwrap(),
            "-itsoffset",
            "0.5",
            "-i",
            audio.to_str().unwrap(),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "flac",
        ],
        &dir.path().join("delayed.mkv"),
    );
    let reader = AudioReader::open(&delayed, 48_000).unwrap();
    assert!((reader.info().start_s - 0.5).abs() < 2e-3, "start {}", reader.info().start_s);
    let track = reader.read_all().unwrap();
    assert!((track.start_s - 0.5).abs() < 2e-3);
}

#[test]
fn wav_files_round_trip_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<f32> = (0..4_800).map(|i| (i as f32 * 0.05).sin() * 0.8).collect();
    for (format, bits, step) in [
        (WavFormat::Pcm16, 16, 1.0 / 32_767.0),
        (WavFormat::Pcm24, 24, 1.0 / 8_388_607.0),
        (WavFormat::Float32, 32, 0.0),
    ] {
        let path = dir.path().join(format!("out_{bits}.wav"));
        media::write_wav(&path, &samples, 48_000, 1, format).unwrap();
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.sample_rate, spec.channels, spec.bits_per_sample), (48_000, 1, bits));
        let back: Vec<f32> = match format {
            WavFormat::Float32 => reader.samples::<f32>().map(Result::unwrap).collect(),
            WavFormat::Pcm16 => reader.samples::<i32>().map(|s| s.unwrap() as f32 / 32_767.0).collect(),
            WavFormat::Pcm24 => reader.samples::<i32>().map(|s| s.unwrap() as f32 / 8_388_607.0).collect(),
        };
        assert_eq!(back.len(), samples.len());
        let worst = back.iter().zip(&samples).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst <= step * 0.5 + 1e-7, "{format:?}: error {worst}");
        // The decoder the app uses reads it back too.
        assert_eq!(media::read_audio(&path, 48_000).unwrap().samples.len(), samples.len());
    }
    // Only the finished files are left: no temporary files beside them.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn a_failed_wav_write_leaves_nothing_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.wav");
    media::write_wav(&path, &[0.1, 0.2], 48_000, 1, WavFormat::Pcm16).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = media::write_wav(&path, &[0.1, f32::NAN], 48_000, 1, WavFormat::Pcm16).unwrap_err();
    assert!(err.to_string().contains("not a finite number"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let missing_dir = dir.path().join("no/such/folder/out.wav");
    let err = media::write_wav(&missing_dir, &[0.0], 48_000, 1, WavFormat::Pcm16).unwrap_err();
    assert!(matches!(err, MediaError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("no/such/folder/out.wav"), "{err}");
}

#[test]
fn a_wav_written_block_by_block_is_the_wav_written_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<f32> = (0..9_000).map(|i| (i as f32 * 0.01).sin() * 0.7).collect();
    let bext = media::BroadcastInfo { description: "d".into(), originator: "o".into(), time_reference: 48_000 };
    for (format, info) in [(WavFormat::Pcm24, None), (WavFormat::Float32, None), (WavFormat::Pcm16, Some(&bext))] {
        let whole = dir.path().join("whole.wav");
        let blocks = dir.path().join("blocks.wav");
        let _ = std::fs::remove_file(&blocks);
        media::write_wav_with(&whole, &samples, 48_000, 2, format, info).unwrap();
        let mut stream = media::WavStream::create(&blocks, 48_000, 2, format, info).unwrap();
        for part in samples.chunks(2_000) {
            stream.write(part).unwrap();
        }
        assert!(!blocks.exists(), "nothing at the path before the stream is finished");
        stream.finish().unwrap();
        let (whole, blocks) = (std::fs::read(&whole).unwrap(), std::fs::read(&blocks).unwrap());
        assert_eq!(whole.len(), blocks.len());
        if info.is_some() {
            assert_eq!(&blocks[12..16], b"bext");
            // Only the chunk's date and time of origination may differ (bytes 8 + 320..338).
            let differing: Vec<usize> = (0..whole.len()).filter(|&i| whole[i] != blocks[i]).collect();
            assert!(differing.iter().all(|i| (12 + 8 + 320..12 + 8 + 338).contains(i)), "{differing:?}");
        } else {
            assert_eq!(whole, blocks, "{format:?}");
        }
    }

    // A stream dropped unfinished, or refused mid-way, leaves the earlier file as it was.
    let path = dir.path().join("whole.wav");
    let before = std::fs::read(&path).unwrap();
    let mut stream = media::WavStream::create(&path, 48_000, 1, WavFormat::Pcm16, None).unwrap();
    stream.write(&[0.5; 100]).unwrap();
    drop(stream);
    let mut stream = media::WavStream::create(&path, 48_000, 1, WavFormat::Pcm16, None).unwrap();
    stream.write(&[0.5; 100]).unwrap();
    let err = stream.write(&[0.1, f32::INFINITY]).unwrap_err();
    assert!(err.to_string().contains("sample 101 is inf"), "{err}");
    assert!(stream.write(&[0.1; 3]).is_ok(), "mono takes any count");
    drop(stream);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary files left");
    let mut stereo = media::WavStream::create(&path, 48_000, 2, WavFormat::Pcm16, None).unwrap();
    let err = stereo.write(&[0.1; 3]).unwrap_err();
    assert!(err.to_string().contains("3 samples do not divide into 2 channels"), "{err}");
}

/// Every packet of the best stream of `kind`: (pts in microseconds, bytes). Times are compared
/// in microseconds because a muxer may choose another time base.
fn packets(path: &Path, kind: ffmpeg_next::media::Type) -> Vec<(Option<i64>, Vec<u8>)> {
    let mut input = ffmpeg_next::format::input(path).unwrap();
    let stream = input.streams().best(kind).unwrap();
    let (index, tb) = (stream.index(), stream.time_base());
    input
        .packets()
        .filter(|(s, _)| s.index() == index)
        .map(|(_, p)| {
            let us = p.pts().map(|t| t * 1_000_000 * i64::from(tb.numerator()) / i64::from(tb.denominator()));
            (us, p.data().unwrap_or_default().to_vec())
        })
        .collect()
}

/// A track that is silent but for a short click every 0.5 s, starting at 0.25 s.
fn click_track(seconds: f64) -> AudioTrack {
    let rate = 48_000;
    let mut samples = vec![0.0_f32; (seconds * f64::from(rate)) as usize];
    let mut t = 0.25;
    while t < seconds - 0.01 {
        let i = (t * f64::from(rate)) as usize;
        for (k, s) in samples[i..i + 48].iter_mut().enumerate() {
            let envelope = (std::f32::consts::PI * k as f32 / 48.0).sin();
            *s = 0.8 * envelope * (2.0 * std::f32::consts::PI * 1_000.0 * k as f32 / 48_000.0).cos();
        }
        t += 0.5;
    }
    AudioTrack { rate, start_s: 0.0, samples }
}

/// Times of the clicks: the first sample above half the peak, at most one per 0.2 s.
fn click_times(track: &AudioTrack) -> Vec<f64> {
    let peak = track.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
    let mut times = Vec::new();
    let mut last = -1.0;
    for (i, s) in track.samples.iter().enumerate() {
        let t = track.start_s + i as f64 / f64::from(track.rate);
        if s.abs() > peak * 0.5 && t - last > 0.2 {
            times.push(t);
            last = t;
        }
    }
    times
}

#[test]
fn mux_copies_video_packets_and_aligns_the_audio() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::h264_video(dir.path(), "in.mp4", "30000/1001", 60, "160x120");
    let track = click_track(2.0);
    for (name, codec, lossless) in [
        ("out.mp4", None, false),
        ("out.mov", Some(MuxAudioCodec::Pcm24), true),
        ("out.mkv", None, true),
        ("aac.mkv", Some(MuxAudioCodec::Aac), false),
    ] {
        let out = dir.path().join(name);
        media::mux_audio(&video, &track, &out, codec).unwrap();
        let kind = ffmpeg_next::media::Type::Video;
        let (before, after) = (packets(&video, kind), packets(&out, kind));
        assert_eq!(before.len(), after.len(), "{name}: packet count");
        // A muxer may shift the whole file (Matroska cannot start AAC's priming before zero), so
        // times are compared from the first packet.
        let (b0, a0) = (before[0].0.unwrap(), after[0].0.unwrap());
        for (i, (b, a)) in before.iter().zip(&after).enumerate() {
            assert!(b.1 == a.1, "{name}: video packet {i} differs");
            // Matroska keeps milliseconds; mp4 and mov keep the source's ticks.
            let (tb, ta) = (b.0.unwrap() - b0, a.0.unwrap() - a0);
            assert!((tb - ta).abs() <= 500, "{name}: packet {i} moved from {tb} us to {ta} us");
        }
        let back = media::read_audio(&out, 48_000).unwrap();
        // Matroska has no field for AAC's 1024 priming samples, so they decode too, just before
        // time 0; every other combination starts exactly on the first frame.
        let priming = if name == "aac.mkv" { 1024.0 / 48_000.0 } else { 0.0 };
        assert!((back.start_s + priming).abs() < 1e-3, "{name}: audio starts at {}", back.start_s);
        let expected = click_times(&track);
        let got = click_times(&back);
        assert_eq!(got.len(), expected.len(), "{name}: clicks {got:?}");
        // Lossless codecs put every click on its sample; AAC within a millisecond.
        let tolerance = if lossless { 0.5 / 48_000.0 } else { 1e-3 };
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() <= tolerance, "{name}: click at {g}, expected {e}");
        }
        if lossless {
            let worst = back.samples.iter().zip(&track.samples).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{name}: lossless track differs by {worst}");
        }
    }
}

#[test]
fn mux_refuses_bad_outputs_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::h264_video(dir.path(), "in.mp4", "25", 10, "160x120");
    let track = click_track(0.4);
    let err = media::mux_audio(&video, &track, &dir.path().join("out.avi"), None).unwrap_err();
    assert!(err.to_string().contains("out.avi") && err.to_string().contains(".mp4"), "{err}");
    let err = media::mux_audio(&video, &track, &dir.path().join("out.mp4"), Some(MuxAudioCodec::Flac)).unwrap_err();
    assert!(err.to_string().contains("cannot hold"), "{err}");
    let err = media::mux_audio(&video, &track, &video, None).unwrap_err();
    assert!(err.to_string().contains("overwrite"), "{err}");
    let err = media::mux_audio(&video, &track, &dir.path().join("missing/out.mp4"), None).unwrap_err();
    assert!(matches!(err, MediaError::Write { .. }), "{err:?}");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("in.mp4")]);
}

#[test]
fn bad_inputs_are_named_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let random = d.join("random.mp4");
    let noise: Vec<u8> = (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&random, noise).unwrap();
    let good = support::h264_video(d, "good.mp4", "25", 50, "160x120");
    let bytes = std::fs::read(&good).unwrap();
    // moov at the end (FFmpeg's default): cutting the file loses the index.
    let truncated = d.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    // moov at the front: the index survives but the frames it lists are gone.
    let faststart =
        support::ffmpeg(&["-i", good.to_str().unwrap(), "-c", "copy", "-movflags", "+faststart"], &d.join("fast.mp4"));
    let fs_bytes = std::fs::read(&faststart).unwrap();
    let truncated_fs = d.join("truncated_faststart.mp4");
    std::fs::write(&truncated_fs, &fs_bytes[..fs_bytes.len() * 2 / 3]).unwrap();
    let audio_only = support::tone(d, "audio_only.m4a", 440, 0.5, 48_000, 1);

    let missing = d.join("missing.mp4");
    let cases: Vec<(&Path, &str)> = vec![
        (&missing, "no such file"),
        (d, "is a directory"),
        (&empty, "the file is empty"),
        (&random, "not a media file"),
        (&truncated, "not a media file"),
        (&truncated_fs, "truncated or damaged"),
        (&audio_only, "no video stream"),
    ];
    for (path, expected) in cases {
        let err = VideoReader::open(path).unwrap_err().to_string();
        assert!(err.contains(expected), "{}: {err}", path.display());
        assert!(err.contains(&path.display().to_string()), "error does not name the file: {err}");
    }
    let err = AudioReader::open(&good, 48_000).unwrap_err().to_string();
    assert!(err.contains("no audio stream") && err.contains("good.mp4"), "{err}");
}

#[test]
fn a_video_stream_without_frames_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let audio = support::tone(dir.path(), "a.wav", 440, 0.5, 48_000, 1);
    // A Matroska file that declares a video track but holds no video frames: the picture was
    // trimmed away entirely, the sound was kept.
    let path = support::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:d=1",
            "-i",
            audio.to_str().unwrap(),
            "-filter_complex",
            "[0:v]trim=start=5[v]",
            "-map",
            "[v]",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-c:a",
            "flac",
        ],
        &dir.path().join("no_frames.mkv"),
    );
    let err = VideoReader::open(&path).unwrap_err();
    assert!(matches!(err, MediaError::NoFrames { .. }), "{err:?}");
    assert!(err.to_string().contains("no_frames.mkv"));
}

/// A phone video's display rotation: frames come upright, as FFmpeg's own tools show them, at
/// their upright size, and so reach the player and the CNN upright.
#[test]
fn frames_of_a_rotated_video_come_upright() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::h264_video(dir.path(), "v.mp4", "25", 5, "160x120");
    assert_eq!(VideoReader::open(&video).unwrap().info().rotation_deg, 0);
    let mut unrotated_diff: Option<f64> = None;
    for angle in ["0", "90", "180", "270"] {
        let rotated = support::ffmpeg(
            &["-i", video.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", &format!("rotate={angle}")],
            &dir.path().join(format!("rotated{angle}.mp4")),
        );
        let mut reader = VideoReader::open(&rotated).unwrap();
        let info = reader.info().clone();
        // The legacy tag's angle counts the other way than the display matrix: 90 is reported as
        // 270 and the other way round; what matters is that the picture matches FFmpeg's.
        let expected = match angle {
            "90" => 270,
            "270" => 90,
            other => other.parse().unwrap(),
        };
        assert_eq!(info.rotation_deg, expected, "{angle}");
        let upright = if info.rotation_deg.is_multiple_of(180) { (160, 120) } else { (120, 160) };
        assert_eq!((info.width, info.height), upright, "{angle}");
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!((frame.width, frame.height), upright, "{angle}");
        // The ffmpeg command applies the display matrix itself.
        let shown = support::ffmpeg(
            &["-i", rotated.to_str().unwrap(), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24"],
            &dir.path().join(format!("shown{angle}.rgb")),
        );
        let shown = std::fs::read(shown).unwrap();
        assert_eq!(shown.len(), frame.rgb.len(), "{angle}");
        let mean_diff =
            frame.rgb.iter().zip(&shown).map(|(a, b)| f64::from(a.abs_diff(*b))).sum::<f64>() / shown.len() as f64;
        assert!(mean_diff < 2.0, "rotated by {angle}: mean difference {mean_diff} from what ffmpeg shows");

        // Scaled for the CNN, still upright: the same picture at a quarter of its size.
        let mut small = VideoReader::open_with(
            &rotated,
            VideoReaderOptions { size: Some((upright.0 / 4, upright.1 / 4)), ..Default::default() },
        )
        .unwrap();
        let small = small.next_frame().unwrap().unwrap();
        let (w, h) = (small.width as usize, small.height as usize);
        let mut diff = 0.0;
        for y in 0..h {
            for x in 0..w {
                // Against the mean of the 4x4 block of the full frame it covers.
                for c in 0..3 {
                    let mut block = 0.0;
                    for dy in 0..4 {
                        for dx in 0..4 {
                            block += f64::from(frame.rgb[((y * 4 + dy) * upright.0 as usize + x * 4 + dx) * 3 + c]);
                        }
                    }
                    diff += (f64::from(small.rgb[(y * w + x) * 3 + c]) - block / 16.0).abs();
                }
            }
        }
        let diff = diff / (w * h * 3) as f64;
        // Scaling filters differ from a block mean; an unrotated video gives the baseline, and
        // a picture turned the wrong way would be far from it.
        let baseline = *unrotated_diff.get_or_insert(diff);
        assert!((diff - baseline).abs() < 1.0, "rotated by {angle}, scaled: {diff} against {baseline} unrotated");
    }
}

fn gradient_frame(i: u32, w: u32, h: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[((x * 2 + i * 4) % 256) as u8, ((y * 3) % 256) as u8, ((x + y + i) % 256) as u8]);
        }
    }
    rgb
}

#[test]
fn encoded_videos_decode_back_with_their_timing_and_sound() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        media::EncodeOptions { width: 160, height: 96, fps: (30_000, 1001), crf: 12, preset: "veryfast".into() };
    let track = click_track(1.5);
    let path = dir.path().join("made.mp4");
    let written =
        media::encode_video(&path, &mut (0..45).map(|i| gradient_frame(i, 160, 96)), Some(&track), &options).unwrap();
    assert_eq!(written, 45);
    let mut reader = VideoReader::open(&path).unwrap();
    let info = reader.info().clone();
    assert_eq!((info.width, info.height, info.frame_count, info.codec.as_str()), (160, 96, 45, "h264"));
    assert!((info.fps - 30_000.0 / 1001.0).abs() < 1e-6 && !info.variable_rate, "{info:?}");
    for (i, frame) in reader.frames().enumerate() {
        let frame = frame.unwrap();
        assert!((frame.time_s - i as f64 * 1001.0 / 30_000.0).abs() < 1e-4);
        let original = gradient_frame(i as u32, 160, 96);
        let diff = frame.rgb.iter().zip(&original).map(|(a, b)| f64::from(a.abs_diff(*b))).sum::<f64>()
            / original.len() as f64;
        assert!(diff < 8.0, "frame {i}: mean difference {diff}");
    }
    let back = media::read_audio(&path, 48_000).unwrap();
    assert!(back.start_s.abs() < 1e-3);
    let (got, expected) = (click_times(&back), click_times(&track));
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-3, "click at {g}, expected {e}");
    }
    // The same frames and sound give the same file, byte for byte, however often it is made in
    // one process and however the frames arrive (here from another thread, at uneven times).
    let noisy = |i: u32| -> Vec<u8> {
        let mut state = i.wrapping_mul(2_654_435_761) | 1;
        (0..160 * 96 * 3_u32)
            .map(|k| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                ((k / 3 % 160 + i * 3) as u8).wrapping_add((state % 16) as u8)
            })
            .collect()
    };
    let first = std::fs::read(&path).unwrap();
    let mut made = Vec::new();
    for run in 0..8_u64 {
        let again = dir.path().join(format!("again{run}.mp4"));
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for i in 0..45 {
                    std::thread::sleep(std::time::Duration::from_millis((i * 7 + run) % 3));
                    tx.send(if run % 2 == 0 { gradient_frame(i as u32, 160, 96) } else { noisy(i as u32) }).unwrap();
                }
            });
            media::encode_video(&again, &mut rx.iter(), Some(&track), &options).unwrap();
        });
        made.push(std::fs::read(&again).unwrap());
    }
    for (run, bytes) in made.iter().enumerate() {
        let same_as = if run % 2 == 0 { &first } else { &made[1] };
        assert!(bytes == same_as, "run {run} wrote different bytes");
    }

    // Bad frames or sizes: an error, and nothing written.
    let bad = dir.path().join("bad.mp4");
    let err = media::encode_video(&bad, &mut std::iter::once(vec![0_u8; 10]), None, &options).unwrap_err();
    assert!(err.to_string().contains("frame 0 has 10 bytes"), "{err}");
    let odd = media::EncodeOptions { width: 161, ..options };
    assert!(media::encode_video(&bad, &mut std::iter::empty(), None, &odd).is_err());
    assert!(!bad.exists());
}

#[test]
fn encoded_videos_keep_their_last_frame_at_every_rate() {
    let dir = tempfile::tempdir().unwrap();
    for (fps, preset) in [
        ((24, 1), "veryfast"),
        ((25, 1), "superfast"),
        ((30_000, 1001), "veryfast"),
        ((50, 1), "superfast"),
        ((60, 1), "veryfast"),
    ] {
        let options = media::EncodeOptions { width: 64, height: 48, fps, crf: 30, preset: preset.into() };
        let frames = (3.0 * f64::from(fps.0) / f64::from(fps.1)).round() as u32;
        let path = dir.path().join(format!("{}-{}.mp4", fps.0, fps.1));
        let written = media::encode_video(
            &path,
            &mut (0..frames).map(|i| gradient_frame(i, 64, 48)),
            Some(&click_track(3.0)),
            &options,
        )
        .unwrap();
        assert_eq!(written, u64::from(frames));
        let times = all_frame_times(&path);
        assert_eq!(times.len(), frames as usize, "{fps:?}: {} of {frames} frames decode", times.len());
        let last = f64::from(frames - 1) * f64::from(fps.1) / f64::from(fps.0);
        assert!((times[times.len() - 1] - last).abs() < 1e-3, "{fps:?}");
    }
}
