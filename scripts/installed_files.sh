# What an installation of foley takes from the checkout and the set-up's cache, in one place for
# scripts/install.sh and scripts/build_deb.sh. Sourced, not run; ROOT is the checkout.

# The ONNX Runtime library the set-up fetched into cache $1 (empty when missing).
ort_library() {
  ls "$1"/onnxruntime/*/libonnxruntime.so.* 2>/dev/null | head -n 1 || true
}

# The ONNX file an encoder manifest ($1/encoder.json) names.
encoder_onnx() {
  sed -n 's/.*"onnx": *"\([^"]*\)".*/\1/p' "$1/encoder.json"
}

# The menu entry, its Exec line pointing at the executable $1.
desktop_entry() {
  sed "s|@BIN@|$1|" "$ROOT/assets/desktop/foley.desktop"
}
