# Sourced by bench-cpu.sh and bench-gpu.sh: where the tools and the generated models live, and
# gen NAME ARGS..., which writes DIR/NAME.gguf with bitnet-random-model unless it exists.
# Expects `dir` (the model folder) to be set; a model's name must say everything its arguments
# do, since an existing file is reused as it is.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BITNET_BIN:-$here/build/bin}"
dir="${dir:-$here/build/bench-models}"
mkdir -p "$dir"

gen() {
  local out="$dir/$1.gguf"
  shift
  [ -f "$out" ] || "$bin/bitnet-random-model" "$@" --out "$out" >/dev/null
}
# bitnet-b1.58-2B-4T's dimensions.
shape_2b4t=(--embd 2560 --layers 30 --heads 20 --kv-heads 5 --ff 6912 --vocab 128256 --ctx 4096)
