#!/usr/bin/env bash
# The encoder grid: for each input size and precision, an encoder made from the default one
# (scripts/quantize_encoder.py), an LSTM trained on its features with the default model's commands
# (the same videos, epochs and seed for every configuration), its test-split figures from
# `foley eval`, and the encoder's speed from `foley bench encoder`. Writes OUT/grid.md.
#
#   bash scripts/encoder_grid.sh TRAIN_DATA TEST_DATA OUT
#
# TRAIN_DATA: a dataset whose first $VIDEOS train videos (default 120) train every model;
# TEST_DATA: a dataset whose test split scores them (its train split gives eval its clips).
# $EPOCHS (default 15), $SIZES (default "224 192 160 128"), $PRECISIONS (default "float32 int8"),
# $PYTHON (a Python with onnxruntime, onnx and numpy: see scripts/quantize_encoder.py) and
# $FOLEY (the foley binary) can be set; SPEEDS=0 leaves the speeds (and the table) for a later
# run on an otherwise idle machine. A configuration whose report exists is not run again, so
# an interrupted grid continues where it stopped. Each stage's time is logged.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRAIN=$(realpath "$1")
TEST=$(realpath "$2")
OUT=$3
VIDEOS=${VIDEOS:-120}
EPOCHS=${EPOCHS:-15}
SIZES=${SIZES:-"224 192 160 128"}
PRECISIONS=${PRECISIONS:-"float32 int8"}
PYTHON=${PYTHON:-python3}
FOLEY=${FOLEY:-${CARGO_TARGET_DIR:-$ROOT/target}/release/foley}

mkdir -p "$OUT"
OUT=$(realpath "$OUT")
# The training videos: the first $VIDEOS of TRAIN's train split, linked (features are cached by
# content, so a linked video reuses what was computed for the original).
SUBSET=$OUT/train-data
if [ ! -f "$SUBSET/train.txt" ]; then
  mkdir -p "$SUBSET"
  head -n "$VIDEOS" "$TRAIN/train.txt" >"$SUBSET/train.txt.part"
  : >"$SUBSET/test.txt"
  while read -r id; do
    for f in "$TRAIN/${id}"_*; do ln -sf "$f" "$SUBSET/"; done
  done <"$SUBSET/train.txt.part"
  mv "$SUBSET/train.txt.part" "$SUBSET/train.txt"
fi

stamp() { echo "[$(date -u +%H:%M:%S)] $*"; }
for size in $SIZES; do
  for precision in $PRECISIONS; do
    name=$size-$precision
    [ -f "$OUT/report-$name/metrics.csv" ] && { stamp "$name: done before"; continue; }
    enc=$OUT/encoder-$name
    model=$OUT/model-$name
    stamp "$name: encoder"
    [ -f "$enc/encoder.json" ] || "$PYTHON" "$ROOT/scripts/quantize_encoder.py" --data "$SUBSET" --out "$enc" --size "$size" --precision "$precision"
    stamp "$name: features and training"
    # Without the lookahead, as the grid in the README was measured: the grid compares encoders.
    "$FOLEY" train --data "$SUBSET" --out "$model" --encoder "$enc/encoder.json" --epochs "$EPOCHS" --seed 1 \
        --lookahead-ms 0
    rm -rf "$model/checkpoint"
    "$FOLEY" clips build --bank --looks "$SUBSET" --out "$model"
    stamp "$name: evaluation"
    "$FOLEY" eval --data "$TEST" --model "$model" --out "$OUT/report-$name.part"
    rm -rf "$OUT/report-$name"
    mv "$OUT/report-$name.part" "$OUT/report-$name"
    stamp "$name: finished"
  done
done

# Speeds last, on a machine with nothing else running.
[ "${SPEEDS:-1}" = 0 ] && { stamp "speeds left for a run with SPEEDS=1"; exit 0; }
for size in $SIZES; do
  for precision in $PRECISIONS; do
    name=$size-$precision
    [ -f "$OUT/bench-$name.txt" ] || "$FOLEY" bench encoder --model "$OUT/encoder-$name/encoder.json" >"$OUT/bench-$name.txt"
  done
done
"$PYTHON" "$ROOT/scripts/encoder_grid_table.py" "$OUT" | tee "$OUT/grid.md"
