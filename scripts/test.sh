#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then checks the clip bank manifest, formatting and lints, and runs
# every test.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
echo "==> clip bank manifest"
/usr/bin/python3 scripts/check_clipbank_manifest.py
echo "==> texture bank manifest"
/usr/bin/python3 scripts/texturebank.py check
echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
