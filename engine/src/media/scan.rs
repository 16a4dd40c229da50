//! The demux-only pass over a video's packets that every open starts with: frame count, span,
//! whether the frame rate varies, and files whose index lists frames that are not there.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use ffmpeg_next::{Rational, media};

use super::MediaError;
use super::input;

/// What a demux-only pass over the video stream's packets found.
#[derive(Debug, Default)]
pub(crate) struct PacketScan {
    pub count: u64,
    pub first_pts: i64,
    pub last_pts: i64,
    pub last_duration: i64,
    pub min_interval: i64,
    pub max_interval: i64,
    /// Interval values seen twice in a row (a few suffice: see `is_variable`).
    pub repeated_intervals: Vec<i64>,
    pub time_base: (i32, i32),
}

impl PacketScan {
    /// Span from the first frame's start to the last frame's end, in time base ticks.
    pub(crate) fn span_ticks(&self) -> i64 {
        let last = if self.last_duration > 0 {
            self.last_duration
        } else if self.count > 1 {
            (self.last_pts - self.first_pts) / (self.count as i64 - 1)
        } else {
            0
        };
        self.last_pts - self.first_pts + last
    }

    /// The measured rate is the truth for variable-rate files; a container's figure (its average
    /// rate, or its base rate) is preferred when it roughly agrees, since it is exact (30000/1001
    /// rather than 29.9700...) and one dropped frame in a short clip should not change it.
    pub(crate) fn average_fps(&self, declared: &[Rational]) -> f64 {
        let declared: Vec<f64> = declared.iter().map(|r| f64::from(*r)).filter(|r| r.is_finite() && *r > 0.0).collect();
        let span = self.last_pts - self.first_pts;
        if self.count > 1 && span > 0 {
            let tb = f64::from(self.time_base.0) / f64::from(self.time_base.1);
            let measured = (self.count - 1) as f64 / (span as f64 * tb);
            return declared
                .into_iter()
                .map(|d| (d, (d - measured).abs() / measured))
                .filter(|(_, off)| *off < 0.05)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(measured, |(d, _)| d);
        }
        declared.first().copied().unwrap_or(0.0)
    }

    /// A constant rate whose interval is not a whole number of ticks (29.97 fps in a 1/1000
    /// time base) shows two interval values one tick apart, and the rarer one never comes twice
    /// in a row. A wider spread (beyond 0.5% timing jitter), or two one-tick-apart values that
    /// both form runs, is a variable rate.
    pub(crate) fn is_variable(&self) -> bool {
        if self.count < 3 {
            return false;
        }
        let spread = self.max_interval - self.min_interval;
        let mean = (self.last_pts - self.first_pts) as f64 / (self.count - 1) as f64;
        match spread {
            0 => false,
            1 => {
                self.repeated_intervals.contains(&self.min_interval)
                    && self.repeated_intervals.contains(&self.max_interval)
            }
            _ => spread as f64 > 0.005 * mean,
        }
    }
}

/// Reads every packet of the main video stream (no decoding) to learn the frame count, the
/// timestamps' regularity and the span; detects a truncated file.
pub(crate) fn scan_video(path: &Path) -> Result<PacketScan, MediaError> {
    let mut input = input::open(path)?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| MediaError::NoVideoStream { path: path.to_path_buf() })?;
    let index = stream.index();
    // Only the mp4/mov sample table is an exact list of the frames; other containers' counts
    // (an AVI header's, say) are estimates that can be off by one in a healthy file.
    let exact_index = input.format().name().contains("mp4");
    let declared_frames = if exact_index { stream.frames() } else { 0 };
    let tb = stream.time_base();

    // B-frames arrive in decode order; a small min-heap restores presentation order with
    // bounded memory.
    const REORDER: usize = 32;
    let mut heap: BinaryHeap<Reverse<(i64, i64)>> = BinaryHeap::new();
    let mut scan =
        PacketScan { min_interval: i64::MAX, time_base: (tb.numerator(), tb.denominator()), ..PacketScan::default() };
    let mut previous: Option<i64> = None;
    let mut previous_interval: Option<i64> = None;
    let mut take = |pts: i64, duration: i64, scan: &mut PacketScan| {
        if let Some(prev) = previous {
            let interval = pts - prev;
            scan.min_interval = scan.min_interval.min(interval);
            scan.max_interval = scan.max_interval.max(interval);
            if previous_interval == Some(interval)
                && scan.repeated_intervals.len() < 8
                && !scan.repeated_intervals.contains(&interval)
            {
                scan.repeated_intervals.push(interval);
            }
            previous_interval = Some(interval);
        } else {
            scan.first_pts = pts;
        }
        previous = Some(pts);
        scan.last_pts = pts;
        scan.last_duration = duration;
        scan.count += 1;
    };
    let mut next_dts_guess = 0_i64;
    loop {
        match input::read_packet(&mut input) {
            Ok(packet) => {
                if packet.stream() != index {
                    continue;
                }
                let pts = packet.pts().or(packet.dts()).unwrap_or(next_dts_guess);
                next_dts_guess = pts + packet.duration().max(1);
                heap.push(Reverse((pts, packet.duration())));
                if heap.len() > REORDER
                    && let Some(Reverse((p, d))) = heap.pop()
                {
                    take(p, d, &mut scan);
                }
            }
            Err(ffmpeg_next::Error::Eof) => break,
            Err(ffmpeg_next::Error::InvalidData) => {}
            Err(e) => {
                return Err(MediaError::Damaged { path: path.to_path_buf(), detail: format!("reading failed: {e}") });
            }
        }
    }
    while let Some(Reverse((p, d))) = heap.pop() {
        take(p, d, &mut scan);
    }
    if scan.count == 0 {
        return Err(MediaError::NoFrames { path: path.to_path_buf() });
    }
    if declared_frames > 0 && (scan.count as i64) < declared_frames {
        return Err(MediaError::Damaged {
            path: path.to_path_buf(),
            detail: format!("its index lists {declared_frames} video frames but only {} are present", scan.count),
        });
    }
    if scan.min_interval == i64::MAX {
        scan.min_interval = 0;
    }
    Ok(scan)
}
