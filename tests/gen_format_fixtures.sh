#!/usr/bin/env bash
# Writes the malformed safetensors and GGUF files under tests/fixtures/formats/.
# Each is the smallest file that shows one defect; tests/cli_test.sh checks
# qkvplan's exit code and message for every one. Run from the repository root.
set -eu
D=tests/fixtures/formats
mkdir -p "$D"
u64() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x' \
    $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) $(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 )) \
    $(( ($1 >> 32) & 255 )) $(( ($1 >> 40) & 255 )) $(( ($1 >> 48) & 255 )) $(( ($1 >> 56) & 255 )))"; }
u32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) \
    $(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 )))"; }
st() { # name header-json data-bytes
    local h=$2; { u64 ${#h}; printf '%s' "$h"; head -c "$3" /dev/zero; } > "$D/$1.safetensors"
    printf '{"model_type":"llama","num_hidden_layers":1,"hidden_size":4,"num_attention_heads":2,"intermediate_size":8,"vocab_size":4}\n' > "$D/config.json"
}
st st-good '{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}' 16
{ u64 4; printf '{"a"'; } > "$D/st-truncated.safetensors"
{ u64 1000000; printf '{}'; } > "$D/st-header-past-end.safetensors"
head -c 5 /dev/zero > "$D/st-too-short.safetensors"
st st-offsets-out-of-range '{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,64]}}' 16
st st-offsets-mismatch '{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}' 16
st st-overlap '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}' 16
st st-unknown-dtype '{"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}' 8
st st-overflow '{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}' 8
st st-not-object '[1,2,3]' 0
st st-no-offsets '{"a":{"dtype":"F32","shape":[2]}}' 8
# GGUF
gguf_head() { printf 'GGUF'; u32 3; u64 $1; u64 $2; }
gstr() { u64 ${#1}; printf '%s' "$1"; }
{ printf 'GGUX'; u32 3; u64 0; u64 0; } > "$D/gguf-bad-magic.gguf"
{ gguf_head 0 1; gstr general.name; u32 8; u64 1000000000; printf 'x'; } > "$D/gguf-string-past-end.gguf"
{ gguf_head 0 1; gstr general.list; u32 9; u32 4; u64 4000000000; } > "$D/gguf-array-too-long.gguf"
{ gguf_head 0 1; gstr k; u32 9; u32 9; u64 1; u32 9; u64 1; u32 9; u64 1; u32 9; u64 1; u32 9; u64 1; u32 4; u64 1; u32 7; } > "$D/gguf-deep-nesting.gguf"
{ gguf_head 4000000000 4000000000; } > "$D/gguf-billions.gguf"
{ gguf_head 1 1; gstr general.architecture; u32 8; gstr llama; gstr t; u32 2; u64 4294967296; u64 4294967296; u32 0; u64 0; } > "$D/gguf-dims-overflow.gguf"
{ gguf_head 1 1; gstr general.architecture; u32 8; gstr llama; gstr t; u32 1; u64 8; u32 0; u64 4096; head -c 64 /dev/zero; } > "$D/gguf-tensor-past-end.gguf"
{ gguf_head 0 1; gstr general.architecture; u32 8; gstr llama; } > "$D/gguf-missing-keys.gguf"
{ gguf_head 1 1; gstr general.architecture; u32 8; gstr llama; gstr t; u32 1; u64 8; u32 99; u64 0; } > "$D/gguf-unknown-type.gguf"
printf 'GGUF' > "$D/gguf-truncated.gguf"
