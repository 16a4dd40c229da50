//! The evaluation's files: `report.md`, `metrics.csv` and `scores.json`.

use std::path::Path;

use super::bootstrap::{HitIntervals, Interval};
use super::report::{EvalError, EvalOptions, EvalReport, PER_FRAME};
use super::track_scores::MethodScores;
use crate::predict::ModelBundle;

fn figure(v: Option<f64>, scale: f64, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.*}", digits, v * scale))
}

pub(super) fn write_report(report: &EvalReport, bundle: &ModelBundle, options: &EvalOptions) -> Result<(), EvalError> {
    let mut md = String::new();
    md.push_str("# foley evaluation\n\n");
    md.push_str(&format!("- Command: `{}`\n", options.command));
    md.push_str(&format!("- Machine: {}\n", options.machine));
    md.push_str(&format!(
        "- Data: `{}`: {} test videos, {} labelled contacts; {} clips from its train split for retrieval and the baselines (never a clip from the video being scored)\n",
        options.data.display(),
        report.test_videos,
        report.methods.first().map_or(0, |m| m.contacts),
        report.train_clips
    ));
    let kept = if bundle.manifest.members.is_empty() {
        format!("best epoch {}", bundle.manifest.validation.epoch)
    } else {
        let epochs: Vec<String> = bundle.manifest.members.iter().map(|m| m.validation.epoch.to_string()).collect();
        format!("an ensemble of {} networks, best epochs {}", epochs.len(), epochs.join(", "))
    };
    md.push_str(&format!(
        "- Model: `{}` (trained on `{}`, {kept})",
        bundle.dir.display(),
        bundle.manifest.training.data
    ));
    if !report.averaged_with.is_empty() {
        let others: Vec<String> = report.averaged_with.iter().map(|d| format!("`{}`", d.display())).collect();
        md.push_str(&format!(
            ", its outputs (cochleagram and contact logits) averaged step by step with those of {}",
            others.join(", ")
        ));
    }
    md.push_str("\n\n");
    md.push_str("Hits count within +-0.1 s of a labelled contact, one to one. Hit AP: where the hits come from a prediction, every candidate of its detector ranked by confidence (the threshold swept): peaks of the contact probability where the model has a contact head, else peaks of the predicted cochleagram's onset strength ranked by prominence; for (a) and (b), the placed hits. Material and action accuracy are over matched hits; correct hits are the labelled contacts that got a hit in time with a clip of the right material (timing and material together), and their F1 also counts the placed hits that are not (precision: correct over placed). Loudness r: correlation of the made and real loudness (dB) at matched contacts. Cochleagram distance: mean over steps of the squared difference (summed over 42 bands) between the cochleagram of the made track and the real one.\n\n");
    md.push_str("| method | hit AP | hit accuracy | F1 | median error (ms) | material accuracy | action accuracy | correct hits | correct-hit F1 | loudness r | cochleagram distance |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &report.methods {
        md.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {:.3} | {:.3} | {} | {:.3} |\n",
            m.method,
            m.hit_ap,
            m.hit_accuracy,
            m.hit_f1,
            figure(m.median_error_ms, 1.0, 1),
            figure(m.material_accuracy, 1.0, 3),
            figure(m.action_accuracy, 1.0, 3),
            m.correct_hits,
            m.correct_f1,
            figure(m.loudness_correlation, 1.0, 3),
            m.cochleagram_distance
        ));
    }
    if let (Some(full), Some(i)) = (report.methods.first(), &report.hit_intervals) {
        md.push_str(&format!(
            "\n{}, each figure with the range of the middle {:.0}% of {} draws of as many test videos (with replacement): {}. The draws show the test videos' share of the noise only; a second training seed moves a model's figures as well.\n",
            full.method,
            100.0 * i.coverage,
            i.resamples,
            with_ranges(i, false)
        ));
    }
    if let (Some(full), Some(c)) = (report.methods.first(), &report.against) {
        md.push_str(&format!(
            "\n{} less {}, on the same videos and, for the interval, the same draws of them (a hard video is hard for both, so the difference varies less than either figure): {}. An interval that holds 0 does not tell the two apart on these videos.\n",
            full.method,
            c.method,
            with_ranges(&c.difference, true)
        ));
    }
    if let Some(full) = report.methods.first() {
        md.push_str(&format!("\nPer material, {}:\n\n| material | contacts | hit accuracy | material accuracy of matched hits |\n|---|---|---|---|\n", full.method));
        for m in &full.per_material {
            md.push_str(&format!(
                "| {} | {} | {:.3} | {} |\n",
                m.material,
                m.contacts,
                m.matched as f64 / m.contacts.max(1) as f64,
                if m.matched == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.3}", m.right_material as f64 / m.matched as f64)
                }
            ));
        }
    }
    if let Some(full) = report.methods.first() {
        md.push_str(&format!("\nPer frame rate, {}:\n", full.method));
        push_hit_table(&mut md, "frame rate", &report.by_rate);
        if !report.by_camera.is_empty() {
            md.push_str(&format!("\nPer camera angle (the scene notes' angle below the horizon), {}:\n", full.method));
            push_hit_table(&mut md, "camera", &report.by_camera);
        }
        let r = &report.rate_spread;
        if let Some(spread) = r.spread {
            md.push_str(&format!("\nSpread of F1 across frame rates: {spread:.3}."));
            if let (Some(median), Some(p95), Some(p)) = (r.chance_median, r.chance_p95, r.p_value) {
                md.push_str(&format!(
                    " With the same videos' frame rates dealt out at random ({} deals, each rate keeping its count of videos), the spread is {median:.3} at the median and {p95:.3} at the 95th percentile; {p:.3} of the deals spread as far or further.",
                    r.deals
                ));
            }
            md.push('\n');
        }
        let s = &report.silent;
        md.push_str(&format!(
            "\nVideos where nothing is struck: {} ({:.2} min); {} placed {} hits there, {} per minute.\n",
            s.videos,
            s.minutes,
            full.method,
            s.hits,
            figure(s.hits_per_minute, 1.0, 2)
        ));
        if !s.by_kind.is_empty() {
            md.push_str(
                "\n| what the video shows | videos | minutes | hits | hits per minute |\n|---|---|---|---|---|\n",
            );
            for (kind, k) in &s.by_kind {
                md.push_str(&format!(
                    "| {} | {} | {:.2} | {} | {} |\n",
                    kind_words(kind),
                    k.videos,
                    k.minutes,
                    k.hits,
                    figure(k.hits_per_minute, 1.0, 2)
                ));
            }
        }
    }
    let a = &report.air_swings;
    if let Some(share) = a.share_heard {
        md.push_str(&format!(
            "\nAir swings that stop short of the surface (the scene notes' `swings`, on every test video): {}; {} of them got a hit within +-0.1 s that no contact explains ({:.1}%).\n",
            a.swings,
            a.heard,
            100.0 * share
        ));
    }
    if !report.thresholds.is_empty() {
        md.push_str("\nThe same model's hits at other contact thresholds (`foley synth --hit-threshold`; the tracks above use 0.5): precision, recall and F1 of the hits within +-0.1 s, and hits a minute on the videos where nothing is struck.\n\n| threshold | hits placed | precision | recall | F1 | hits per minute where nothing is struck |\n|---|---|---|---|---|---|\n");
        for t in &report.thresholds {
            md.push_str(&format!(
                "| {:.1} | {} | {:.3} | {:.3} | {:.3} | {} |\n",
                t.threshold,
                t.hits_placed,
                t.precision,
                t.recall,
                t.f1,
                figure(t.silent_hits_per_minute, 1.0, 2)
            ));
        }
    }
    md.push_str(&format!(
        "\nThe model's predicted cochleagram itself is at a mean squared distance of {:.4} per step from the real one.\n\n",
        report.predicted_distance
    ));
    if !report.methods.iter().any(|m| m.method == PER_FRAME) {
        md.push_str(
            "Not run: (c) the model with its LSTM replaced by a per-frame layer (train one with `foley train --layers 0` and pass it as `--baseline-model`).\n\n",
        );
    }
    md.push_str(
        "![Real, predicted and made cochleagrams](cochleagrams.png)\n\n![Metrics against the baselines](metrics.png)\n",
    );
    crate::media::write_bytes_atomically(&options.out.join("report.md"), md.as_bytes())?;

    write_metrics_csv(&options.out.join("metrics.csv"), &report.methods)?;
    let path = options.out.join("scores.json");
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| EvalError::Unusable { path: path.clone(), reason: e.to_string() })?;
    crate::media::write_bytes_atomically(&path, &json)?;
    Ok(())
}

