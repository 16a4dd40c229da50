//! The one colour map of foley's pictures of sound (cochleagrams in the app, the contact sheets
//! and the evaluation's figures).

/// Black, through purple and orange, to pale yellow, for `v` in 0..=1 (clamped).
#[must_use]
pub fn heat(v: f32) -> [u8; 3] {
    let v = v.clamp(0.0, 1.0);
    let stops = [[0.0, 0.0, 0.0], [0.35, 0.05, 0.45], [0.9, 0.35, 0.1], [1.0, 0.95, 0.6]];
    let pos = v * (stops.len() - 1) as f32;
    let i = (pos as usize).min(stops.len() - 2);
    let t = pos - i as f32;
    [0, 1, 2].map(|c| ((stops[i][c] + (stops[i + 1][c] - stops[i][c]) * t) * 255.0) as u8)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_map_runs_from_black_to_pale_yellow() {
        assert_eq!(super::heat(0.0), [0, 0, 0]);
        assert_eq!(super::heat(1.0), [255, 242, 153]);
        assert_eq!(super::heat(-1.0), super::heat(0.0));
    }
}
