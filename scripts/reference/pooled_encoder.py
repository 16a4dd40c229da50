#!/usr/bin/python3
"""Makes a copy of the set-up's encoder whose features keep more of the CNN's last map than its
mean, to try whether the stick's tip, a few pixels wide, is lost in the global average.

    /usr/bin/python3 scripts/reference/pooled_encoder.py --pool avgmax|grid2 --out DIR

then `foley train --data DATA --out M --encoder DIR/encoder.json` and `foley eval --data TEST
--model M` compute and cache its features as any encoder's (with ONNX Runtime: foley's wgpu
encoder lacks GlobalMaxPool, Mul, Concat and AveragePool and names the first one it meets).

EfficientNet-Lite0's last map is 1280 channels of 7x7 (ReLU6, 0..6) before its global average.
`avgmax` keeps the average and appends each channel's maximum over the map (2560 values), scaled
by 0.15: across frames a maximum varies about seven times as much as a mean, and the network reads
features unnormalised, so unscaled maxima would swamp the averages. `grid2` keeps each channel's
mean over 2x2 overlapping 4x4 windows of the map (stride 3; 5120 values, channel-major), where the
frame moved as well as what moved. The logits still come from the global average.

Needs Debian's python3-onnx (the set-up installs it).
"""
import argparse
import json
import pathlib
import sys

import onnx
from onnx import TensorProto, helper

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
DEFAULT = ROOT / ".cache" / "assets" / "efficientnet-lite0"
MAX_SCALE = 0.15


def pooled(model, output, channels, pool):
    """Rewires `output` (`channels` wide) of the graph to the pooling asked for; returns its width."""
    graph = model.graph
    averages = [n for n in graph.node if n.op_type == "GlobalAveragePool"]
    if len(averages) != 1:
        sys.exit(f"pooled_encoder: expected one GlobalAveragePool, found {len(averages)}")
    fmap, mean = averages[0].input[0], averages[0].output[0]
    # The old output keeps feeding the classifier under another name.
    kept = output + "_global_average"
    for node in graph.node:
        for names in (node.input, node.output):
            for i, name in enumerate(names):
                if name == output:
                    names[i] = kept
    if pool == "avgmax":
        graph.initializer.append(helper.make_tensor("max_scale", TensorProto.FLOAT, [], [MAX_SCALE]))
        graph.node.extend([
            helper.make_node("GlobalMaxPool", [fmap], ["global_max"]),
            helper.make_node("Mul", ["global_max", "max_scale"], ["global_max_scaled"]),
            helper.make_node("Concat", [mean, "global_max_scaled"], ["average_and_max"], axis=1),
            helper.make_node("Flatten", ["average_and_max"], [output], axis=1),
        ])
        width = 2 * channels
    else:
        graph.node.extend([
            helper.make_node("AveragePool", [fmap], ["grid"], kernel_shape=[4, 4], strides=[3, 3]),
            helper.make_node("Flatten", ["grid"], [output], axis=1),
        ])
        width = 4 * channels
    for value in graph.output:
        if value.name == output:
            value.type.tensor_type.shape.dim[1].dim_value = width
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return width


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", required=True, choices=["avgmax", "grid2"])
    parser.add_argument("--out", required=True, help="the folder for the ONNX file and its encoder.json")
    args = parser.parse_args()

    manifest = json.loads((DEFAULT / "encoder.json").read_text())
    model = onnx.load(str(DEFAULT / manifest["onnx"]))
    width = pooled(model, manifest["output"]["name"], manifest["output"]["size"], args.pool)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{manifest['name']}-{args.pool}"
    onnx.save(model, str(out / f"{name}.onnx"))
    manifest.update(name=name, onnx=f"{name}.onnx")
    manifest["output"]["size"] = width
    (out / "encoder.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out / manifest['onnx']} ({width} features) and {out / 'encoder.json'}")


if __name__ == "__main__":
    main()
