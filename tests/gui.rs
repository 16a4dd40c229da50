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
    open_window_with(Path::new(env!("CARGO_BIN_EXE_foley")), display, video, home)
}

/// As [`open_window`], with the executable `exe`.
fn open_window_with(exe: &Path, display: &str, video: &Path, home: &Path) -> Killed {
    Killed(
        Command::new(exe)
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
    let magenta = magenta_on_screen(&fbdir.join("Xvfb_screen0"));
    assert!(magenta > 320 * 240, "the window never showed the video's frame ({magenta} magenta pixels on screen)");
}

/// Waits (up to 60 s) until the screen shows more magenta than a 320x240 frame holds (the frame
/// is scaled to fill the window's video area) and returns how many magenta pixels it last saw.
/// `FOLEY_KEEP_SCREENSHOT` writes that screen to `foley_window.ppm` in the temporary folder.
fn magenta_on_screen(framebuffer: &Path) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut magenta = 0;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let Some((w, h, pixels)) = std::fs::read(framebuffer).ok().and_then(|b| screen_pixels(&b)) else { continue };
        assert_eq!((w, h), (1280, 800));
        magenta = pixels.iter().filter(|[r, g, b]| *r > 200 && *g < 60 && *b > 200).count();
        if magenta > 320 * 240 {
            if std::env::var_os("FOLEY_KEEP_SCREENSHOT").is_some() {
                let rgb: Vec<u8> = pixels.iter().flatten().copied().collect();
                let out = std::env::temp_dir().join("foley_window.ppm");
                let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
                ppm.extend_from_slice(&rgb);
                std::fs::write(&out, ppm).unwrap();
                eprintln!("screenshot: {}", out.display());
            }
            break;
        }
    }
    magenta
}

/// `scripts/install.sh` puts a working foley in a prefix: run from another folder, the installed
/// copy finds its model, encoder and ONNX Runtime beside itself (not in the checkout), gives a
/// video its sound, opens its window on it, and its menu entry is valid; `--uninstall` removes
/// every file it put there.
#[test]
fn the_installed_copy_works_from_anywhere_and_uninstalls_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh");
    let install = |extra: &[&str]| {
        let out = Command::new("bash")
            .arg(&script)
            .arg("--prefix")
            .arg(&prefix)
            .args(extra)
            .env_remove("FOLEY_DATA")
            .env_remove("ORT_DYLIB_PATH")
            .output()
            .unwrap();
        assert!(out.status.success(), "install.sh {extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    install(&["--binary", env!("CARGO_BIN_EXE_foley")]);
    let foley = prefix.join("bin/foley");
    let run = |args: &[&str]| {
        let out = Command::new(&foley)
            .args(args)
            .current_dir(&elsewhere)
            .env_remove("FOLEY_DATA")
            .env_remove("ORT_DYLIB_PATH")
            .output()
            .unwrap();
        assert!(out.status.success(), "foley {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };

    let version = run(&["--version"]);
    let prefix_text = prefix.canonicalize().unwrap().display().to_string();
    for what in ["default model", "default encoder", "ONNX Runtime library"] {
        let line = version.lines().find(|l| l.starts_with(what)).unwrap_or_else(|| panic!("no {what} in {version}"));
        assert!(
            line.contains(&format!(": {prefix_text}/")) && line.ends_with("(installed beside the executable)"),
            "{line}"
        );
    }

    let video = support::ffmpeg(
        &["-f", "lavfi", "-i", "color=c=0xff00ff:s=320x240:r=25:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        &elsewhere.join("magenta.mp4"),
    );
    run(&["synth", "magenta.mp4", "-o", "magenta.wav"]);
    let wav = hound::WavReader::open(elsewhere.join("magenta.wav")).unwrap();
    assert_eq!(wav.spec().sample_rate, 48_000);
    assert!(wav.duration().abs_diff(96_000) <= 1_920, "{} samples for a 2 s video", wav.duration());

    let entry = prefix.join("share/applications/foley.desktop");
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains(&format!("Exec={} open %f", foley.display())) && text.contains("video/mp4;"), "{text}");
    let validated = Command::new("desktop-file-validate").arg(&entry).output().unwrap();
    assert!(validated.status.success(), "{}", String::from_utf8_lossy(&validated.stdout));

    let fbdir = dir.path().join("fb");
    std::fs::create_dir(&fbdir).unwrap();
    let (_xvfb, display) = start_xvfb(&fbdir);
    let app = open_window_with(&foley, &display, &video, dir.path());
    let magenta = magenta_on_screen(&fbdir.join("Xvfb_screen0"));
    drop(app);
    assert!(magenta > 320 * 240, "the installed window never showed the video ({magenta} magenta pixels)");

    install(&["--uninstall"]);
    let left: Vec<_> = walk(&prefix).into_iter().filter(|p| p.is_file()).collect();
    assert!(left.is_empty(), "files left after --uninstall: {left:?}");
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
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
