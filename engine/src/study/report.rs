//! `foley study report`: per method, how often the predicted sound was taken for the real one
//! (50% would mean the two cannot be told apart), with 95% Wilson intervals, overall, per
//! material and per participant; as a markdown table and a PNG chart.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use super::StudyError;
use super::results::{RESULTS_FILE, ResultRow, read_results};
use super::trials::{read_study, read_trials};
use crate::figures::{INK, PALETTE, caption_font, chart_png, dark_mesh, font, rgb};

/// One group's share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupShare {
    pub method: String,
    /// `all`, a material, or a participant.
    pub group: String,
    pub trials: usize,
    /// Trials in which the predicted sound was chosen as the real one.
    pub predicted_chosen: usize,
    pub share: f64,
    /// 95% Wilson interval of the share.
    pub low: f64,
    pub high: f64,
    /// For the overall shares, a 95% interval that lets answers cluster by participant (see
    /// `participant_bootstrap`); `None` for other groups and with fewer than two participants.
    pub by_participant: Option<(f64, f64)>,
}

/// Every share the report shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyReport {
    pub answers: usize,
    pub participants: usize,
    pub overall: Vec<GroupShare>,
    pub per_material: Vec<GroupShare>,
    pub per_participant: Vec<GroupShare>,
}

/// The 95% Wilson score interval of `k` successes in `n` trials.
#[must_use]
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p) = (n as f64, k as f64 / n as f64);
    let z: f64 = 1.959_963_984_540_054;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Resamplings of [`participant_bootstrap`] in a report.
pub const BOOTSTRAP_ROUNDS: usize = 4000;

/// The 95% percentile-bootstrap interval of a pooled share when participants, not answers, are
/// the sampled units: `participants` holds each one's `(trials, predicted chosen)`; each round
/// draws as many participants with replacement and pools their answers. A participant who
/// answers alike throughout then widens the interval as one person, not as many answers. `None`
/// with fewer than two participants, where no spread between them can be seen.
#[must_use]
pub fn participant_bootstrap(participants: &[(usize, usize)], rounds: usize, seed: u64) -> Option<(f64, f64)> {
    use rand::{RngExt as _, SeedableRng as _};
    if participants.len() < 2 || rounds == 0 {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut shares: Vec<f64> = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (mut n, mut k) = (0usize, 0usize);
        for _ in 0..participants.len() {
            let (trials, chosen) = participants[rng.random_range(0..participants.len())];
            n += trials;
            k += chosen;
        }
        if n > 0 {
            shares.push(k as f64 / n as f64);
        }
    }
    if shares.is_empty() {
        return None;
    }
    shares.sort_by(f64::total_cmp);
    let at = |q: f64| shares[((q * (shares.len() - 1) as f64).round() as usize).min(shares.len() - 1)];
    Some((at(0.025), at(0.975)))
}

fn shares(rows: &[&ResultRow], key: &dyn Fn(&ResultRow) -> String) -> Vec<GroupShare> {
    let mut groups: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for r in rows {
        let g = groups.entry((r.method.clone(), key(r))).or_default();
        g.0 += 1;
        g.1 += usize::from(r.chose_real == 0);
    }
    groups
        .into_iter()
        .map(|((method, group), (n, k))| {
            let (low, high) = wilson_interval(k, n);
            GroupShare {
                method,
                group,
                trials: n,
                predicted_chosen: k,
                share: k as f64 / n as f64,
                low,
                high,
                by_participant: None,
            }
        })
        .collect()
}

