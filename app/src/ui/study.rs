//! The study screen: instructions, then per trial the same clip as A and B (either replayed at
//! will), "Which one has the real sound?", an optional confidence, no feedback; progress, a pause,
//! and everything on the keyboard. Each answer is on disk (synced) before the next trial shows;
//! run again after a crash and it resumes at the first unanswered trial.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use foley_engine::media;
use foley_engine::study::{
    ResultRow, ResultsFile, StudySettings, Trial, now_rfc3339, read_study, read_trials, real_sides, trial_order,
};
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;

use super::audio::{AudioOut, SoundOutput as _};
use super::player::Player;

/// Which page is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Instructions,
    Trial,
    Paused,
    Done,
}

/// The picture and sound of the current trial.
struct StudyMedia {
    player: Option<Player>,
    texture: Option<egui::TextureHandle>,
    audio: Option<AudioOut>,
    audio_error: Option<String>,
    /// The sound of side A and of side B.
    tracks: [Vec<f32>; 2],
    seconds: f64,
    /// Where the clip starts in its picture, seconds.
    start_s: f64,
}

/// A participant's run through a study.
pub struct StudyRun {
    dir: PathBuf,
    settings: StudySettings,
    trials: Vec<Trial>,
    participant: String,
    sides: Vec<char>,
    /// The order in which this participant meets the trials (indices into `trials`).
    order: Vec<usize>,
    results: ResultsFile,
    answered: BTreeSet<u32>,
    pub screen: Screen,
    current: Option<usize>,
    played: [bool; 2],
    choice: Option<char>,
    confidence: Option<u8>,
    shown_at: Instant,
    pub error: Option<String>,
    media: Option<StudyMedia>,
    /// The current trial's picture or sounds did not load: it cannot be answered.
    media_failed: bool,
}

impl std::fmt::Debug for StudyRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudyRun")
            .field("participant", &self.participant)
            .field("screen", &self.screen)
            .finish_non_exhaustive()
    }
}

impl StudyRun {
    /// Opens the study in `dir` for `participant`; `with_media` plays pictures and sound (off in
    /// tests, where playing only counts as having listened).
    pub fn open(dir: &Path, participant: &str, with_media: bool) -> anyhow::Result<Self> {
        let participant = participant.trim();
        anyhow::ensure!(!participant.is_empty(), "the participant ID is empty");
        let settings = read_study(dir)?;
        let trials = read_trials(dir)?;
        let (results, rows) = ResultsFile::open(dir, &trials)?;
        let answered = rows.iter().filter(|r| r.participant == participant).map(|r| r.trial).collect();
        let sides = real_sides(settings.seed, participant, trials.len());
        let order = trial_order(settings.seed, participant, trials.len());
        let mut run = Self {
            dir: dir.to_owned(),
            settings,
            trials,
            participant: participant.to_owned(),
            sides,
            order,
            results,
            answered,
            screen: Screen::Instructions,
            current: None,
            played: [false; 2],
            choice: None,
            confidence: None,
            shown_at: Instant::now(),
            error: None,
            media: None,
            media_failed: false,
        };
        if with_media {
            let audio = AudioOut::open();
            run.media = Some(StudyMedia {
                player: None,
                texture: None,
                audio_error: audio.as_ref().err().cloned(),
                audio: audio.ok(),
                tracks: [Vec::new(), Vec::new()],
                seconds: 0.0,
                start_s: 0.0,
            });
        }
        Ok(run)
    }

    /// Answers already given by this participant.
    #[must_use]
    pub fn answered(&self) -> usize {
        self.answered.len()
    }

    fn first_unanswered(&self) -> Option<usize> {
        self.order.iter().copied().find(|&i| !self.answered.contains(&self.trials[i].trial))
    }

    /// Shows the first unanswered trial (or the end).
    fn show_next(&mut self) {
        self.current = self.first_unanswered();
        self.played = [false; 2];
        self.choice = None;
        self.confidence = None;
        self.shown_at = Instant::now();
        let Some(index) = self.current else {
            self.screen = Screen::Done;
            return;
        };
        self.screen = Screen::Trial;
        self.media_failed = false;
        if let Err(e) = self.load_media(index) {
            self.media_failed = true;
            self.error =
                Some(format!("this trial cannot be answered, its media did not load (tell the experimenter): {e:#}"));
        }
    }

