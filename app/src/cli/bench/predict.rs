//! The LSTM over a minute of features, as `foley predict` runs it after the CNN.

use std::path::PathBuf;
use std::time::Instant;

use foley_engine::vision;

use super::threads_available;

pub(super) fn run(model: Option<&PathBuf>, seconds: f64) -> anyhow::Result<()> {
    let bundle = super::super::predict::load_model(model)?;
    let config = &bundle.manifest.config;
    let frames = (seconds * 30000.0 / 1001.0).floor() as usize;
    let times: Vec<f64> = (0..frames).map(|i| i as f64 * 1001.0 / 30000.0).collect();
    // Laid out as a video's features are: the space-time features (and the motion grid, for a
    // model that reads one) vary per frame (non-negative, sparse), the look is the first colour
    // frame's, the same on every row.
    let varying = config.look_range().start;
    let rows: Vec<f32> = (0..frames * config.input)
        .map(|i| {
            let k = if i % config.input < varying { i } else { i % config.input };
            if k % 3 == 0 { ((k * 2_654_435_761) % 1000) as f32 / 500.0 } else { 0.0 }
        })
        .collect();
    let features = vision::VideoFeatures {
        times,
        rows,
        feature_size: bundle.manifest.encoder.feature_size,
        layout: config.layout(),
        encoder: bundle.manifest.encoder.clone(),
    };
    let mut best = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let c = foley_engine::predict::predict_features(&bundle, &features)?;
        best = best.min(start.elapsed().as_secs_f64());
        steps = c.steps();
    }
    println!(
        "LSTM {} layer(s) x {} hidden, projection {}: {seconds} s of video ({frames} frames, {steps} steps) in {:.1} ms (best of 5), {} threads available",
        config.layers,
        config.hidden,
        config.projection,
        best * 1000.0,
        threads_available()
    );
    Ok(())
}
