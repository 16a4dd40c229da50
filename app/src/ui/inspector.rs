//! The inspector beside the timeline: the selected hit's clip and gain, audition, delete, and the
//! clips it could have instead.

use super::app::{Command, FoleyApp};
use super::edits::Edit;

/// The selected hit: its clip, gain, and the clips it could have instead.
pub fn inspector_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    let Some(session) = &app.session else { return out };
    let Some(index) = session.selected else { return out };
    let Some(hit) = session.hits.hits().get(index) else { return out };
    ui.heading("Hit");
    ui.label(format!("at {:.3} s", hit.time_s));
    ui.label(format!("{} {}", hit.material.as_deref().unwrap_or("-"), hit.action.as_deref().unwrap_or("")));
    ui.label(format!("clip: {}", hit.clip.as_deref().unwrap_or("-")));
    let mut gain = hit.gain_db;
    let slider = ui.add(egui::Slider::new(&mut gain, -40.0..=12.0).text("gain dB"));
    if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
        out.push(Command::EditHit(Edit::SetGain { index, gain_db: gain }));
    }
    ui.horizontal(|ui| {
        if ui.button("Audition").on_hover_text("Play this clip alone").clicked() {
            out.push(Command::Audition(index));
        }
        if ui.button("Delete").on_hover_text("Delete").clicked() {
            out.push(Command::EditHit(Edit::Delete { index }));
        }
    });
    ui.separator();
    ui.label("Nearest clips:");
    for (_, id, material) in session.candidates(hit.time_s, None, 5) {
        let text = format!("{} ({})", id, material.as_deref().unwrap_or("-"));
        if ui.selectable_label(hit.clip.as_deref() == Some(id.as_str()), text).clicked() {
            out.push(swap(session, index, &id));
        }
    }
    ui.separator();
    let choose_id = ui.make_persistent_id("inspector-material");
    let mut chosen: String =
        ui.data(|d| d.get_temp(choose_id)).unwrap_or_else(|| hit.material.clone().unwrap_or_default());
    egui::ComboBox::from_label("material").selected_text(chosen.clone()).show_ui(ui, |ui| {
        for m in session.materials() {
            ui.selectable_value(&mut chosen, m.clone(), m);
        }
    });
    ui.data_mut(|d| d.insert_temp(choose_id, chosen.clone()));
    egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
        for (_, id, _) in session.candidates(hit.time_s, Some(&chosen), 12) {
            if ui.selectable_label(hit.clip.as_deref() == Some(id.as_str()), &id).clicked() {
                out.push(swap(session, index, &id));
            }
        }
    });
    out
}

fn swap(session: &super::session::Session, index: usize, id: &str) -> Command {
    let entry = session.db().and_then(|db| db.find(id).map(|i| db.manifest.entries[i].clone()));
    Command::EditHit(Edit::SwapClip {
        index,
        clip: id.to_owned(),
        material: entry.as_ref().and_then(|e| e.material.clone()),
        action: entry.and_then(|e| e.action),
    })
}
