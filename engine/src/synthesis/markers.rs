//! The placed hits as markers an editor imports, at the video's own timecode so that they land on
//! the clip: an EDL of timeline markers (CMX 3600 events with DaVinci Resolve's marker lines, as
//! Resolve writes and imports them) and a CSV with the columns of Premiere Pro's marker list.

use std::io::Write as _;
use std::path::Path;

use super::{PlacedHit, SynthesisError};
use crate::timeline::timecode;

/// Where the video sits on the editor's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkerClock {
    /// The video's first frame, seconds from midnight (its timecode, else 0).
    pub start_s: f64,
    /// The video's frame rate.
    pub fps: f64,
    /// Drop-frame timecode (29.97 and 59.94 only).
    pub drop_frame: bool,
}

impl MarkerClock {
    /// The clock of a video: its timecode (drop-frame where it is written with `;`) and rate.
    #[must_use]
    pub fn for_video(info: &crate::media::VideoInfo) -> Self {
        Self {
            start_s: info.start_on_timeline_s(),
            fps: info.fps,
            drop_frame: info.timecode.as_deref().is_some_and(|tc| tc.contains(';')),
        }
    }

    /// The timecode of `time_s` on the video's timeline.
    #[must_use]
    pub fn at(&self, time_s: f64) -> String {
        timecode(self.start_s + time_s, self.fps, self.drop_frame)
    }

    /// The timecode one frame after `time_s`.
    fn after(&self, time_s: f64) -> String {
        timecode(self.start_s + time_s + 1.0 / self.fps, self.fps, self.drop_frame)
    }
}

/// A marker's name: the hit's material and action ("wood hit"), or "hit".
fn name(hit: &PlacedHit) -> String {
    let parts: Vec<&str> = [hit.material.as_deref(), hit.action.as_deref()].into_iter().flatten().collect();
    if parts.is_empty() { "hit".to_owned() } else { parts.join(" ") }
}

fn description(hit: &PlacedHit) -> String {
    format!("clip {}, gain {:.1} dB, strength {:.2}", hit.clip.as_deref().unwrap_or("-"), hit.gain_db, hit.strength)
}

/// Writes `hits` as an EDL of one-frame marker events titled `title`.
pub fn write_markers_edl(
    path: &Path,
    hits: &[PlacedHit],
    clock: &MarkerClock,
    title: &str,
) -> Result<(), SynthesisError> {
    crate::media::write_atomically(path, |file| {
        let mut out = std::io::BufWriter::new(file);
        let fcm = if clock.drop_frame { "DROP FRAME" } else { "NON-DROP FRAME" };
        write!(out, "TITLE: {}\r\nFCM: {fcm}\r\n\r\n", title.replace(['\r', '\n'], " "))?;
        for (i, hit) in hits.iter().enumerate() {
            let (start, end) = (clock.at(hit.time_s), clock.after(hit.time_s));
            let colour =
                if hit.action.as_deref() == Some("scratch") { "ResolveColorGreen" } else { "ResolveColorBlue" };
            write!(
                out,
                "{:03}  001      V     C        {start} {end} {start} {end}  \r\n |C:{colour} |M:{} |D:1\r\n\r\n",
                i + 1,
                name(hit).replace('|', "/"),
            )?;
        }
        out.flush()
    })?;
    Ok(())
}

/// The header of [`write_markers_csv`]: Premiere Pro's marker list columns.
pub const MARKERS_CSV_HEADER: &str = "Marker Name,Description,In,Out,Duration,Marker Type";

/// Writes `hits` as a marker CSV: name, description (clip, gain, strength), in and out at the
/// hit's frame, zero duration, type "Comment".
pub fn write_markers_csv(path: &Path, hits: &[PlacedHit], clock: &MarkerClock) -> Result<(), SynthesisError> {
    crate::media::write_atomically(path, |file| {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(MARKERS_CSV_HEADER.split(','))?;
        let zero = timecode(0.0, clock.fps, clock.drop_frame);
        for hit in hits {
            let at = clock.at(hit.time_s);
            w.write_record([name(hit), description(hit), at.clone(), at, zero.clone(), "Comment".to_owned()])?;
        }
        w.flush()
    })?;
    Ok(())
}
