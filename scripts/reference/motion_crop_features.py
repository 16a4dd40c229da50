#!/usr/bin/python3
"""Writes features of a crop around where each frame moves into foley's features cache, to try
whether the CNN finds contacts better when the stick's tip fills more of its input.

    /usr/bin/python3 scripts/reference/motion_crop_features.py --encoder-out DIR \
        --onnxruntime-dir ORT DATA [DATA ...]

then `foley train --data DATA --out M --encoder DIR/encoder.json` and
`foley eval --data TEST --model M` read them from the cache as any encoder's features.

The space-time image of frame t (gray frames t-1, t, t+1) is cut, instead of from the whole frame
at 224x224, from the frame decoded at 448x448: a 224x224 crop (half the frame's width and height)
centred where the change from t-1 to t+1 ends lowest, read as `FrameMotion` reads it (the row above
which 80% of the change lies, and the change's horizontal centre in a band around that row); where
nothing moves, the crop stays where it was. The first colour frame's features (the look) are the
default encoder's, of the whole frame, as foley computes them.

The encoder is a copy of the set-up's EfficientNet-Lite0 with another doc string (so its sha256,
and with it its cache folder, differs) written to DIR with its manifest. The timestamps of each
video's rows come from the default encoder's cached features, so run `foley train` / `foley eval`
on DATA first; videos foley never read features of are skipped. Gray levels come from FFmpeg's
full-range luma rather than foley's BT.601 of RGB: features from this script and from foley's
features job differ slightly, so a model trained on these is only to be evaluated on these.

Needs numpy, Debian's python3-onnx, and the `onnxruntime` Python package: pass --onnxruntime-dir a
folder holding it, e.g. `unzip .cache/downloads/onnxruntime-*.whl 'onnxruntime/*' -d ORT`.
"""
import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np

SIZE = 224
DECODE = 2 * SIZE
NOISE = 6.0 / 255.0  # as foley's FrameMotion and motion grid
BAND_QUANTILE = 0.8
GRID = 112  # the motion is located on the frame averaged to 112x112
BAND_HALF = 12  # rows of that grid either side of the band's centre
BATCH = 16


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode(video, size, pix_fmt, frames=None):
    cmd = ["ffmpeg", "-v", "error", "-i", video, "-vf", f"scale={size}:{size}:flags=bilinear:out_range=full",
           "-pix_fmt", pix_fmt, "-f", "rawvideo"]
    if frames:
        cmd += ["-frames:v", str(frames)]
    raw = subprocess.run(cmd + ["-"], capture_output=True, check=True).stdout
    channels = 3 if pix_fmt == "rgb24" else 1
    return np.frombuffer(raw, np.uint8).reshape(-1, size, size, channels)


