//! One training step of the sound predictor (forward, backward, Adam), as `foley train` runs it
//! batch after batch: what an epoch costs.

use foley_engine::predict::{self, TrainOptions};

use super::threads_available;

pub(super) fn run(batch: usize, steps: usize) -> anyhow::Result<()> {
    anyhow::ensure!(batch > 0 && steps > 0, "--batch and --steps must be at least 1");
    let options = TrainOptions { batch, ..TrainOptions::default() };
    // The shipped model's input: its encoder's space-time and colour features side by side.
    let input = super::super::predict::load_model(None)?.manifest.config.input;
    // The first step allocates what later steps reuse; it is timed apart.
    let seconds = predict::time_training_steps(&options, input, steps + 1)?;
    let (first, rest) = seconds.split_first().expect("at least two steps were timed");
    let mut sorted = rest.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "training step: {batch} windows of {} steps (+{} lookahead), {input} inputs, LSTM {} x {}: median {:.0} ms, best {:.0} ms over {steps} steps (first {:.0} ms); {:.1} ms per window; {} threads available",
        options.window_steps,
        options.lookahead,
        options.layers,
        options.hidden,
        median * 1000.0,
        sorted[0] * 1000.0,
        first * 1000.0,
        median * 1000.0 / batch as f64,
        threads_available()
    );
    Ok(())
}
