//! The placed hits as CSV: `time_s,material,action,strength,clip,gain_db,x`, one row per hit in
//! time order; what a sound designer or a spreadsheet reads, and what foley reads back (also
//! files written before the `x` column, without it).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SynthesisError;

/// One hit of a track and the clip placed on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedHit {
    /// On the video's timeline, seconds.
    pub time_s: f64,
    /// Material and action of the clip (empty for the parametric method).
    pub material: Option<String>,
    pub action: Option<String>,
    /// The hit detector's confidence: the contact probability at the hit, or for a model without
    /// a contact head the onset strength of the predicted cochleagram.
    pub strength: f32,
    /// The clip's id in the clip database (empty for the parametric method).
    pub clip: Option<String>,
    /// Gain applied to the clip, dB.
    pub gain_db: f32,
    /// Where in the picture the contact happened, 0 at the left edge to 1 at the right (what a
    /// stereo track pans by); `None` where nothing was seen moving.
    #[serde(default)]
    pub x: Option<f64>,
}

/// The loudest gain a hit may ask for, dB: more only clips.
pub const MAX_GAIN_DB: f32 = 24.0;

impl PlacedHit {
    /// What makes this hit unusable, if anything: a time before the video (or, given the video's
    /// length, at or past its end), a gain above `MAX_GAIN_DB`, a negative strength, or a
    /// material or action foley does not know.
    #[must_use]
    pub fn problem(&self, duration_s: Option<f64>) -> Option<String> {
        if !self.time_s.is_finite() || self.time_s < 0.0 {
            return Some(format!("time_s {} is before the video's start", self.time_s));
        }
        if let Some(end) = duration_s
            && self.time_s >= end
        {
            return Some(format!("time_s {} is past the video's end ({end:.3} s)", self.time_s));
        }
        if !self.gain_db.is_finite() || self.gain_db > MAX_GAIN_DB {
            return Some(format!("gain_db {} is above the limit of +{MAX_GAIN_DB} dB", self.gain_db));
        }
        if !self.strength.is_finite() || self.strength < 0.0 {
            return Some(format!("strength {} is negative", self.strength));
        }
        if let Some(x) = self.x
            && !(0.0..=1.0).contains(&x)
        {
            return Some(format!("x {x} is outside the picture (0 to 1)"));
        }
        if let Some(m) = &self.material
            && !crate::data::is_known_material(m)
        {
            return Some(format!("material `{m}` is not one foley knows"));
        }
        if let Some(a) = &self.action
            && !matches!(a.as_str(), "hit" | "scratch")
        {
            return Some(format!("action `{a}` is neither `hit` nor `scratch`"));
        }
        None
    }
}

/// The CSV's columns.
pub const HITS_HEADER: &str = "time_s,material,action,strength,clip,gain_db,x";
/// The columns of files written before hits had a position.
const HITS_HEADER_WITHOUT_X: &str = "time_s,material,action,strength,clip,gain_db";

/// Writes `hits` to `path` atomically.
pub fn write_placed_hits(path: &Path, hits: &[PlacedHit]) -> Result<(), SynthesisError> {
    crate::media::write_atomically(path, |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(HITS_HEADER.split(','))?;
        for h in hits {
            w.write_record([
                format!("{:.6}", h.time_s),
                h.material.clone().unwrap_or_default(),
                h.action.clone().unwrap_or_default(),
                format!("{:.4}", h.strength),
                h.clip.clone().unwrap_or_default(),
                format!("{:.2}", h.gain_db),
                h.x.map(|x| format!("{x:.4}")).unwrap_or_default(),
            ])?;
        }
        w.flush()
    })?;
    Ok(())
}