def motion_centres(gray):
    """Each frame's crop centre (x, y in 0..1)."""
    small = gray.reshape(len(gray), GRID, DECODE // GRID, GRID, DECODE // GRID).mean(axis=(2, 4))
    n, last, out = len(small), (0.5, 0.5), []
    for t in range(n):
        before, now, after = small[max(t - 1, 0)], small[t], small[min(t + 1, n - 1)]
        change = np.maximum(np.abs(now - before) - NOISE, 0) + np.maximum(np.abs(after - now) - NOISE, 0)
        total = change.sum()
        if total < 2e-3 * change.size * NOISE:
            out.append(last)
            continue
        row = int(np.searchsorted(np.cumsum(change.sum(axis=1)), BAND_QUANTILE * total))
        columns = change[max(row - BAND_HALF, 0):row + BAND_HALF].sum(axis=0)
        x = float((columns * np.arange(GRID)).sum() / max(columns.sum(), 1e-9))
        last = ((x + 0.5) / GRID, (row + 0.5) / GRID)
        out.append(last)
    return out


class Encoder:
    def __init__(self, onnx_path, manifest):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        self.mean = np.array(manifest["input"]["mean"], np.float32)[:, None, None]
        self.std = np.array(manifest["input"]["std"], np.float32)[:, None, None]
        self.output = manifest["output"]["name"]

    def __call__(self, images):
        """images: [N, 3, 224, 224] in 0..1."""
        out = []
        for i in range(0, len(images), BATCH):
            x = ((images[i:i + BATCH] - self.mean) / self.std).astype(np.float32)
            out.append(self.session.run([self.output], {"image": x})[0])
        return np.concatenate(out)


def rows_of(video, frames, encoder):
    gray = decode(video, DECODE, "gray")[..., 0].astype(np.float32) / 255.0
    if len(gray) != frames:
        raise SystemExit(f"{video}: decoded {len(gray)} frames where foley read {frames}")
    half = DECODE // 2
    images = np.empty((frames, 3, SIZE, SIZE), np.float32)
    for t, (cx, cy) in enumerate(motion_centres(gray)):
        x0 = int(np.clip(round(cx * DECODE - half / 2), 0, DECODE - half))
        y0 = int(np.clip(round(cy * DECODE - half / 2), 0, DECODE - half))
        for k, f in enumerate((max(t - 1, 0), t, min(t + 1, frames - 1))):
            images[t, k] = gray[f, y0:y0 + half, x0:x0 + half]
    space_time = encoder(images)
    colour = decode(video, SIZE, "rgb24", 1)[0].astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    look = encoder(colour)
    return np.concatenate([space_time, np.repeat(look, frames, axis=0)], axis=1).astype(np.float32)


def copy_encoder(default_dir, out_dir):
    import onnx

    manifest = json.load(open(os.path.join(default_dir, "encoder.json")))
    model = onnx.load(os.path.join(default_dir, manifest["onnx"]))
    model.doc_string += " (a copy for features of a crop around the motion)"
    os.makedirs(out_dir, exist_ok=True)
    manifest["name"] += "-motion-crop"
    manifest["onnx"] = manifest["name"] + ".onnx"
    manifest.pop("logits", None)
    onnx_path = os.path.join(out_dir, manifest["onnx"])
    onnx.save(model, onnx_path)
    with open(os.path.join(out_dir, "encoder.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return onnx_path, manifest


def write_atomically(path, write):
    """`write(file)` into a file beside `path`, renamed to it once whole."""
    tmp = path + ".part"
    with open(tmp, "w" if path.endswith(".json") else "wb") as f:
        write(f)
    os.replace(tmp, path)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cache = os.environ.get("FOLEY_CACHE") or os.path.join(root, ".cache")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="+", help="dataset folders (foley's Greatest Hits layout)")
    ap.add_argument("--encoder-out", required=True, help="where the encoder's copy and manifest go")
    ap.add_argument("--onnxruntime-dir", help="a folder holding the onnxruntime Python package")
    ap.add_argument("--cache", default=cache, help="foley's cache folder (default: FOLEY_CACHE or .cache)")
    args = ap.parse_args()
    if args.onnxruntime_dir:
        sys.path.insert(0, args.onnxruntime_dir)

    default_dir = os.path.join(args.cache, "assets", "efficientnet-lite0")
    default_sha = file_sha256(os.path.join(default_dir, "efficientnet-lite0.onnx"))
    default_features = os.path.join(args.cache, "features", default_sha[:16])
    onnx_path, manifest = copy_encoder(default_dir, args.encoder_out)
    sha = file_sha256(onnx_path)
    out_dir = os.path.join(args.cache, "features", sha[:16])
    os.makedirs(out_dir, exist_ok=True)
    identity = {"name": manifest["name"], "onnx_sha256": sha, "input_width": SIZE, "input_height": SIZE,
                "feature_size": manifest["output"]["size"]}
    encoder = Encoder(onnx_path, manifest)

    videos = [v for d in args.data for v in sorted(glob.glob(os.path.join(d, "*_denoised.mp4")))]
    start, written = time.time(), 0
    for i, video in enumerate(videos):
        key = file_sha256(video)
        target = os.path.join(out_dir, key + ".npy")
        reference = os.path.join(default_features, key + ".json")
        if os.path.exists(target) or not os.path.exists(reference):
            continue
        sidecar = json.load(open(reference))
        rows = rows_of(video, sidecar["frames"], encoder)
        sidecar.update(video=os.path.abspath(video), encoder=identity,
                       device="ONNX Runtime (Python) on a crop around the motion")
        write_atomically(target, lambda f: np.save(f, rows))
        write_atomically(target[:-4] + ".json", lambda f: json.dump(sidecar, f))
        written += 1
        if written % 25 == 0:
            print(f"{i + 1}/{len(videos)} videos, {time.time() - start:.0f} s", flush=True)
    print(f"features of {written} videos in {out_dir} ({time.time() - start:.0f} s); encoder: "
          f"{os.path.join(args.encoder_out, 'encoder.json')}")


if __name__ == "__main__":
    main()
