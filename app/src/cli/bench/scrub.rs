//! Scrubbing in the app's player until each seek's frame is ready to show.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};

use super::fixtures::test_pattern_video;

pub(super) fn run(video: Option<&PathBuf>) -> anyhow::Result<()> {
    use rand::{RngExt as _, SeedableRng as _};
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let video = match video {
        Some(v) => v.clone(),
        None => test_pattern_video(temp.path(), 1920, 1080, true)?,
    };
    let opened = Instant::now();
    let mut player = crate::ui::player::Player::open_with_proxy(&video, || {}, Box::new(|_, _| {}))?;
    let duration = player.info().duration_s;
    // Seeks before the proxy is made are measured by `full` below; these are the steady state.
    while !player.proxy_progress().is_some_and(|(_, complete)| complete) {
        if opened.elapsed().as_secs() > 600 {
            bail!("the scrub proxy of {} took over 10 minutes", video.display());
        }
        player.update()?;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let proxy_s = opened.elapsed().as_secs_f64();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    // (first frame on screen, full-resolution frame on screen), per kind of move.
    let mut jumps = (Vec::new(), Vec::new());
    let mut moves = (Vec::new(), Vec::new());
    for k in 0..60 {
        // Half jump anywhere; half move a little forward, as dragging the playhead does.
        let target = if k % 2 == 0 {
            rng.random_range(0.0..duration)
        } else {
            (player.position_s() + rng.random_range(0.05..0.5)).min(duration)
        };
        player.seek(target);
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while player.seeking() && Instant::now() < deadline {
            player.update()?;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let into = if k % 2 == 0 { &mut jumps } else { &mut moves };
        into.0.extend(player.last_seek_first_ms());
        into.1.extend(player.last_seek_ms());
    }
    let info = player.info().clone();
    let (frames, _) = player.proxy_progress().unwrap_or_default();
    println!(
        "{} ({}x{} {}, {:.1} s): scrub proxy of {frames} frames ready {proxy_s:.1} s after opening",
        video.display(),
        info.width,
        info.height,
        info.codec,
        info.duration_s
    );
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t.get(t.len() / 2).copied().unwrap_or(f64::NAN), t.last().copied().unwrap_or(f64::NAN))
    };
    for (what, (mut first, mut full)) in [("jumps anywhere", jumps), ("moves 0.05-0.5 s forward", moves)] {
        let (first_median, first_max) = median(&mut first);
        let (full_median, full_max) = median(&mut full);
        println!(
            "  {what}: {} seeks; frame on screen after median {first_median:.0} ms (slowest {first_max:.0}), \
             at full resolution after median {full_median:.0} ms (slowest {full_max:.0})",
            full.len()
        );
    }
    Ok(())
}
