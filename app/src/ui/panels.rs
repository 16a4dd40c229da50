//! The panels: functions that draw from the app's state and return the user's commands.

use super::app::{Command, FoleyApp};

/// Files dropped onto the window open like File > Open.
pub fn dropped_files(ctx: &egui::Context) -> Vec<Command> {
    ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .map(Command::Open)
            .take(1)
            .collect()
    })
}

/// Space plays/pauses, Left/Right step one frame, Ctrl+O opens.
pub fn shortcuts(ctx: &egui::Context) -> Vec<Command> {
    // A focused text field owns the keyboard.
    if ctx.memory(|m| m.focused().is_some()) {
        return Vec::new();
    }
    ctx.input_mut(|i| {
        let mut out = Vec::new();
        if i.consume_key(egui::Modifiers::COMMAND, egui::Key::O) {
            out.push(Command::PickFile);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::Space) {
            out.push(Command::TogglePlay);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowRight) {
            out.push(Command::StepForward);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowLeft) {
            out.push(Command::StepBack);
        }
        out
    })
}

pub fn menu_bar_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    out.push(Command::PickFile);
                }
                ui.menu_button("Open recent", |ui| {
                    if app.recent.is_empty() {
                        ui.label("(none)");
                    }
                    for path in &app.recent {
                        if ui.button(path.display().to_string()).clicked() {
                            out.push(Command::Open(path.clone()));
                        }
                    }
                });
                if ui.add_enabled(app.player.is_some(), egui::Button::new("Close")).clicked() {
                    out.push(Command::Close);
                }
            });
            if let Some(player) = &app.player {
                ui.separator();
                ui.label(player.path().display().to_string());
            }
        });
    });
    out
}

pub fn error_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    if let Some(message) = &app.error {
        egui::Panel::top("error").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().error_fg_color, message);
                if ui.button("Dismiss").clicked() {
                    out.push(Command::DismissError);
                }
            });
        });
    }
    out
}

pub fn welcome_ui(ui: &mut egui::Ui, app: &mut FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.25);
            ui.heading("foley");
            ui.label("Open a video of things being hit and scratched.");
            ui.add_space(12.0);
            if let Some((path, _)) = &app.opening {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Opening {}…", path.display()));
                });
            } else if ui.button("Open video…").clicked() {
                out.push(Command::PickFile);
            }
            ui.label("or drop a file onto this window, or type its path:");
            ui.horizontal(|ui| {
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut app.path_input)
                        .hint_text("/path/to/video.mp4")
                        .desired_width(360.0),
                );
                let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button("Open").clicked() || enter) && !app.path_input.trim().is_empty() {
                    out.push(Command::Open(app.path_input.trim().into()));
                }
            });
            if !app.recent.is_empty() {
                ui.add_space(12.0);
                ui.label("Recent:");
                for path in &app.recent {
                    if ui.link(path.display().to_string()).clicked() {
                        out.push(Command::Open(path.clone()));
                    }
                }
            }
        });
    });
    out
}

pub fn transport_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    let Some(player) = &app.player else { return out };
    let info = player.info();
    egui::Panel::bottom("transport").show(ui, |ui| {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            if ui.button("< Frame").on_hover_text("Previous frame (Left)").clicked() {
                out.push(Command::StepBack);
            }
            let label = if player.is_playing() { "Pause" } else { "Play" };
            if ui.button(label).on_hover_text("Play/pause (Space)").clicked() {
                out.push(Command::TogglePlay);
            }
            if ui.button("Frame >").on_hover_text("Next frame (Right)").clicked() {
                out.push(Command::StepForward);
            }
            let mut position = player.position_s().min(info.duration_s);
            ui.label(format!("{} / {}", timecode(position), timecode(info.duration_s)));
            ui.spacing_mut().slider_width = (ui.available_width() - 8.0).max(50.0);
            let slider = egui::Slider::new(&mut position, 0.0..=info.duration_s.max(1e-3)).show_value(false);
            if ui.add(slider).changed() {
                out.push(Command::Seek(position));
            }
        });
        ui.label(format!(
            "{}x{} {} · {:.3} fps{} · {} frames",
            info.width,
            info.height,
            info.codec,
            info.fps,
            if info.variable_rate { " (variable)" } else { "" },
            info.frame_count
        ));
        ui.add_space(2.0);
    });
    out
}

pub fn video_ui(ui: &mut egui::Ui, app: &FoleyApp) {
    egui::CentralPanel::default().show(ui, |ui| {
        let Some(texture) = &app.texture else {
            ui.centered_and_justified(|ui| ui.spinner());
            return;
        };
        let available = ui.available_size();
        let size = texture.size_vec2();
        let scale = (available.x / size.x).min(available.y / size.y);
        ui.centered_and_justified(|ui| {
            ui.add(egui::Image::new((texture.id(), size * scale)));
        });
    });
}

/// `m:ss.mmm`
fn timecode(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
}
