//! Retrieval synthesis: a clip database round-trips through its files, its search finds a clip's
//! own window, clips land on their hit's exact sample, and a track made from a cochleagram with
//! known hits places clips on them and is exactly as long as the video. The streaming predictor
//! gives what whole-video prediction gives.
#![allow(clippy::unwrap_used)]

use foley_engine::data::Contact;
use foley_engine::media::AudioTrack;
use foley_engine::predict::PredictedSound;
use foley_engine::predict::dataset::contact_target;
use foley_engine::retrieval::{ClipDatabase, DatabaseBuilder, LabelledContact, LookSet, PRE_ROLL_S, hit_window};
use foley_engine::sound::{CochleagramParams, cochleagram_of};
use foley_engine::synthesis::{
    CEILING, Channels, Method, PlacedHit, SynthOptions, TrackBlocks, limit, place_clip, render_retrieval,
    render_retrieval_in, render_stems, synthesize_prediction, track_len,
};
use foley_engine::timeline::sample_at;

mod common;

const RATE: usize = 48_000;

/// A decaying noise burst (an impact) of `len` samples with a deterministic pseudo-random carrier.
fn burst(len: usize, decay_s: f32, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|k| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state as f32 / u32::MAX as f32) * 2.0 - 1.0;
            0.5 * noise * (-(k as f32) / (decay_s * RATE as f32)).exp()
        })
        .collect()
}

/// A recording of `seconds` with bursts at `times`.
fn recording(seconds: f64, times: &[f64], decay_s: f32, seed: u32) -> Vec<f32> {
    let mut out = vec![0.0f32; (seconds * RATE as f64) as usize];
    for (i, t) in times.iter().enumerate() {
        let at = (t * RATE as f64).round() as usize;
        for (k, s) in burst(RATE / 2, decay_s, seed + i as u32).into_iter().enumerate() {
            if let Some(o) = out.get_mut(at + k) {
                *o += s;
            }
        }
    }
    out
}

fn build(dir: &std::path::Path) -> ClipDatabase {
    build_with_looks(dir, None)
}

fn build_with_looks(dir: &std::path::Path, looks: Option<LookSet>) -> ClipDatabase {
    let params = CochleagramParams::default();
    let mut builder = DatabaseBuilder::new(dir, params.clone(), "test recordings".into()).unwrap();
    for (source, decay, material, seed) in [("short", 0.01, "wood", 1), ("long", 0.15, "metal", 50)] {
        let times = [0.5, 1.5];
        let audio = recording(2.5, &times, decay, seed);
        let c = cochleagram_of(&AudioTrack { rate: 48_000, start_s: 0.0, samples: audio.clone() }, &params).unwrap();
        let contacts: Vec<LabelledContact> = times
            .iter()
            .map(|&t| LabelledContact { time_s: t, material: Some(material.into()), action: Some("hit".into()) })
            .collect();
        builder.add(source, &audio, 0.0, &c, &contacts).unwrap();
    }
    builder.finish(looks).unwrap()
}

#[test]
fn a_database_round_trips_and_finds_each_clips_own_window() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    assert_eq!(built.len(), 4);
    let loaded = ClipDatabase::load(dir.path()).unwrap();
    assert_eq!(loaded.manifest, built.manifest);
    for i in 0..loaded.len() {
        assert_eq!(loaded.window(i), built.window(i));
        let found = loaded.nearest(&loaded.window(i), 1, &|_| true);
        assert_eq!(found[0].0, i);
        // Excluding the clip's own source finds a clip of the other recording.
        let source = loaded.manifest.entries[i].source.clone();
        let other = loaded.nearest(&loaded.window(i), 1, &|e| e.source != source);
        assert_ne!(loaded.manifest.entries[other[0].0].source, source);
    }
    // The waveform starts PRE_ROLL_S before the contact and the contact is its `onset` sample.
    let e = &loaded.manifest.entries[0];
    assert_eq!(e.onset as usize, (PRE_ROLL_S * RATE as f64).round() as usize);
    let samples = loaded.clip_samples(0).unwrap();
    assert_eq!(samples.len(), e.audio_len as usize);
    let original = recording(2.5, &[0.5, 1.5], 0.01, 1);
    let start = RATE / 2 - e.onset as usize;
    for (k, s) in samples.iter().enumerate().take(2000) {
        assert!((s - original[start + k]).abs() <= 1.0 / 32768.0 + 1e-6, "sample {k}");
    }

    // A damaged database is refused with the file named.
    std::fs::write(dir.path().join("clips.safetensors"), b"nonsense").unwrap();
    let err = ClipDatabase::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("clips.safetensors"), "{err}");
}

