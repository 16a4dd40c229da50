#!/usr/bin/env bash
# Retrains foley's default model from scratch, as shipped in assets/models/default: generates the
# training data (700 videos of 10 s in the Greatest Hits layout, seed 1, 85% of them in the train
# split, in the default look: photos of real surfaces filmed at 24-60 fps and several sizes, a
# tenth without contact), makes the int8 encoder (EfficientNet-Lite0 quantised by ONNX Runtime's
# tool, calibrated on train videos; it runs about twice as fast on a CPU), computes and caches its
# features and each frame's 8x8 motion grid, trains two LSTMs whose outputs the model averages
# (seeds 1 and 2, 9 epochs each; each video's space-time features centred on their running mean
# over 2 s, its first and last windows in every epoch, the contact loss weighed up where air swings
# stop short), and builds the clip database from the clip bank's train recordings, with the looks
# of the training videos and of 600 short videos more of the same train photos (seed 11; made,
# and the database built, while the LSTMs train). Prints the time of each stage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
cargo build --release --locked -p foley-app
FOLEY=${CARGO_TARGET_DIR:-$ROOT/target}/release/foley
CACHE=${FOLEY_CACHE:-$ROOT/.cache}
DATA=$CACHE/datasets/default-seed1
LOOKS=$CACHE/datasets/default-looks-seed11
ENCODER=$CACHE/encoders/default-int8
VENV=$CACHE/venvs/quantize
OUT=$ROOT/assets/models/default
CLIPS=$CACHE/default-clips

start=$(date +%s)
rm -rf "$DATA"
"$FOLEY" dataset synth --out "$DATA" --videos 700 --seconds 10 --seed 1 --split 0.85
generated=$(date +%s)
# The quantisation tool is ONNX Runtime's Python package (PyPI), pinned, in its own environment.
if ! "$VENV/bin/python" -c "import onnxruntime" 2> /dev/null; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/quantize-requirements.txt
fi
rm -rf "$ENCODER"
"$VENV/bin/python" scripts/quantize_encoder.py --data "$DATA" --out "$ENCODER"
quantized=$(date +%s)
rm -rf "$OUT"
# Looks are cheap (4 frames a video) and a material's look is learned from few photos, so 600
# short videos more show the train photos under more cameras and lights (all in the train split: no
# test photo). Neither they nor the clip database need the model, so they are made while it trains,
# at a lower priority, on the share of the two cores training leaves idle (it keeps them about 180%
# busy computing features and 150% in its epochs), not after it. The database is built in a folder
# of its own, its looks in the model's encoder's features, and moved into the model's.
rm -rf "$LOOKS" "$CLIPS"
(
    nice -n 10 "$FOLEY" dataset synth --out "$LOOKS" --videos 600 --seconds 2 --seed 11 --split 1 --negatives 0
    nice -n 10 "$FOLEY" clips build --bank --looks "$DATA" --looks "$LOOKS" --encoder "$ENCODER/encoder.json" \
        --out "$CLIPS"
) > "$CACHE/looks-synth.log" 2>&1 &
looks=$!
trap 'kill "$looks" 2> /dev/null || true' EXIT
# The model folder keeps a copy of the encoder it was trained on (OUT/encoder). Both networks kept
# their 9th epoch of 10 allowed: at a constant learning rate the first 9 epochs of a run are the
# same, so 9 give the same model in less time. Its own clip database (the training videos') would
# be replaced: none is built.
"$FOLEY" train --data "$DATA" --out "$OUT" --epochs 9 --seed 1 --networks 2 --encoder "$ENCODER/encoder.json" \
    --centring-ms 2000 --motion-grid --no-clips
trained=$(date +%s)
if ! wait "$looks"; then
    echo "making the looks' videos or the clip database failed: see $CACHE/looks-synth.log" >&2
    exit 1
fi
trap - EXIT
looks_made=$(date +%s)
# The checkpoints only serve to continue an interrupted run, and each network's own folder is in
# the bundle; the bundle is what ships, with metrics.csv and loss_curve.png of both networks. The
# shipped clip database is the clip bank's train recordings (small enough for git), not the
# training videos', with the looks of the training videos so retrieval knows each material by sight.
rm -rf "$OUT/checkpoint" "$OUT/networks"
cp "$CLIPS"/clips.* "$OUT/"
clipped=$(date +%s)
echo "generation $((generated - start)) s, int8 encoder $((quantized - generated)) s, features and training $((trained - quantized)) s (the looks' videos and the clip database made beside them), waiting for them $((looks_made - trained)) s, total $((clipped - start)) s"
