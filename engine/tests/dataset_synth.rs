//! The dataset generator: its output reads back in the Greatest Hits layout, is reproducible, and
//! every labelled contact has its sound at the labelled time.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

use std::path::Path;

use foley_engine::data::synth::{self, SynthConfig};
use foley_engine::data::{GreatestHits, Split, read_manifest};
use foley_engine::media;
use foley_engine::paths::cache_dir;
use foley_engine::sound::{CochleagramParams, HitParams, cochleagram_of, detect_hits};

fn generate(out: &Path, seed: u64) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/clipbank/manifest.csv");
    let bank = read_manifest(&manifest).unwrap();
    let config = SynthConfig { videos: 5, seconds: 4.0, seed, train_share: 0.6 };
    synth::generate(out, &bank, &cache_dir(), &config, &|_| {}).unwrap();
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