/// Reads a hits CSV, checking its header and every value (see [`PlacedHit::problem`]; times
/// against `duration_s` when the video's length is known); an error names the line and value.
pub fn read_placed_hits(path: &Path, duration_s: Option<f64>) -> Result<Vec<PlacedHit>, SynthesisError> {
    let bad = |line: usize, reason: String| SynthesisError::BadHits {
        path: path.to_owned(),
        reason: format!("line {line}: {reason}"),
    };
    // Flexible: a row may leave out the trailing empty `x`, as spreadsheets write it.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| SynthesisError::BadHits { path: path.to_owned(), reason: e.to_string() })?;
    let header = reader.headers().map_err(|e| bad(1, e.to_string()))?.iter().collect::<Vec<_>>().join(",");
    if header != HITS_HEADER && header != HITS_HEADER_WITHOUT_X {
        return Err(bad(1, format!("the header is `{header}`, expected `{HITS_HEADER}`")));
    }
    let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let mut hits = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.map_err(|e| bad(line, e.to_string()))?;
        let number = |k: usize, name: &str| -> Result<f64, SynthesisError> {
            r.get(k)
                .unwrap_or("")
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(line, format!("{name} `{}` is not a number", r.get(k).unwrap_or(""))))
        };
        let hit = PlacedHit {
            time_s: number(0, "time_s")?,
            material: text(r.get(1).unwrap_or("")),
            action: text(r.get(2).unwrap_or("")),
            strength: number(3, "strength")? as f32,
            clip: text(r.get(4).unwrap_or("")),
            gain_db: number(5, "gain_db")? as f32,
            x: match r.get(6).map(str::trim) {
                None | Some("") => None,
                Some(_) => Some(number(6, "x")?),
            },
        };
        if let Some(problem) = hit.problem(duration_s) {
            return Err(bad(line, problem));
        }
        hits.push(hit);
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_round_trip_and_bad_rows_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hits.csv");
        let hits = vec![
            PlacedHit {
                time_s: 1.25,
                material: Some("wood".into()),
                action: Some("hit".into()),
                strength: 2.5,
                clip: Some("synth-1-00003@2.000".into()),
                gain_db: -3.5,
                x: Some(0.25),
            },
            PlacedHit { time_s: 2.0, material: None, action: None, strength: 1.0, clip: None, gain_db: 0.0, x: None },
        ];
        write_placed_hits(&path, &hits).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("time_s,material,action,strength,clip,gain_db,x\n1.250000,wood,hit,2.5000,"),
            "{text}"
        );
        assert!(text.contains(",-3.50,0.2500\n") && text.ends_with(",0.00,\n"), "{text}");
        assert_eq!(read_placed_hits(&path, None).unwrap(), hits);
        assert_eq!(read_placed_hits(&path, Some(2.5)).unwrap(), hits);

        // A file from before the position column reads as hits without one.
        std::fs::write(&path, "time_s,material,action,strength,clip,gain_db\n1.0,wood,hit,1.0,c,0\n").unwrap();
        assert_eq!(read_placed_hits(&path, None).unwrap()[0].x, None);

        std::fs::write(&path, "time_s,material,action,strength,clip,gain_db\n1.0,wood,hit,x,c,0\n").unwrap();
        let err = read_placed_hits(&path, None).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("strength"), "{err}");
        std::fs::write(&path, "time,what\n1,2\n").unwrap();
        assert!(read_placed_hits(&path, None).unwrap_err().to_string().contains("header"));
    }

    #[test]
    fn values_out_of_range_are_refused_with_their_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hits.csv");
        let good = "0.5,wood,hit,1.0,c,-3.0";
        for (row, expected) in [
            ("-0.25,wood,hit,1.0,c,0", "-0.25"),
            ("0.5,wood,hit,1.0,c,30", "gain_db 30"),
            ("0.5,unobtainium,hit,1.0,c,0", "unobtainium"),
            ("0.5,wood,tap,1.0,c,0", "tap"),
            ("0.5,wood,hit,-1,c,0", "strength -1"),
            ("12.0,wood,hit,1.0,c,0", "past the video's end"),
            ("0.5,wood,hit,1.0,c,0,1.5", "x 1.5"),
            ("0.5,wood,hit,1.0,c,0,left", "x `left`"),
        ] {
            std::fs::write(&path, format!("{HITS_HEADER}\n{good}\n{row}\n")).unwrap();
            let err = read_placed_hits(&path, Some(10.0)).unwrap_err().to_string();
            assert!(err.contains("hits.csv") && err.contains("line 3") && err.contains(expected), "{row}: {err}");
        }
        // Without the video's length, only its start bounds the time.
        std::fs::write(&path, format!("{HITS_HEADER}\n12.0,wood,hit,1.0,c,24\n")).unwrap();
        assert_eq!(read_placed_hits(&path, None).unwrap().len(), 1);
    }
}
