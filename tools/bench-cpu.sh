#!/usr/bin/env bash
# The CPU benchmark of the cpu-avx2 issue: the machine's read bandwidth, then prefill (pp128)
# and decode (tg32, from an empty context as llama-bench counts it) at 1 and 2 threads for
# random-weight models of real shapes: BitNet b1.58 2B4T in I2_S with an F16 embedding (as
# Microsoft ships it), the same shape in TQ2_0 (as a `llama` file, which llama.cpp also loads),
# and a 1B LLaMA shape in Q4_0 and Q8_0. With LLAMA_BENCH=path/to/llama-bench, llama.cpp runs
# the same files in the same session.
#
# usage: tools/bench-cpu.sh [MODEL_DIR] [REPEATS]   (models are generated once, ~4 GB)
set -euo pipefail
dir="${1:-}"
repeats="${2:-3}"
# shellcheck source=tools/bench-models.sh
. "$(dirname "$0")/bench-models.sh"
shape_1b=(--embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --ctx 4096)
gen 2b4t-i2_s --arch bitnet-b1.58 --weights I2_S --embedding F16 "${shape_2b4t[@]}"
gen 2b4t-tq2_0 --arch llama --weights TQ2_0 --embedding F16 "${shape_2b4t[@]}"
gen 1b-q4_0 --arch llama --weights Q4_0 --embedding Q4_0 "${shape_1b[@]}"
gen 1b-q8_0 --arch llama --weights Q8_0 --embedding Q8_0 "${shape_1b[@]}"

for t in 1 2; do "$bin/bitnet-bandwidth" --threads "$t"; done
echo
# A shared machine's read bandwidth moves by a fifth within minutes (48.9 and 62.6 GB/s at 2
# threads, measured 20 minutes apart; 26 to 53 within one run of this script), so each decode
# figure is set against the bandwidth measured right before it and right after it, both shown:
# set against the one before alone, decode read up to 122% of it when the machine sped up
# during the run.
echo "| model | threads | bitnet pp128 | bitnet tg32 | GB read/token | tg32 GB/s | read BW before / after | of BW | llama.cpp pp128 | llama.cpp tg32 |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for m in 2b4t-i2_s 2b4t-tq2_0 1b-q4_0 1b-q8_0; do
  for t in 1 2; do
    # As llama-bench measures them: tg32 from an empty context (a 1-token prompt).
    pp=$("$bin/bitnet" bench --model "$dir/$m.gguf" --threads "$t" -p 128 -n 1 --repeats "$repeats" --json 2>/dev/null)
    before=$("$bin/bitnet-bandwidth" --threads "$t" | sed -E 's/read bandwidth: ([0-9.]+) GB\/s.*/\1/')
    tg=$("$bin/bitnet" bench --model "$dir/$m.gguf" --threads "$t" -p 1 -n 32 --repeats "$repeats" --json 2>/dev/null)
    after=$("$bin/bitnet-bandwidth" --threads "$t" | sed -E 's/read bandwidth: ([0-9.]+) GB\/s.*/\1/')
    row=$(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); d=json.loads(sys.argv[2]); b,a=float(sys.argv[3]),float(sys.argv[4]); g=d["decode_read_gb_per_s"]; print("%.1f | %.2f | %.3f | %.1f | %.1f / %.1f | %.0f%% / %.0f%%" % (p["prefill_tokens_per_s"]["median"], d["decode_tokens_per_s"]["median"], d["weight_bytes_per_token"]/1e9, g, b, a, 100*g/b, 100*g/a))' "$pp" "$tg" "$before" "$after")
    ref="- | -"
    # llama.cpp does not know Microsoft's bitnet-b1.58 architecture or its I2_S type.
    if [ -n "${LLAMA_BENCH:-}" ] && [ "$m" != 2b4t-i2_s ]; then
      ref=$("$LLAMA_BENCH" -m "$dir/$m.gguf" -t "$t" -p 128 -n 32 -r "$repeats" -o json 2>/dev/null |
        python3 -c 'import json,sys; r={("pp" if x["n_prompt"] else "tg"): x["avg_ts"] for x in json.load(sys.stdin)}; print("%.1f | %.2f" % (r["pp"], r["tg"]))')
    fi
    echo "| $m | $t | $row | $ref |"
  done
done