/// Hit AP, accuracy and F1, each with its interval as `low to high`; signed for a difference.
fn with_ranges(i: &HitIntervals, signed: bool) -> String {
    let one = |name: &str, v: f64, r: Interval| {
        if signed {
            format!("{name} {v:+.3} ({:+.3} to {:+.3})", r.low, r.high)
        } else {
            format!("{name} {v:.3} ({:.3} to {:.3})", r.low, r.high)
        }
    };
    let f = &i.figures;
    [
        one("hit AP", f.hit_ap, i.hit_ap),
        one("hit accuracy", f.hit_accuracy, i.hit_accuracy),
        one("F1", f.hit_f1, i.hit_f1),
    ]
    .join(", ")
}

/// One row per method; empty cells where a figure does not apply.
fn write_metrics_csv(path: &Path, methods: &[MethodScores]) -> Result<(), EvalError> {
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.6}"));
    crate::media::write_atomically(path, |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record([
            "method",
            "videos",
            "contacts",
            "hits_placed",
            "hit_ap",
            "hit_accuracy",
            "hit_f1",
            "median_error_ms",
            "material_accuracy",
            "action_accuracy",
            "correct_hits",
            "correct_f1",
            "loudness_correlation",
            "cochleagram_distance",
        ])?;
        for m in methods {
            w.write_record([
                m.method.clone(),
                m.videos.to_string(),
                m.contacts.to_string(),
                m.hits_placed.to_string(),
                format!("{:.6}", m.hit_ap),
                format!("{:.6}", m.hit_accuracy),
                format!("{:.6}", m.hit_f1),
                opt(m.median_error_ms),
                opt(m.material_accuracy),
                opt(m.action_accuracy),
                format!("{:.6}", m.correct_hits),
                format!("{:.6}", m.correct_f1),
                opt(m.loudness_correlation),
                format!("{:.6}", m.cochleagram_distance),
            ])?;
        }
        w.flush()
    })?;
    Ok(())
}

