#!/usr/bin/env bash
# Checks a built foley .deb with dpkg-deb: every file foley needs is inside, at the place the
# installed executable looks for it, and the runtime dependencies are declared.
#
#   bash scripts/check_deb.sh target/debian/foley_*.deb
set -euo pipefail
deb=${1:?usage: check_deb.sh FOLEY.deb}
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
for f in model.json model.safetensors clips.json clips.safetensors clips.wav; do
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
