//! The loss curve of a training run as a PNG: training and validation loss per epoch, and the
//! epoch the model keeps (chosen by validation hit AP, so not always the lowest loss).

use std::path::Path;

use plotters::prelude::*;

use super::PredictError;
use crate::figures::{INK, PALETTE, caption_font, chart_png, dark_mesh, font, rgb};

const SIZE: (u32, u32) = (800, 450);

/// Draws `train` and `validation` (one value per epoch, from epoch 1) on a shared loss axis, and
/// a vertical line at `best` (the epoch kept), where given.
pub fn loss_curve(path: &Path, train: &[f64], validation: &[f64], best: Option<usize>) -> Result<(), PredictError> {
    let finite = || train.iter().chain(validation).copied().filter(|v| v.is_finite());
    let (lo, hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = match (lo.is_finite(), hi > lo) {
        (true, true) => (lo, hi),
        (true, false) => (lo - 0.5, lo + 0.5),
        // No finite loss at all: an empty chart on a unit axis.
        (false, _) => (0.0, 1.0),
    };
    let pad = (hi - lo) * 0.05;
    let epochs = train.len().max(validation.len()).max(2);
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
        for (name, series, colour) in [("train", train, PALETTE[1]), ("validation", validation, PALETTE[0])] {
            let colour = rgb(colour);
            let points: Vec<(f64, f64)> =
                series.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| ((i + 1) as f64, v)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        if let Some(best) = best {
            let colour = rgb(PALETTE[2]);
            let x = best as f64;
            chart
                .draw_series(std::iter::once(PathElement::new([(x, lo - pad), (x, hi + pad)], colour.stroke_width(2))))?
                .label(format!("kept: epoch {best} (best validation hit AP)"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
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

#[cfg(test)]
mod tests {
    use crate::figures::{PALETTE, pixels_per_row, read_png};

    #[test]
    fn both_losses_are_drawn_and_a_missing_value_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss_curve.png");
        let train = [1.0, 0.6, 0.45, 0.4, 0.38];
        super::loss_curve(&path, &train, &[1.1, 0.7, f64::NAN, 0.5, 0.52], None).unwrap();
        let ((width, height), rgb) = read_png(&path);
        assert_eq!((width, height), super::SIZE);
        let drawn = |colour| pixels_per_row(&rgb, width, colour).iter().sum::<usize>();
        let (train_px, validation_px) = (drawn(PALETTE[1]), drawn(PALETTE[0]));
        assert!(train_px > 500 && validation_px > 300, "train {train_px}, validation {validation_px} pixels");
        assert_eq!(drawn(PALETTE[2]), 0, "no kept epoch, no marker");
        // The kept epoch: a line of its colour through most of the plot's rows.
        super::loss_curve(&path, &train, &[1.1, 0.7, f64::NAN, 0.5, 0.52], Some(3)).unwrap();
        let ((_, height), rgb) = read_png(&path);
        let rows = pixels_per_row(&rgb, width, PALETTE[2]).iter().filter(|&&n| n > 0).count();
        assert!(rows as u32 > height / 2, "the marker spans {rows} of {height} rows");
        // A run with no finite loss still gives a figure, not an error.
        super::loss_curve(&path, &[f64::NAN], &[], Some(1)).unwrap();
    }
}
