//! `foley probe`: describe a media file.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use foley_engine::media::{self, ProbeReport, StreamKind};

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The media file.
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ProbeArgs) -> anyhow::Result<()> {
    let report = media::probe(&args.file)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).context("cannot format the report as JSON")?);
    } else {
        print!("{}", describe(&report));
    }
    Ok(())
}

fn describe(r: &ProbeReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "file:       {}", r.path.display());
    let _ = writeln!(s, "container:  {} ({})", r.container, r.container_long);
    if let Some(d) = r.duration_s {
        let _ = writeln!(s, "duration:   {d:.3} s");
    }
    for st in &r.streams {
        let kind = format!("{:?}", st.kind).to_lowercase();
        let mut line = format!("stream {}:   {kind}, {}", st.index, st.codec);
        if let Some((w, h)) = st.size {
            let _ = write!(line, ", {w}x{h}");
        }
        if let (Some(rate), Some(ch)) = (st.sample_rate, st.channels) {
            let _ = write!(line, ", {rate} Hz, {ch} channel{}", if ch == 1 { "" } else { "s" });
        }
        let _ = writeln!(s, "{line}");
    }
    match &r.video {
        Some(v) => {
            let _ = writeln!(
                s,
                "video:      {}x{}, {:.3} fps ({}), {} frames, {:.3} s",
                v.width,
                v.height,
                v.fps,
                if v.variable_rate { "variable rate" } else { "constant rate" },
                v.frame_count,
                v.duration_s
            );
            if v.rotation_deg != 0 {
                let _ = writeln!(s, "rotation:   {} degrees clockwise for display", v.rotation_deg);
            }
        }
        None => {
            let _ = writeln!(s, "video:      none");
        }
    }
    match &r.audio {
        Some(a) => {
            let _ = writeln!(s, "audio:      yes ({}, {} Hz, starts at {:+.3} s)", a.codec, a.source_rate, a.start_s);
        }
        None if r.streams.iter().all(|st| st.kind != StreamKind::Audio) => {
            let _ = writeln!(s, "audio:      none");
        }
        None => {}
    }
    s
}
