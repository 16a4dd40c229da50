//! The dataset generator: its output reads back in the Greatest Hits layout, is reproducible, and
//! every labelled contact has its sound at the labelled time.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

use std::path::Path;

use foley_engine::data::synth::{self, SynthConfig};
use foley_engine::data::{GreatestHits, Split, read_manifest, read_texture_manifest, texturebank_manifest};
use foley_engine::media;
use foley_engine::paths::cache_dir;
use foley_engine::sound::{CochleagramParams, HitParams, cochleagram_of, detect_hits};

mod common;

fn generate(out: &Path, seed: u64) {
    common::drawn_dataset(out, 5, 4.0, seed, 0.6);
}

#[test]
fn generated_data_reads_back_is_reproducible_and_sounds_at_every_contact() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    generate(&a, 11);
    generate(&b, 11);

    let dataset = GreatestHits::open(&a).unwrap();
    assert_eq!(dataset.videos.len(), 5);
    assert_eq!(dataset.split(Split::Train).count(), 3);
    assert_eq!(dataset.split(Split::Test).count(), 2);
    let mut contacts_checked = 0;
    for video in &dataset.videos {
        // Same seed: the same files to the byte, the video included.
        for path in [Some(&video.video), video.audio.as_ref(), video.times.as_ref()].into_iter().flatten() {
            let twin = b.join(path.file_name().unwrap());
            assert!(std::fs::read(path).unwrap() == std::fs::read(&twin).unwrap(), "{} differs", path.display());
        }
        let mut twin = media::VideoReader::open(b.join(video.video.file_name().unwrap())).unwrap();
        let mut reader = media::VideoReader::open(&video.video).unwrap();
        let (mut total, mut count) = (0.0, 0_usize);
        while let (Some(x), Some(y)) = (reader.next_frame().unwrap(), twin.next_frame().unwrap()) {
            assert_eq!(x.time_s, y.time_s);
            total += x.rgb.iter().zip(&y.rgb).map(|(p, q)| f64::from(p.abs_diff(*q))).sum::<f64>() / x.rgb.len() as f64;
            count += 1;
        }
        assert_eq!(count, 120);
        assert!(total / (count as f64) < 2.0, "{}: pictures differ by {} on average", video.id, total / count as f64);
        let info = media::VideoReader::open(&video.video).unwrap().info().clone();
        assert_eq!((info.width, info.height, info.codec.as_str()), (456, 256, "h264"));
        assert!((info.fps - 30_000.0 / 1001.0).abs() < 1e-6);
        assert!((info.duration_s - 4.0).abs() < 0.05, "{}", info.duration_s);
        let track = media::read_audio(video.audio.as_ref().unwrap(), 48_000).unwrap();
        assert_eq!(track.samples.len(), 4 * 48_000);
        // The video carries the same sound as the WAV.
        let muxed = media::read_audio(&video.video, 48_000).unwrap();
        assert!((muxed.samples.len() as i64 - track.samples.len() as i64).abs() < 2048);

        let contacts = video.contacts().unwrap();
        assert!(!contacts.is_empty());
        let hits = detect_hits(&cochleagram_of(&track, &CochleagramParams::default()).unwrap(), &HitParams::default());
        for contact in contacts {
            assert!(contact.material.is_some() && contact.action.is_some() && contact.reaction.is_some());
            let nearest = hits.iter().map(|h| (h.time_s - contact.time_s).abs()).fold(f64::INFINITY, f64::min);
            assert!(
                nearest <= 0.010,
                "{}: no hit within 10 ms of the contact at {} (nearest {nearest})",
                video.id,
                contact.time_s
            );
            contacts_checked += 1;
        }
    }
    assert!(contacts_checked >= 10);

    // The contact sheet: one row per material shown, frames and cochleagram.
    let sheet = dir.path().join("sheet.png");
    foley_engine::data::contact_sheet(&dataset, &sheet, 3).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&sheet).unwrap()));
    let reader = decoder.read_info().unwrap();
    let (w, h) = (reader.info().width, reader.info().height);
    assert_eq!(w, 4 * 228);
    let rows = h as usize / (12 + 128 + 42 * 2 + 6);
    assert!((1..=3).contains(&rows) && (h as usize).is_multiple_of(12 + 128 + 42 * 2 + 6), "{w}x{h}");
    // Another seed, another dataset.
    let c = dir.path().join("c");
    generate(&c, 12);
    let first = |d: &Path| {
        std::fs::read(d.join(format!("{}_times.txt", synth::video_id(if d == c { 12 } else { 11 }, 0)))).unwrap()
    };
    assert!(first(&a) != first(&c));
}

