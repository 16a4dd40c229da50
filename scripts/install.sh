#!/usr/bin/env bash
# Installs foley for one user or the whole machine: the `foley` executable, the ONNX Runtime
# library, the default model (with its clip database) and encoder, a menu entry that opens videos
# ("Open with"), and an icon.
#
#   bash scripts/install.sh [--prefix DIR]              # default: ~/.local
#   bash scripts/install.sh --uninstall [--prefix DIR]  # removes exactly what was installed
#
# Layout: DIR/bin/foley, DIR/lib/foley/libonnxruntime.so.*, DIR/share/foley/{models/default (and
# the encoder it reads in its encoder/), efficientnet-lite0}, DIR/share/applications/foley.desktop,
# DIR/share/icons/hicolor/scalable/apps/foley.svg; DIR/share/foley/installed-files.txt lists them
# for --uninstall. The installed foley finds its data beside itself, wherever the checkout goes.
# `--binary FILE` installs an executable already built instead of building a release (and skips
# the set-up, which must have run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/installed_files.sh"
PREFIX=$HOME/.local
UNINSTALL=0
BINARY=
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --binary) BINARY=${2:?--binary needs a file}; shift 2 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
LIST=$PREFIX/share/foley/installed-files.txt

if [ "$UNINSTALL" = 1 ]; then
  [ -f "$LIST" ] || { echo "install.sh: nothing to remove: $LIST does not exist" >&2; exit 1; }
  while read -r file; do rm -f "$file"; done <"$LIST"
  rm -f "$LIST"
  # Folders foley created and left empty.
  for dir in share/foley/models/default/encoder share/foley/models/default share/foley/models share/foley/efficientnet-lite0 share/foley lib/foley; do
    rmdir "$PREFIX/$dir" 2>/dev/null || true
  done
  apps=$PREFIX/share/applications
  if [ "$(ls -A "$apps" 2>/dev/null)" = mimeinfo.cache ]; then
    # foley's entry was the only one: its cache goes too.
    rm -f "$apps/mimeinfo.cache"
  elif command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$apps" 2>/dev/null || true
  fi
  echo "removed foley from $PREFIX"
  exit 0
fi

CACHE=${FOLEY_CACHE:-$ROOT/.cache}
if [ -z "$BINARY" ]; then
  bash "$ROOT/scripts/setup.sh"
  (cd "$ROOT" && cargo build --release --locked -p foley-app)
  BINARY=${CARGO_TARGET_DIR:-$ROOT/target}/release/foley
fi
[ -x "$BINARY" ] || { echo "install.sh: $BINARY is not an executable" >&2; exit 1; }
ORT=$(ort_library "$CACHE")
ENCODER=$CACHE/assets/efficientnet-lite0
for needed in "$ORT" "$ENCODER/encoder.json" "$ROOT/assets/models/default/model.json"; do
  [ -f "$needed" ] || { echo "install.sh: ${needed:-the ONNX Runtime library} is missing: run scripts/setup.sh" >&2; exit 1; }
done

installed=()
put() { # SOURCE DESTINATION MODE
  install -D -m "$3" "$1" "$2"
  installed+=("$2")
}
put "$BINARY" "$PREFIX/bin/foley" 755
# The release build carries debug information; an installed program does not need it.
strip --strip-debug "$PREFIX/bin/foley"
put "$ORT" "$PREFIX/lib/foley/$(basename "$ORT")" 644
for f in "$ROOT"/assets/models/default/* "$ROOT"/assets/models/default/encoder/*; do
  [ -f "$f" ] && put "$f" "$PREFIX/share/foley/models/default/${f#"$ROOT"/assets/models/default/}" 644
done
put "$ENCODER/encoder.json" "$PREFIX/share/foley/efficientnet-lite0/encoder.json" 644
onnx=$(encoder_onnx "$ENCODER")
put "$ENCODER/$onnx" "$PREFIX/share/foley/efficientnet-lite0/$onnx" 644
desktop=$(mktemp)
desktop_entry "$PREFIX/bin/foley" >"$desktop"
put "$desktop" "$PREFIX/share/applications/foley.desktop" 644
rm -f "$desktop"
put "$ROOT/assets/desktop/foley.svg" "$PREFIX/share/icons/hicolor/scalable/apps/foley.svg" 644
printf '%s\n' "${installed[@]}" >"$LIST"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$PREFIX/share/applications" 2>/dev/null || true

echo "installed foley in $PREFIX (remove with: bash scripts/install.sh --uninstall --prefix $PREFIX)"
"$PREFIX/bin/foley" --version
