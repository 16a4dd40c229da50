//! The real `foley` window under Xvfb: it opens a video and shows its first frame.
#![allow(clippy::unwrap_used)] // a test that cannot set up its fixture should fail loudly

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the process when dropped, so a failing assertion leaves nothing running.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb with its framebuffer mapped to a file in `fbdir`; returns it and its display.
fn start_xvfb(fbdir: &Path) -> (Killed, String) {
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-fbdir"])
        .arg(fbdir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start Xvfb (scripts/setup.sh installs it)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let display = format!(":{}", line.trim());
    assert!(line.trim().parse::<u32>().is_ok(), "Xvfb printed no display number: {line:?}");
    (Killed(child), display)
}

/// `foley open VIDEO` on `display`, with its settings kept under `home`.
fn open_window(display: &str, video: &Path, home: &Path) -> Killed {
    Killed(
        Command::new(env!("CARGO_BIN_EXE_foley"))
            .args(["open", video.to_str().unwrap()])
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_DATA_HOME", home.join("data_home"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The screen as RGB pixels, from Xvfb's XWD framebuffer file.
fn screen_pixels(xwd: &[u8]) -> Option<(usize, usize, Vec<[u8; 3]>)> {
    let field = |i: usize| -> Option<usize> {
        let b = xwd.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let (header_size, width, height) = (field(0)?, field(4)?, field(5)?);
    let (byte_order, bits_per_pixel, bytes_per_line, ncolors) = (field(7)?, field(11)?, field(12)?, field(19)?);
    if bits_per_pixel != 32 {
        return None;
    }
    let start = header_size + ncolors * 12;
    let data = xwd.get(start..start + bytes_per_line * height)?;
    let mut pixels = Vec::with_capacity(width * height);
    for row in data.chunks(bytes_per_line) {
        for px in row[..width * 4].chunks(4) {
            // 0 = LSBFirst: B, G, R, X in memory.
            pixels.push(if byte_order == 0 { [px[2], px[1], px[0]] } else { [px[1], px[2], px[3]] });
        }
    }
    Some((width, height, pixels))
}

#[test]
fn the_window_shows_the_video() {
    let dir = tempfile::tempdir().unwrap();
    let video = support::ffmpeg(
        &["-f", "lavfi", "-i", "color=c=0xff00ff:s=320x240:r=25:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        &dir.path().join("magenta.mp4"),
    );
    let fbdir = dir.path().join("fb");
    std::fs::create_dir(&fbdir).unwrap();
    let (_xvfb, display) = start_xvfb(&fbdir);
    let _app = open_window(&display, &video, dir.path());
    let framebuffer = fbdir.join("Xvfb_screen0");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut magenta = 0;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let Some((w, h, pixels)) = std::fs::read(&framebuffer).ok().and_then(|b| screen_pixels(&b)) else { continue };
        assert_eq!((w, h), (1280, 800));
        magenta = pixels.iter().filter(|[r, g, b]| *r > 200 && *g < 60 && *b > 200).count();
        // The 320x240 frame is scaled to fill the window's video area: far more than its own size.
        if magenta > 320 * 240 {
            if std::env::var_os("FOLEY_KEEP_SCREENSHOT").is_some() {
                let rgb: Vec<u8> = pixels.iter().flatten().copied().collect();
                let out = std::env::temp_dir().join("foley_window.ppm");
                let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
                ppm.extend_from_slice(&rgb);
                std::fs::write(&out, ppm).unwrap();
                eprintln!("screenshot: {}", out.display());
            }
            return;
        }
    }
    panic!("the window never showed the video's frame ({magenta} magenta pixels on screen)");
}

/// Runs `xdotool` against the display; `false` if it failed.
fn xdotool(display: &str, args: &[&str]) -> bool {
    Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("cannot run xdotool (scripts/setup.sh installs it)")
        .success()
}

/// A condition on the screen: width, height, RGB pixels.
type ScreenTest<'a> = dyn Fn(usize, usize, &[[u8; 3]]) -> bool + 'a;

/// Centres of the filled hit markers (4x4 blocks of exactly `colour`: the antialiased disc keeps
/// such a core wherever between pixels its centre falls), left to right.
fn markers(w: usize, h: usize, pixels: &[[u8; 3]], colour: [u8; 3]) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    for y in 2..h - 2 {
        for x in 2..w - 2 {
            let all = (0..4).all(|dy| (0..4).all(|dx| pixels[(y + dy - 2) * w + x + dx - 2] == colour));
            if all && !found.iter().any(|&(fx, fy)| fx.abs_diff(x) < 6 && fy.abs_diff(y) < 6) {
                found.push((x, y));
            }
        }
    }
    found.sort_unstable();
    found
}

#[test]
fn the_window_generates_the_sound_and_a_hit_can_be_deleted_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let made = Command::new(env!("CARGO_BIN_EXE_foley"))
        .args(["dataset", "synth", "--out", data.to_str().unwrap(), "--videos", "1", "--seconds", "4", "--seed", "7"])
        .args(["--split", "0"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let video = data.join("synth-7-00000_denoised.mp4");
    let fbdir = dir.path().join("fb");
    std::fs::create_dir(&fbdir).unwrap();
    let (_xvfb, display) = start_xvfb(&fbdir);
    let _app = open_window(&display, &video, dir.path());
    let framebuffer = fbdir.join("Xvfb_screen0");
    let screen = || std::fs::read(&framebuffer).ok().and_then(|b| screen_pixels(&b));
    let cyan = [0, 230, 255];
    let yellow = [255, 255, 0];
    let wait_for = |what: &str, test: &ScreenTest<'_>| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(400));
            if let Some((w, h, pixels)) = screen()
                && test(w, h, &pixels)
            {
                return;
            }
        }
        let shown = screen().map(|(w, h, p)| {
            let count = |c: [u8; 3]| p.iter().filter(|&&q| q == c).count();
            format!("{w}x{h}, {} cyan and {} yellow pixels", count(cyan), count(yellow))
        });
        panic!("the window never showed {what} (screen: {shown:?})");
    };
    // The window is there once xdotool finds it; without a window manager, give it the keyboard.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !xdotool(&display, &["search", "--name", "foley", "windowfocus"]) {
        assert!(Instant::now() < deadline, "no foley window");
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(2));
    // G generates; the timeline then shows a marker per hit.
    assert!(xdotool(&display, &["search", "--name", "foley", "windowfocus", "key", "g"]));
    wait_for("the generated hits", &|w, h, p| !markers(w, h, p, cyan).is_empty());
    let (w, h, pixels) = screen().unwrap();
    let before = markers(w, h, &pixels, cyan);
    // Click the first hit: it turns yellow (selected).
    let (x, y) = before[0];
    assert!(xdotool(&display, &["mousemove", &x.to_string(), &y.to_string(), "click", "1"]));
    wait_for("the selected hit", &|w, h, p| markers(w, h, p, yellow).len() == 1);
    // Delete removes it; Ctrl+Z brings it back.
    assert!(xdotool(&display, &["search", "--name", "foley", "windowfocus", "key", "Delete"]));
    wait_for("one hit fewer", &|w, h, p| {
        markers(w, h, p, cyan).len() + markers(w, h, p, yellow).len() == before.len() - 1
    });
    assert!(xdotool(&display, &["search", "--name", "foley", "windowfocus", "key", "ctrl+z"]));
    wait_for("the hit restored", &|w, h, p| {
        markers(w, h, p, cyan).len() + markers(w, h, p, yellow).len() == before.len()
    });
}