/// Photo-style scenes: videos with contacts (`negatives` 0) or without (`negatives` 1).
fn generate_photo(out: &Path, seed: u64, videos: usize, negatives: f64) {
    let bank = read_manifest(&foley_engine::paths::clipbank_manifest()).unwrap();
    let textures = read_texture_manifest(&texturebank_manifest()).unwrap();
    let config = SynthConfig { negatives, ..SynthConfig::new(videos, 3.0, seed, 0.5) };
    synth::generate(out, &bank, &textures, &cache_dir(), &config, &|_| {}).unwrap();
}

#[test]
fn photo_scenes_vary_in_rate_and_size_use_their_split_and_sound_only_at_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, silent) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("silent"));
    generate_photo(&a, 21, 6, 0.0);
    generate_photo(&b, 21, 6, 0.0);
    generate_photo(&silent, 22, 2, 1.0);
    let textures = read_texture_manifest(&texturebank_manifest()).unwrap();
    let split_of_photo = |id: &str| textures.iter().find(|t| t.id == id).unwrap().split.unwrap();
    let params = CochleagramParams::default();
    let mut shapes = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (root, with_contacts) in [(&a, true), (&silent, false)] {
        let dataset = GreatestHits::open(root).unwrap();
        for video in &dataset.videos {
            let notes: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(root.join(format!("{}_scene.json", video.id))).unwrap())
                    .unwrap();
            let info = media::VideoReader::open(&video.video).unwrap().info().clone();
            let (w, h) = (info.width, info.height);
            assert!(synth::PHOTO_SIZES.iter().any(|s| (s.0, s.1) == (w, h)), "{}: {w}x{h}", video.id);
            assert_eq!(notes["width"], w);
            let rate = synth::PHOTO_RATES.iter().find(|r| format!("{}/{}", r.0, r.1) == notes["fps"]).unwrap();
            let fps = f64::from(rate.0) / f64::from(rate.1);
            assert!((info.fps - fps).abs() < 1e-3, "{}: {} fps", video.id, info.fps);
            let mut reader = media::VideoReader::open(&video.video).unwrap();
            let mut frames = 0;
            while reader.next_frame().unwrap().is_some() {
                frames += 1;
            }
            assert_eq!(frames, (3.0 * fps).round() as usize, "{}", video.id);
            shapes.insert((w, h, notes["fps"].to_string()));
            // Every photo comes from the video's own split.
            let split = video.split.unwrap();
            for photo in notes["photos"].as_array().unwrap() {
                assert_eq!(split_of_photo(photo.as_str().unwrap()), split, "{}: {photo}", video.id);
            }
            let contacts = video.contacts().unwrap();
            let track = media::read_audio(video.audio.as_ref().unwrap(), 48_000).unwrap();
            assert_eq!(track.samples.len(), 3 * 48_000);
            let hits = detect_hits(&cochleagram_of(&track, &params).unwrap(), &HitParams::default());
            if with_contacts {
                assert!(notes["negative"].is_null());
                assert!(
                    !notes["swings"].as_array().unwrap().is_empty() || contacts.len() <= 1,
                    "{}: no air swing",
                    video.id
                );
                for contact in &contacts {
                    assert_eq!(contact.material.as_deref(), notes["material"].as_str());
                    let nearest = hits.iter().map(|h| (h.time_s - contact.time_s).abs()).fold(f64::INFINITY, f64::min);
                    assert!(nearest <= 0.010, "{}: no hit within 10 ms of {} ({nearest})", video.id, contact.time_s);
                    checked += 1;
                }
            } else {
                assert!(!notes["negative"].is_null(), "{}", video.id);
                assert!(contacts.is_empty(), "{}", video.id);
                assert!(hits.is_empty(), "{}: hits {hits:?} in a video where nothing is struck", video.id);
            }
            // Same seed, same bytes.
            if root == &a {
                for path in [Some(&video.video), video.audio.as_ref(), video.times.as_ref()].into_iter().flatten() {
                    let twin = b.join(path.file_name().unwrap());
                    assert!(
                        std::fs::read(path).unwrap() == std::fs::read(&twin).unwrap(),
                        "{} differs",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(checked >= 6, "{checked}");
    assert!(shapes.len() >= 3, "too little variety in size and rate: {shapes:?}");
    let sheet = dir.path().join("sheet.png");
    foley_engine::data::contact_sheet(&GreatestHits::open(&a).unwrap(), &sheet, 3).unwrap();
    assert!(std::fs::metadata(&sheet).unwrap().len() > 10_000);
}

/// Stereo placement's ground truth and its reading: every generated video records where each
/// contact appears in the frame, and the motion read from the frames (at the CNN's size, as the
/// features job decodes them) puts the contacts away from the centre on their side: at least 90%
/// of them in drawn scenes, at least 85% in photo-style ones (perspective, a hand that moves
/// with the stick, shadows, shake, blur; 30 of 34 here).
#[test]
fn contacts_are_read_on_their_side_of_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let (photo, drawn) = (dir.path().join("photo"), dir.path().join("drawn"));
    let bank = read_manifest(&foley_engine::paths::clipbank_manifest()).unwrap();
    let textures = read_texture_manifest(&texturebank_manifest()).unwrap();
    let config = SynthConfig { negatives: 0.0, ..SynthConfig::new(16, 6.0, 31, 0.5) };
    let summary = synth::generate(&photo, &bank, &textures, &cache_dir(), &config, &|_| {}).unwrap();
    common::drawn_dataset(&drawn, 6, 8.0, 32, 0.5);
    for (root, least) in [(&photo, 0.85), (&drawn, 0.9)] {
        let (mut right, mut judged, mut frames) = (0_usize, 0_usize, 0_usize);
        let dataset = GreatestHits::open(root).unwrap();
        for video in &dataset.videos {
            let positions = synth::read_contact_positions(&root.join(format!("{}_contacts.csv", video.id))).unwrap();
            let times: Vec<f64> = video.contacts().unwrap().iter().map(|c| c.time_s).collect();
            assert_eq!(positions.len(), times.len(), "{}", video.id);
            for ((t, _), want) in positions.iter().zip(&times) {
                assert!((t - want).abs() < 1e-6, "{}: {t} against the times file's {want}", video.id);
            }
            let options = media::VideoReaderOptions { size: Some((224, 224)), ..Default::default() };
            let mut reader = media::VideoReader::open_with(&video.video, options).unwrap();
            let mut motion = foley_engine::vision::FrameMotion::default();
            while let Some(frame) = reader.next_frame().unwrap() {
                frames += 1;
                motion.push(frame.time_s, &foley_engine::vision::gray(&frame.rgb), 224);
            }
            for (t, x) in positions {
                if (x - 0.5).abs() < 0.1 {
                    continue;
                }
                judged += 1;
                let read = motion.x_at(t).unwrap_or(0.5);
                right += usize::from((read - 0.5) * (x - 0.5) > 0.0);
            }
        }
        if root == &photo {
            assert_eq!(frames, summary.frames, "the summary's frame count against the decoded frames");
        }
        assert!(judged >= 8, "{}: only {judged} contacts away from the centre", root.display());
        let share = right as f64 / judged as f64;
        assert!(share >= least, "{}: {right} of {judged} contacts on the right side", root.display());
        eprintln!("{}: {right} of {judged} contacts away from the centre read on their side", root.display());
    }
}
