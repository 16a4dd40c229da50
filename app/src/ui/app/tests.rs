//! The app driven as a user would, through kittest.

use super::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use foley_engine::media;

fn settle(h: &mut Harness<'_, FoleyApp>, until: impl Fn(&FoleyApp) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !until(h.state()) {
        let app = h.state();
        assert!(
            std::time::Instant::now() < deadline,
            "the app never got there: typed {:?}, player {}, session {}, error {:?}",
            app.path_input,
            app.player.is_some(),
            app.session.is_some(),
            app.error
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.step();
}

/// The first screen, as a snapshot image (`UPDATE_SNAPSHOTS=1` rewrites it after an intended
/// change); it lives in the workspace's `tests/snapshots`.
#[test]
fn the_welcome_screen_looks_as_it_should() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1000.0, 600.0))
        .build_ui_state(|ui, app: &mut FoleyApp| app.window_ui(ui), FoleyApp::default());
    h.run();
    assert!(h.query_by_label("Open video…").is_some());
    h.snapshot_options("main_welcome", &egui_kittest::SnapshotOptions::new().output_path("../tests/snapshots"));
}

#[test]
fn open_generate_play_edit_undo_and_export_a_generated_video() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bank = foley_engine::data::read_manifest(&foley_engine::paths::clipbank_manifest()).unwrap();
    let textures = foley_engine::data::read_texture_manifest(&foley_engine::data::texturebank_manifest()).unwrap();
    let config = foley_engine::data::synth::SynthConfig::new(1, 4.0, 7, 0.0);
    foley_engine::data::synth::generate(&data, &bank, &textures, &foley_engine::paths::cache_dir(), &config, &|_| {})
        .unwrap();
    let video = data.join("synth-7-00000_denoised.mp4");

    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut FoleyApp| app.window_ui(ui), FoleyApp::default());
    h.step();
    // Open by typing the path, as a user without a file dialog would.
    let input = h.get_by_role(egui::accesskit::Role::TextInput);
    input.click();
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text(video.to_str().unwrap());
    h.step();
    h.get_by_label("Open").click();
    settle(&mut h, |app| app.player.is_some() && !app.busy());
    assert!(h.state().error.is_none(), "{:?}", h.state().error);

    h.get_by_label("Generate sound").click();
    settle(&mut h, |app| app.session.is_some() && !app.busy());
    let hits = h.state().session.as_ref().unwrap().hits.hits().len();
    assert!(hits > 0, "no hits generated");
    assert!(h.query_by_label_contains("looks like").is_some());
    // The main screen with its sound, once every thumbnail is in.
    settle(&mut h, |app| {
        // The proxy pass sends the thumbnails before it completes; the next frame shows them.
        app.player.as_ref().is_some_and(|p| p.proxy_progress().is_some_and(|(_, done)| done) && !p.seeking())
    });
    // Machines without a sound card say so; the picture is the same with one.
    assert!(h.state().error.as_deref().is_none_or(|e| e.starts_with("no sound output")), "{:?}", h.state().error);
    if h.state().error.is_some() {
        h.get_by_label("Dismiss").click();
        h.step();
        h.step();
    }
    // The sound comes from float inference, whose last bits may vary with the CPU's vector
    // units; a few hundred pixels of colour map may differ, a moved hit or panel may not.
    let options = egui_kittest::SnapshotOptions::new().output_path("../tests/snapshots").max_failed_pixels(1500);
    h.snapshot_options("main_generated", &options);

    // Every hit from another material in one edit (times and gains kept), and back with one undo.
    let hits_of = |h: &Harness<'_, FoleyApp>| h.state().session.as_ref().unwrap().hits.hits().to_vec();
    let generated = hits_of(&h);
    let looks = h.state().session.as_ref().unwrap().generated.synthesis.placement.material.clone();
    let other = if looks.as_deref() == Some("metal") { "wood" } else { "metal" };
    h.get_by_label("All hits to…").click();
    h.step();
    h.step();
    h.get_by_label(other).click();
    h.step();
    h.step();
    let swapped = hits_of(&h);
    assert_eq!(swapped.len(), generated.len());
    assert!(swapped.iter().all(|s| s.material.as_deref() == Some(other)), "{swapped:?}");
    assert!(swapped.iter().zip(&generated).all(|(s, g)| s.time_s == g.time_s && s.gain_db == g.gain_db));
    h.get_by_label("Undo").click();
    h.step();
    h.step();
    assert_eq!(hits_of(&h), generated);

    // The hit threshold's slider, set as assistive technology sets it: the hits are found again
    // at each value (one edit each), and back at 0.5 they are the generated hits.
    let set_threshold = |h: &mut Harness<'_, FoleyApp>, threshold: f64| {
        h.get_by_role_and_label(egui::accesskit::Role::Slider, "Hit threshold").set_value_accesskit(threshold);
        h.step();
        h.step();
        assert!((f64::from(h.state().hit_threshold.0) - threshold).abs() < 1e-6, "{:?}", h.state().hit_threshold);
        let at = hits_of(h);
        assert!(at.iter().all(|x| f64::from(x.strength) >= threshold - 1e-6), "{at:?}");
        at.len()
    };
    assert!(set_threshold(&mut h, 0.55) <= generated.len());
    set_threshold(&mut h, 0.5);
    assert_eq!(hits_of(&h), generated);
    // The ends of its range: fewer hits and more.
    let (few, many) = (set_threshold(&mut h, 0.95), set_threshold(&mut h, 0.05));
    assert!(few <= generated.len() && generated.len() <= many && few < many, "{few} {many}");
    h.get_by_label("Undo").click();
    h.step();
    h.step();
    assert_eq!(hits_of(&h).len(), few);
    set_threshold(&mut h, 0.5);
    assert_eq!(hits_of(&h), generated);

    // Play and pause with Space.
    h.key_press(egui::Key::Space);
    h.step();
    h.step();
    assert!(h.state().player.as_ref().unwrap().is_playing());
    h.key_press(egui::Key::Space);
    h.step();
    h.step();
    assert!(!h.state().player.as_ref().unwrap().is_playing());

    // J/K/L shuttle: L plays, L again doubles the speed (silently); J halves it; K stops.
    // From the middle, so that playing backwards has room before the start however slowly
    // the frames come on a busy machine.
    h.state_mut().player.as_mut().unwrap().seek(2.0);
    settle(&mut h, |app| app.player.as_ref().is_some_and(|p| !p.seeking()));
    let rate = |h: &Harness<'_, FoleyApp>| {
        let p = h.state().player.as_ref().unwrap();
        p.is_playing().then(|| p.shuttle_rate().unwrap_or(1.0))
    };
    for (key, expected) in [
        (egui::Key::L, Some(1.0)),
        (egui::Key::L, Some(2.0)),
        (egui::Key::J, Some(1.0)),
        (egui::Key::J, Some(-1.0)),
        (egui::Key::K, None),
    ] {
        h.key_press(key);
        h.step();
        assert_eq!(rate(&h), expected, "after {key:?}");
        if expected == Some(2.0) {
            h.step();
            assert!(h.query_by_label_contains("2x").is_some(), "the speed is shown");
        }
    }

    // Add a hit at the playhead, then undo it; the playhead first goes where something moves, so
    // that the added hit has a place in the picture to take.
    let moving = {
        let session = h.state().session.as_ref().unwrap();
        let motion = session.generated.synthesis.placement.motion.as_ref().expect("the generation keeps the motion");
        (1..90)
            .map(|k| f64::from(k) * 0.05)
            .find(|&t| (-2..=2).all(|d| motion.x_at(t + f64::from(d) * 0.02).is_some()))
            .expect("the test video moves somewhere")
    };
    h.state_mut().player.as_mut().unwrap().seek(moving);
    settle(&mut h, |app| app.player.as_ref().is_some_and(|p| !p.seeking()));
    let before = h.state().session.as_ref().unwrap().track.clone();
    let hits_before = h.state().session.as_ref().unwrap().hits.hits().to_vec();
    h.get_by_label("Add hit at playhead").click();
    h.step();
    h.step();
    assert_eq!(h.state().session.as_ref().unwrap().hits.hits().len(), hits + 1, "{:?}", h.state().error);
    assert_ne!(h.state().session.as_ref().unwrap().track, before, "the track did not re-render");
    // The added hit is placed in the picture as generated hits are: from the frames' motion.
    {
        let session = h.state().session.as_ref().unwrap();
        let motion = session.generated.synthesis.placement.motion.as_ref().expect("the generation keeps the motion");
        assert!(!motion.is_empty());
        let added = session.hits.hits().iter().find(|hit| !hits_before.contains(hit)).expect("the added hit");
        assert!(added.x.is_some(), "a hit added where something moves at {:.3} s has a place", added.time_s);
        assert_eq!(added.x, motion.x_at(added.time_s));
    }
    h.get_by_label("Undo").click();
    h.step();
    h.step();
    assert_eq!(h.state().session.as_ref().unwrap().hits.hits().len(), hits);
    assert_eq!(h.state().session.as_ref().unwrap().track, before);

    // Each material has a lane: muting the only one silences the track, soloing it while
    // muted plays it, and unmuting and unsoloing give the same track back.
    assert_eq!(h.state().session.as_ref().unwrap().lanes().len(), 1);
    h.get_by_label("M").click();
    h.step();
    h.step();
    assert!(h.state().session.as_ref().unwrap().track.iter().all(|s| *s == 0.0), "a muted lane is heard");
    h.get_by_label("S").click();
    h.step();
    h.step();
    assert_eq!(h.state().session.as_ref().unwrap().track, before, "a soloed lane is not heard");
    h.get_by_label("M").click();
    h.step();
    h.get_by_label("S").click();
    h.step();
    h.step();
    assert_eq!(h.state().session.as_ref().unwrap().track, before);

    // Stereo: each hit panned to where it is in the picture; exports follow.
    h.get_by_label("Stereo").click();
    h.step();
    h.step();
    assert!(h.state().stereo, "{:?}", h.state().error);
    let stereo = h.state().session.as_ref().unwrap().stereo.clone().expect("a stereo track");
    assert_eq!(stereo.len(), 2 * before.len());
    assert!(stereo.chunks_exact(2).any(|f| (f[0] - f[1]).abs() > 1e-3), "every hit sits in the centre");

    // Export the WAV, the video with its sound, the hits and the project.
    let out = |name: &str| dir.path().join(name);
    let ctx = h.ctx.clone();
    for (dialog, name) in [
        (Dialog::ExportWav(WavFormat::Pcm24), "track.wav"),
        (Dialog::ExportVideo, "with_sound.mp4"),
        (Dialog::ExportHits, "hits.csv"),
        (Dialog::ExportMarkers(true), "markers.edl"),
        (Dialog::ExportMarkers(false), "markers.csv"),
        (Dialog::ExportStems, "stems"),
        (Dialog::SaveProject, "work.foley.json"),
    ] {
        h.state_mut().apply(&ctx, Command::WithFile(dialog, out(name)));
    }
    settle(&mut h, |app| !app.busy());
    assert!(h.state().error.as_deref().is_none_or(|e| e.starts_with("no sound output")), "{:?}", h.state().error);
    let wav = hound::WavReader::open(out("track.wav")).unwrap();
    assert_eq!((wav.spec().sample_rate, wav.spec().bits_per_sample, wav.spec().channels), (48_000, 24, 2));
    assert_eq!(wav.len() as usize, 2 * h.state().session.as_ref().unwrap().track.len());
    let csv = std::fs::read_to_string(out("hits.csv")).unwrap();
    assert_eq!(csv.lines().count(), hits + 1);
    let edl = std::fs::read_to_string(out("markers.edl")).unwrap();
    assert_eq!(edl.lines().filter(|l| l.contains("|M:")).count(), hits, "{edl}");
    assert_eq!(std::fs::read_to_string(out("markers.csv")).unwrap().lines().count(), hits + 1);
    let mix = hound::WavReader::open(out("stems").join("mix.wav")).unwrap();
    assert_eq!(mix.len() as usize, 2 * h.state().session.as_ref().unwrap().track.len());
    let stems = std::fs::read_dir(out("stems")).unwrap().count();
    assert!(stems >= 2, "the mix and at least one material: {stems} files");
    let probe = media::probe(out("with_sound.mp4")).unwrap();
    assert!(probe.streams.iter().any(|s| s.kind == media::StreamKind::Audio));
    let project = super::super::project::Project::load(&out("work.foley.json")).unwrap();
    assert_eq!(project.hits.len(), hits);
    assert_eq!(project.video, video);

    // A project edited by hand, with a hit past the video's end, is refused with the reason,
    // and its hits do not reach the next generation.
    let mut edited = project.clone();
    edited.hits[0].time_s = 99.0;
    edited.save(&out("edited.foley.json")).unwrap();

    // Saved, then edited again: closing asks first, and "Keep editing" keeps the edit.
    assert!(!h.state().session.as_ref().unwrap().unsaved());
    h.state_mut().apply(&ctx, Command::AddHitAtPlayhead);
    h.step();
    h.state_mut().apply(&ctx, Command::Close);
    h.step();
    h.step();
    assert!(h.state().player.is_some() && h.query_by_label("Unsaved edits").is_some());
    h.get_by_label("Keep editing").click();
    h.step();
    h.step();
    assert!(h.state().held_for_edits.is_none());
    assert_eq!(h.state().session.as_ref().unwrap().hits.hits().len(), hits + 1);
    // Opening another project asks too; "Discard edits" goes on with it.
    h.state_mut().apply(&ctx, Command::WithFile(Dialog::OpenProject, out("edited.foley.json")));
    h.step();
    h.step();
    assert!(h.state().held_for_edits.is_some());
    h.get_by_label("Discard edits").click();
    settle(&mut h, |app| !app.busy() && app.error.as_deref().is_some_and(|e| e.contains("hit 1")));
    let error = h.state().error.clone().unwrap();
    assert!(error.contains("past the video's end"), "{error}");
    assert!(h.state().session.is_none() && h.state().pending_hits.is_none());
}
