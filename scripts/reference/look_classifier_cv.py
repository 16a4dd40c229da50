#!/usr/bin/env python3
# Cross-validates ways of reading a video's material from its look (the first colour frame's CNN
# features) on a dataset's train split, and scores each on the test split. This is how the look
# classifier in engine/src/retrieval/looks.rs was chosen: by the cross-validation on train only.
#
#   python3 scripts/reference/look_classifier_cv.py --data .cache/datasets/default-seed1 [--sweep]
#
# The looks come from foley's feature cache (.cache/features/<encoder>/*.npy of the set-up's
# encoder, or of the encoder whose ONNX file --onnx names; written by
# `foley train`, with a .json beside each naming its video); run `foley train` (or `foley eval`,
# for the test videos) on the dataset first. Needs numpy only. --sweep also cross-validates the
# regression's L2 penalty and number of steps.

import argparse
import glob
import hashlib
import json
import os

import numpy as np


def load(data, features):
    train = open(os.path.join(data, "train.txt")).read().split()
    test = open(os.path.join(data, "test.txt")).read().split()
    material = {}
    for vid in train + test:
        labels = [line.split()[1] for line in open(os.path.join(data, f"{vid}_times.txt")) if line.strip()]
        # The most common label (a generated video has one material); a video where nothing is
        # struck has none and is left out, as the clip database leaves it out of the looks.
        if labels:
            material[vid] = max(sorted(set(labels)), key=labels.count)
    train = [v for v in train if v in material]
    test = [v for v in test if v in material]
    look = {}
    for meta in glob.glob(os.path.join(features, "*.json")):
        info = json.load(open(meta))
        vid = os.path.basename(info["video"]).replace("_denoised.mp4", "")
        if os.path.dirname(os.path.abspath(info["video"])) != os.path.abspath(data):
            continue
        rows = np.load(meta[:-5] + ".npy")
        look[vid] = rows[0, info["feature_size"]:].astype(np.float64)
    missing = [v for v in train + test if v not in look]
    if missing:
        raise SystemExit(f"{len(missing)} videos have no cached features (first: {missing[0]}); run foley train / eval first")
    split = lambda ids: (np.array([look[v] for v in ids]), np.array([material[v] for v in ids]))
    return split(train), split(test)


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
    ap.add_argument("--data", required=True)
    cache = os.environ.get("FOLEY_CACHE") or os.path.join(root, ".cache")
    ap.add_argument("--cache", default=cache, help="foley's cache folder (default: FOLEY_CACHE or .cache)")
    ap.add_argument("--onnx", help="the encoder whose features to read (default: the set-up's)")
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    onnx = args.onnx or os.path.join(args.cache, "assets", "efficientnet-lite0", "efficientnet-lite0.onnx")
    # The cache keeps each encoder's features in a folder named after its ONNX file's sha256.
    sha = hashlib.sha256(open(onnx, "rb").read()).hexdigest()
    (xtr, ytr), (xte, yte) = load(args.data, os.path.join(args.cache, "features", sha[:16]))
    print(f"{len(xtr)} train looks, {len(xte)} test looks, {len(set(ytr))} materials")
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
    for name, method in methods:
        cv = cross_validate(method, xtr, ytr)
        test = (method(xtr, ytr, xte) == yte).mean()
        print(f"{name:45s} 8-fold on train {cv:.3f}   test {test:.3f}")


if __name__ == "__main__":
    main()
