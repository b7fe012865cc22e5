#!/usr/bin/env bash
# The cuda backend's benchmark (issue 8): the GPU's bandwidth, then prefill (pp512) and decode
# (tg128, from an empty context as llama-bench counts it) for random-weight models of real
# shapes: BitNet b1.58 2B4T in I2_S with an F16 tied embedding, and a 1B LLaMA shape in Q4_0,
# Q8_0 and F16. The fraction is weight bytes per token x decode tok/s over the read-only
# bandwidth. With LLAMA_BENCH=path/to/llama-bench, llama.cpp runs the same files (the 1B ones;
# it has no I2_S).
#
# usage: tools/bench-gpu.sh [MODEL_DIR] [REPEATS]   (models are generated once, ~5 GB)
set -euo pipefail
dir="${1:-}"
repeats="${2:-3}"
# shellcheck source=tools/bench-models.sh
. "$(dirname "$0")/bench-models.sh"
shape_1b=(--embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --vocab 128256 --ctx 4096)
gen 2b4t-i2_s --arch bitnet-b1.58 --weights I2_S --embedding F16 "${shape_2b4t[@]}" &
gen 1b-128k-q4_0 --arch llama --weights Q4_0 --embedding Q4_0 "${shape_1b[@]}" &
gen 1b-128k-q8_0 --arch llama --weights Q8_0 --embedding Q8_0 "${shape_1b[@]}" &
gen 1b-128k-f16 --arch llama --weights F16 --embedding F16 "${shape_1b[@]}" &
wait

bw_line=$("$bin/bitnet-gpu-bandwidth")
echo "$bw_line"
read_gbps=$(sed -E 's/.*read-only kernel ([0-9.]+) GB\/s.*/\1/' <<<"$bw_line")
echo
echo "| model | GB read/token | bitnet pp512 tok/s | bitnet tg128 tok/s | tg128 GB/s | of ${read_gbps} GB/s | llama.cpp pp512 | llama.cpp tg128 |"
echo "|---|---|---|---|---|---|---|---|"
for m in 2b4t-i2_s 1b-128k-q4_0 1b-128k-q8_0 1b-128k-f16; do
  # As llama-bench measures them: prefill of 512 tokens, and 128 tokens decoded from an empty
  # context (a 1-token prompt), not after the 512 (attention over them would be counted too).
  pp=$("$bin/bitnet" bench --model "$dir/$m.gguf" --backend cuda -p 512 -n 1 --repeats "$repeats" --json 2>/dev/null)
  tg=$("$bin/bitnet" bench --model "$dir/$m.gguf" --backend cuda -p 1 -n 128 --repeats "$repeats" --json 2>/dev/null)
  row=$(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); d=json.loads(sys.argv[2]); bw=float(sys.argv[3]); print("%.3f | %.0f | %.0f | %.0f | %.0f%%" % (d["weight_bytes_per_token"]/1e9, p["prefill_tokens_per_s"]["median"], d["decode_tokens_per_s"]["median"], d["decode_read_gb_per_s"], 100*d["decode_read_gb_per_s"]/bw))' "$pp" "$tg" "$read_gbps")
  ref="- | -"
  if [ -n "${LLAMA_BENCH:-}" ] && [ "$m" != 2b4t-i2_s ]; then
    ref=$("$LLAMA_BENCH" -m "$dir/$m.gguf" -p 512 -n 128 -r "$repeats" -o json 2>/dev/null |
      python3 -c 'import json,sys; r={("pp" if x["n_prompt"] else "tg"): x["avg_ts"] for x in json.load(sys.stdin)}; print("%.0f | %.0f" % (r["pp"], r["tg"]))')
  fi
  echo "| $m | $row | $ref |"
done
