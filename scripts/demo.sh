#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds foley, and runs the main job on the built-in demo: a silent
# 10 s video of a drumstick striking a surface (filmed by foley's scene generator in the look the
# shipped model learned from, its sound removed) gets its sound back with `foley synth`: the
# default model predicts the sound from the frames, and real recorded clips are placed at the
# predicted hits. With a display it ends by
# opening the video with its new sound in the app; without one it prints where the files are.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
CACHE=${FOLEY_CACHE:-$ROOT/.cache}
echo "==> building foley (release)"
cargo build --release --locked -p foley-app
FOLEY=${CARGO_TARGET_DIR:-$ROOT/target}/release/foley
DEMO=$CACHE/demo
# A scene in the look the shipped model learned from (photos of real surfaces); the names differ
# from those of the drawn scene demos of earlier versions left in the cache.
SCENE=$DEMO/photo-scene
SILENT=$DEMO/photo-silent.mp4
if [ ! -f "$SILENT" ]; then
    echo "==> filming the demo scene (test photos and recordings only, which the model never saw or heard)"
    rm -rf "$SCENE"
    "$FOLEY" dataset synth --out "$SCENE" --videos 1 --seconds 10 --seed 7 --split 0 --negatives 0
    # The user's situation: a video without its sound.
    ffmpeg -nostdin -v error -y -i "$SCENE/synth-7-00000_denoised.mp4" -an -c:v copy "$SILENT.part.mp4"
    mv "$SILENT.part.mp4" "$SILENT"
fi
echo "==> foley probe $SILENT"
"$FOLEY" probe "$SILENT"
echo "==> foley synth (CNN, LSTM, retrieval of real recordings)"
"$FOLEY" synth "$SILENT" -o "$DEMO/foley.wav" --video-out "$DEMO/foley.mp4" --hits "$DEMO/foley_hits.csv"
echo
echo "The placed hits:"
cat "$DEMO/foley_hits.csv"
echo
echo "The track (48 kHz WAV):      $DEMO/foley.wav"
echo "The video with its sound:    $DEMO/foley.mp4"
echo "The hits (CSV):              $DEMO/foley_hits.csv"
echo "The true contacts:           $SCENE/synth-7-00000_times.txt (and the real sound: $SCENE/synth-7-00000_denoised.wav)"
echo "Watch it in the app:         $FOLEY open $DEMO/foley.mp4"
# With a display, end in the app with the video and its generated sound.
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo "==> opening it in the app (close the window to finish)"
    "$FOLEY" open "$DEMO/foley.mp4"
fi