#[test]
fn a_database_keeps_the_classifier_of_its_looks() {
    let dir = tempfile::tempdir().unwrap();
    let mut looks = LookSet::new("encoder".into(), 4, 3);
    for (k, (material, look)) in
        [("wood", [1.0, 0.1, 0.3, 0.0]), ("metal", [0.0, 1.0, 0.2, 0.1]), ("wood", [0.9, 0.0, 0.1, 0.2])]
            .iter()
            .enumerate()
    {
        looks.push((*material).into(), format!("video-{k}"), look);
    }
    let built = build_with_looks(dir.path(), Some(looks));
    let loaded = ClipDatabase::load(dir.path()).unwrap();
    assert_eq!(loaded.manifest, built.manifest);
    let (a, b) = (built.looks().unwrap(), loaded.looks().unwrap());
    // Read from the file, not fitted again (the file's classifier is the built one, to the bit).
    assert!(b.classifier.get().is_some());
    assert_eq!(a.classifier(), b.classifier());
    assert_eq!(b.frames, 3);
    assert_eq!(loaded.material_of(&[0.95, 0.05, 0.2, 0.1], "encoder", 3).as_deref(), Some("wood"));
    assert_eq!(loaded.material_of(&[0.05, 0.95, 0.2, 0.1], "encoder", 3).as_deref(), Some("metal"));
    // Looks by another encoder, or over another number of frames, say nothing.
    assert_eq!(loaded.material_of(&[0.95, 0.05, 0.2, 0.1], "other", 3), None);
    assert_eq!(loaded.material_of(&[0.95, 0.05, 0.2, 0.1], "encoder", 1), None);

    // A database written before looks recorded their frames took the first frame alone.
    let manifest_path = dir.path().join("clips.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["looks"]["frames"], 3);
    manifest["looks"].as_object_mut().unwrap().remove("frames");
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let earlier = ClipDatabase::load(dir.path()).unwrap();
    assert_eq!(earlier.looks().unwrap().frames, 1);
    assert_eq!(earlier.material_of(&[0.95, 0.05, 0.2, 0.1], "encoder", 1).as_deref(), Some("wood"));
}

#[test]
fn the_looks_of_several_datasets_are_each_ones_looks_in_turn() {
    use foley_engine::data::Split;
    use foley_engine::vision::{EncoderSpec, OrtEncoder};
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // Drawn scenes of 2 s, all in the train split.
    common::drawn_dataset(&a, 2, 2.0, 31, 1.0);
    common::drawn_dataset(&b, 3, 2.0, 32, 1.0);
    let mut encoder = OrtEncoder::new(EncoderSpec::default_encoder().unwrap()).unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut looks_of = |datasets: &[&std::path::Path]| {
        let mut counted = Vec::new();
        let looks = foley_engine::retrieval::dataset_looks(
            datasets,
            Split::Train,
            &mut encoder,
            &cancel,
            &mut |done, total| {
                counted.push((done, total));
            },
        )
        .unwrap();
        (looks, counted)
    };
    let (first, _) = looks_of(&[&a]);
    let (second, _) = looks_of(&[&b]);
    let (both, counted) = looks_of(&[&a, &b]);
    assert_eq!((first.materials.len(), second.materials.len()), (2, 3));
    assert_eq!(both.materials, [first.materials.clone(), second.materials.clone()].concat());
    assert_eq!(both.sources, [first.sources.clone(), second.sources.clone()].concat());
    assert_eq!(both.vectors, [first.vectors.clone(), second.vectors.clone()].concat());
    assert_eq!((both.width, both.frames), (first.width, first.frames));
    // Progress counts the videos of both datasets.
    assert_eq!(counted.last(), Some(&(5, 5)));
}

#[test]
fn a_clip_lands_on_its_hits_exact_sample() {
    let dir = tempfile::tempdir().unwrap();
    let db = build(dir.path());
    let time_s = 1.234_567;
    let hit = PlacedHit {
        time_s,
        material: None,
        action: None,
        strength: 1.0,
        clip: Some(db.manifest.entries[0].id.clone()),
        gain_db: 0.0,
        x: None,
    };
    let track = render_retrieval(&db, &[hit], RATE * 3).unwrap();
    let at = (time_s * RATE as f64).round() as usize;
    let clip = db.clip_samples(0).unwrap();
    let onset = db.manifest.entries[0].onset as usize;
    // The sample under the hit is the clip's onset sample, unfaded.
    assert_eq!(track[at], clip[onset]);
    assert_eq!(track[at + 7], clip[onset + 7]);
    // Nothing before the pre-roll; the pre-roll fades in.
    assert!(track[..at - onset].iter().all(|&s| s == 0.0));
    assert!(track[at - onset + 1].abs() <= clip[1].abs());
}

/// Loud hits on and across the one-second block edges, one starting before the track and one
/// running past its end, so the limiter works across blocks.
fn hits_across_blocks(db: &ClipDatabase, len: usize) -> Vec<PlacedHit> {
    let end_s = len as f64 / RATE as f64;
    [-0.01, 0.2, 0.2005, 0.99, 0.9999, 1.0, 1.001, 1.999, 2.0, 2.5, end_s - 0.001]
        .iter()
        .enumerate()
        .map(|(i, &time_s)| PlacedHit {
            time_s,
            material: Some(["wood", "metal", "glass"][i % 3].into()),
            action: None,
            strength: 1.0,
            clip: Some(db.manifest.entries[i % db.len()].id.clone()),
            gain_db: if i % 2 == 0 { 12.0 } else { 3.0 },
            x: Some(i as f64 / 10.0),
        })
        .collect()
}

#[test]
fn a_track_made_block_by_block_is_the_whole_track_mixed_and_limited_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = build(dir.path());
    let len = RATE * 5 / 2 + 123;
    let hits = hits_across_blocks(&db, len);
    // The reference: every clip placed on one whole track, then the whole track limited.
    let mut whole = vec![0.0f32; len];
    for h in &hits {
        let i = db.find(h.clip.as_deref().unwrap()).unwrap();
        let at = sample_at(h.time_s, 0.0, RATE as u32);
        let gain = 10f32.powf(h.gain_db / 20.0);
        place_clip(&mut whole, &db.clip_samples(i).unwrap(), db.manifest.entries[i].onset as usize, at, gain);
    }
    assert!(whole.iter().any(|s| s.abs() > 1.5), "the hits are loud enough for the limiter");
    limit(&mut whole, RATE as u32);
    let mut blocks = TrackBlocks::new(&db, &hits, len, Channels::Mono, false).unwrap();
    let mut made = Vec::new();
    let mut count = 0;
    while let Some(block) = blocks.next_block().unwrap() {
        assert!(block.stems.is_empty());
        made.extend(block.mix);
        count += 1;
    }
    assert!(count >= 3, "{count} blocks");
    assert_eq!(made.len(), len);
    assert_eq!(made, whole, "block by block is sample for sample the whole track");
    assert_eq!(render_retrieval(&db, &hits, len).unwrap(), whole);
}

