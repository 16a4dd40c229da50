//! `{id}_contacts.csv`: where in the frame each contact of a generated video happens, the
//! ground truth of stereo placement.

use std::path::Path;

use super::plan;
use crate::data::DataError;

/// The header of `{id}_contacts.csv`: each contact of the times file, in its order, with where
/// in the frame the tip touches (share of the frame's width from the left).
pub const CONTACTS_HEADER: &str = "time_s,x";

pub(super) fn write_contact_positions(path: &Path, contacts: &[plan::PlannedContact]) -> Result<(), DataError> {
    crate::media::write_atomically(path, |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(CONTACTS_HEADER.split(','))?;
        for c in contacts {
            w.write_record([format!("{:.9}", c.time_s), format!("{:.4}", c.x)])?;
        }
        w.flush()
    })?;
    Ok(())
}

/// Reads a generated video's `{id}_contacts.csv`: (time, x) per contact.
pub fn read_contact_positions(path: &Path) -> Result<Vec<(f64, f64)>, DataError> {
    let bad = |line: usize, problem: String| DataError::Line { path: path.to_owned(), line, problem };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(0, e.to_string()))?;
    let header = reader.headers().map_err(|e| bad(1, e.to_string()))?.iter().collect::<Vec<_>>().join(",");
    if header != CONTACTS_HEADER {
        return Err(bad(1, format!("the header is `{header}`, expected `{CONTACTS_HEADER}`")));
    }
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.map_err(|e| bad(i + 2, e.to_string()))?;
            let number = |k: usize| r.get(k).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
            match (number(0), number(1)) {
                (Some(t), Some(x)) if (0.0..=1.0).contains(&x) => Ok((t, x)),
                _ => Err(bad(
                    i + 2,
                    format!("`{}` is not a time and a position from 0 to 1", r.iter().collect::<Vec<_>>().join(",")),
                )),
            }
        })
        .collect()
}
