#!/usr/bin/env python3
# Cross-validates ways of reading a video's material from its look on a dataset's train split,
# and scores each on its test split and on the test splits of other datasets. This is how the
# look classifier in engine/src/retrieval/looks.rs was chosen (by the cross-validation on train
# only), and how many colour frames a look averages (LOOK_FRAMES there).
#
#   python3 scripts/reference/look_classifier_cv.py --onnxruntime-dir ORT \
#       --data .cache/datasets/default-seed1 [--more-train LOOKS ...] [--test DATA2 ...] \
#       [--frames 1 2 4 8] [--sweep] [--encoder-dir DIR] [--tiles N]
#
# --more-train adds the train looks of other datasets (as `foley clips build --looks A --looks B`
# does), e.g. the short videos of the train photos that train_default_model.sh makes.
#
# A look of K frames is the mean of the default encoder's features of the colour frames at
# i / K of the video (i = 0..K-1; the first is the first frame), as `vision::video_look` takes
# it. Frames are scaled by FFmpeg (bilinear) rather than by foley's decoder, so the figures are
# close to, not equal to, what foley computes. Needs numpy, ffmpeg/ffprobe and the
# `onnxruntime` Python package: pass --onnxruntime-dir a folder holding it, e.g.
# `unzip .cache/downloads/onnxruntime-*.whl 'onnxruntime/*' -d ORT`. --encoder-dir takes another
# encoder's folder (its encoder.json), e.g. a model's `encoder/` (the default: the float encoder).
#
# --tiles N (N > 1) also scores looks of finer detail: each frame scaled to N times the encoder's
# input and cut into N x N tiles, whose features are averaged over the tiles and the frames (a
# texture seen closer), alone, beside the whole frame's (concatenated), and of the lower tiles
# only (where the surface lies in a camera looking down); softmax regression only, as foley's.

import argparse
import json
import os
import subprocess
import sys

import numpy as np


SIZE = 224


def material_of(data, vid):
    """The most common label of a video's contacts (a generated video has one material); None
    for a video where nothing is struck, which the clip database leaves out of the looks."""
    labels = [line.split()[1] for line in open(os.path.join(data, f"{vid}_times.txt")) if line.strip()]
    return max(sorted(set(labels)), key=labels.count) if labels else None