#[test]
fn stems_made_block_by_block_sum_to_the_mix() {
    let dir = tempfile::tempdir().unwrap();
    let db = build(dir.path());
    let len = RATE * 3 + 7;
    let hits = hits_across_blocks(&db, len);
    for channels in [Channels::Mono, Channels::Stereo] {
        let mix = render_retrieval_in(&db, &hits, len, channels).unwrap();
        let stems = render_stems(&db, &hits, len, channels).unwrap();
        let names: Vec<&str> = stems.iter().map(|s| s.material.as_str()).collect();
        assert_eq!(names, ["wood", "metal", "glass"]);
        let count = usize::from(channels.count());
        assert_eq!(mix.len(), len * count);
        let mut worst = 0.0f32;
        for (i, &m) in mix.iter().enumerate() {
            let sum: f32 = stems.iter().map(|s| s.samples[i]).sum();
            assert_eq!(stems.iter().map(|s| s.samples.len()).min(), Some(len * count));
            // Where the final clamp cut a peak the stems hold more than the mix.
            if m.abs() < CEILING {
                worst = worst.max((sum - m).abs());
            }
        }
        assert!(worst < 1e-5, "{channels:?}: the stems differ from the mix by {worst}");
        assert!(stems.iter().all(|s| s.samples.iter().any(|&v| v != 0.0)));
    }
}

