//! The timeline under the video (below the generate bar): on one time axis a ruler in the video's
//! timecode, thumbnails filling the strip, the predicted cochleagram (with the contact probability
//! and the hit threshold over it), the track's waveform and the hits labelled by material, with
//! the playhead across all of them.
//! Click to seek; click a hit to select it, drag it to move it; scroll to pan, Ctrl+scroll to zoom.

use super::app::{Command, FoleyApp};
use super::edits::Edit;
use super::session::PEAK_BUCKET;

/// The visible stretch of time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub start_s: f64,
    /// Seconds across the whole width; 0 means "the whole video".
    pub span_s: f64,
}

impl Default for View {
    fn default() -> Self {
        Self { start_s: 0.0, span_s: 0.0 }
    }
}

const RULER_H: f32 = 18.0;
const THUMBS_H: f32 = 40.0;
/// The least room between two labels of the ruler, pixels.
const RULER_LABEL_W: f32 = 96.0;
/// Steps the ruler's ticks may take, seconds (frames below a second are added per rate).
const RULER_STEPS_S: [f64; 13] = [0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];
const COCHLEAGRAM_H: f32 = 84.0;
const WAVE_H: f32 = 56.0;
const HITS_H: f32 = 26.0;
const GAP: f32 = 4.0;

/// The contact probability of every step, drawn over the cochleagram with the hit threshold, so
/// that the peaks just below it (the hits a lower threshold would add) show.
struct ContactCurve<'a> {
    probability: &'a [f32],
    rate_hz: f64,
}

impl ContactCurve<'_> {
    /// Each pixel column takes the highest probability of its steps, so that no peak falls
    /// between columns when zoomed out.
    fn paint(&self, painter: &egui::Painter, rect: egui::Rect, start: f64, span: f64, threshold: f32) {
        let y_of = |p: f32| rect.bottom() - p.clamp(0.0, 1.0) * rect.height();
        let columns = rect.width().max(1.0) as usize;
        let points: Vec<egui::Pos2> = (0..columns)
            .filter_map(|col| {
                let step = |c: usize| ((start + span * c as f64 / columns as f64) * self.rate_hz) as usize;
                let (s0, s1) = (step(col), step(col + 1).max(step(col) + 1));
                let p = self.probability.get(s0..s1.min(self.probability.len()))?.iter().copied().reduce(f32::max)?;
                Some(egui::pos2(rect.left() + col as f32 + 0.5, y_of(p)))
            })
            .collect();
        painter.add(egui::Shape::line(points, egui::Stroke::new(1.0, egui::Color32::from_rgb(230, 240, 255))));
        let y = y_of(threshold);
        painter.add(egui::Shape::dashed_line(
            &[egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
            egui::Stroke::new(1.0, egui::Color32::from_rgba_unmultiplied(255, 255, 255, 140)),
            6.0,
            4.0,
        ));
    }
}

