#!/usr/bin/env bash
# Builds the Debian package, target/debian/foley_VERSION_ARCH.deb, with cargo-deb (installed from
# crates.io when missing): the executable, the ONNX Runtime library in /usr/lib/foley, the default
# model and encoder in /usr/share/foley, the menu entry and the icon (app/Cargo.toml,
# [package.metadata.deb]). Then checks it with scripts/check_deb.sh.
#
#   bash scripts/build_deb.sh [--install] && sudo apt install ./target/debian/foley_*.deb
#
# --install is passed to check_deb.sh (install with apt, run, remove: for CI).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/installed_files.sh
CARGO_DEB_VERSION=3.8.0
bash scripts/setup.sh
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

# What the package takes from the set-up's cache, staged where app/Cargo.toml names it.
CACHE=${FOLEY_CACHE:-$ROOT/.cache}
STAGE=$ROOT/.cache/deb
rm -rf "$STAGE"
mkdir -p "$STAGE/lib" "$STAGE/efficientnet-lite0"
ORT=$(ort_library "$CACHE")
[ -f "$ORT" ] || { echo "build_deb.sh: the ONNX Runtime library is missing: run scripts/setup.sh" >&2; exit 1; }
cp "$ORT" "$STAGE/lib/"
ENCODER=$CACHE/assets/efficientnet-lite0
onnx=$(encoder_onnx "$ENCODER")
cp "$ENCODER/encoder.json" "$ENCODER/$onnx" "$STAGE/efficientnet-lite0/"
desktop_entry /usr/bin/foley >"$STAGE/foley.desktop"

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$TARGET/debian"
rm -f "$TARGET"/debian/foley_*.deb
cargo deb -p foley-app --locked --strip --output "$TARGET/debian/"
deb=$(ls "$TARGET"/debian/foley_*.deb)
bash scripts/check_deb.sh "$deb" "${1:-}"