#[test]
fn a_track_from_a_cochleagram_places_clips_on_its_hits_and_is_as_long_as_the_video() {
    let dir = tempfile::tempdir().unwrap();
    let db = build(dir.path());
    let params = CochleagramParams::default();
    let times = [0.8, 1.9, 2.3, 3.6];
    // Loud enough that overlapping clips would clip without the limiter.
    let audio: Vec<f32> = recording(4.2, &times, 0.15, 50).iter().map(|s| s * 1.8).collect();
    let predicted = cochleagram_of(&AudioTrack { rate: 48_000, start_s: 0.0, samples: audio }, &params).unwrap();
    let sound = PredictedSound::from_cochleagram(predicted.clone());
    let duration = 4.2 - 0.01;
    let options = SynthOptions::default();
    let made = synthesize_prediction(sound.clone(), duration, Some(&db), &params, &options, None).unwrap();
    assert_eq!(made.track.len(), track_len(duration));
    assert_eq!(made.placement.hits.len(), times.len(), "{:?}", made.placement.hits);
    for (h, t) in made.placement.hits.iter().zip(times) {
        assert!((h.time_s - t).abs() < 0.012, "hit at {} for {t}", h.time_s);
        // The long, loud bursts are nearest to the long (metal) recording.
        assert_eq!(h.material.as_deref(), Some("metal"), "{h:?}");
        assert!(h.clip.as_deref().unwrap().starts_with("long@"));
    }
    // Two takes of the same sound are nearly as near: consecutive hits alternate between them.
    for pair in made.placement.hits.windows(2) {
        assert_ne!(pair[0].clip, pair[1].clip, "the same clip twice in a row");
    }
    assert!(made.track.iter().all(|s| s.abs() <= CEILING));
    assert!(made.track.iter().any(|s| s.abs() > 0.1));

    // The parametric method makes a track of the same length without a database.
    let parametric = SynthOptions { method: Method::Parametric, ..SynthOptions::default() };
    let made = synthesize_prediction(sound.clone(), duration, None, &params, &parametric, None).unwrap();
    assert_eq!(made.track.len(), track_len(duration));
    assert!(made.placement.hits.iter().all(|h| h.clip.is_none()));
    // Retrieval without a database is an error that says so.
    let err = synthesize_prediction(sound.clone(), duration, None, &params, &options, None).unwrap_err().to_string();
    assert!(err.contains("clip database"), "{err}");
    // With a model's contact probabilities, the hits are their peaks, not the cochleagram's rises.
    let contacts: Vec<Contact> =
        [1.0, 2.5].iter().map(|&time_s| Contact { time_s, material: None, action: None, reaction: None }).collect();
    let probability = contact_target(&contacts, predicted.steps(), predicted.rate_hz);
    let with_head = PredictedSound { cochleagram: predicted.clone(), contact: Some(probability) };
    let made = synthesize_prediction(with_head, duration, Some(&db), &params, &options, None).unwrap();
    let at: Vec<f64> = made.placement.hits.iter().map(|h| h.time_s).collect();
    assert!(at.len() == 2 && (at[0] - 1.0).abs() < 1e-3 && (at[1] - 2.5).abs() < 1e-3, "{at:?}");
    assert!(made.placement.hits.iter().all(|h| h.clip.is_some()));
    // The window of a hit in the prediction is centred on it.
    let w = hit_window(&predicted, times[0]);
    assert_eq!(w.len(), 45 * 42);

    // A material asked for is the only one searched, however near another's clips are.
    let wood = SynthOptions { material: Some("wood".into()), ..SynthOptions::default() };
    let made = synthesize_prediction(sound.clone(), duration, Some(&db), &params, &wood, None).unwrap();
    assert_eq!(made.placement.hits.len(), times.len());
    assert_eq!(made.placement.material.as_deref(), Some("wood"));
    assert!(made.placement.hits.iter().all(|h| h.material.as_deref() == Some("wood")), "{:?}", made.placement.hits);
    // One the database has no clips of is refused, with those it has.
    let paper = SynthOptions { material: Some("paper".into()), ..SynthOptions::default() };
    let err = synthesize_prediction(sound, duration, Some(&db), &params, &paper, None).unwrap_err().to_string();
    assert!(
        err.contains("`paper`") && err.contains("metal, wood") && err.contains(&db.dir.display().to_string()),
        "{err}"
    );
}