def frames_of(video, indices, size=SIZE):
    """The frames of `video` with these indices, as RGB scaled to `size` x `size`."""
    select = "+".join(f"eq(n\\,{i})" for i in sorted(set(indices)))
    cmd = ["ffmpeg", "-v", "error", "-i", video, "-vf", f"select={select},scale={size}:{size}:flags=bilinear",
           "-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3)
    return dict(zip(sorted(set(indices)), frames))


def frame_count(video):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_packets", "-of", "csv=p=0", video], capture_output=True, check=True)
    return int(out.stdout.split()[0])


class Encoder:
    def __init__(self, onnx_path, manifest):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        self.mean = np.array(manifest["input"]["mean"], np.float32)[:, None, None]
        self.std = np.array(manifest["input"]["std"], np.float32)[:, None, None]
        self.output = manifest["output"]["name"]

    def __call__(self, rgb):
        x = rgb.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
        return self.session.run([self.output], {"image": ((x - self.mean) / self.std).astype(np.float32)})[0]


def tiles_of(frame, n):
    """The n x n tiles of a square frame, row by row."""
    s = frame.shape[0] // n
    return [frame[r * s:(r + 1) * s, c * s:(c + 1) * s] for r in range(n) for c in range(n)]


def labelled_videos(data, split):
    """(video path, material, frame count) of each video of `split` with a contact."""
    for vid in open(os.path.join(data, f"{split}.txt")).read().split():
        material = material_of(data, vid)
        if material is not None:
            video = os.path.join(data, f"{vid}_denoised.mp4")
            yield video, material, frame_count(video)


def tile_looks(data, split, encoder, k, n):
    """{variant: (looks, materials)} of the labelled videos of `split`: looks of K frames, of the
    whole frame and of its n x n tiles (module notes)."""
    whole, tiled, materials = [], [], []
    for video, material, count in labelled_videos(data, split):
        indices = sorted(set(i * count // k for i in range(min(k, count))))
        small, large = frames_of(video, indices), frames_of(video, indices, n * SIZE)
        whole.append(encoder(np.stack([small[i] for i in indices])).mean(0))
        tiles = encoder(np.stack([t for i in indices for t in tiles_of(large[i], n)]))
        tiled.append(tiles.reshape(len(indices), n * n, -1).mean(0))
        materials.append(material)
    whole, tiled, y = np.array(whole, np.float64), np.array(tiled, np.float64), np.array(materials)
    lower = tiled[:, n:].mean(1)
    return {
        "whole frame": (whole, y),
        f"mean of {n}x{n} tiles": (tiled.mean(1), y),
        f"whole frame + mean of {n}x{n} tiles": (np.concatenate([whole, tiled.mean(1)], 1), y),
        f"whole frame + mean of the lower {n * (n - 1)} tiles": (np.concatenate([whole, lower], 1), y),
    }


def looks(data, split, encoder, counts):
    """{K: (looks, materials)} of the labelled videos of `split`, for each K in counts."""
    out = {k: ([], []) for k in counts}
    for video, material, n in labelled_videos(data, split):
        wanted = {k: [i * n // k for i in range(min(k, n))] for k in counts}
        frames = frames_of(video, [i for v in wanted.values() for i in v])
        features = dict(zip(frames, encoder(np.stack(list(frames.values())))))
        for k, indices in wanted.items():
            out[k][0].append(np.mean([features[i] for i in indices], axis=0).astype(np.float64))
            out[k][1].append(material)
    return {k: (np.array(x), np.array(y)) for k, (x, y) in out.items()}


def knn(xa, ya, xb, k=5):
    na = xa / np.linalg.norm(xa, axis=1, keepdims=True)
    nb = xb / np.linalg.norm(xb, axis=1, keepdims=True)
    out = []
    for s in nb @ na.T:
        votes = {}
        for i in np.argsort(-s)[:k]:
            votes[ya[i]] = votes.get(ya[i], 0) + max(s[i], 0)
        out.append(max(votes, key=votes.get))
    return np.array(out)


def standardise(xa, xb):
    mu, sd = xa.mean(0), xa.std(0) + 1e-6
    return (xa - mu) / sd, (xb - mu) / sd


def centroid(xa, ya, xb):
    a, b = standardise(xa, xb)
    classes = sorted(set(ya))
    c = np.array([a[ya == m].mean(0) for m in classes])
    return np.array(classes)[np.argmin(((b[:, None, :] - c[None]) ** 2).sum(-1), 1)]


def softmax_regression(xa, ya, xb, l2=0.1, steps=300, step_size=0.5):
    """Full-batch gradient descent, as LookClassifier::fit."""
    a, b = standardise(xa, xb)
    classes = sorted(set(ya))
    y = np.array([[c == m for c in classes] for m in ya], float)
    w, bias = np.zeros((a.shape[1], len(classes))), np.zeros(len(classes))
    for _ in range(steps):
        z = a @ w + bias
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - y) / len(a)
        w -= step_size * (a.T @ g + l2 * w)
        bias -= step_size * g.sum(0)
    return np.array(classes)[np.argmax(b @ w + bias, 1)]


def cross_validate(method, x, y, folds=8):
    fold = np.arange(len(x)) % folds
    right = sum((method(x[fold != f], y[fold != f], x[fold == f]) == y[fold == f]).sum() for f in range(folds))
    return right / len(x)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="train looks from its train split, test looks from its test split")
    ap.add_argument("--more-train", nargs="*", default=[], help="more datasets whose train looks join the train looks")
    ap.add_argument("--test", nargs="*", default=[], help="more datasets whose test splits to score on")
    ap.add_argument("--frames", nargs="+", type=int, default=[4], help="colour frames a look averages")
    cache = os.environ.get("FOLEY_CACHE") or os.path.join(root, ".cache")
    ap.add_argument("--cache", default=cache, help="foley's cache folder (default: FOLEY_CACHE or .cache)")
    ap.add_argument("--onnxruntime-dir", help="a folder holding the onnxruntime Python package")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--encoder-dir", help="the encoder's folder (default: the cache's float encoder)")
    ap.add_argument("--tiles", type=int, default=1, help="N > 1: score looks of N x N tiles too (first --frames)")
    args = ap.parse_args()
    if args.onnxruntime_dir:
        sys.path.insert(0, args.onnxruntime_dir)
    encoder_dir = args.encoder_dir or os.path.join(args.cache, "assets", "efficientnet-lite0")
    manifest = json.load(open(os.path.join(encoder_dir, "encoder.json")))
    encoder = Encoder(os.path.join(encoder_dir, manifest["onnx"]), manifest)
    if args.tiles > 1:
        score_tiles(args, encoder)
        return
    train = looks(args.data, "train", encoder, args.frames)
    for more in args.more_train:
        extra = looks(more, "train", encoder, args.frames)
        train = {k: (np.concatenate([train[k][0], extra[k][0]]), np.concatenate([train[k][1], extra[k][1]]))
                 for k in args.frames}
    tests = [(args.data, looks(args.data, "test", encoder, args.frames))]
    tests += [(t, looks(t, "test", encoder, args.frames)) for t in args.test]
    # A dataset made all of train videos has no test looks to score.
    tests = [(d, t) for d, t in tests if len(t[args.frames[0]][1])]
    methods = [
        ("5 nearest looks, cosine vote", knn),
        ("nearest look, cosine", lambda a, b, c: knn(a, b, c, 1)),
        ("nearest centroid, standardised", centroid),
        ("softmax regression (foley)", softmax_regression),
    ]
    if args.sweep:
        for l2 in (1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0):
            for steps in (100, 300, 1000):
                methods.append((f"softmax regression, L2 {l2}, {steps} steps",
                                lambda a, b, c, l2=l2, steps=steps: softmax_regression(a, b, c, l2, steps)))
    for k in args.frames:
        xtr, ytr = train[k]
        sizes = ", ".join(f"{len(t[k][1])} test looks of {os.path.basename(d.rstrip('/'))}" for d, t in tests)
        print(f"{k} frame(s) a look: {len(xtr)} train looks of {len(set(ytr))} materials; {sizes}")
        for name, method in methods:
            cv = cross_validate(method, xtr, ytr)
            scores = "   ".join(f"{(method(xtr, ytr, t[k][0]) == t[k][1]).mean():.3f}" for _, t in tests)
            print(f"  {name:45s} 8-fold on train {cv:.3f}   test {scores}")


def score_tiles(args, encoder):
    """Scores the softmax regression on looks of the whole frame and of tiles (--tiles)."""
    k, n = args.frames[0], args.tiles
    train = tile_looks(args.data, "train", encoder, k, n)
    for more in args.more_train:
        extra = tile_looks(more, "train", encoder, k, n)
        train = {v: (np.concatenate([x, extra[v][0]]), np.concatenate([y, extra[v][1]])) for v, (x, y) in train.items()}
    tests = [(d, tile_looks(d, "test", encoder, k, n)) for d in [args.data, *args.test]]
    tests = [(d, t) for d, t in tests if len(t["whole frame"][1])]
    sizes = ", ".join(f"{len(t['whole frame'][1])} test looks of {os.path.basename(d.rstrip('/'))}" for d, t in tests)
    ytr = train["whole frame"][1]
    print(f"{k} frame(s) a look: {len(ytr)} train looks of {len(set(ytr))} materials; {sizes}")
    for variant, (xtr, ytr) in train.items():
        scores = "   ".join(f"{(softmax_regression(xtr, ytr, t[variant][0]) == t[variant][1]).mean():.3f}"
                            for _, t in tests)
        print(f"  {variant:45s} 8-fold on train {cross_validate(softmax_regression, xtr, ytr):.3f}   test {scores}")


if __name__ == "__main__":
    main()