/// The time axis with the cochleagram, waveform, hits and playhead.
pub fn timeline_ui(ui: &mut egui::Ui, app: &FoleyApp) -> Vec<Command> {
    let mut out = Vec::new();
    let Some(player) = &app.player else { return out };
    let duration = player.info().duration_s.max(1e-3);
    let span = if app.view.span_s > 0.0 { app.view.span_s.min(duration) } else { duration };
    let start = app.view.start_s.clamp(0.0, (duration - span).max(0.0));
    let width = ui.available_width();
    // One lane of hits per material, at least one.
    let lanes = app.session.as_ref().map(super::session::Session::lanes).unwrap_or_default();
    let lanes_h = HITS_H * lanes.len().max(1) as f32;
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(width, RULER_H + THUMBS_H + COCHLEAGRAM_H + WAVE_H + lanes_h + 3.0 * GAP),
        egui::Sense::click_and_drag(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(18));
    let x_of = |t: f64| rect.left() + ((t - start) / span) as f32 * rect.width();
    let t_of = |x: f32| start + f64::from((x - rect.left()) / rect.width()) * span;
    let ruler_rect = egui::Rect::from_min_size(rect.min, egui::vec2(rect.width(), RULER_H));
    ruler_ui(&painter, ruler_rect, player.info(), start, span);
    let thumbs_rect =
        egui::Rect::from_min_size(egui::pos2(rect.left(), ruler_rect.bottom()), egui::vec2(rect.width(), THUMBS_H));
    let coch_rect = egui::Rect::from_min_size(
        egui::pos2(rect.left(), thumbs_rect.bottom() + GAP),
        egui::vec2(rect.width(), COCHLEAGRAM_H),
    );
    // Thumbnails side by side across the whole strip, each slot showing the picture nearest its
    // middle's time, whatever the zoom.
    if let Some((_, first)) = app.thumbnails.first() {
        let size = first.size_vec2();
        let w = (THUMBS_H * size.x / size.y.max(1.0)).max(8.0);
        let slots = (rect.width() / w).ceil() as usize;
        for slot in 0..slots {
            let left = rect.left() + slot as f32 * w;
            let t = t_of(left + w / 2.0);
            let nearest = app.thumbnails.partition_point(|(at, _)| *at < t);
            let candidates = [nearest.checked_sub(1), Some(nearest)];
            let Some((_, texture)) = candidates
                .into_iter()
                .flatten()
                .filter_map(|i| app.thumbnails.get(i))
                .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
            else {
                continue;
            };
            let r = egui::Rect::from_min_size(egui::pos2(left, thumbs_rect.top()), egui::vec2(w, THUMBS_H));
            painter.image(
                texture.id(),
                r,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
    }
    let wave_rect =
        egui::Rect::from_min_size(egui::pos2(rect.left(), coch_rect.bottom() + GAP), egui::vec2(rect.width(), WAVE_H));
    let hits_rect =
        egui::Rect::from_min_size(egui::pos2(rect.left(), wave_rect.bottom() + GAP), egui::vec2(rect.width(), lanes_h));
    let lane_top = |lane: &str| hits_rect.top() + HITS_H * lanes.iter().position(|l| l == lane).unwrap_or(0) as f32;

    if let Some(session) = &app.session {
        if let Some(texture) = &session.cochleagram {
            let total = session.generated.synthesis.placement.cochleagram.steps() as f64
                / session.generated.synthesis.placement.cochleagram.rate_hz;
            let uv = egui::Rect::from_min_max(
                egui::pos2((start / total) as f32, 0.0),
                egui::pos2(((start + span) / total) as f32, 1.0),
            );
            painter.image(texture.id(), coch_rect, uv, egui::Color32::WHITE);
        }
        let placement = &session.generated.synthesis.placement;
        if let Some(contact) = &placement.contact {
            let curve = ContactCurve { probability: contact, rate_hz: placement.cochleagram.rate_hz };
            curve.paint(&painter, coch_rect, start, span, app.hit_threshold.0);
        }
        // Waveform: the extremes of the samples under each pixel column.
        let mid = wave_rect.center().y;
        // Scaled to the track's peak, so quiet tracks still show their shape.
        let peak = session.peaks.iter().fold(0.0f32, |m, p| m.max(p.1).max(-p.0)).max(1e-4);
        let half = wave_rect.height() / 2.0 / peak;
        let buckets_per_s = 48_000.0 / PEAK_BUCKET as f64;
        let columns = rect.width().max(1.0) as usize;
        let colour = egui::Color32::from_rgb(120, 200, 255);
        for col in 0..columns {
            let t0 = start + span * col as f64 / columns as f64;
            let t1 = start + span * (col + 1) as f64 / columns as f64;
            let (b0, b1) = (
                (t0 * buckets_per_s) as usize,
                ((t1 * buckets_per_s).ceil() as usize).max((t0 * buckets_per_s) as usize + 1),
            );
            let (lo, hi) = session
                .peaks
                .get(b0..b1.min(session.peaks.len()))
                .unwrap_or(&[])
                .iter()
                .fold((0.0f32, 0.0f32), |(l, h), p| (l.min(p.0), h.max(p.1)));
            if hi > lo {
                let x = rect.left() + col as f32;
                painter.line_segment(
                    [egui::pos2(x, mid - hi * half), egui::pos2(x, mid - lo * half)],
                    egui::Stroke::new(1.0, colour),
                );
            }
        }
        // Lanes: alternate shading, muted or unsoloed ones dimmed.
        for (k, lane) in lanes.iter().enumerate() {
            let r = egui::Rect::from_min_size(
                egui::pos2(rect.left(), hits_rect.top() + HITS_H * k as f32),
                egui::vec2(rect.width(), HITS_H),
            );
            let shade = if session.audible(lane) { 24 + 8 * (k % 2) as u8 } else { 8 };
            painter.rect_filled(r, 0.0, egui::Color32::from_gray(shade));
        }
        // Hits, each in its material's lane: a marker and the material's name; the selected one
        // highlighted, those of silent lanes grey.
        for (i, hit) in session.hits.hits().iter().enumerate() {
            let x = x_of(hit.time_s);
            if x < rect.left() - 1.0 || x > rect.right() + 1.0 {
                continue;
            }
            let selected = session.selected == Some(i);
            let lane = super::session::lane_of(hit);
            let colour = match (selected, session.audible(lane)) {
                (true, _) => egui::Color32::YELLOW,
                (false, true) => egui::Color32::from_rgb(0, 230, 255),
                (false, false) => egui::Color32::from_gray(110),
            };
            let top = lane_top(lane);
            painter.line_segment(
                [egui::pos2(x, coch_rect.top()), egui::pos2(x, top)],
                egui::Stroke::new(if selected { 2.0 } else { 1.0 }, colour.gamma_multiply(0.6)),
            );
            painter.circle_filled(egui::pos2(x, top + 6.0), if selected { 5.0 } else { 4.0 }, colour);
            painter.text(
                egui::pos2(x + 6.0, top + 12.0),
                egui::Align2::LEFT_CENTER,
                lane,
                egui::FontId::proportional(11.0),
                colour,
            );
        }
    } else {
        painter.text(
            coch_rect.center(),
            egui::Align2::CENTER_CENTER,
            "No sound generated yet: press Generate sound",
            egui::FontId::proportional(14.0),
            egui::Color32::GRAY,
        );
    }
    // Playhead.
    let x = x_of(player.position_s());
    painter.line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(1.5, egui::Color32::WHITE),
    );

    // Each lane's mute and solo, at its right end.
    if let Some(session) = &app.session {
        for (k, lane) in lanes.iter().enumerate() {
            let y = hits_rect.top() + HITS_H * k as f32 + 2.0;
            for (j, (text, solo)) in [("M", false), ("S", true)].into_iter().enumerate() {
                let on = if solo { session.soloed.contains(lane) } else { session.muted.contains(lane) };
                let r = egui::Rect::from_min_size(
                    egui::pos2(rect.right() - 48.0 + 24.0 * j as f32, y),
                    egui::vec2(22.0, HITS_H - 4.0),
                );
                let button = egui::Button::new(egui::RichText::new(text).size(11.0)).selected(on);
                let what = if solo { "Solo" } else { "Mute" };
                if ui.put(r, button).on_hover_text(format!("{what} the {lane} lane")).clicked() {
                    out.push(Command::ToggleLane { lane: lane.clone(), solo });
                }
            }
        }
    }

    // Interaction: a press near a hit selects it (and a drag moves it); elsewhere it seeks.
    let hit_at = |pos: egui::Pos2| -> Option<usize> {
        let session = app.session.as_ref()?;
        session
            .hits
            .hits()
            .iter()
            .enumerate()
            .map(|(i, h)| (i, (x_of(h.time_s) - pos.x).abs()))
            .filter(|(_, d)| *d <= 6.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    };
    let id = response.id.with("drag");
    if response.drag_started()
        && let Some(pos) = ui.input(|i| i.pointer.press_origin())
        && let Some(i) = hit_at(pos)
        && app.session.as_ref().is_some_and(super::session::Session::editable)
    {
        ui.data_mut(|d| d.insert_temp(id, i));
        out.push(Command::SelectHit(Some(i)));
    }
    let dragging: Option<usize> = ui.data(|d| d.get_temp(id));
    if let (Some(i), Some(pos)) = (dragging, response.interact_pointer_pos()) {
        let t = t_of(pos.x).clamp(0.0, duration);
        painter.line_segment(
            [egui::pos2(pos.x, rect.top()), egui::pos2(pos.x, rect.bottom())],
            egui::Stroke::new(1.0, egui::Color32::YELLOW),
        );
        if response.drag_stopped() {
            ui.data_mut(|d| d.remove::<usize>(id));
            out.push(Command::EditHit(Edit::Move { index: i, time_s: t }));
        }
    } else if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        match hit_at(pos) {
            Some(i) => out.push(Command::SelectHit(Some(i))),
            None => {
                out.push(Command::SelectHit(None));
                out.push(Command::Seek(t_of(pos.x).clamp(0.0, duration)));
            }
        }
    } else if response.dragged()
        && dragging.is_none()
        && let Some(pos) = response.interact_pointer_pos()
    {
        out.push(Command::Seek(t_of(pos.x).clamp(0.0, duration)));
    }
    if response.hovered() {
        let (scroll, zoom, ctrl) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.modifiers.command));
        let pointer_t = response.hover_pos().map_or(start + span / 2.0, |p| t_of(p.x));
        if (zoom - 1.0).abs() > 1e-3 || (ctrl && scroll.y.abs() > 0.0) {
            let factor =
                if (zoom - 1.0).abs() > 1e-3 { 1.0 / f64::from(zoom) } else { (-f64::from(scroll.y) * 0.005).exp() };
            let new_span = (span * factor).clamp(0.25, duration);
            let new_start = pointer_t - (pointer_t - start) * new_span / span;
            out.push(Command::SetView(View {
                start_s: new_start.clamp(0.0, (duration - new_span).max(0.0)),
                span_s: new_span,
            }));
        } else if scroll.x.abs() > 0.0 || scroll.y.abs() > 0.0 {
            let delta = -f64::from(scroll.x + scroll.y) / f64::from(rect.width()) * span;
            out.push(Command::SetView(View {
                start_s: (start + delta).clamp(0.0, (duration - span).max(0.0)),
                span_s: span,
            }));
        }
    }
    // Keep the playhead in view while playing.
    if player.is_playing() && (player.position_s() > start + span || player.position_s() < start) {
        out.push(Command::SetView(View { start_s: player.position_s().min((duration - span).max(0.0)), span_s: span }));
    }
    out
}

