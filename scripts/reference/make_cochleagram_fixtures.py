#!/usr/bin/env python3
# Reference cochleagram fixtures for engine/tests (an independent implementation: the PyPI
# `gammatone` package's Slaney ERB gammatone filterbank instead of the engine's own filters).
#
# Run from the repository root, after `bash scripts/setup.sh` has filled .cache/assets:
#
#   python3 -m venv .cache/reference-venv
#   .cache/reference-venv/bin/pip install -r scripts/reference/requirements.txt
#   .cache/reference-venv/bin/python scripts/reference/make_cochleagram_fixtures.py
#
# It writes engine/tests/fixtures/cochleagram/{NAME.npy, reference.json} (see README.md there).
# Needs the `ffmpeg` command (decoding is done exactly as the engine's spec says:
# `ffmpeg -v error -i FILE -ac 1 -ar 48000 -f f32le -`).

import argparse
import hashlib
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import scipy
import scipy.signal
from gammatone.filters import erb_filterbank, make_erb_filters

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
DEFAULT_OUT = ROOT / "engine" / "tests" / "fixtures" / "cochleagram"

SAMPLE_RATE = 48_000
STEP_RATE = 90
N_BANDS = 42  # lowpass + 40 band-pass + highpass; only 1..40 are computed here
LOW_HZ = 20.0
HIGH_HZ = 16_000.0
EAR_Q = 9.265
MIN_BW = 24.7
COMPRESSION = 0.3

MINETEST = "assets/minetest-data/usr/share/games/minetest/games/minetest_game/mods/default/sounds"
HYDROGEN = "assets/hydrogen-drumkits/usr/share/hydrogen/data/drumkits/Gimme A Hand 1.0"

# (name, path relative to .cache, material, license)
CLIPS = [
    ("wood_footstep", f"{MINETEST}/default_wood_footstep.1.ogg", "wood", "CC-BY-SA-3.0 (Mito551)"),
    ("glass_break", f"{MINETEST}/default_break_glass.1.ogg", "glass", "CC-BY-3.0 (cmusounddesign)"),
    ("metal_footstep", f"{MINETEST}/default_metal_footstep.1.ogg", "metal", "CC0-1.0 (mypantsfelldown)"),
    ("stone_dig_cracky", f"{MINETEST}/default_dig_cracky.1.ogg", "stone", "CC-BY-3.0 (Benboncan)"),
    ("dirt_footstep", f"{MINETEST}/default_dirt_footstep.1.ogg", "dirt", "CC-BY-SA-3.0 (Mito551)"),
    ("woodblock", f"{HYDROGEN}/WoodBlock-Hard.wav", "wood block", "GPL-2 (Glen MacArthur)"),
    ("cowbell", f"{HYDROGEN}/Cowbell-Hard.wav", "metal (cowbell)", "GPL-2 (Glen MacArthur)"),
    ("waterglass", f"{HYDROGEN}/WaterglassHi-Hard.wav", "glass with water", "GPL-2 (Glen MacArthur)"),
]


def freq2erb(f):
    return EAR_Q * np.log1p(np.asarray(f, dtype=np.float64) / (MIN_BW * EAR_Q))


def erb2freq(e):
    return MIN_BW * EAR_Q * np.expm1(np.asarray(e, dtype=np.float64) / EAR_Q)


def cutoffs():
    """42 frequencies; band k = 1..40 is centred on cutoffs()[k]."""
    return erb2freq(np.linspace(freq2erb(LOW_HZ), freq2erb(HIGH_HZ), N_BANDS))


def decode(path):
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"],
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").copy(), raw


def group_delays_samples(coefs, centre_freqs):
    """Group delay (in samples, float) of each gammatone channel at its centre frequency.

    erb_filterbank runs four biquads in cascade per channel, numerators coefs[:, (0, i, 5)] for
    i = 1..4 and shared denominator coefs[:, 6:9]; the cascade's group delay is the sum.
    """
    out = []
    for c, fc in zip(coefs, centre_freqs):
        gd = 0.0
        for i in (1, 2, 3, 4):
            _, g = scipy.signal.group_delay((c[[0, i, 5]], c[6:9]), w=[fc], fs=SAMPLE_RATE)
            gd += float(g[0])
        out.append(gd)
    return np.array(out)


