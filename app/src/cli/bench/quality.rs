//! The predictor's figures on a dataset's test split.

use std::path::{Path, PathBuf};

use foley_engine::paths::cache_dir;
use foley_engine::vision::{self, Backend};

pub(super) fn run(data: &Path, model: Option<&PathBuf>) -> anyhow::Result<()> {
    let bundle = super::super::predict::load_model(model)?;
    let mut encoder = vision::open_encoder(Backend::Ort, bundle.encoder_spec()?)?;
    let bar = super::super::progress::bar(0, "videos");
    let result = foley_engine::predict::evaluate_split(
        &bundle,
        data,
        foley_engine::data::Split::Test,
        encoder.as_mut(),
        &cache_dir(),
        &std::sync::atomic::AtomicBool::new(false),
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let (m, videos) = result?;
    println!("model {} on the test split of {} ({videos} videos):", bundle.dir.display(), data.display());
    println!("  per-step squared error (42 bands) {:.4}, robust loss {:.4}", m.mse_per_step, m.loss);
    println!("  band correlation (mean over bands) {:.3}", m.band_correlation);
    println!(
        "  hits within +-{:.1} s: accuracy {:.3}, F1 {:.3}, AP {:.3}, median timing error {}",
        foley_engine::predict::HIT_TOLERANCE_S,
        m.hit_accuracy,
        m.hit_f1,
        m.hit_ap,
        m.hit_median_error_ms.map_or_else(|| "-".to_owned(), |e| format!("{e:.1} ms"))
    );
    Ok(())
}