/// A kind of video without contact ([`super::silent::SilentScores::by_kind`]) in words.
fn kind_words(kind: &str) -> String {
    match kind {
        "swings" => "air swings only: the stick stops short of the surface (`swings`)".to_owned(),
        "passing" => "things pass by, no stick (`passing`)".to_owned(),
        "pan" => "the camera pans, no stick (`pan`)".to_owned(),
        super::silent::UNNOTED => "no scene notes (`unnoted`)".to_owned(),
        other => format!("`{other}`"),
    }
}

/// A table of the full model's hit figures over a share of the test videos per row, `label`
/// naming what the rows' `method` holds.
fn push_hit_table(md: &mut String, label: &str, rows: &[MethodScores]) {
    md.push_str(&format!(
        "\n| {label} | videos | contacts | hit AP | hit accuracy | F1 | median error (ms) |\n|---|---|---|---|---|---|---|\n"
    ));
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} |\n",
            r.method,
            r.videos,
            r.contacts,
            r.hit_ap,
            r.hit_accuracy,
            r.hit_f1,
            figure(r.median_error_ms, 1.0, 1)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::bootstrap::HitFigures;

    #[test]
    fn each_figure_reads_with_its_interval_and_a_difference_with_signs() {
        let r = |low, high| Interval { low, high };
        let i = HitIntervals {
            figures: HitFigures { hit_ap: 0.7234, hit_accuracy: -0.0161, hit_f1: 0.0 },
            hit_ap: r(0.6612, 0.7791),
            hit_accuracy: r(-0.033, 0.066),
            hit_f1: r(-0.01, 0.01),
            resamples: 1000,
            coverage: 0.95,
        };
        assert_eq!(
            with_ranges(&i, false),
            "hit AP 0.723 (0.661 to 0.779), hit accuracy -0.016 (-0.033 to 0.066), F1 0.000 (-0.010 to 0.010)"
        );
        assert_eq!(
            with_ranges(&i, true),
            "hit AP +0.723 (+0.661 to +0.779), hit accuracy -0.016 (-0.033 to +0.066), F1 +0.000 (-0.010 to +0.010)"
        );
    }
}
