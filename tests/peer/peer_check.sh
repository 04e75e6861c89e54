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
# usage: peer_check.sh --qkvplan BIN --driver BIN --gguf BIN --libdir DIR
#                      --work DIR --stories FILE.bin [--quick]
set -u
export GGML_NO_BACKTRACE=1   # a ggml abort prints its message, not a gdb session

QKVPLAN= DRIVER= GGUFGEN= LIBDIR= WORK= STORIES= QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --qkvplan) QKVPLAN=$2; shift 2 ;;
    --driver)  DRIVER=$2; shift 2 ;;
    --gguf)    GGUFGEN=$2; shift 2 ;;
    --libdir)  LIBDIR=$2; shift 2 ;;
    --work)    WORK=$2; shift 2 ;;
    --stories) STORIES=$2; shift 2 ;;
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

echo "peer-check: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
