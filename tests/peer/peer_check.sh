#!/usr/bin/env bash
# Peer check: qkvplan's llama.cpp engine rule against the real llama.cpp.
#
# For every configuration in the matrix below, runs
#   peer_driver  (the pinned llama.cpp, v0.4.0, creating the context for real)
#   qkvplan -m MODEL.gguf --as-built --engine llama.cpp ... -f json
# and compares the KV bytes llama.cpp allocated (its KV buffers, exact) with the
# planner's kv_bytes, and llama.cpp's refusals with the planner's
# engine_refusal. Then checks that `qkvplan convert` output of stories260K
# (f32 and --f16) loads in llama.cpp and greedy-decodes 1 -> 461 461 401 401.
#
# One line per configuration; the last line is exactly
#   peer-check: N passed, N failed
# Exit status 0 only when nothing failed. Mismatches are reported, never hidden.
#
# With --driver-vk and --libdir-vk (peer_driver linked against the Vulkan
# build of the same release), the offload cases: llama.cpp offloads -ngl
# layers to Debian's software Vulkan device (llvmpipe) and logs every
# device's model, KV and compute buffers; weights and KV per device must
# equal qkvplan's --gpu plan to the byte, and compute buffers are reported
# beside qkvplan's estimate (informational, not counted).
#
# usage: peer_check.sh --qkvplan BIN --driver BIN --gguf BIN --libdir DIR
#                      --work DIR --stories FILE.bin [--driver-vk BIN --libdir-vk DIR] [--quick]
set -u
export GGML_NO_BACKTRACE=1   # a ggml abort prints its message, not a gdb session

QKVPLAN= DRIVER= GGUFGEN= LIBDIR= WORK= STORIES= QUICK=0 DRIVER_VK= LIBDIR_VK=
while [ $# -gt 0 ]; do
  case "$1" in
    --qkvplan) QKVPLAN=$2; shift 2 ;;
    --driver)  DRIVER=$2; shift 2 ;;
    --gguf)    GGUFGEN=$2; shift 2 ;;
    --libdir)  LIBDIR=$2; shift 2 ;;
    --work)    WORK=$2; shift 2 ;;
    --stories) STORIES=$2; shift 2 ;;
    --driver-vk) DRIVER_VK=$2; shift 2 ;;
    --libdir-vk) LIBDIR_VK=$2; shift 2 ;;
    --quick)   QUICK=1; shift ;;
    *) echo "peer_check.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in QKVPLAN DRIVER GGUFGEN LIBDIR WORK STORIES; do
  if [ -z "${!v}" ]; then echo "peer_check.sh: missing --${v,,}" >&2; exit 2; fi
done
mkdir -p "$WORK" || exit 2

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); printf 'ok    %s\n' "$1"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL  %s\n' "$1"; }

# ---------------------------------------------------------------- test models
# name | peer_gguf options. Head widths 8/64/128/256, MHA/GQA/MQA, 1-8 layers,
# sliding windows where llama.cpp applies them (gemma2, gemma3, cohere2) and
# where it does not (llama with a window key = Mistral v0.1; phi3 switches it
# off; gemma3 without the key has none).
MODELS=(
  "llama-L2-hd8-gqa|--arch llama --layers 2 --embd 64 --heads 8 --kv-heads 4 --head-dim 8"
  "llama-L3-hd64-mha|--arch llama --layers 3 --embd 128 --heads 2 --kv-heads 2 --head-dim 64"
  "llama-L5-hd128-mqa|--arch llama --layers 5 --embd 64 --heads 4 --kv-heads 1 --head-dim 128"
  "llama-L2-hd256-gqa|--arch llama --layers 2 --embd 64 --heads 2 --kv-heads 1 --head-dim 256"
  "llama-L4-hd64-swakey|--arch llama --layers 4 --embd 64 --heads 4 --kv-heads 2 --head-dim 64 --swa 256"
  "phi3-L3-hd64-swakey|--arch phi3 --layers 3 --embd 128 --heads 2 --kv-heads 2 --head-dim 64 --swa 256"
  "qwen2-L3-hd64-gqa|--arch qwen2 --layers 3 --embd 256 --heads 4 --kv-heads 2 --head-dim 64"
  "gemma2-L6-hd256-swa256|--arch gemma2 --layers 6 --embd 64 --heads 2 --kv-heads 1 --head-dim 256 --swa 256"
  "gemma3-L8-hd64-swa512|--arch gemma3 --layers 8 --embd 64 --heads 4 --kv-heads 2 --head-dim 64 --swa 512"
  "gemma3-L6-hd128-swa128-p3|--arch gemma3 --layers 6 --embd 64 --heads 2 --kv-heads 1 --head-dim 128 --swa 128 --swa-pattern 3"
  "gemma3-L4-hd64-noswa|--arch gemma3 --layers 4 --embd 64 --heads 4 --kv-heads 2 --head-dim 64"
  "cohere2-L4-hd64-swa256|--arch cohere2 --layers 4 --embd 128 --heads 2 --kv-heads 1 --head-dim 64 --swa 256"
)