    fn load_media(&mut self, index: usize) -> anyhow::Result<()> {
        let Some(media) = &mut self.media else { return Ok(()) };
        let trial = &self.trials[index];
        let clip =
            self.settings.clip(&trial.clip).with_context(|| format!("clip {} is not in study.json", trial.clip))?;
        let predicted = clip
            .predicted
            .iter()
            .find(|(m, _)| *m == trial.method)
            .with_context(|| format!("no {} track for clip {}", trial.method, trial.clip))?;
        let read = |p: &Path| -> anyhow::Result<Vec<f32>> {
            Ok(media::read_audio(self.dir.join(p), OUTPUT_SAMPLE_RATE)?.samples)
        };
        let (real, fake) = (read(&clip.real)?, read(&predicted.1)?);
        media.tracks = if self.sides[index] == 'A' { [real, fake] } else { [fake, real] };
        media.seconds = trial.seconds;
        media.start_s = clip.start_s;
        media.player = Some(Player::open(&self.dir.join(&clip.video), || {})?);
        media.texture = None;
        Ok(())
    }

    /// Plays side 0 (A) or 1 (B) from the start. A side counts as heard only when its sound
    /// started playing (without media, in tests, asking to play counts).
    pub fn play(&mut self, side: usize) {
        if self.screen != Screen::Trial || self.media_failed {
            return;
        }
        let Some(media) = &mut self.media else {
            self.played[side] = true;
            return;
        };
        if let Some(p) = &mut media.player {
            p.seek(media.start_s);
            p.play();
        }
        if let Some(audio) = &mut media.audio
            && !media.tracks[side].is_empty()
        {
            audio.set_track(&media.tracks[side], OUTPUT_SAMPLE_RATE, 1);
            audio.play_from(0.0);
            self.played[side] = true;
        }
    }

    fn stop(&mut self) {
        if let Some(media) = &mut self.media {
            if let Some(p) = &mut media.player {
                p.pause();
            }
            if let Some(a) = &mut media.audio {
                a.pause();
            }
        }
    }

    /// Records the answer (on disk before anything else happens) and moves on.
    pub fn submit(&mut self) {
        let (Some(index), Some(chosen)) = (self.current, self.choice) else { return };
        if self.media_failed || !(self.played[0] && self.played[1]) {
            return;
        }
        let trial = &self.trials[index];
        let real = self.sides[index];
        let row = ResultRow {
            participant: self.participant.clone(),
            trial: trial.trial,
            clip: trial.clip.clone(),
            method: trial.method.clone(),
            real_side: real.to_string(),
            chosen_side: chosen.to_string(),
            chose_real: u8::from(real == chosen),
            confidence: self.confidence,
            response_ms: u64::try_from(self.shown_at.elapsed().as_millis()).unwrap_or(u64::MAX),
            answered_at: now_rfc3339(),
        };
        match self.results.append(&row) {
            Ok(()) => {
                self.answered.insert(trial.trial);
                self.error = None;
                self.stop();
                self.show_next();
            }
            Err(e) => self.error = Some(format!("the answer could not be saved, so the study stays here: {e}")),
        }
    }

    fn keys(&mut self, ctx: &egui::Context) {
        let pressed = |key| ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, key));
        match self.screen {
            Screen::Instructions | Screen::Paused => {
                if pressed(egui::Key::Enter) || pressed(egui::Key::Space) {
                    self.show_next();
                }
            }
            Screen::Trial => {
                if pressed(egui::Key::A) {
                    self.play(0);
                }
                if pressed(egui::Key::B) {
                    self.play(1);
                }
                if pressed(egui::Key::ArrowLeft) {
                    self.choice = Some('A');
                }
                if pressed(egui::Key::ArrowRight) {
                    self.choice = Some('B');
                }
                for (key, level) in [
                    (egui::Key::Num1, 1),
                    (egui::Key::Num2, 2),
                    (egui::Key::Num3, 3),
                    (egui::Key::Num4, 4),
                    (egui::Key::Num5, 5),
                ] {
                    if pressed(key) {
                        self.confidence = if self.confidence == Some(level) { None } else { Some(level) };
                    }
                }
                if pressed(egui::Key::Enter) {
                    self.submit();
                }
                if pressed(egui::Key::P) || pressed(egui::Key::Escape) {
                    self.stop();
                    self.screen = Screen::Paused;
                }
            }
            Screen::Done => {}
        }
    }

    fn update_media(&mut self, ctx: &egui::Context) {
        let Some(media) = &mut self.media else { return };
        let Some(player) = &mut media.player else { return };
        if let Err(e) = player.update() {
            self.error = Some(e.to_string());
        }
        if player.is_playing() && player.position_s() >= media.start_s + media.seconds {
            player.pause();
            if let Some(a) = &mut media.audio {
                a.pause();
            }
        }
        player.upload_frame(ctx, &mut media.texture, "study-frame");
        if player.is_playing() {
            ctx.request_repaint_after(std::time::Duration::from_millis(10));
        }
    }
}

