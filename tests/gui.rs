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
    let _app = Killed(
        Command::new(env!("CARGO_BIN_EXE_foley"))
            .args(["open", video.to_str().unwrap()])
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
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
