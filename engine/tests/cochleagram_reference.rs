//! The cochleagram against an independent implementation (PyPI `gammatone` filters; see
//! `fixtures/cochleagram/README.md`) on real recordings from the set-up's cache.
//!
//! `cargo test -p foley-engine --test cochleagram_reference -- --nocapture` prints the per-band
//! correlations.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

use std::path::Path;

use foley_engine::media;
use foley_engine::paths::cache_dir;
use foley_engine::sound::{CochleagramParams, cochleagram_of};

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn per_band_envelopes_agree_with_gammatone() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cochleagram");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("reference.json")).unwrap()).unwrap();
    let params = CochleagramParams::default();
    let clips = reference["clips"].as_array().unwrap();
    assert!(clips.len() >= 6);
    println!("clip               steps  median r  min r (band)  per-band r, bands 1..40");
    let mut medians = Vec::new();
    for clip in clips {
        let name = clip["name"].as_str().unwrap();
        let source = cache_dir().join(clip["source"].as_str().unwrap());
        let track = media::read_audio(&source, 48_000).unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
        assert_eq!(track.samples.len() as u64, clip["n_samples"].as_u64().unwrap(), "{name}: decoded length");
        let ours = cochleagram_of(&track, &params).unwrap();
        let file = std::fs::File::open(fixtures.join(clip["file"].as_str().unwrap())).unwrap();
        let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).unwrap();
        assert_eq!(npy.shape(), &[ours.steps() as u64, 42], "{name}: shape");
        let theirs: Vec<f32> = npy.into_vec().unwrap();

        let mut rs = Vec::new();
        for band in 1..=40 {
            let column = |data: &[f32]| (0..ours.steps()).map(|s| f64::from(data[s * 42 + band])).collect::<Vec<_>>();
            rs.push(pearson(&column(&ours.data), &column(&theirs)));
        }
        let (worst_band, worst) =
            rs.iter().enumerate().map(|(i, r)| (i + 1, *r)).min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        let med = median(rs.clone());
        let list: Vec<String> = rs.iter().map(|r| format!("{r:.2}")).collect();
        println!("{name:<18} {:>5}  {med:>8.3}  {worst:>5.2} ({worst_band:>2})   {}", ours.steps(), list.join(" "));
        // Different filter shapes (gammatone skirts are wider), same bands: the envelopes follow
        // each other closely in every band of every clip.
        assert!(med > 0.95, "{name}: median per-band correlation {med}");
        assert!(worst > 0.5, "{name}: band {worst_band} correlation {worst}");
        medians.push(med);
    }
    println!("median over clips of the per-clip median correlation: {:.3}", median(medians));
}
