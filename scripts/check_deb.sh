#!/usr/bin/env bash
# Checks a built foley .deb with dpkg-deb: every file foley needs is inside, at the place the
# installed executable looks for it, and the runtime dependencies are declared. With --install
# (as root, on a machine where foley may be installed and removed), also installs it with apt,
# which must resolve every dependency, runs the installed foley on a generated video from another
# folder, and removes it again.
#
#   bash scripts/check_deb.sh target/debian/foley_*.deb [--install]
set -euo pipefail
deb=${1:?usage: check_deb.sh FOLEY.deb [--install]}
install=${2:-}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
depends=$(dpkg-deb --field "$deb" Depends)
failed=0
need_file() {
  grep -qx "\./$1" <<<"$contents" || { echo "check_deb: $deb lacks /$1" >&2; failed=1; }
}
need_dep() {
  grep -qE "(^|, )$1( |,|$)" <<<"$depends" || { echo "check_deb: $deb does not depend on $1 (Depends: $depends)" >&2; failed=1; }
}
need_file usr/bin/foley
need_file "usr/lib/foley/libonnxruntime.so.$(sed -n 's/^pub const ONNXRUNTIME_VERSION: &str = "\(.*\)";/\1/p' "$(dirname "$0")/../engine/src/paths.rs")"
for f in model.json model.safetensors clips.json clips.safetensors clips.wav encoder/encoder.json; do
  need_file "usr/share/foley/models/default/$f"
done
need_file usr/share/foley/efficientnet-lite0/encoder.json
need_file usr/share/foley/efficientnet-lite0/efficientnet-lite0.onnx
need_file usr/share/applications/foley.desktop
need_file usr/share/icons/hicolor/scalable/apps/foley.svg
for dep in libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4 libasound2 libvulkan1 libegl1 libc6; do
  need_dep "$dep"
done
[ "$failed" = 0 ] || exit 1
echo "check_deb: $(basename "$deb"): $(wc -l <<<"$contents") entries, Depends: $depends"

if [ "$install" = --install ]; then
  deb=$(realpath "$deb")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # apt reads the file as its own user: a copy it can reach.
  cp "$deb" "$work/" && chmod 755 "$work" && chmod 644 "$work/$(basename "$deb")"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work/$(basename "$deb")" >/dev/null
  cd "$work"
  version=$(/usr/bin/foley --version)
  echo "$version"
  if [ "$(grep -c '(installed beside the executable)$' <<<"$version")" != 3 ]; then
    echo "check_deb: the installed foley does not find its data in /usr" >&2
    exit 1
  fi
  ffmpeg -v error -y -f lavfi -i testsrc2=size=160x120:rate=25:d=2 -c:v libx264 -pix_fmt yuv420p clip.mp4
  /usr/bin/foley synth clip.mp4 -o clip.wav
  as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq foley >/dev/null
  if [ -e /usr/bin/foley ] || [ -e /usr/share/foley ] || [ -e /usr/lib/foley ]; then
    echo "check_deb: files left after apt-get remove foley" >&2
    exit 1
  fi
  echo "check_deb: installed with apt, ran foley synth, removed"
fi
