//! The panels: functions that draw from the app's state and return the user's commands.

use foley_engine::media::WavFormat;

use super::app::{Command, Dialog, FoleyApp};

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

/// Space plays/pauses; J/K/L shuttle (J backwards, L forwards, faster on each press; K stops);
/// Left/Right step one frame; G generates the sound; Ctrl+O opens; Ctrl+Z / Ctrl+Shift+Z undo and
/// redo; Ctrl+S saves the project; Ctrl+E exports the WAV; Delete
/// deletes the selected hit.
pub fn shortcuts(ctx: &egui::Context, app: &FoleyApp) -> Vec<Command> {
    // A text field being typed into owns the keyboard.
    if ctx.egui_wants_keyboard_input() {
        return Vec::new();
    }
    let has_session = app.session.is_some();
    ctx.input_mut(|i| {
        let mut out = Vec::new();
        let shift_command = egui::Modifiers::COMMAND | egui::Modifiers::SHIFT;
        if i.consume_key(shift_command, egui::Key::Z) {
            out.push(Command::Redo);
        }
        if i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z) {
            out.push(Command::Undo);
        }
        if i.consume_key(egui::Modifiers::COMMAND, egui::Key::O) {
            out.push(Command::PickFile);
        }
        if has_session && i.consume_key(egui::Modifiers::COMMAND, egui::Key::S) {
            out.push(Command::SaveProject);
        }
        if has_session && i.consume_key(egui::Modifiers::COMMAND, egui::Key::E) {
            out.push(Command::ShowDialog(Dialog::ExportWav(WavFormat::Pcm16)));
        }
        if app.player.is_some() && app.generate.is_none() && i.consume_key(egui::Modifiers::NONE, egui::Key::G) {
            out.push(Command::Generate);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::Space) {
            out.push(Command::TogglePlay);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::J) {
            out.push(Command::Shuttle { forward: false });
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::K) {
            out.push(Command::Pause);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::L) {
            out.push(Command::Shuttle { forward: true });
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowRight) {
            out.push(Command::StepForward);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowLeft) {
            out.push(Command::StepBack);
        }
        if i.consume_key(egui::Modifiers::NONE, egui::Key::Delete)
            || i.consume_key(egui::Modifiers::NONE, egui::Key::Backspace)
        {
            out.push(Command::DeleteSelected);
        }
        out
    })
}

pub fn menu_bar_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open video…  (Ctrl+O)").clicked() {
                    out.push(Command::PickFile);
                }
                if ui.button("Open project…").clicked() {
                    out.push(Command::ShowDialog(Dialog::OpenProject));
                }
                let has_session = app.session.is_some();
                if ui.add_enabled(has_session, egui::Button::new("Save project  (Ctrl+S)")).clicked() {
                    out.push(Command::SaveProject);
                }
                if ui.add_enabled(has_session, egui::Button::new("Save project as…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::SaveProject));
                }
                ui.separator();
                if ui.add_enabled(has_session, egui::Button::new("Export WAV, 16-bit…  (Ctrl+E)")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportWav(WavFormat::Pcm16)));
                }
                if ui.add_enabled(has_session, egui::Button::new("Export WAV, 24-bit…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportWav(WavFormat::Pcm24)));
                }
                if ui.add_enabled(has_session, egui::Button::new("Export video with sound…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportVideo));
                }
                if ui.add_enabled(has_session, egui::Button::new("Export hits (CSV)…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportHits));
                }
                if ui.add_enabled(has_session, egui::Button::new("Export stems (one WAV per material)…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportStems));
                }
                if ui.add_enabled(has_session, egui::Button::new("Export markers (EDL)…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportMarkers(true)));
                }
                if ui.add_enabled(has_session, egui::Button::new("Export markers (CSV)…")).clicked() {
                    out.push(Command::ShowDialog(Dialog::ExportMarkers(false)));
                }
                ui.separator();
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
                // The name, as editors title a clip; the folder is a hover away.
                let path = player.path();
                let name =
                    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
                ui.label(name).on_hover_text(path.display().to_string());
            }
            if app.busy() {
                ui.separator();
                ui.spinner();
            }
            if let Some(status) = &app.status {
                ui.separator();
                ui.weak(status);
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

/// Asks what to do with edited hits before a command that would lose them.
pub fn unsaved_edits_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    let Some(held) = &app.held_for_edits else { return out };
    let what = match held {
        Command::Close => "Closing the video",
        Command::Generate => "Generating again",
        _ => "Opening another file",
    };
    egui::Modal::new(egui::Id::unique("unsaved-edits")).show(ui.ctx(), |ui| {
        ui.heading("Unsaved edits");
        ui.label(format!("{what} loses the hits edited since the last save."));
        ui.horizontal(|ui| {
            if ui.button("Discard edits").clicked() {
                out.push(Command::DiscardEdits);
            }
            if ui.button("Keep editing").clicked() {
                out.push(Command::KeepEdits);
            }
        });
    });
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
            if let Some(rate) = player.shuttle_rate() {
                // Negative is backwards, as editing tools show it.
                ui.label(egui::RichText::new(format!("shuttle {rate}x")).strong())
                    .on_hover_text("Shuttle: J/L change speed, K stops");
            }
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

/// The generate bar and the timeline, above the transport.
pub fn timeline_panel_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    egui::Panel::bottom("timeline").show(ui, |ui| {
        ui.add_space(4.0);
        out.extend(super::generate_bar::generate_bar_ui(ui, app));
        ui.add_space(4.0);
        out.extend(super::timeline::timeline_ui(ui, app));
        ui.add_space(4.0);
    });
    out
}

/// The selected hit's panel, on the right.
pub fn inspector_panel_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    if app.session.as_ref().and_then(|s| s.selected).is_some() {
        egui::Panel::right("inspector").min_size(220.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                out.extend(super::inspector::inspector_ui(ui, app));
            });
        });
    }
    out
}