/// The whole study screen.
pub fn study_ui(ui: &mut egui::Ui, run: &mut StudyRun) {
    let ctx = ui.ctx().clone();
    run.keys(&ctx);
    run.update_media(&ctx);
    egui::CentralPanel::default().show(ui, |ui| {
        if let Some(e) = &run.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(e) = run.media.as_ref().and_then(|m| m.audio_error.as_ref()) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("No sound output ({e}); tell the person running the study."),
            );
        }
        match run.screen {
            Screen::Instructions => instructions_ui(ui, run),
            Screen::Paused => {
                ui.vertical_centered(|ui| {
                    ui.add_space(80.0);
                    ui.heading("Paused");
                    ui.label("Press Enter to continue.");
                    if ui.button("Continue").clicked() {
                        run.show_next();
                    }
                });
            }
            Screen::Done => {
                ui.vertical_centered(|ui| {
                    ui.add_space(80.0);
                    ui.heading("Thank you!");
                    ui.label("Every answer is saved. You can close this window.");
                });
            }
            Screen::Trial => trial_ui(ui, run),
        }
    });
}

fn instructions_ui(ui: &mut egui::Ui, run: &mut StudyRun) {
    ui.vertical_centered(|ui| {
        ui.add_space(40.0);
        ui.heading("Which one has the real sound?");
    });
    ui.add_space(12.0);
    ui.label(format!(
        "You will see {} short videos of things being hit. Each is played twice, as A and as B: once with the sound that was recorded, once with a sound made by a computer. Say which one has the real sound.",
        run.trials.len()
    ));
    ui.label("Play each as often as you like (keys A and B). Choose with Left (A) or Right (B), optionally say how sure you are from 1 (guessing) to 5 (certain), and press Enter. There is no feedback. Press P to pause.");
    if run.answered() > 0 {
        ui.label(format!(
            "Welcome back: {} of {} answered; you continue where you stopped.",
            run.answered(),
            run.trials.len()
        ));
    }
    ui.add_space(12.0);
    ui.vertical_centered(|ui| {
        if ui.button("Start (Enter)").clicked() {
            run.show_next();
        }
    });
}

fn trial_ui(ui: &mut egui::Ui, run: &mut StudyRun) {
    let total = run.trials.len();
    let done = run.answered();
    ui.add(egui::ProgressBar::new(done as f32 / total.max(1) as f32).text(format!("Trial {} of {total}", done + 1)));
    ui.add_space(8.0);
    if let Some(texture) = run.media.as_ref().and_then(|m| m.texture.as_ref()) {
        let size = texture.size_vec2();
        let scale = (ui.available_width() / size.x).min((ui.available_height() - 170.0).max(80.0) / size.y);
        ui.vertical_centered(|ui| ui.add(egui::Image::new((texture.id(), size * scale))));
    }
    ui.add_space(8.0);
    ui.vertical_centered(|ui| {
        ui.horizontal(|ui| {
            for (side, label) in [(0, "Play A (A)"), (1, "Play B (B)")] {
                let text = if run.played[side] { format!("{label}, heard") } else { label.to_owned() };
                if ui.button(text).clicked() {
                    run.play(side);
                }
            }
        });
        ui.add_space(6.0);
        ui.heading("Which one has the real sound?");
        ui.horizontal(|ui| {
            if ui.selectable_label(run.choice == Some('A'), "A is real (Left)").clicked() {
                run.choice = Some('A');
            }
            if ui.selectable_label(run.choice == Some('B'), "B is real (Right)").clicked() {
                run.choice = Some('B');
            }
        });
        ui.horizontal(|ui| {
            ui.label("How sure? (optional)");
            for level in 1..=5u8 {
                if ui.selectable_label(run.confidence == Some(level), level.to_string()).clicked() {
                    run.confidence = if run.confidence == Some(level) { None } else { Some(level) };
                }
            }
        });
        let ready = run.choice.is_some() && run.played[0] && run.played[1];
        if !run.played.iter().all(|&p| p) {
            ui.label("Play both A and B first.");
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(ready, egui::Button::new("Next (Enter)")).clicked() {
                run.submit();
            }
            if ui.button("Pause (P)").clicked() {
                run.stop();
                run.screen = Screen::Paused;
            }
        });
    });
}

/// The study window.
pub struct StudyApp {
    pub run: StudyRun,
}

impl eframe::App for StudyApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        study_ui(ui, &mut self.run);
    }
}

#[cfg(test)]
mod tests {
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
}