# ctx seqs unified ubatch: n_ctx not a multiple of 256, one and several
# sequences, unified and per-sequence streams, micro-batches that bound the
# sliding-window cache.
SETTINGS=("300 1 0 512" "1000 3 0 512" "2500 4 1 64" "5000 2 0 128")
# K type, V type
TYPES=("f16 f16" "q8_0 q8_0" "q4_0 q4_0" "q8_0 f16" "f16 q4_0")
FAS=(on off)
if [ "$QUICK" = 1 ]; then
  SETTINGS=("1000 3 0 512")
  TYPES=("f16 f16" "q8_0 q8_0")
fi

field() { sed -n "s/^$1 //p" "$2" | head -1; }

for entry in "${MODELS[@]}"; do
  name=${entry%%|*}
  opts=${entry#*|}
  model="$WORK/$name.gguf"
  # shellcheck disable=SC2086  # opts is a word list on purpose
  if ! "$GGUFGEN" "$model" $opts 2>"$WORK/gen.err"; then
    fail "$name: peer_gguf failed: $(head -1 "$WORK/gen.err")"
    continue
  fi
  for setting in "${SETTINGS[@]}"; do
    read -r ctx seqs uni ub <<<"$setting"
    for types in "${TYPES[@]}"; do
      read -r tk tv <<<"$types"
      for fa in "${FAS[@]}"; do
        cfg="$name ctx=$ctx seqs=$seqs unified=$uni ubatch=$ub k=$tk v=$tv fa=$fa"

        # llama.cpp
        "$DRIVER" --libdir "$LIBDIR" -m "$model" --ctx "$ctx" --seqs "$seqs" --unified "$uni" \
          --ubatch "$ub" --ctk "$tk" --ctv "$tv" --fa "$fa" >"$WORK/drv.out" 2>"$WORK/drv.err"
        drc=$?
        status=$(field status "$WORK/drv.out")
        if [ "$drc" -ne 0 ] || [ -z "$status" ] || [ "$status" = load_failed ]; then
          fail "$cfg: llama.cpp driver exit $drc, status '${status}': $(field reason "$WORK/drv.out") $(tail -1 "$WORK/drv.err")"
          continue
        fi
        if [ "$status" = refused ]; then
          peer="refused"
          peer_reason=$(field reason "$WORK/drv.out")
        else
          peer=$(field kv_buffer_bytes "$WORK/drv.out")
          peer_reason=""
        fi

        # qkvplan
        uflag=()
        [ "$uni" = 1 ] && uflag=(--kv-unified)
        "$QKVPLAN" -m "$model" --as-built --engine llama.cpp --ctx "$ctx" --seqs "$seqs" \
          --ubatch "$ub" --k-type "$tk" --v-type "$tv" --flash-attn "$fa" "${uflag[@]}" \
          -f json >"$WORK/plan.json" 2>"$WORK/plan.err"
        prc=$?
        if [ "$prc" -ne 0 ]; then
          plan="error"
          plan_reason="exit $prc: $(head -1 "$WORK/plan.err")"
        elif grep -Eq '"engine_refusal":[[:space:]]*"' "$WORK/plan.json"; then
          plan="refused"
          plan_reason=$(sed -n 's/.*"engine_refusal":[[:space:]]*"\(.*\)",\{0,1\}$/\1/p' "$WORK/plan.json" | head -1)
        else
          plan=$(sed -n 's/^[[:space:]]*"kv_bytes":[[:space:]]*\([0-9]*\),\{0,1\}$/\1/p' "$WORK/plan.json" | head -1)
          plan_reason=""
          [ -z "$plan" ] && plan="missing"
        fi

        line="$cfg  llama.cpp=$peer qkvplan=$plan"
        if [ "$peer" = "$plan" ]; then
          pass "$line${peer_reason:+  [$peer_reason]}"
        else
          detail=""
          [ -n "$peer_reason" ] && detail="  llama.cpp: $peer_reason"
          [ -n "$plan_reason" ] && detail="$detail  qkvplan: $plan_reason"
          fail "$line$detail"
        fi
      done
    done
  done
done

# --------------------------------------------------- swa_full (llama-server --swa-full)
# llama.cpp sizes the sliding-window cache like the full one with swa_full
# (src/llama-kv-cache-iswa.cpp); the planner must offer the same switch.
for name in gemma2-L6-hd256-swa256 gemma3-L8-hd64-swa512 cohere2-L4-hd64-swa256; do
  model="$WORK/$name.gguf"
  [ -f "$model" ] || continue
  for fa in "${FAS[@]}"; do
    cfg="$name ctx=5000 seqs=2 unified=0 ubatch=128 k=f16 v=f16 fa=$fa swa_full=1"
    "$DRIVER" --libdir "$LIBDIR" -m "$model" --ctx 5000 --seqs 2 --ubatch 128 --fa "$fa" --swa-full 1 \
      >"$WORK/drv.out" 2>"$WORK/drv.err"
    peer=$(field kv_buffer_bytes "$WORK/drv.out")
    "$QKVPLAN" -m "$model" --as-built --engine llama.cpp --ctx 5000 --seqs 2 --ubatch 128 \
      --flash-attn "$fa" --swa-full -f json >"$WORK/plan.json" 2>"$WORK/plan.err"
    prc=$?
    plan=$(sed -n 's/^[[:space:]]*"kv_bytes":[[:space:]]*\([0-9]*\),\{0,1\}$/\1/p' "$WORK/plan.json" | head -1)
    if [ "$prc" -eq 0 ] && [ -n "$peer" ] && [ "$peer" = "$plan" ]; then
      pass "$cfg  llama.cpp=$peer qkvplan=$plan"
    else
      [ "$prc" -ne 0 ] && plan="error (exit $prc: $(head -1 "$WORK/plan.err"))"
      fail "$cfg  llama.cpp=${peer:-none} qkvplan=${plan:-missing}"
    fi
  done
done

# ------------------------------------------------ real-size shapes, planned only
# Published shapes at full size, in GGUFs whose data section is a hole (sparse
# files: metadata and tensor sizes are real, the weights are not there).
# llama.cpp plans them in no_alloc mode and prints its KV sizes in MiB with two
# decimals, so these compare in MiB. Mistral-7B-v0.1 is a `llama` GGUF with a
# sliding_window key (llama.cpp ignores it: 4,294,967,296 bytes at 32k);
# Phi-3-mini-4k is `phi3` with sliding_window 2047 (switched off: 1,610,612,736
# bytes at 4096); gemma-3-270m is `gemma3` with window 512 (5 local : 1 global).
BIG=(
  "Mistral-7B-v0.1|32768|--arch llama --layers 32 --embd 4096 --heads 32 --kv-heads 8 --head-dim 128 --ff 14336 --vocab 32000 --ctx-train 32768 --swa 4096"
  "Phi-3-mini-4k|4096|--arch phi3 --layers 32 --embd 3072 --heads 32 --kv-heads 32 --head-dim 96 --ff 8192 --vocab 32064 --ctx-train 4096 --swa 2047"
  "gemma-3-270m|32768|--arch gemma3 --layers 18 --embd 640 --heads 4 --kv-heads 1 --head-dim 256 --ff 2048 --vocab 262144 --ctx-train 32768 --swa 512"
)
for entry in "${BIG[@]}"; do
  IFS='|' read -r name ctx opts <<<"$entry"
  model="$WORK/big-$name.gguf"
  # shellcheck disable=SC2086
  if ! "$GGUFGEN" "$model" $opts --sparse 1 2>"$WORK/gen.err"; then
    fail "$name: peer_gguf failed: $(head -1 "$WORK/gen.err")"
    continue
  fi
  "$DRIVER" --libdir "$LIBDIR" -m "$model" --ctx "$ctx" --no-alloc 1 >"$WORK/drv.out" 2>"$WORK/drv.err"
  peer=$(field kv_log_mib "$WORK/drv.out")
  "$QKVPLAN" -m "$model" --as-built --engine llama.cpp --ctx "$ctx" -f json >"$WORK/plan.json" 2>"$WORK/plan.err"
  plan_bytes=$(sed -n 's/^[[:space:]]*"kv_bytes":[[:space:]]*\([0-9]*\),\{0,1\}$/\1/p' "$WORK/plan.json" | head -1)
  plan=$(awk -v b="${plan_bytes:-0}" 'BEGIN { printf "%.2f", b / 1048576 }')
  rm -f "$model"
  line="$name ctx=$ctx seqs=1 f16 (no_alloc)  llama.cpp=${peer:-none} MiB qkvplan=$plan MiB (${plan_bytes:-missing} bytes)"
  if [ -n "$peer" ] && [ -n "$plan_bytes" ] && [ "$peer" = "$plan" ]; then pass "$line"; else fail "$line"; fi
done

# ------------------------------------------- converted stories260K in llama.cpp
# The reference continuation of BOS under greedy decoding (llama2.c's run.c
# with temperature 0 on stories260K): 1 -> 461 461 401 401.
EXPECT_TOKENS="461 461 401 401"
if [ ! -f "$STORIES" ]; then
  fail "convert: stories260K checkpoint '$STORIES' not found (set STORIES260K=...)"
else
  for variant in f32 f16; do
    out="$WORK/stories260K-$variant.gguf"
    flag=()
    [ "$variant" = f16 ] && flag=(--f16)
    if ! "$QKVPLAN" convert "$STORIES" --to gguf "$out" "${flag[@]}" 2>"$WORK/conv.err"; then
      fail "convert $variant: qkvplan convert failed: $(head -1 "$WORK/conv.err")"
      continue
    fi
    "$DRIVER" --libdir "$LIBDIR" -m "$out" --ctx 512 --prompt 1 --predict 4 --logits 4 \
      >"$WORK/drv.out" 2>"$WORK/drv.err"
    drc=$?
    status=$(field status "$WORK/drv.out")
    tokens=$(field tokens "$WORK/drv.out")
    if [ "$drc" -eq 0 ] && [ "$status" = accepted ] && [ "$tokens" = "$EXPECT_TOKENS" ]; then
      pass "convert $variant: llama.cpp loads it and decodes 1 -> $tokens (logits[0..3] $(field logits "$WORK/drv.out"))"
    else
      why=$(field reason "$WORK/drv.out")
      [ -z "$why" ] && why=$(field decode_failed "$WORK/drv.out")
      [ -z "$why" ] && why=$(grep -v '^$' "$WORK/drv.err" | tail -1)
      fail "convert $variant: llama.cpp status '${status:-crashed}' exit $drc tokens '${tokens}' (want '$EXPECT_TOKENS'): $why"
    fi
  done
fi

# ------------------------------------------- offload: per-device buffers (Vulkan)
# llama.cpp v0.4.0 with -ngl N on llvmpipe: CPU_Mapped / Vulkan0 model buffers,
# CPU / Vulkan0 KV buffers (iSWA models log two caches: summed per device),
# Vulkan0 / Vulkan_Host compute buffers. qkvplan: --gpu 8GB -ngl N -f json.
# Weights: Vulkan0 against GPU0's weight_bytes, CPU_Mapped against
# host_mapped_bytes (llama.cpp maps the CPU tensors as one span of the file).
# name | peer_gguf options | layer count
OFFLOAD_MODELS=(
  "llama-L8-tied|--arch llama --layers 8 --embd 64 --heads 4 --kv-heads 2 --head-dim 32|8"
  "llama-L5-hd128-mqa|--arch llama --layers 5 --embd 64 --heads 4 --kv-heads 1 --head-dim 128|5"
  "qwen2-L6-gqa|--arch qwen2 --layers 6 --embd 256 --heads 4 --kv-heads 2 --head-dim 64|6"
  "gemma3-L8-swa512|--arch gemma3 --layers 8 --embd 64 --heads 4 --kv-heads 2 --head-dim 64 --swa 512|8"
)
# ctx seqs unified K V fa nkvo
OFFLOAD_SETTINGS=("1000 1 0 f16 f16 on 0" "5000 2 0 q8_0 q8_0 on 0" "3000 3 1 f16 f16 off 0"
                  "2000 1 0 f16 f16 on 1")
COMPUTE_RATIOS=()
vk_sum() { awk -v k="$1" -v n="$2" '$1 == k && $2 == n { s += $3; f = 1 } END { print f ? s : 0 }' "$3"; }
# the per-device figures of qkvplan's JSON: "DEV FIELD VALUE" lines
plan_devices() {
  awk -F'\t' '/"name":/ { gsub(/[",]/, "", $NF); cur = $NF }
       cur ~ /^(CPU|GPU0)$/ && /"(weight_bytes|kv_cache_bytes|compute_bytes)":/ {
         f = $0; sub(/^[^"]*"/, "", f); sub(/".*/, "", f); v = $NF; gsub(/,/, "", v); print cur, f, v }
       /"host_mapped_bytes":/ { v = $NF; gsub(/,/, "", v); print "CPU", "mapped", v }' "$1"
}
if [ -z "$DRIVER_VK" ] || [ -z "$LIBDIR_VK" ]; then
  echo "offload: skipped (no --driver-vk/--libdir-vk: the Vulkan build was not given)"
else
  for entry in "${OFFLOAD_MODELS[@]}"; do
    IFS='|' read -r name opts layers <<<"$entry"
    model="$WORK/off-$name.gguf"
    # shellcheck disable=SC2086
    if ! "$GGUFGEN" "$model" $opts 2>"$WORK/gen.err"; then
      fail "offload $name: peer_gguf failed: $(head -1 "$WORK/gen.err")"
      continue
    fi
    for ngl in 0 1 $((layers / 2)) "$layers" $((layers + 1)); do
      for setting in "${OFFLOAD_SETTINGS[@]}"; do
        read -r ctx seqs uni tk tv fa nkvo <<<"$setting"
        [ "$QUICK" = 1 ] && [ "$setting" != "${OFFLOAD_SETTINGS[0]}" ] && continue
        cfg="offload $name -ngl $ngl ctx=$ctx seqs=$seqs unified=$uni k=$tk v=$tv fa=$fa nkvo=$nkvo"
        GGML_VK_VISIBLE_DEVICES=0 "$DRIVER_VK" --libdir "$LIBDIR_VK" -m "$model" --ctx "$ctx" \
          --seqs "$seqs" --unified "$uni" --ctk "$tk" --ctv "$tv" --fa "$fa" --ngl "$ngl" \
          --no-kv-offload "$nkvo" >"$WORK/vk.out" 2>"$WORK/vk.err"
        drc=$?
        if [ "$drc" -ne 0 ] || [ "$(field status "$WORK/vk.out")" != accepted ]; then
          fail "$cfg: llama.cpp (Vulkan) exit $drc status '$(field status "$WORK/vk.out")': $(field reason "$WORK/vk.out") $(tail -1 "$WORK/vk.err")"
          continue
        fi
        if ! grep -q '^model_buffer Vulkan0\|^kv_buffer Vulkan0' "$WORK/vk.out" && [ "$ngl" -gt 0 ]; then
          fail "$cfg: llama.cpp did not offload (no Vulkan0 buffers; is mesa-vulkan-drivers installed?)"
          continue
        fi
        uflag=()
        [ "$uni" = 1 ] && uflag=(--kv-unified)
        nflag=()
        [ "$nkvo" = 1 ] && nflag=(--no-kv-offload)
        if ! "$QKVPLAN" -m "$model" --as-built --engine llama.cpp --ctx "$ctx" --seqs "$seqs" \
            --k-type "$tk" --v-type "$tv" --flash-attn "$fa" "${uflag[@]}" "${nflag[@]}" \
            --gpu 8GB --ngl "$ngl" -f json >"$WORK/plan.json" 2>"$WORK/plan.err"; then
          fail "$cfg: qkvplan failed: $(head -1 "$WORK/plan.err")"
          continue
        fi
        plan_devices "$WORK/plan.json" >"$WORK/plan.dev"
        pv() { awk -v d="$1" -v f="$2" '$1 == d && $2 == f { print $3; exit }' "$WORK/plan.dev"; }
        got="w_cpu_mapped=$(vk_sum model_buffer CPU_Mapped "$WORK/vk.out") w_gpu=$(vk_sum model_buffer Vulkan0 "$WORK/vk.out") kv_cpu=$(vk_sum kv_buffer CPU "$WORK/vk.out") kv_gpu=$(vk_sum kv_buffer Vulkan0 "$WORK/vk.out")"
        want="w_cpu_mapped=$(pv CPU mapped) w_gpu=$(pv GPU0 weight_bytes) kv_cpu=$(pv CPU kv_cache_bytes) kv_gpu=$(pv GPU0 kv_cache_bytes)"
        c_gpu=$(vk_sum compute_buffer Vulkan0 "$WORK/vk.out")
        c_host=$(awk '$1 == "compute_buffer" && $2 != "Vulkan0" { s += $3 } END { print s + 0 }' "$WORK/vk.out")
        e_gpu=$(pv GPU0 compute_bytes)
        e_host=$(pv CPU compute_bytes)
        ratio=$(awk -v a="${e_gpu:-0}" -v b="$c_gpu" -v c="${e_host:-0}" -v d="$c_host" \
          'BEGIN { printf "gpu %s host %s", (b > 0 ? sprintf("%.2f", a / b) : "-"), (d > 0 ? sprintf("%.2f", c / d) : "-") }')
        COMPUTE_RATIOS+=("$ratio")
        line="$cfg  llama.cpp: $got  qkvplan: $want  compute llama.cpp gpu=$c_gpu host=$c_host, qkvplan/llama.cpp: $ratio"
        if [ "$got" = "$want" ]; then pass "$line"; else fail "$line"; fi
      done
    done
  done
  # how close the compute estimate gets (informational)
  printf '%s\n' "${COMPUTE_RATIOS[@]}" | awk '
    { if ($2 != "-") { g[n_g++] = $2 } if ($4 != "-") { h[n_h++] = $4 } }
    END {
      lo = 1e9; hi = 0; for (i = 0; i < n_g; i++) { if (g[i] < lo) lo = g[i]; if (g[i] > hi) hi = g[i] }
      printf "offload compute (info): qkvplan estimate / llama.cpp, GPU buffer %.2f..%.2f over %d cases", lo, hi, n_g
      lo = 1e9; hi = 0; for (i = 0; i < n_h; i++) { if (h[i] < lo) lo = h[i]; if (h[i] > hi) hi = h[i] }
      printf "; host buffer %.2f..%.2f over %d cases\n", lo, hi, n_h }'
fi

echo "peer-check: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
