//! The study screen: instructions, then per trial the same clip as A and B (either replayed at
//! will), "Which one has the real sound?", an optional confidence, no feedback; progress, a pause,
//! and everything on the keyboard. Each answer is on disk (synced) before the next trial shows;
//! run again after a crash and it resumes at the first unanswered trial.
//!
//! [`StudyRun`] holds the state and its actions; [`screens`] draws it.

mod screens;
#[cfg(test)]
mod tests;

pub use screens::StudyApp;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use foley_engine::media;
use foley_engine::study::{
    ResultRow, ResultsFile, StudySettings, Trial, now_rfc3339, read_study, read_trials, real_sides, trial_order,
};
use foley_engine::timeline::OUTPUT_SAMPLE_RATE;

use crate::ui::audio::{AudioOut, SoundOutput as _};
use crate::ui::player::Player;

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
