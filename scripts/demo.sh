#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds foley, and runs it on the built-in demo video: describes the
# video, then writes a copy with a real recorded wood knock as its sound track.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
CACHE=${FOLEY_CACHE:-$ROOT/.cache}
echo "==> building foley (release)"
cargo build --release --locked -p foley-app
FOLEY=${CARGO_TARGET_DIR:-$ROOT/target}/release/foley
DEMO=$CACHE/demo/demo.mp4
SOUND=$CACHE/assets/minetest-data/usr/share/games/minetest/games/minetest_game/mods/default/sounds/default_wood_footstep.1.ogg
OUT=$CACHE/demo/demo_with_sound.mp4
echo "==> foley probe $DEMO"
"$FOLEY" probe "$DEMO"
echo "==> foley mux (video copied, real wood recording as the track)"
"$FOLEY" mux "$DEMO" "$SOUND" -o "$OUT"
"$FOLEY" probe "$OUT"
echo
echo "The video with sound: $OUT"
echo "Watch it in the app:  $FOLEY open $OUT"