/// Reads every answer in the study folder (checked against its trials when `trials.csv` is
/// there) and computes the shares.
pub fn report_study(dir: &Path) -> Result<StudyReport, StudyError> {
    let trials = read_trials(dir).ok();
    let materials: BTreeMap<String, String> = read_study(dir)
        .map(|s| s.clips.into_iter().map(|c| (c.clip, c.material.unwrap_or_else(|| "unlabelled".into()))).collect())
        .unwrap_or_default();
    let rows = read_results(&dir.join(RESULTS_FILE), trials.as_deref())?;
    let all: Vec<&ResultRow> = rows.iter().collect();
    let participants: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.participant.as_str()).collect();
    let mut overall = shares(&all, &|_| "all".to_owned());
    for g in &mut overall {
        let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.method == g.method) {
            let c = counts.entry(r.participant.as_str()).or_default();
            c.0 += 1;
            c.1 += usize::from(r.chose_real == 0);
        }
        let counts: Vec<(usize, usize)> = counts.into_values().collect();
        g.by_participant = participant_bootstrap(&counts, BOOTSTRAP_ROUNDS, 1);
    }
    Ok(StudyReport {
        answers: rows.len(),
        participants: participants.len(),
        overall,
        per_material: shares(&all, &|r| materials.get(&r.clip).cloned().unwrap_or_else(|| "unlabelled".into())),
        per_participant: shares(&all, &|r| r.participant.clone()),
    })
}

fn table(title: &str, column: &str, groups: &[GroupShare], clustered: bool) -> String {
    let mut md = format!(
        "\n## {title}\n\n| method | {column} | trials | predicted chosen as real | share | 95% interval |{}\n|---|---|---|---|---|---|{}\n",
        if clustered { " 95% interval, participants resampled |" } else { "" },
        if clustered { "---|" } else { "" }
    );
    for g in groups {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.1}% | {:.1}% - {:.1}% |",
            g.method,
            g.group,
            g.trials,
            g.predicted_chosen,
            100.0 * g.share,
            100.0 * g.low,
            100.0 * g.high
        ));
        if clustered {
            md.push_str(&match g.by_participant {
                Some((low, high)) => format!(" {:.1}% - {:.1}% |", 100.0 * low, 100.0 * high),
                None => " - (one participant) |".to_owned(),
            });
        }
        md.push('\n');
    }
    md
}

/// Writes `report.md` and `chart.png` into `out`.
pub fn write_report(report: &StudyReport, dir: &Path, out: &Path) -> Result<(), StudyError> {
    std::fs::create_dir_all(out).map_err(|source| StudyError::Io { path: out.to_owned(), source })?;
    let mut md = format!(
        "# Which one has the real sound?\n\nStudy `{}`: {} answers from {} participants. For each method, the share of trials in which the predicted sound was chosen as the real one; 50% means participants could not tell them apart.\n\n![shares](chart.png)\n",
        dir.display(),
        report.answers,
        report.participants
    );
    md.push_str(&table("Overall", "group", &report.overall, true));
    md.push_str(&format!(
        "\nThe Wilson interval treats every answer as independent; the other resamples participants ({BOOTSTRAP_ROUNDS} rounds, percentile bootstrap), so that answers that cluster by person widen it.\n"
    ));
    md.push_str(&table("Per material", "material", &report.per_material, false));
    md.push_str(&table("Per participant", "participant", &report.per_participant, false));
    crate::media::write_bytes_atomically(&out.join("report.md"), md.as_bytes())?;
    chart(&out.join("chart.png"), report)?;
    Ok(())
}

