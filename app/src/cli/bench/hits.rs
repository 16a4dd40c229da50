//! Hit detection accuracy on real recordings at known times, written for other detectors to score.

use std::path::Path;

use anyhow::Context as _;
use foley_engine::media::{self, AudioTrack, WavFormat};
use foley_engine::metrics::match_onsets;
use foley_engine::sound::{self, CochleagramParams, HitParams};

use super::fixtures::hit_scenes;

pub(super) fn run(out: &Path, seconds: f64, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let params = CochleagramParams::default();
    let mut table = vec![
        ["condition", "method", "precision", "recall", "f1", "median_error_ms", "n_true", "n_detected"]
            .map(String::from),
    ];
    println!(
        "{:<22} {:>9} {:>6} {:>6} {:>10} {:>6} {:>6}",
        "condition", "precision", "recall", "F1", "median ms", "true", "found"
    );
    for scene in hit_scenes(seconds, seed)? {
        media::write_wav(&out.join(format!("{}.wav", scene.name)), &scene.samples, 48_000, 1, WavFormat::Float32)?;
        write_truth(&out.join(format!("{}_truth.csv", scene.name)), &scene.truth, &scene.clips)?;
        let track = AudioTrack { rate: 48_000, start_s: 0.0, samples: scene.samples };
        let hits = sound::detect_hits(&sound::cochleagram_of(&track, &params)?, &HitParams::default());
        sound::write_hits_csv(&out.join(format!("{}_foley.csv", scene.name)), &hits)?;
        let found: Vec<f64> = hits.iter().map(|h| h.time_s).collect();
        let s = match_onsets(&scene.truth, &found, 0.1);
        let ms = s.median_error_s.map_or(String::new(), |e| format!("{:.2}", e * 1e3));
        println!(
            "{:<22} {:>9.3} {:>6.3} {:>6.3} {:>10} {:>6} {:>6}",
            scene.name, s.precision, s.recall, s.f1, ms, s.n_true, s.n_detected
        );
        table.push([
            scene.name.clone(),
            "foley".to_owned(),
            format!("{:.4}", s.precision),
            format!("{:.4}", s.recall),
            format!("{:.4}", s.f1),
            ms,
            s.n_true.to_string(),
            s.n_detected.to_string(),
        ]);
    }
    write_rows(&out.join("foley.csv"), &table)?;
    println!("wrote {}", out.join("foley.csv").display());
    Ok(())
}

fn write_truth(path: &Path, times: &[f64], clips: &[String]) -> anyhow::Result<()> {
    let header = ["time_s".to_owned(), "clip".to_owned()];
    let rows: Vec<[String; 2]> = times.iter().zip(clips).map(|(t, clip)| [format!("{t:.6}"), clip.clone()]).collect();
    write_rows(path, &[&[header][..], &rows].concat())
}

/// Writes CSV rows to a temporary file beside `path`, then renames it onto `path`.
fn write_rows<const N: usize>(path: &Path, rows: &[[String; N]]) -> anyhow::Result<()> {
    let staged = media::staged_path(path)?;
    let write = || -> Result<(), csv::Error> {
        let mut w = csv::Writer::from_path(&staged)?;
        for row in rows {
            w.write_record(row)?;
        }
        Ok(w.flush()?)
    };
    write().with_context(|| format!("cannot write {}", path.display()))?;
    staged.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
