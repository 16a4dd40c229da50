#!/usr/bin/env python3
"""Makes an int8 copy of the default encoder (EfficientNet-Lite0) for ONNX Runtime, or a copy for
another input size (`--size`, float32 or int8).

Static quantisation with ONNX Runtime's own tool: weights int8 per output channel, activations
uint8 with ranges calibrated (min-max) on space-time images of a dataset's train videos. ONNX
Runtime runs the result about twice as fast on a CPU with AVX-512 VNNI, but its features differ
from the float encoder's, so a model must be trained on them:

    python3 -m venv /tmp/q && /tmp/q/bin/pip install -r scripts/quantize-requirements.txt
    /tmp/q/bin/python scripts/quantize_encoder.py --data DATA --out ENC
    foley train --data DATA --out MODEL --encoder ENC/encoder.json
    foley clips build --bank --looks DATA --out MODEL

The model folder keeps a copy of the encoder, so `foley synth --model MODEL` uses it, on either
backend (the wgpu encoder runs the quantised graph in f32, rounding as the int8 kernels do).
`scripts/train_default_model.sh` makes the shipped model's encoder this way.

`--size S` makes the encoder read S x S images instead of 224 x 224 (the network is
convolutional up to its global pooling, so only the declared input shape changes);
`--precision float32` skips the quantisation. `scripts/encoder_grid.sh` uses both.

Needs `ffmpeg` (the set-up installs it) and the set-up's default encoder.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = pathlib.Path(os.environ.get("FOLEY_CACHE") or ROOT / ".cache") / "assets" / "efficientnet-lite0"


def space_time_images(video, frames, every, size, mean, std):
    """Grayscale frames t-1, t, t+1 as channels, normalised as the manifest says."""
    raw = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(video), "-frames:v", str(frames),
         "-vf", f"scale={size}:{size},format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout
    gray = np.frombuffer(raw, np.uint8).reshape(-1, size, size).astype(np.float32) / 255.0
    last = len(gray) - 1
    out = []
    for t in range(0, len(gray), every):
        stack = np.stack([gray[max(t - 1, 0)], gray[t], gray[min(t + 1, last)]])
        out.append((stack - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None])
    return out


class Images(CalibrationDataReader):
    def __init__(self, name, images):
        self.items = iter([{name: image[None]} for image in images])

    def get_next(self):
        return next(self.items, None)


def resized(model_path, size):
    """The float model with its input declared as [N, 3, size, size] and no stale inner shapes."""
    model = onnx.load(str(model_path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value = size
    dims[3].dim_value = size
    del model.graph.value_info[:]
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="a dataset in the Greatest Hits layout (train.txt, ID_denoised.mp4)")
    parser.add_argument("--out", required=True, help="the folder for the int8 ONNX file and its encoder.json")
    parser.add_argument("--videos", type=int, default=40, help="train videos to calibrate on (spread over the list)")
    parser.add_argument("--images", type=int, default=4, help="images per video (spread over its first 8 s)")
    parser.add_argument("--size", type=int, default=224, help="input width and height in pixels")
    parser.add_argument("--precision", choices=["int8", "float32"], default="int8")
    args = parser.parse_args()

    manifest = json.loads((DEFAULT / "encoder.json").read_text())
    manifest["input"]["width"] = manifest["input"]["height"] = args.size
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.size == 224 else f"-{args.size}"
    float_name = f"efficientnet-lite0{suffix}.onnx"
    onnx.save(resized(DEFAULT / manifest["onnx"], args.size), str(out / float_name))
    if args.precision == "float32":
        manifest["name"] = f"efficientnet-lite0{suffix}"
        manifest["onnx"] = float_name
        (out / "encoder.json").write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {out / float_name} and {out / 'encoder.json'}")
        return

    data = pathlib.Path(args.data)
    ids = [line.strip() for line in (data / "train.txt").read_text().splitlines() if line.strip()]
    if not ids:
        sys.exit(f"{data / 'train.txt'}: no train videos")
    chosen = ids[:: max(1, len(ids) // args.videos)][: args.videos]
    inp = manifest["input"]
    frames = 240
    images = []
    for video_id in chosen:
        images += space_time_images(
            data / f"{video_id}_denoised.mp4", frames, frames // args.images, inp["width"], inp["mean"], inp["std"]
        )
    print(f"calibrating on {len(images)} space-time images from {len(chosen)} train videos")

    onnx_name = f"efficientnet-lite0{suffix}-int8.onnx"
    quantize_static(
        str(out / float_name),
        str(out / onnx_name),
        Images(inp["name"], images),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    (out / float_name).unlink()
    manifest["name"] = f"efficientnet-lite0{suffix}-int8"
    manifest["onnx"] = onnx_name
    (out / "encoder.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out / onnx_name} and {out / 'encoder.json'}")


if __name__ == "__main__":
    main()
