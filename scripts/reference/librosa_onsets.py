#!/usr/bin/env python3
# librosa onset detection as a comparison baseline for the engine's hit detector.
#
#   python3 -m venv .cache/reference-venv
#   .cache/reference-venv/bin/pip install -r scripts/reference/requirements.txt
#   .cache/reference-venv/bin/python scripts/reference/librosa_onsets.py DIR [--out DIR/librosa.csv] [--both]
#
# DIR holds, per test condition NAME, NAME.wav (mono, 48 kHz) and NAME_truth.csv (header `time_s`,
# one true hit time per row). For each condition it runs
# librosa.onset.onset_detect(y, sr, units='time') with default settings, once with backtrack=False
# (method `librosa`) and once with backtrack=True (method `librosa-backtrack`), matches detections
# to the truth one to one within +-0.1 s (greedy, smallest distance first; each truth time and each
# detection used at most once) and writes, per condition, the row of the method with the better F1
# (ties: smaller median error, then `librosa`); --both writes both rows. The CSV is also printed.

import argparse
import csv
import io
import math
import sys
from pathlib import Path

import librosa
import numpy as np

TOLERANCE_S = 0.1
HEADER = ["condition", "method", "precision", "recall", "f1", "median_error_ms", "n_true", "n_detected"]
METHODS = [("librosa", False), ("librosa-backtrack", True)]


def read_truth(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and "time_s" not in rows[0]:
        sys.exit(f"{path}: expected a `time_s` column")
    return np.array([float(r["time_s"]) for r in rows if r["time_s"].strip()], dtype=np.float64)


def match(truth, detected, tol=TOLERANCE_S):
    """Greedy one-to-one matching by smallest |distance| <= tol. Returns list of (truth, detection)."""
    pairs = sorted(
        (abs(d - t), i, j) for i, t in enumerate(truth) for j, d in enumerate(detected) if abs(d - t) <= tol
    )
    used_t, used_d, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            out.append((truth[i], detected[j]))
    return out


def score(truth, detected):
    m = match(truth, detected)
    n_true, n_det, n_match = len(truth), len(detected), len(m)
    if n_true == 0 and n_det == 0:
        precision = recall = f1 = 1.0
    else:
        precision = n_match / n_det if n_det else 0.0
        recall = n_match / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    median_ms = float(np.median([abs(d - t) for t, d in m]) * 1000) if m else math.nan
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "median_error_ms": median_ms,
        "n_true": n_true,
        "n_detected": n_det,
    }


def fmt(row):
    out = []
    for k in HEADER:
        v = row[k]
        if isinstance(v, float):
            out.append("" if math.isnan(v) else f"{v:.4f}" if k != "median_error_ms" else f"{v:.2f}")
        else:
            out.append(str(v))
    return out


def main():
    ap = argparse.ArgumentParser(description="librosa onset detection scored against NAME_truth.csv files")
    ap.add_argument("dir", type=Path)
    ap.add_argument("--out", type=Path, help="CSV to write (default DIR/librosa.csv)")
    ap.add_argument("--both", action="store_true", help="write both methods' rows for every condition")
    args = ap.parse_args()
    out_path = args.out or args.dir / "librosa.csv"

    truths = sorted(args.dir.glob("*_truth.csv"))
    if not truths:
        sys.exit(f"no *_truth.csv in {args.dir}")
    rows = []
    for truth_path in truths:
        name = truth_path.name[: -len("_truth.csv")]
        wav = args.dir / f"{name}.wav"
        if not wav.is_file():
            sys.exit(f"{truth_path} has no {wav.name}")
        y, sr = librosa.load(wav, sr=None, mono=True)
        if sr != 48_000:
            print(f"warning: {wav.name} is {sr} Hz, not 48000", file=sys.stderr)
        truth = read_truth(truth_path)
        scored = []
        for method, backtrack in METHODS:
            det = librosa.onset.onset_detect(y=y, sr=sr, units="time", backtrack=backtrack)
            scored.append({"condition": name, "method": method, **score(truth, np.asarray(det, dtype=np.float64))})
        if args.both:
            rows.extend(scored)
        else:
            # better F1; ties: smaller median error (NaN counts as worst); then the first (no backtrack)
            best = min(
                scored,
                key=lambda r: (
                    -r["f1"],
                    math.inf if math.isnan(r["median_error_ms"]) else r["median_error_ms"],
                ),
            )
            rows.append(best)
            other = [r for r in scored if r is not best][0]
            print(
                f"{name}: {best['method']} (F1 {best['f1']:.4f}) beats or ties {other['method']} "
                f"(F1 {other['f1']:.4f})",
                file=sys.stderr,
            )

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow(fmt(r))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(buf.getvalue())
    print(buf.getvalue(), end="")
    print(f"wrote {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
