//! The bar above the timeline: backend, model, method, Generate / progress and Cancel, A/B,
//! stereo, undo/redo, add a hit, every hit to one material, the hit threshold.

use foley_engine::synthesis::Method;
use foley_engine::vision::Backend;

use super::app::{Command, FoleyApp, HitThreshold, Listen};

/// The generate bar: backend, model, method, Generate / progress and Cancel, A/B, undo/redo.
pub fn generate_bar_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    // Wraps in a narrow window rather than hiding buttons off the edge.
    ui.horizontal_wrapped(|ui| {
        if let Some(job) = &app.generate {
            let fraction = if job.total > 0 { job.done as f32 / job.total as f32 } else { 0.0 };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(260.0)
                    .text(format!("listening: frame {} of {}", job.done, job.total)),
            );
            if ui.button("Cancel").clicked() {
                out.push(Command::CancelGenerate);
            }
            if let Some(device) = &job.device {
                ui.label(device);
            }
        } else {
            let label = if app.session.is_some() { "Generate again" } else { "Generate sound" };
            if ui.button(label).on_hover_text("Run the CNN, the LSTM and the synthesis on this video (G)").clicked() {
                out.push(Command::Generate);
            }
            let mut backend = app.backend;
            egui::ComboBox::from_id_salt("backend")
                .selected_text(match backend {
                    Backend::Ort => "ONNX Runtime (CPU)",
                    Backend::Wgpu => "wgpu (GPU)",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut backend, Backend::Ort, "ONNX Runtime (CPU)");
                    ui.selectable_value(&mut backend, Backend::Wgpu, "wgpu (GPU)");
                });
            if backend != app.backend {
                out.push(Command::SetBackend(backend));
            }
            let mut method = app.method;
            egui::ComboBox::from_id_salt("method").selected_text(method.as_str()).show_ui(ui, |ui| {
                ui.selectable_value(&mut method, Method::Retrieval, "retrieval");
                ui.selectable_value(&mut method, Method::Parametric, "parametric");
            });
            if method != app.method {
                out.push(Command::SetMethod(method));
            }
            out.extend(hit_threshold_ui(ui, app));
            let model = app.model_dir.as_ref().map_or_else(|| "shipped model".to_owned(), |d| d.display().to_string());
            if ui.button(format!("Model: {model}")).on_hover_text("Choose a model folder").clicked() {
                out.push(Command::PickModel);
            }
            if app.model_dir.is_some() && ui.small_button("default").clicked() {
                out.push(Command::SetModel(None));
            }
        }
        if let Some(session) = &app.session {
            ui.separator();
            if app.original.is_some() {
                let mut listen = app.listen;
                ui.selectable_value(&mut listen, Listen::Original, "A: original");
                ui.selectable_value(&mut listen, Listen::Generated, "B: generated");
                if listen != app.listen {
                    out.push(Command::SetListen(listen));
                }
            }
            let mut stereo = app.stereo;
            if ui
                .add_enabled(session.editable(), egui::Checkbox::new(&mut stereo, "Stereo"))
                .on_hover_text("Pan each hit to where it happens in the picture")
                .changed()
            {
                out.push(Command::SetStereo(stereo));
            }
            if ui.add_enabled(session.hits.can_undo(), egui::Button::new("Undo")).on_hover_text("Ctrl+Z").clicked() {
                out.push(Command::Undo);
            }
            if ui
                .add_enabled(session.hits.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
            {
                out.push(Command::Redo);
            }
            if ui.add_enabled(session.editable(), egui::Button::new("Add hit at playhead")).clicked() {
                out.push(Command::AddHitAtPlayhead);
            }
            let looks = session.generated.synthesis.placement.material.as_ref();
            if let Some(m) = looks {
                ui.add(egui::Label::new(format!("looks like {m}")).wrap_mode(egui::TextWrapMode::Extend));
            }
            ui.add_enabled_ui(session.editable(), |ui| {
                ui.menu_button("All hits to…", |ui| {
                    for m in session.materials() {
                        if ui.selectable_label(looks == Some(&m), &m).clicked() {
                            out.push(Command::EditHit(session.swap_all_to(&m)));
                        }
                    }
                })
                .response
                .on_hover_text(
                    "Put on every hit the nearest clip of a material, for a surface the look read wrong (one undo)",
                );
            });
        }
    });
    out
}

/// The hit threshold: where it is dragged the value follows, and the track's hits are found again
/// once it is let go (or typed, or stepped with the arrow keys), as one edit.
fn hit_threshold_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Option<Command> {
    let mut threshold = app.hit_threshold.0;
    let response = ui
        .add(egui::Slider::new(&mut threshold, HitThreshold::RANGE).step_by(0.05).text("Hit threshold"))
        .on_hover_text(
            "How sure the model must be of a contact to place a hit: higher gives fewer hits (where hits sound \
             though nothing is struck), lower more (where quiet hits are missed). Changing it finds the hits again \
             (one undo); 0.5 is the model's best on the videos it was tuned on",
        );
    let let_go = response.drag_stopped() || (response.changed() && !response.dragged());
    (response.changed() || let_go).then_some(Command::SetHitThreshold { threshold, apply: let_go })
}
