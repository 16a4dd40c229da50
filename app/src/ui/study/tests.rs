//! The study screen driven through kittest, headless: keys, answers on disk, resuming.

use super::screens::study_ui;
use super::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

/// A study folder with `n` trials (no media: the screen runs headless).
fn study(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let clips: Vec<foley_engine::study::StudyClip> = (0..n)
        .map(|i| foley_engine::study::StudyClip {
            clip: format!("clip{:03}", i + 1),
            video: format!("media/clip{:03}.mp4", i + 1).into(),
            start_s: 0.0,
            real: "r.wav".into(),
            predicted: vec![("retrieval".into(), "p.wav".into())],
            material: Some(if i % 2 == 0 { "wood" } else { "metal" }.into()),
            source: "v.mp4".into(),
        })
        .collect();
    let settings = StudySettings {
        format: "foley-study".into(),
        version: 1,
        seed: 5,
        seconds: 2.0,
        methods: vec!["retrieval".into()],
        clips,
    };
    std::fs::write(dir.path().join("study.json"), serde_json::to_vec(&settings).unwrap()).unwrap();
    let mut trials = String::from("trial,clip,method,seconds\n");
    for i in 0..n {
        trials.push_str(&format!("{},clip{:03},retrieval,2\n", i + 1, i + 1));
    }
    std::fs::write(dir.path().join("trials.csv"), trials).unwrap();
    dir
}

fn harness(dir: &Path, participant: &str) -> Harness<'static, StudyRun> {
    let run = StudyRun::open(dir, participant, false).unwrap();
    Harness::new_ui_state(|ui, run: &mut StudyRun| study_ui(ui, run), run)
}

/// One trial by keyboard alone: listen to A and B, choose `side`, confidence 4, Enter.
fn answer(h: &mut Harness<'static, StudyRun>, side: egui::Key) {
    for key in [egui::Key::A, egui::Key::B, side, egui::Key::Num4, egui::Key::Enter] {
        h.key_press(key);
        h.run();
    }
}

#[test]
fn a_participant_goes_through_the_study_by_keyboard_and_every_answer_is_saved() {
    let dir = study(4);
    let mut h = harness(dir.path(), "p01");
    h.run();
    assert!(h.query_by_label_contains("Start").is_some());
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(h.query_by_label("Which one has the real sound?").is_some());
    assert!(h.query_by_label_contains("Trial 1 of 4").is_some());
    // Nothing can be submitted before both sides were heard.
    h.key_press(egui::Key::ArrowLeft);
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().answered(), 0);
    for side in [egui::Key::ArrowLeft, egui::Key::ArrowRight, egui::Key::ArrowLeft, egui::Key::ArrowLeft] {
        answer(&mut h, side);
    }
    assert_eq!(h.state().screen, Screen::Done);
    assert!(h.query_by_label("Thank you!").is_some());
    // No file name or label of the clips was ever on screen.
    assert!(h.query_by_label_contains("clip0").is_none());
    let rows = foley_engine::study::read_results(&dir.path().join("results.csv"), None).unwrap();
    assert_eq!(rows.len(), 4);
    // Trials come in this participant's own order.
    let order: Vec<u32> = trial_order(5, "p01", 4).iter().map(|&i| i as u32 + 1).collect();
    assert_ne!(order, [1, 2, 3, 4]);
    assert_eq!(rows.iter().map(|r| r.trial).collect::<Vec<_>>(), order);
    let sides = real_sides(5, "p01", 4);
    for (row, chosen) in rows.iter().zip(['A', 'B', 'A', 'A']) {
        assert_eq!(row.chosen_side, chosen.to_string());
        assert_eq!(row.real_side, sides[row.trial as usize - 1].to_string());
        assert_eq!(row.chose_real, u8::from(row.real_side == row.chosen_side));
        assert_eq!(row.confidence, Some(4));
    }
}

/// A trial whose media are missing shows why and takes no answer; nothing is written.
#[test]
fn a_trial_whose_media_failed_cannot_be_answered() {
    let dir = study(2);
    let mut run = StudyRun::open(dir.path(), "p03", true).unwrap();
    run.show_next();
    assert_eq!(run.screen, Screen::Trial);
    assert!(run.media_failed && run.error.as_deref().is_some_and(|e| e.contains("cannot be answered")));
    run.play(0);
    run.play(1);
    assert_eq!(run.played, [false, false], "nothing was played, so nothing was heard");
    // Even told that both sides were heard, the answer is refused.
    run.played = [true, true];
    run.choice = Some('A');
    run.submit();
    assert_eq!(run.answered(), 0);
    let rows = foley_engine::study::read_results(&dir.path().join("results.csv"), None).unwrap_or_default();
    assert!(rows.is_empty(), "{rows:?}");
}

#[test]
fn a_killed_run_resumes_at_the_first_unanswered_trial_without_duplicates() {
    let dir = study(3);
    {
        let mut h = harness(dir.path(), "p02");
        h.key_press(egui::Key::Enter);
        h.run();
        answer(&mut h, egui::Key::ArrowRight);
        // Half-way through trial 2 the app is killed: the harness is dropped without an answer.
        h.key_press(egui::Key::A);
        h.key_press(egui::Key::ArrowLeft);
        h.run();
    }
    let mut h = harness(dir.path(), "p02");
    h.run();
    assert!(h.query_by_label_contains("Welcome back: 1 of 3").is_some());
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(h.query_by_label_contains("Trial 2 of 3").is_some());
    // A pause and back.
    h.key_press(egui::Key::P);
    h.run();
    assert!(h.query_by_label("Paused").is_some());
    h.key_press(egui::Key::Enter);
    h.run();
    answer(&mut h, egui::Key::ArrowLeft);
    answer(&mut h, egui::Key::ArrowRight);
    assert_eq!(h.state().screen, Screen::Done);
    let rows = foley_engine::study::read_results(&dir.path().join("results.csv"), None).unwrap();
    let trials: Vec<u32> = rows.iter().map(|r| r.trial).collect();
    assert_eq!(trials, [1, 2, 3]);
    // Another participant starts from the beginning in the same file.
    let other = StudyRun::open(dir.path(), "p03", false).unwrap();
    assert_eq!(other.answered(), 0);
}

/// Snapshot images of the study's screens (rendered with wgpu; `UPDATE_SNAPSHOTS=1` rewrites
/// them after an intended change). They live in the workspace's `tests/snapshots`.
#[test]
fn the_study_screens_look_as_they_should() {
    let dir = study(2);
    let run = StudyRun::open(dir.path(), "p09", false).unwrap();
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 500.0))
        .build_ui_state(|ui, run: &mut StudyRun| study_ui(ui, run), run);
    let options = egui_kittest::SnapshotOptions::new().output_path("../tests/snapshots");
    h.run();
    h.snapshot_options("study_instructions", &options);
    h.key_press(egui::Key::Enter);
    h.run();
    h.key_press(egui::Key::A);
    h.key_press(egui::Key::B);
    h.key_press(egui::Key::ArrowRight);
    h.key_press(egui::Key::Num3);
    h.run();
    h.snapshot_options("study_trial", &options);
}

#[test]
fn a_foreign_results_file_is_refused_and_left_alone() {
    let dir = study(2);
    std::fs::write(dir.path().join("results.csv"), "name,score\nx,1\n").unwrap();
    let err = StudyRun::open(dir.path(), "p01", false).unwrap_err().to_string();
    assert!(err.contains("results.csv") && err.contains("header"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("results.csv")).unwrap(), "name,score\nx,1\n");
}