/// One bar per method (overall): the share of trials where the predicted sound was chosen as
/// the real one, its 95% Wilson interval as a whisker, and chance (50%) as a line.
fn chart(path: &Path, report: &StudyReport) -> Result<(), StudyError> {
    let groups = &report.overall;
    let n = groups.len().max(1);
    let ink = rgb(INK);
    let bar = rgb(PALETTE[1]);
    let chance = rgb(PALETTE[3]);
    // The first method at the top.
    let row = |k: usize| (n - 1 - k) as f64;
    chart_png(path, (800, 120 + 60 * n as u32), |area| {
        let mut chart = ChartBuilder::on(area)
            .caption("Predicted sound chosen as the real one", caption_font())
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..100.0, -0.5..n as f64 - 0.5)?;
        let mut mesh = chart.configure_mesh();
        dark_mesh(&mut mesh);
        mesh.disable_y_mesh()
            .x_desc("trials where the predicted sound was chosen (%), with its 95% interval")
            .x_label_formatter(&|x| format!("{x:.0}%"))
            .y_labels(n)
            .y_label_formatter(&|y| {
                // Row k from the top is method k; ticks between rows have no name.
                let row = ((y - y.round()).abs() < 1e-6 && *y >= 0.0).then(|| y.round() as usize);
                row.and_then(|r| (n - 1).checked_sub(r))
                    .and_then(|k| groups.get(k))
                    .map_or_else(String::new, |g| g.method.clone())
            })
            .draw()?;
        let on_bar = font(13, [16, 16, 16]);
        let beside = font(13, INK);
        for (k, g) in groups.iter().enumerate() {
            let (y, share, low, high) = (row(k), 100.0 * g.share, 100.0 * g.low, 100.0 * g.high);
            chart.draw_series([Rectangle::new([(0.0, y - 0.3), (share, y + 0.3)], bar.filled())])?;
            let whisker = ink.stroke_width(2);
            chart.draw_series([
                PathElement::new([(low, y), (high, y)], whisker),
                PathElement::new([(low, y - 0.15), (low, y + 0.15)], whisker),
                PathElement::new([(high, y - 0.15), (high, y + 0.15)], whisker),
            ])?;
            // The share at the start of its bar, dark on the bar where it fits.
            let (text, at) = (format!("{share:.0}%"), (1.0, y + 0.25));
            let label =
                if share >= 8.0 { Text::new(text, at, on_bar.clone()) } else { Text::new(text, at, beside.clone()) };
            chart.draw_series([label])?;
        }
        let top = n as f64 - 0.5;
        chart.draw_series([PathElement::new([(50.0, -0.5), (50.0, top)], chance.stroke_width(2))])?;
        chart.draw_series([Text::new("chance", (51.0, top - 0.02), font(13, PALETTE[3]))])?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_match_hand_computed_values() {
        // 7 of 20: p = 0.35; centre (0.35 + 1.9208/20) / (1 + 3.8415/20) = 0.3742;
        // half-width 1.96/1.1921 * sqrt(0.011375 + 0.0024) = 0.1929 -> [0.1812, 0.5671].
        let (lo, hi) = wilson_interval(7, 20);
        assert!((lo - 0.1812).abs() < 5e-4 && (hi - 0.5671).abs() < 5e-4, "{lo} {hi}");
        // 0 of 10: [0, 0.2775].
        let (lo, hi) = wilson_interval(0, 10);
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 5e-4, "{hi}");
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }

    #[test]
    fn the_participant_bootstrap_widens_when_answers_cluster_by_person() {
        // 40 answers each from 4 people. Alike: everyone chose the predicted sound in half the
        // trials. Clustered: two always did, two never did; the pooled share is 0.5 in both.
        let alike = participant_bootstrap(&[(40, 20); 4], BOOTSTRAP_ROUNDS, 1).unwrap();
        let clustered = participant_bootstrap(&[(40, 40), (40, 40), (40, 0), (40, 0)], BOOTSTRAP_ROUNDS, 1).unwrap();
        assert_eq!(alike, (0.5, 0.5));
        assert!(clustered.0 <= 0.25 && clustered.1 >= 0.75, "{clustered:?}");
        // Pooled as independent answers, both would have the same Wilson interval (80 of 160).
        let (lo, hi) = wilson_interval(80, 160);
        assert!(hi - lo < 0.16, "{lo} {hi}");
        assert_eq!(participant_bootstrap(&[(10, 3)], BOOTSTRAP_ROUNDS, 1), None);
    }

    #[test]
    fn shares_from_hand_typed_answers_match_hand_computed_values() {
        let dir = tempfile::tempdir().unwrap();
        let clip = |name: &str, material: &str| super::super::StudyClip {
            clip: name.into(),
            video: "v.mp4".into(),
            start_s: 0.0,
            real: "r.wav".into(),
            predicted: Vec::new(),
            material: Some(material.into()),
            source: "s.mp4".into(),
        };
        let settings = super::super::StudySettings {
            format: "foley-study".into(),
            version: 1,
            seed: 1,
            seconds: 4.0,
            methods: vec!["retrieval".into(), "parametric".into()],
            clips: vec![clip("c1", "wood"), clip("c2", "metal")],
        };
        std::fs::write(dir.path().join("study.json"), serde_json::to_vec(&settings).unwrap()).unwrap();
        std::fs::write(
            dir.path().join("trials.csv"),
            "trial,clip,method,seconds\n1,c1,retrieval,4\n2,c2,retrieval,4\n3,c1,parametric,4\n4,c2,parametric,4\n",
        )
        .unwrap();
        // Answers collected on paper and typed in: spaces, empty confidences.
        let rows = [
            ("p1", 1, "c1", "retrieval", 0),
            ("p1", 2, "c2", "retrieval", 1),
            ("p1", 3, "c1", "parametric", 0),
            ("p1", 4, "c2", "parametric", 0),
            ("p2", 1, "c1", "retrieval", 0),
            ("p2", 2, "c2", "retrieval", 0),
            ("p2", 3, "c1", "parametric", 1),
            ("p2", 4, "c2", "parametric", 1),
        ];
        let mut csv = format!("{}\n", super::super::RESULTS_HEADER);
        for (p, t, c, m, real) in rows {
            let chosen = if real == 1 { "A" } else { "B" };
            csv.push_str(&format!("{p}, {t},{c},{m},A,{chosen},{real},,1500,2026-11-20T10:00:00+01:00\n"));
        }
        std::fs::write(dir.path().join("results.csv"), csv).unwrap();
        let report = report_study(dir.path()).unwrap();
        assert_eq!((report.answers, report.participants), (8, 2));
        let find = |groups: &[GroupShare], method: &str, group: &str| {
            groups.iter().find(|g| g.method == method && g.group == group).cloned().unwrap()
        };
        // Retrieval: predicted chosen in 3 of 4; Wilson (3, 4) = [0.3006, 0.9544].
        let r = find(&report.overall, "retrieval", "all");
        assert_eq!((r.trials, r.predicted_chosen), (4, 3));
        assert!((r.share - 0.75).abs() < 1e-12 && (r.low - 0.3006).abs() < 5e-4 && (r.high - 0.9544).abs() < 5e-4);
        // Parametric: 2 of 4; [0.1500, 0.8500].
        let p = find(&report.overall, "parametric", "all");
        assert_eq!((p.trials, p.predicted_chosen), (4, 2));
        assert!((p.low - 0.15).abs() < 5e-4 && (p.high - 0.85).abs() < 5e-4);
        // Resampling the two participants: retrieval p1 1 of 2, p2 2 of 2; the pooled share is
        // 0.5 (p1 twice, a quarter of rounds), 0.75 or 1.0 (p2 twice, a quarter): [0.5, 1.0].
        assert_eq!(r.by_participant, Some((0.5, 1.0)));
        assert!(find(&report.per_material, "retrieval", "wood").by_participant.is_none());
        // Per material and participant.
        assert_eq!(find(&report.per_material, "retrieval", "wood").predicted_chosen, 2);
        assert_eq!(find(&report.per_material, "retrieval", "metal").predicted_chosen, 1);
        assert_eq!(find(&report.per_participant, "retrieval", "p1").predicted_chosen, 1);
        assert_eq!(find(&report.per_participant, "parametric", "p2").predicted_chosen, 0);
        write_report(&report, dir.path(), &dir.path().join("out")).unwrap();
        let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
        assert!(md.contains("| retrieval | all | 4 | 3 | 75.0% | 30.1% - 95.4% | 50.0% - 100.0% |"), "{md}");
        // The chart, methods in name order from the top: retrieval's bar (below) half as long
        // again as parametric's.
        let ((width, height), rgb) = crate::figures::read_png(&dir.path().join("out/chart.png"));
        let bar = crate::figures::pixels_per_row(&rgb, width, crate::figures::PALETTE[1]);
        let (top, bottom) = bar.split_at(height as usize / 2);
        let longest = |rows: &[usize]| rows.iter().copied().max().unwrap_or(0) as f64;
        let ratio = longest(bottom) / longest(top);
        assert!((1.4..1.6).contains(&ratio), "bars {} and {} pixels long", longest(top), longest(bottom));
    }
}
