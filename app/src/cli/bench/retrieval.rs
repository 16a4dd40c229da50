//! Nearest-neighbour search in a clip database the size of Greatest Hits.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

use super::threads_available;

pub(super) fn run(model: Option<&PathBuf>, entries: usize, queries: usize) -> anyhow::Result<()> {
    use foley_engine::retrieval::{SearchIndex, WINDOW_STEPS, squared_distance};
    use rand::{RngExt as _, SeedableRng as _};
    anyhow::ensure!(
        entries > 0 && queries > 0,
        "--entries and --queries must be at least 1 (got {entries} and {queries})"
    );
    let bundle = super::super::predict::load_model(model)?;
    let db = super::super::synth::load_database(&bundle.dir)?
        .with_context(|| format!("the model in {} has no clip database", bundle.dir.display()))?;
    let bands = db.manifest.cochleagram.bands();
    let dim = db.dim();
    let compression = db.manifest.cochleagram.compression as f32;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    // A variant of a real window: moved by up to 4 steps, 20 dB quieter to 6 dB louder, noisy.
    let variant = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f32> {
        let base = db.window(rng.random_range(0..db.len()));
        let shift = rng.random_range(-4i64..=4);
        let scale = 10f32.powf(rng.random_range(-20.0f32..6.0) / 20.0).powf(compression);
        let mut out = Vec::with_capacity(dim);
        for step in 0..WINDOW_STEPS as i64 {
            let from = (step + shift).clamp(0, WINDOW_STEPS as i64 - 1) as usize;
            for b in 0..bands {
                let noise: f32 = (0..3).map(|_| rng.random_range(-0.01f32..0.01)).sum();
                out.push((base[from * bands + b] * scale + noise).max(0.0));
            }
        }
        out
    };
    let windows: Vec<f32> = (0..entries).flat_map(|_| variant(&mut rng)).collect();
    let start = Instant::now();
    let index = SearchIndex::fit(&windows, dim)?;
    let fit = start.elapsed().as_secs_f64();
    let queries: Vec<Vec<f32>> = (0..queries).map(|_| variant(&mut rng)).collect();
    let mut times = Vec::with_capacity(queries.len());
    let mut exact = 0;
    let evaluated = std::cell::Cell::new(0usize);
    for (k, q) in queries.iter().enumerate() {
        let distance = |i: usize| {
            evaluated.set(evaluated.get() + 1);
            squared_distance(&windows[i * dim..(i + 1) * dim], q)
        };
        let start = Instant::now();
        let found = index.nearest(q, 5, &|_| true, &distance);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if k < 100 {
            let mut all: Vec<(f32, usize)> =
                windows.chunks_exact(dim).enumerate().map(|(i, w)| (squared_distance(w, q), i)).collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            let want: Vec<usize> = all.iter().take(5).map(|a| a.1).collect();
            let got: Vec<usize> = found.iter().map(|f| f.0).collect();
            exact += usize::from(want == got);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    println!(
        "{entries} windows of {WINDOW_STEPS} steps x {bands} bands from {} real clips; index fitted in {fit:.2} s",
        db.len()
    );
    println!(
        "true distances computed per query: {:.0} on average (of {entries})",
        evaluated.get() as f64 / queries.len().max(1) as f64
    );
    println!(
        "5 nearest of {} queries: mean {mean:.3} ms, median {:.3} ms, 99th percentile {:.3} ms per query; {exact} of {} equal to brute force; {} threads available",
        times.len(),
        times[times.len() / 2],
        times[(times.len() * 99 / 100).min(times.len() - 1)],
        queries.len().min(100),
        threads_available()
    );
    Ok(())
}
