//! The study's screens as `*_ui` functions over the run: instructions, trials, the end.

use super::{Screen, StudyRun};

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