def n_steps(n_samples):
    # ceil(n_samples / 48000 * 90) in exact integer arithmetic
    return -(-n_samples * STEP_RATE // SAMPLE_RATE)


def downsample(env):
    """Hann-weighted mean of env (shape [bands, n]) within +-1/90 s of each step time i/90 s."""
    n = env.shape[1]
    steps = n_steps(n)
    out = np.empty((steps, env.shape[0]))
    half = SAMPLE_RATE // STEP_RATE + 1  # 534 > 533.33 samples: covers the whole window
    for i in range(steps):
        # centre i*48000/90 samples; work in units of 1/(48000*90) s to stay exact
        centre_num = i * SAMPLE_RATE  # = (i/90 s) * 48000 * 90
        c = centre_num // STEP_RATE
        j = np.arange(max(0, c - half), min(n, c + half + 1))
        d = j * STEP_RATE - centre_num  # dt * 48000 * 90
        j, d = j[np.abs(d) < SAMPLE_RATE], d[np.abs(d) < SAMPLE_RATE]  # |dt| < 1/90 s
        w = 0.5 * (1.0 + np.cos(np.pi * d / SAMPLE_RATE))  # 0.5*(1+cos(pi*dt*90))
        out[i] = env[:, j] @ w / w.sum()
    return out


def cochleagram(x, coefs, delays):
    """Returns [steps, 42] float64 with NaN in columns 0 and 41.

    delays: per band-pass channel, integer samples by which each gammatone output is advanced
    (0 = raw causal gammatone output).
    """
    n = len(x)
    pad = int(delays.max())
    xp = np.concatenate([x.astype(np.float64), np.zeros(pad)])
    sub = erb_filterbank(xp, coefs)  # [40, n + pad]
    sub = np.stack([sub[k, d : d + n] for k, d in enumerate(delays)])
    env = np.abs(scipy.signal.hilbert(sub, axis=1))
    ds = downsample(env)
    out = np.full((ds.shape[0], N_BANDS), np.nan)
    out[:, 1 : N_BANDS - 1] = ds**COMPRESSION
    return out


def main():
    ap = argparse.ArgumentParser(description="Write reference cochleagram fixtures (gammatone filterbank).")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--no-delay-compensation",
        action="store_true",
        help="keep the gammatone filters' causal group delay (default: advance each band by it)",
    )
    args = ap.parse_args()

    cut = cutoffs()
    centres = cut[1 : N_BANDS - 1]
    coefs = make_erb_filters(SAMPLE_RATE, centres)
    gd = group_delays_samples(coefs, centres)
    delays = np.zeros(len(centres), dtype=int) if args.no_delay_compensation else np.rint(gd).astype(int)

    args.out.mkdir(parents=True, exist_ok=True)
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], check=True, capture_output=True, text=True).stdout
    clips = []
    for name, rel, material, license_ in CLIPS:
        src = CACHE / rel
        if not src.is_file():
            sys.exit(f"missing {src}: run `bash scripts/setup.sh` first")
        x, raw = decode(src)
        cg = cochleagram(x, coefs, delays).astype(np.float32)
        np.save(args.out / f"{name}.npy", cg)
        clips.append(
            {
                "name": name,
                "file": f"{name}.npy",
                "source": rel,
                "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
                "decoded_f32le_sha256": hashlib.sha256(raw).hexdigest(),
                "material": material,
                "license": license_,
                "n_samples": int(len(x)),
                "steps": int(cg.shape[0]),
            }
        )
        print(f"{name:18s} {len(x):7d} samples {cg.shape[0]:4d} steps  max {np.nanmax(cg):.4f}")

    ref = {
        "description": (
            "Reference cochleagrams from an independent filterbank (PyPI gammatone, Slaney ERB "
            "gammatone, 4th order IIR, unity gain at each centre frequency). Arrays are float32 "
            "[steps, 42], row i = time i/90 s, column k = band k; columns 0 (lowpass) and 41 "
            "(highpass) are NaN (not computed). Values are compressed (**0.3)."
        ),
        "generator": "scripts/reference/make_cochleagram_fixtures.py",
        "regenerate": ".cache/reference-venv/bin/python scripts/reference/make_cochleagram_fixtures.py",
        "params": {
            "sample_rate": SAMPLE_RATE,
            "decode": "ffmpeg -v error -i FILE -ac 1 -ar 48000 -f f32le -",
            "n_bands": N_BANDS,
            "computed_bands": [1, N_BANDS - 2],
            "nan_bands": [0, N_BANDS - 1],
            "cutoffs": "erb2freq(linspace(freq2erb(20), freq2erb(16000), 42)); band k centre = cutoffs[k]",
            "freq2erb": "9.265*ln(1 + f/(24.7*9.265))",
            "cutoffs_hz": [float(c) for c in cut],
            "filterbank": "gammatone.filters.make_erb_filters(48000, cutoffs[1:41]) + erb_filterbank (float64)",
            "envelope": "abs(scipy.signal.hilbert(subband)) over the whole clip (n_samples long)",
            "step_rate_hz": STEP_RATE,
            "steps": "ceil(n_samples/48000*90)",
            "downsample": (
                "step i at i/90 s: sum(w*env)/sum(w) over samples j in [0, n) with "
                "|j/48000 - i/90| < 1/90, w = 0.5*(1+cos(pi*(j/48000 - i/90)*90))"
            ),
            "compression": COMPRESSION,
            "delay_compensation": not args.no_delay_compensation,
            "delay_compensation_note": (
                "gammatone filters are causal IIR filters: band k's envelope lags by about its group "
                "delay at the centre frequency (21 ms at band 1 down to 0.35 ms at band 40). When "
                "delay_compensation is true each band's subband signal was advanced by "
                "delay_samples[k] (the input was zero-padded at the end first, so nothing is lost) "
                "before the Hilbert envelope, to line up with a zero-phase filterbank."
            ),
            "group_delay_samples": [None] + [round(float(g), 2) for g in gd] + [None],
            "delay_samples": [None] + [int(d) for d in delays] + [None],
        },
        "versions": {
            "gammatone": metadata.version("gammatone"),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": sys.version.split()[0],
            "ffmpeg": ffmpeg_version.splitlines()[0],
        },
        "clips": clips,
    }
    (args.out / "reference.json").write_text(json.dumps(ref, indent=2) + "\n")
    print(f"wrote {len(clips)} clips to {args.out}")


if __name__ == "__main__":
    main()
