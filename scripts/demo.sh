#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds foley, and runs it on the built-in demo video: describes the
# video, writes a copy with real recorded wood knocks at the stick's strikes as its sound track,
# and analyses that track (cochleagram and hits).
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
# Until the predictor exists, the track is placed by hand: the wood recording at each of the
# stick's four strikes in the demo (1.0, 2.2, 3.0 and 4.4 s).
KNOCKS=$CACHE/demo/knocks.wav
ffmpeg -nostdin -v error -y -i "$SOUND" -filter_complex \
    "[0]aresample=48000,asplit=4[a][b][c][d];[a]adelay=1000[a1];[b]adelay=2200[b1];[c]adelay=3000[c1];[d]adelay=4400[d1];[a1][b1][c1][d1]amix=inputs=4:normalize=0,apad=whole_dur=6" \
    -ac 1 "$KNOCKS"
echo "==> foley mux (video copied, real wood knocks at the strikes as the track)"
"$FOLEY" mux "$DEMO" "$KNOCKS" -o "$OUT"
"$FOLEY" probe "$OUT"
echo "==> foley cochleagram and foley hits on its sound (the hits should be at the four strikes)"
"$FOLEY" cochleagram "$OUT" -o "$CACHE/demo/demo_with_sound.npy"
"$FOLEY" hits "$OUT" -o "$CACHE/demo/demo_hits.csv"
cat "$CACHE/demo/demo_hits.csv"
echo
echo "The video with sound: $OUT"
echo "Its cochleagram:      $CACHE/demo/demo_with_sound.npy (and .json)"
echo "Its hits:             $CACHE/demo/demo_hits.csv"
echo "Watch it in the app:  $FOLEY open $OUT"
