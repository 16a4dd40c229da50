//! Playback, seeks, steps and shuttles on a real video.

use super::*;
use std::sync::Mutex;
use std::time::Duration;

pub(crate) fn video_25fps(dir: &Path) -> PathBuf {
    let path = dir.join("v.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:d=2"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .expect("ffmpeg (scripts/setup.sh installs it)");
    assert!(status.success());
    path
}

/// Calls `update` until `done` holds, for at most two seconds.
pub(crate) fn pump(player: &mut Player, done: impl Fn(&Player) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !done(player) && Instant::now() < deadline {
        player.update().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(done(player), "timed out; on screen: {:?}", player.current_frame());
}

pub(crate) fn shown(player: &Player) -> Option<f64> {
    player.current_frame().map(|f| f.time_s)
}

#[test]
fn plays_at_the_timestamps_and_seeks_and_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut player = Player::open(&video_25fps(dir.path()), || {}).unwrap();
    pump(&mut player, |p| shown(p) == Some(0.0));

    let started = Instant::now();
    player.play();
    pump(&mut player, |p| shown(p).is_some_and(|t| t >= 0.4));
    // The frame at 0.4 s came when the clock reached 0.4 s, not before.
    let elapsed = started.elapsed().as_secs_f64();
    // Not before: the upper bound only guards against a stalled clock on a busy machine.
    assert!((0.38..3.0).contains(&elapsed), "0.4 s of video shown after {elapsed} s");
    player.pause();

    player.seek(1.0);
    // A step asked for before the seek's frames arrive is not lost.
    player.step_forward();
    pump(&mut player, |p| shown(p) == Some(1.04));
    player.step_back();
    pump(&mut player, |p| shown(p) == Some(1.0));
    player.step_forward();
    pump(&mut player, |p| shown(p) == Some(1.04));
    player.step_back();
    pump(&mut player, |p| shown(p) == Some(1.0));
    player.step_back();
    pump(&mut player, |p| shown(p) == Some(0.96));

    // Playing past the end stops on the last frame.
    player.seek(1.9);
    player.play();
    pump(&mut player, |p| !p.is_playing());
    assert_eq!(shown(&player), Some(1.96));
}

#[test]
fn seeks_show_the_proxy_frame_first_and_shuttles_run_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let frames_seen = Arc::new(Mutex::new(0_usize));
    let counter = Arc::clone(&frames_seen);
    let sink: ProxyFrameSink = Box::new(move |_, _| *counter.lock().unwrap() += 1);
    let mut player = Player::open_with_proxy(&video_25fps(dir.path()), || {}, sink).unwrap();
    pump(&mut player, |p| p.proxy_progress() == Some((50, true)));
    assert_eq!(*frames_seen.lock().unwrap(), 50, "the sink sees every frame");

    player.seek(1.0);
    pump(&mut player, |p| !p.seeking());
    assert_eq!(shown(&player), Some(1.0));
    assert!(player.last_seek_first_ms().unwrap() <= player.last_seek_ms().unwrap());

    // J from a standstill plays backwards; again, twice as fast.
    player.shuttle_press(false);
    assert_eq!(player.shuttle_rate(), Some(-1.0));
    player.shuttle_press(false);
    assert_eq!(player.shuttle_rate(), Some(-2.0));
    let mut times = Vec::new();
    pump(&mut player, |p| {
        let t = shown(p).unwrap();
        t <= 0.6
    });
    while let Some(t) = shown(&player) {
        times.push(t);
        if t <= 0.2 {
            break;
        }
        player.update().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(times.windows(2).all(|w| w[1] <= w[0]), "backwards shuttle went forwards: {times:?}");
    // It stops at the first frame, in full.
    pump(&mut player, |p| !p.is_playing() && !p.seeking());
    assert_eq!(shown(&player), Some(0.0));
    assert_eq!(player.shuttle_rate(), None);

    // L against a backwards shuttle halves it, then turns round to normal playback.
    player.shuttle(-4.0);
    player.shuttle_press(true);
    assert_eq!(player.shuttle_rate(), Some(-2.0));
    player.shuttle_press(true);
    player.shuttle_press(true);
    assert!(player.is_playing() && player.shuttle_rate().is_none(), "L at -1x plays forwards");
    // Faster forwards: 4x reaches the end of 2 s within a second and stops on the last frame.
    player.shuttle(4.0);
    pump(&mut player, |p| !p.is_playing() && !p.seeking());
    assert_eq!(shown(&player), Some(1.96));
}