/// The time ruler: ticks at a round step that leaves room for each label, labelled with the
/// video's own timecode (its first frame's timecode plus the time; `HH:MM:SS:FF` at its rate).
fn ruler_ui(painter: &egui::Painter, rect: egui::Rect, info: &foley_engine::media::VideoInfo, start: f64, span: f64) {
    painter.rect_filled(rect, 0.0, egui::Color32::from_gray(30));
    let fps = if info.fps > 0.0 { info.fps } else { 30.0 };
    let clock = foley_engine::synthesis::MarkerClock::for_video(info);
    let per_px = span / f64::from(rect.width().max(1.0));
    let least = f64::from(RULER_LABEL_W) * per_px;
    // Below a second, whole frames: 1, 2, 5 or 10 of them.
    let frame_steps = [1.0, 2.0, 5.0, 10.0].map(|n| n / fps);
    let step = frame_steps.into_iter().chain(RULER_STEPS_S).find(|s| *s >= least).unwrap_or(3600.0);
    let colour = egui::Color32::from_gray(170);
    let first = (start / step).ceil() as i64;
    let last = ((start + span) / step).floor() as i64;
    for k in first..=last {
        let t = k as f64 * step;
        let x = rect.left() + ((t - start) / span) as f32 * rect.width();
        painter.line_segment([egui::pos2(x, rect.bottom() - 6.0), egui::pos2(x, rect.bottom())], (1.0, colour));
        painter.text(
            egui::pos2(x + 3.0, rect.center().y - 2.0),
            egui::Align2::LEFT_CENTER,
            clock.at(t),
            egui::FontId::monospace(10.0),
            colour,
        );
        // Minor ticks: five per step.
        for m in 1..5 {
            let xm = x + (step * f64::from(m) / 5.0 / span) as f32 * rect.width();
            if xm < rect.right() {
                painter
                    .line_segment([egui::pos2(xm, rect.bottom() - 3.0), egui::pos2(xm, rect.bottom())], (1.0, colour));
            }
        }
    }
}
