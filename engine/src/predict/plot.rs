//! The loss curve of a training run as a PNG: training and validation loss per epoch.

use std::path::Path;

use super::PredictError;
use crate::data::preview::Canvas;

const WIDTH: usize = 640;
const HEIGHT: usize = 360;
const MARGIN: usize = 40;
const TRAIN: [u8; 3] = [90, 170, 255];
const VALIDATION: [u8; 3] = [255, 160, 60];

/// Draws `train` and `validation` (one value per epoch) on a shared vertical scale.
pub fn loss_curve(path: &Path, train: &[f64], validation: &[f64]) -> Result<(), PredictError> {
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    let values = train.iter().chain(validation).copied().filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (lo.min(0.0), lo.max(0.0) + 1.0) };
    let epochs = train.len().max(validation.len()).max(2);
    let (plot_w, plot_h) = (WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN);
    let x_of = |i: usize| MARGIN + i * plot_w / (epochs - 1);
    let y_of = |v: f64| MARGIN + ((hi - v) / (hi - lo) * plot_h as f64).round().clamp(0.0, plot_h as f64) as usize;
    for x in MARGIN..=MARGIN + plot_w {
        canvas.set(x, MARGIN + plot_h, [160; 3]);
    }
    for y in MARGIN..=MARGIN + plot_h {
        canvas.set(MARGIN, y, [160; 3]);
    }
    for (series, colour) in [(train, TRAIN), (validation, VALIDATION)] {
        let points: Vec<(usize, usize)> =
            series.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| (x_of(i), y_of(v))).collect();
        for pair in points.windows(2) {
            line(&mut canvas, pair[0], pair[1], colour);
        }
        for &(x, y) in &points {
            for dy in 0..3 {
                for dx in 0..3 {
                    canvas.set(x + dx - 1, y + dy - 1, colour);
                }
            }
        }
    }
    canvas.text(MARGIN, 12, &format!("loss per epoch   max {hi:.3}   min {lo:.3}"), [220; 3]);
    canvas.text(WIDTH - 220, 12, "train", TRAIN);
    canvas.text(WIDTH - 160, 12, "validation", VALIDATION);
    canvas.text(MARGIN, HEIGHT - 20, &format!("epoch 1 .. {}", epochs), [220; 3]);
    Ok(canvas.save(path)?)
}

fn line(canvas: &mut Canvas, (x0, y0): (usize, usize), (x1, y1): (usize, usize), colour: [u8; 3]) {
    let steps = x1.abs_diff(x0).max(y1.abs_diff(y0)).max(1);
    for s in 0..=steps {
        let t = s as f64 / steps as f64;
        let x = x0 as f64 + (x1 as f64 - x0 as f64) * t;
        let y = y0 as f64 + (y1 as f64 - y0 as f64) * t;
        canvas.set(x.round() as usize, y.round() as usize, colour);
    }
}
