//! The loss curve of a training run as a PNG: training and validation loss per epoch, and the
//! epoch the model keeps (chosen by validation hit AP, so not always the lowest loss); an
//! ensemble's networks side by side.

use std::path::Path;

use plotters::prelude::*;

use super::PredictError;
use crate::figures::{INK, PALETTE, caption_font, chart_png, dark_mesh, font, rgb};

const SIZE: (u32, u32) = (800, 450);

/// One training run's losses, one value per epoch from epoch 1, and the epoch it keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LossRun {
    pub train: Vec<f64>,
    pub validation: Vec<f64>,
    pub kept: Option<usize>,
}

/// Draws each run's training and validation loss on a shared loss axis, and a vertical line at
/// the epoch it keeps, where given; several runs (an ensemble's networks) each in colours of
/// their own, labelled by network.
pub fn loss_curves(path: &Path, runs: &[LossRun]) -> Result<(), PredictError> {
    let finite = || runs.iter().flat_map(|r| r.train.iter().chain(&r.validation)).copied().filter(|v| v.is_finite());
    let (lo, hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = match (lo.is_finite(), hi > lo) {
        (true, true) => (lo, hi),
        (true, false) => (lo - 0.5, lo + 0.5),
        // No finite loss at all: an empty chart on a unit axis.
        (false, _) => (0.0, 1.0),
    };
    let pad = (hi - lo) * 0.05;
    let epochs = runs.iter().map(|r| r.train.len().max(r.validation.len())).max().unwrap_or(0).max(2);
    let ink = rgb(INK);
    chart_png(path, SIZE, |area| {
        let mut chart = ChartBuilder::on(area)
            .caption("Loss per epoch", caption_font())
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(1.0..epochs as f64, (lo - pad)..(hi + pad))?;
        let mut mesh = chart.configure_mesh();
        dark_mesh(&mut mesh);
        mesh.x_desc("epoch")
            .y_desc("loss (robust, per step)")
            .x_labels(epochs.min(12))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.3}"))
            .draw()?;
        for (k, run) in runs.iter().enumerate() {
            let name =
                |what: &str| if runs.len() == 1 { what.to_owned() } else { format!("network {}: {what}", k + 1) };
            let colours = run_colours(k);
            for (label, series, colour) in
                [(name("train"), &run.train, colours[0]), (name("validation"), &run.validation, colours[1])]
            {
                let colour = rgb(colour);
                let points: Vec<(f64, f64)> = series
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, &v)| ((i + 1) as f64, v))
                    .collect();
                chart
                    .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
                chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
            }
            if let Some(kept) = run.kept {
                let colour = rgb(colours[2]);
                let x = kept as f64;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        [(x, lo - pad), (x, hi + pad)],
                        colour.stroke_width(2),
                    )))?
                    .label(name(&format!("kept epoch {kept} (best validation hit AP)")))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(RGBColor(36, 36, 36))
            .border_style(ink)
            .label_font(font(13, INK))
            .draw()?;
        Ok(())
    })?;
    Ok(())
}

/// Run `k`'s colours: training loss, validation loss, kept epoch.
fn run_colours(k: usize) -> [[u8; 3]; 3] {
    [PALETTE[(3 * k + 1) % PALETTE.len()], PALETTE[(3 * k) % PALETTE.len()], PALETTE[(3 * k + 2) % PALETTE.len()]]
}

#[cfg(test)]
mod tests {
    use super::{LossRun, loss_curves, run_colours};
    use crate::figures::{PALETTE, pixels_per_row, read_png};

    fn run(train: &[f64], validation: &[f64], kept: Option<usize>) -> LossRun {
        LossRun { train: train.to_vec(), validation: validation.to_vec(), kept }
    }

    #[test]
    fn both_losses_are_drawn_and_a_missing_value_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss_curve.png");
        let train = [1.0, 0.6, 0.45, 0.4, 0.38];
        loss_curves(&path, &[run(&train, &[1.1, 0.7, f64::NAN, 0.5, 0.52], None)]).unwrap();
        let ((width, height), rgb) = read_png(&path);
        assert_eq!((width, height), super::SIZE);
        let drawn = |colour| pixels_per_row(&rgb, width, colour).iter().sum::<usize>();
        let (train_px, validation_px) = (drawn(PALETTE[1]), drawn(PALETTE[0]));
        assert!(train_px > 500 && validation_px > 300, "train {train_px}, validation {validation_px} pixels");
        assert_eq!(drawn(PALETTE[2]), 0, "no kept epoch, no marker");
        // The kept epoch: a line of its colour through most of the plot's rows.
        loss_curves(&path, &[run(&train, &[1.1, 0.7, f64::NAN, 0.5, 0.52], Some(3))]).unwrap();
        let ((_, height), rgb) = read_png(&path);
        let rows = pixels_per_row(&rgb, width, PALETTE[2]).iter().filter(|&&n| n > 0).count();
        assert!(rows as u32 > height / 2, "the marker spans {rows} of {height} rows");
        // A run with no finite loss still gives a figure, not an error.
        loss_curves(&path, &[run(&[f64::NAN], &[], Some(1))]).unwrap();
    }

    #[test]
    fn an_ensemble_s_networks_are_drawn_each_in_its_own_colours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss_curve.png");
        let first = run(&[1.0, 0.6, 0.45, 0.4], &[1.1, 0.7, 0.5, 0.52], Some(3));
        let second = run(&[0.9, 0.7, 0.5, 0.3], &[1.0, 0.8, 0.6, 0.55], Some(4));
        loss_curves(&path, &[first, second]).unwrap();
        let ((width, _), rgb) = read_png(&path);
        let drawn = |colour| pixels_per_row(&rgb, width, colour).iter().sum::<usize>();
        for k in 0..2 {
            for (what, colour) in ["train", "validation", "kept epoch"].iter().zip(run_colours(k)) {
                assert!(drawn(colour) > 100, "network {}'s {what}: {} pixels", k + 1, drawn(colour));
            }
        }
        assert!(run_colours(0).iter().all(|c| !run_colours(1).contains(c)), "the networks share no colour");
    }
}
