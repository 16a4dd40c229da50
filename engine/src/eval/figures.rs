//! The evaluation's figures: the cochleagrams of a few test videos, and the metrics chart.

use std::path::Path;

use plotters::prelude::*;

use super::report::{EvalError, Figure};
use super::track_scores::MethodScores;
use crate::colour::heat;
use crate::figures::{Canvas, FONT_FAMILY, INK, PALETTE, caption_font, chart_png, dark_mesh, font, rgb};
use crate::sound::Cochleagram;

const STRIP_BAND_H: usize = 2;
const FIG_W: usize = 900;

/// Per test video: the real cochleagram, the prediction, and the made track's, low bands at the
/// bottom; white ticks at the labelled contacts, cyan ticks at the placed hits.
pub(super) fn cochleagram_figure(path: &Path, figures: &[Figure]) -> Result<(), EvalError> {
    let label_h = 12;
    let strip_h = |c: &Cochleagram| c.bands * STRIP_BAND_H + label_h + 6;
    let height: usize = figures.iter().map(|f| 3 * strip_h(&f.real)).sum::<usize>().max(20);
    let mut canvas = Canvas::new(FIG_W, height);
    let mut y = 0;
    for f in figures {
        let peak = f.real.data.iter().copied().fold(0.0f32, f32::max).max(1e-6);
        let duration = f.real.steps() as f64 / f.real.rate_hz;
        for (name, c) in [("real", &f.real), ("predicted", &f.predicted), ("made by retrieval", &f.made)] {
            canvas.text(2, y + 2, &format!("{} {name}", f.id), [255, 255, 255]);
            let top = y + label_h;
            for x in 0..FIG_W {
                let step = x * f.real.steps() / FIG_W;
                for band in 0..c.bands {
                    let v = if step < c.steps() { c.row(step)[band] / peak } else { 0.0 };
                    for dy in 0..STRIP_BAND_H {
                        canvas.set(x, top + (c.bands - 1 - band) * STRIP_BAND_H + dy, heat(v));
                    }
                }
            }
            let tick = |canvas: &mut Canvas, t: f64, colour: [u8; 3], from: usize| {
                let x = ((t / duration.max(1e-6)) * FIG_W as f64) as usize;
                for dy in 0..4 {
                    canvas.set(x.min(FIG_W - 1), from + dy, colour);
                }
            };
            for contact in &f.contacts {
                tick(&mut canvas, contact.time_s, [255, 255, 255], top);
            }
            for h in &f.hits {
                tick(&mut canvas, h.time_s, [0, 230, 255], top + c.bands * STRIP_BAND_H - 4);
            }
            y += strip_h(c);
        }
    }
    canvas.save(path)?;
    Ok(())
}

/// Reads one figure of a method's scores.
type Metric = fn(&MethodScores) -> Option<f64>;

/// One group of bars per metric (each a share or a correlation, higher is better), one bar per
/// method in the colours of the legend below; "n/a" where a method has no such figure.
pub(super) fn metrics_figure(path: &Path, methods: &[MethodScores]) -> Result<(), EvalError> {
    let metrics: [(&str, Metric); 7] = [
        ("hit AP", |m| Some(m.hit_ap)),
        ("hit accuracy", |m| Some(m.hit_accuracy)),
        ("material accuracy", |m| m.material_accuracy),
        ("action accuracy", |m| m.action_accuracy),
        ("correct hits", |m| Some(m.correct_hits)),
        ("correct-hit F1", |m| Some(m.correct_f1)),
        ("loudness r", |m| m.loudness_correlation),
    ];
    let ink = rgb(INK);
    let colour = |k: usize| rgb(PALETTE[k % PALETTE.len()]);
    let legend_rows = methods.len().div_ceil(2);
    let legend_h = 16 + 20 * legend_rows as u32;
    let (width, height) = (1000, 480 + legend_h);
    let slot = 0.8 / methods.len().max(1) as f64;
    chart_png(path, (width, height), |area| {
        let (top, legend) = area.split_vertically(height - legend_h);
        let mut chart = ChartBuilder::on(&top)
            .caption("Test split: each method's figures (higher is better)", caption_font())
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..metrics.len() as f64 - 0.5, 0.0..1.0)?;
        let mut mesh = chart.configure_mesh();
        dark_mesh(&mut mesh);
        mesh.disable_x_mesh()
            // Ticks fall on whole numbers, one per group; each is named after its metric.
            .x_labels(metrics.len())
            .x_label_formatter(&|x| {
                let near = (x - x.round()).abs() < 1e-6 && *x >= 0.0;
                metrics.get(x.round() as usize).filter(|_| near).map_or("", |m| m.0).to_owned()
            })
            .y_desc("share or correlation")
            .y_label_formatter(&|y| format!("{y:.1}"))
            .draw()?;
        let missing = (FONT_FAMILY, 11).into_font().transform(FontTransform::Rotate270).color(&ink);
        for (k, m) in methods.iter().enumerate() {
            for (g, (_, get)) in metrics.iter().enumerate() {
                let x0 = g as f64 - 0.4 + k as f64 * slot;
                match get(m) {
                    Some(v) => {
                        chart.draw_series([Rectangle::new(
                            [(x0, 0.0), (x0 + slot * 0.9, v.clamp(0.0, 1.0))],
                            colour(k).filled(),
                        )])?;
                    }
                    None => {
                        chart.draw_series([Text::new("n/a", (x0 + slot * 0.15, 0.12), missing.clone())])?;
                    }
                }
            }
        }
        // The legend: two columns of colour and method.
        let label = font(13, INK);
        for (k, m) in methods.iter().enumerate() {
            let (x, y) = (70 + (k % 2) as i32 * 460, 8 + (k / 2) as i32 * 20);
            legend.draw(&Rectangle::new([(x, y + 2), (x + 12, y + 14)], colour(k).filled()))?;
            legend.draw(&Text::new(m.method.clone(), (x + 20, y + 1), label.clone()))?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::report::{FULL_MODEL, RANDOM_CLIP};
    use crate::figures::{PALETTE, pixels_per_row, read_png};

    fn scores(method: &str, v: f64, material: Option<f64>) -> MethodScores {
        MethodScores {
            method: method.to_owned(),
            videos: 1,
            contacts: 10,
            hits_placed: 10,
            hit_ap: v,
            hit_accuracy: v,
            hit_f1: v,
            median_error_ms: Some(5.0),
            material_accuracy: material,
            action_accuracy: material,
            loudness_correlation: Some(v),
            cochleagram_distance: 1.0,
            correct_hits: v,
            correct_f1: v,
            per_material: Vec::new(),
        }
    }

    #[test]
    fn the_metrics_chart_draws_each_method_in_its_colour_as_tall_as_its_figures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.png");
        let methods = [scores(FULL_MODEL, 0.9, Some(0.9)), scores(RANDOM_CLIP, 0.3, None)];
        metrics_figure(&path, &methods).unwrap();
        let ((width, _), rgb) = read_png(&path);
        assert_eq!(width, 1000);
        let area = |colour| pixels_per_row(&rgb, width, colour).iter().sum::<usize>() as f64;
        // Seven bars at 0.9 against five at 0.3 (two "n/a"), plus a legend square each.
        let ratio = area(PALETTE[0]) / area(PALETTE[1]);
        assert!((3.0..5.5).contains(&ratio), "{ratio}");
    }
}
