#!/usr/bin/env bash
# Hostile inputs (issue 12): every case builds its input here (printf, the
# gen helper, qkvplan convert), runs qkvplan under a time bound and checks
#   - the exit code, and for a failure exactly one stderr line naming the
#     file or option and the reason, nothing on stdout;
#   - that no file outside the output path changed (checksums before/after);
#   - that no command ran (no PWNED marker anywhere), no temporary is left.
# Usage: tests/hostile/hostile_test.sh ./qkvplan build/hostile-gen
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
GEN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
W=$(mktemp -d /tmp/qkvplan-hostile.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
pass=0
fail=0
skipped=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# Checksums of every file under the work folder except the output path $1.
snap() {
    find . -path "./$1" -prune -o -path ./.hostile -prune -o -type f -print0 | sort -z |
        xargs -0 -r md5sum
}

# Temporary files and folders under $1 (planted symbolic links are not).
temporaries() {
    find "$1" \( -name '*.tmp*' -o -name '.qkvplan-*' \) ! -type l 2>/dev/null
}

# run NAME CODE PATTERN SECONDS OUTPATH ARGS...: qkvplan ARGS within SECONDS
# (under `ulimit $LIMITS` when that is set, e.g. LIMITS="-f 4").
run() {
    local name=$1 code=$2 pattern=$3 secs=$4 out=$5
    shift 5
    mkdir -p .hostile
    snap "$out" >.hostile/before
    : >.hostile/out
    if [ -n "${LIMITS:-}" ]; then
        # shellcheck disable=SC2086
        (ulimit $LIMITS; trap '' XFSZ; exec timeout -k 2 "$secs" "$BIN" "$@" >/dev/null 2>.hostile/err)
    else
        timeout -k 2 "$secs" "$BIN" "$@" >.hostile/out 2>.hostile/err
    fi
    local got=$?
    snap "$out" >.hostile/after
    if [ "$got" -eq 124 ] || [ "$got" -eq 137 ]; then
        bad "$name: timed out after $secs s"
    elif [ "$got" -ne "$code" ]; then
        bad "$name: exit $got, want $code; stderr: $(head -c 300 .hostile/err)"
    elif [ "$code" -ne 0 ] && [ "$code" -ne 4 ] && { [ "$(wc -l <.hostile/err)" -ne 1 ] ||
        ! grep -Eq -- "^qkvplan: .*$pattern" .hostile/err || [ -s .hostile/out ]; }; then
        bad "$name: stderr is not one line matching /$pattern/ (or stdout not empty): $(head -c 400 .hostile/err)"
    elif ! cmp -s .hostile/before .hostile/after; then
        bad "$name: files outside '$out' changed: $(diff .hostile/before .hostile/after | head -4)"
    elif [ -n "$(find . -name PWNED)" ]; then
        bad "$name: a command ran (PWNED exists)"
        find . -name PWNED -delete
    elif [ -n "$(temporaries .)" ]; then
        bad "$name: temporaries left: $(temporaries . | head -3)"
    else
        ok
    fi
}

# A valid config.json whose model_type is $1 (raw JSON string contents).
config() {
    printf '{"model_type": "%s", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "intermediate_size": 128}\n' "$1"
}

"$GEN" llama2c tiny.bin || exit 1
"$BIN" convert tiny.bin --to safetensors tiny-st >/dev/null || exit 1
"$BIN" convert tiny.bin --to gguf tiny.gguf >/dev/null || exit 1
head -c 4000 /dev/zero | tr '\0' 'a' >story.txt

# --- 1. gnuplot injection: names reach .gp scripts as inert text
PAY1='x\"; system \"touch PWNED\" #'
PAY2='x `touch PWNED` y'
PAY3='x\"\nsystem \"touch PWNED\"\n#'
i=0
for p in "$PAY1" "$PAY2" "$PAY3"; do
    i=$((i + 1))
    mkdir -p "inj$i" && config "$p" >"inj$i/config.json"
    run "model_type payload $i --plot" 0 '' 60 "pl$i" -m "inj$i/config.json" --plot "pl$i"
    run "model_type payload $i --report" 0 '' 60 "rp$i" -m "inj$i/config.json" --report "rp$i"
    for gp in "pl$i"/*.gp "rp$i"/plots/*.gp; do # re-drawing a saved script is safe too
        (cd "$(dirname "$gp")" && gnuplot "$(basename "$gp")" >/dev/null 2>&1)
    done
    [ -z "$(find . -name PWNED)" ] && ok || { bad "payload $i: re-running a saved .gp ran a command"; find . -name PWNED -delete; }
done
"$GEN" gguf inj.gguf 'x"; system "touch PWNED" #' 0 || exit 1
run "GGUF general.name payload" 0 '' 60 plg -m inj.gguf --plot plg
cp tiny.bin 'm"; system "touch PWNED" #.bin'
run "model file name payload (probe)" 0 '' 60 plp probe 'm"; system "touch PWNED" #.bin' -n 8 --plot plp
cp story.txt 't`touch PWNED`.txt'
run "text:FILE name payload (study)" 0 '' 120 srp study -t 'text:t`touch PWNED`.txt' -v QKV -s 1 -n 2 \
    --seq-len 8 --d-model 8 --heads 2 --report srp

# --- 2. no output replaces an input (exit 2 before writing anything)
for d in m1 m2 m3 m4 m5; do cp -r tiny-st $d; done
run "convert over its own directory" 2 "m1/model.safetensors' is the input file" 30 none convert m1 --to safetensors m1
run "convert onto a shard" 2 "is the input file" 30 none convert m2 --to gguf m2/model.safetensors
run "-o onto config.json" 2 "--output: 'm3/config.json' is the input file" 30 none -m m3 -o m3/config.json
run "probe -o onto the shard" 2 "--output: .* is the input file" 30 none probe m4 --weights -o m4/model.safetensors
run "--xlsx onto the shard" 2 "--xlsx: .* is the input file" 30 none -m m5 --xlsx m5/model.safetensors
mkdir -p pr && cp tiny.bin pr/probe.json
run "probe --report over the model" 2 "--report: 'pr/probe.json' is the input file" 30 none probe pr/probe.json --report pr
mkdir -p pp && cp tiny-st/config.json pp/kv_vs_ctx.dat
run "--plot over the config" 2 "--plot: 'pp/kv_vs_ctx.dat' is the input file" 30 none -m pp/kv_vs_ctx.dat --plot pp
ln -s m3/config.json via-link.json
run "-o through a link to the input" 2 "is the input file 'm3/config.json'" 30 none -m m3 -o via-link.json
mkdir -p sd && cp story.txt sd/study.csv
run "study --report over its text" 2 "--report: 'sd/study.csv' is the input file" 30 none study -t text:sd/study.csv \
    -v QKV -s 1 -n 2 --report sd

# --- 3. temporaries: planted links are not followed; concurrent runs coexist
mkdir -p tp && echo precious >victim.txt
for k in kv_vs_ctx memory max_ctx; do
    ln -s ../victim.txt "tp/$k.png.tmp"
    ln -s ../victim.txt "tp/$k.svg.tmp"
done
run "planted .tmp links" 0 '' 60 tp -m tiny-st --plot tp
grep -qx precious victim.txt && ok || bad "a planted link was followed"
find tp -name '*.tmp' -type l -delete
mkdir -p cc
"$BIN" -m all --report cc >/dev/null 2>cc1.err & p1=$!
"$BIN" -m all --report cc >/dev/null 2>cc2.err & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ -z "$(find cc -name '*.tmp*' -o -name '.qkvplan-*')" ]; then ok; else
    bad "two --report runs into one folder: exits $r1 $r2: $(cat cc1.err cc2.err | head -c 300)"; fi
rm -f cc1.err cc2.err

# --- 4. SIGTERM to the PID alone: gnuplot stopped, temporaries removed
for delay in 0.4 0.9 1.5; do
    rm -rf sig
    "$BIN" -m all --report sig >/dev/null 2>&1 & p=$!
    sleep $delay
    kill -TERM $p
    wait $p
    rc=$?
    sleep 0.2
    left=$(find sig -name '*.tmp*' -o -name '.qkvplan-*' 2>/dev/null | head -3)
    orphans=""
    for c in /proc/[0-9]*; do
        case "$(readlink "$c/cwd" 2>/dev/null)" in "$W"/sig*) orphans="$orphans ${c#/proc/}" ;; esac
    done
    if [ $rc -eq 143 ] && [ -z "$left" ] && [ -z "$orphans" ]; then ok; else
        bad "SIGTERM after $delay s: exit $rc, left '$left', gnuplot still running:$orphans"; fi
done
rm -rf sig

# --- 5. FIFOs and other non-regular files: refused at once, exit 3
mkfifo f.json f.gguf f.bin f.txt
mkdir -p fs && cp tiny-st/config.json fs/ && mkfifo fs/model.safetensors
run "FIFO as -m" 3 "'f.json': it is a FIFO" 5 none -m f.json
run "FIFO as probe MODEL" 3 "'f.gguf': it is a FIFO" 5 none probe f.gguf
run "FIFO as convert IN" 3 "'f.bin': it is a FIFO" 5 none convert f.bin --to gguf never.gguf
run "FIFO as text:FILE" 3 "'f.txt': it is a FIFO" 5 none study -t text:f.txt -v QKV -s 1 -n 2
run "FIFO shard" 3 "model.safetensors': it is a FIFO" 5 none probe fs --weights
run "a pipe as -m /dev/stdin" 3 "/dev/stdin': it is .*not a regular file" 5 none -m /dev/stdin <<<'{}'

# --- 6. 10^6 tensor infos: lookups by name are indexed
"$GEN" gguf many.gguf many 1000000 256 || exit 1
run "GGUF with 10^6 empty tensors, 256 layers" 0 '' 8 none probe many.gguf -n 4 -o /dev/null
rm -f many.gguf

# --- 7. names damaged nowhere: UTF-8, control characters, escapes, formulas
mkdir -p bad && config '=HYPERLINK(\"x\")\u001b[31m\u0007\nend' >bad/config.json
mkdir -p bad8 && printf '{"model_type": "ok\377\376", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "vocab_size": 100, "intermediate_size": 128}' >bad8/config.json
for d in bad bad8; do
    run "$d name: table" 0 "" 30 $d.txt -m $d -o $d.txt
    run "$d name: json" 0 "" 30 $d.json -m $d -f json -o $d.json
    run "$d name: csv" 0 "" 30 $d.csv -m $d -f csv -o $d.csv
    run "$d name: xlsx" 0 "" 30 $d.xlsx -m $d --xlsx $d.xlsx -o /dev/null
    if iconv -f UTF-8 -t UTF-8 $d.json >/dev/null 2>&1 && iconv -f UTF-8 -t UTF-8 $d.txt >/dev/null 2>&1 &&
        ! tr -d '\n' <$d.txt | grep -q "$(printf '[\001-\010\013-\037\177]')" &&
        unzip -p $d.xlsx xl/sharedStrings.xml | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 &&
        ! unzip -p $d.xlsx xl/sharedStrings.xml | grep -q "$(printf '[\001-\010\013-\037]')" &&
        ! cut -d, -f1 $d.csv | grep -q '^[=+@-]'; then ok; else bad "$d: a writer passed the name through raw"; fi
done
grep -q "'=HYPERLINK" bad.csv && ok || bad "the formula-like name is not neutralised in CSV"

# --- 8. -o through a dangling link, disk full: no truncated file
ln -s target.json dangling.json
LIMITS="-f 4" run "-o through a dangling link, file size limit" 1 "cannot write .dangling.json." 30 none -m all -f json -o dangling.json
[ ! -e target.json ] && ok || bad "a truncated target.json was left"
# the same with room: written through the link, the link kept
run "-o through a dangling link" 0 '' 30 target.json -f json -o dangling.json
[ -L dangling.json ] && grep -q '"kv_bytes"' target.json && ok || bad "-o through a dangling link did not write its target"

# --- low items
cp tiny.gguf nan.gguf && printf '\000\000\300\177' | dd of=nan.gguf bs=1 seek=$(($(stat -c %s nan.gguf) - 4)) conv=notrunc status=none
run "NaN weight in GGUF" 3 "'nan.gguf': tensor 'blk.1.ffn_down.weight' holds a non-finite value" 30 none probe nan.gguf -n 4
cp -r tiny-st nan-st && printf '\000\000\200\177' | dd of=nan-st/model.safetensors bs=1 seek=$(($(stat -c %s nan-st/model.safetensors) - 4)) conv=notrunc status=none
run "Inf weight in safetensors" 3 "tensor 'model.layers.1.mlp.down_proj.weight' holds a non-finite value" 30 none probe nan-st -n 4

"$BIN" study -t reverse -v 'QKV,(Q=K=V)+' -s 1 -n 2 --d-model 8 --heads 2 --seq-len 4 --report sm >/dev/null 2>&1
run "probe of a bidirectional model" 2 "bidirectional model.*--tokens" 30 none probe sm/models/reverse_4-QKV.qkvm --report newdir
[ ! -e newdir ] && ok || bad "failed probe --report left 'newdir'"
run "convert of a study model" 3 "converting writes Llama-family models" 30 none convert sm/models/reverse_4-QeqKeqVplus.qkvm --to safetensors newconv
[ ! -e newconv ] && ok || bad "failed convert left 'newconv'"

mkdir -p big && printf '{"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000, "intermediate_size": 14336}' >big/config.json
run "-m file with --ctx 4G --seqs 1M" 2 "--ctx 4294967296 with --seqs 1048576: .*overflows" 30 none -m big --ctx 4G --seqs 1048576
run "-m file with --heads 1" 2 "--heads 1: .*do not divide" 30 none -m big --heads 1

"$GEN" gguf-overlap overlap.gguf
run "GGUF overlap hidden by an empty tensor" 3 "tensors 'A' and 'B' overlap" 30 none -m overlap.gguf
"$GEN" gguf-dup dup.gguf
run "GGUF tensor listed twice" 3 "tensor 'token_embd.weight' is listed twice" 30 none -m dup.gguf
cp tiny-st/config.json config.json
# safetensors: a [0,16), z empty at 10, b [12,16)
st_file() { # OUT JSON DATA_BYTES
    local n=${#2}
    printf "$(printf '\\%03o\\%03o\\000\\000\\000\\000\\000\\000' $((n % 256)) $((n / 256)))" >"$1"
    printf '%s' "$2" >>"$1"
    head -c "$3" /dev/zero >>"$1"
}
st_file ov.safetensors '{"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},"z":{"dtype":"U8","shape":[0],"data_offsets":[10,10]},"b":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}}' 16
run "safetensors overlap hidden by an empty tensor" 3 "tensors 'a' and 'b' overlap" 30 none probe ov.safetensors --weights
st_file frac.safetensors '{"a":{"dtype":"U8","shape":[16],"data_offsets":[0.5,16.5]}}' 17
run "fractional safetensors offsets" 3 "tensor 'a' has data_offsets \[0.5, 16.5\]: not whole" 30 none probe frac.safetensors --weights
st_file dupst.safetensors '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}' 8
run "safetensors tensor named twice" 3 "names tensor 'a' twice" 30 none probe dupst.safetensors --weights
mkdir -p dupkey && printf '{"model_type":"llama","num_hidden_layers":2,"num_hidden_layers":4,"hidden_size":64,"num_attention_heads":4,"vocab_size":100,"intermediate_size":128}' >dupkey/config.json
run "duplicate JSON key" 3 "key 'num_hidden_layers' appears twice" 30 none -m dupkey
mkdir -p trail && { config llama; echo '{}'; } >trail/config.json
run "text after the JSON object" 3 "text follows the object at byte" 30 none -m trail

run "--kv-heads list over 511 bytes" 2 "--kv-heads: the list is .* bytes long" 30 none --kv-heads "$(printf '1,%.0s' $(seq 1 300))1"
run "33 study variants" 2 "--variants: the list has more than 32 entries" 30 none study -v "$(printf 'QKV,%.0s' $(seq 1 32))QKV"

run "-m llama2.c checkpoint" 3 "'tiny.bin' is a binary file .*llama2.c" 30 none -m tiny.bin
run "-m .qkvm" 3 "is a qkvplan model \(.qkvm\), not a config.json" 30 none -m sm/models/reverse_4-QKV.qkvm
run "--lr 1e-320" 2 "--lr '1e-320': must be a number from 1e-12 to 1" 30 none study --lr 1e-320
run "newline and escape in an argument" 2 "--ctx 'a\\\\nb\\\\x1B\[31m': is not a number" 30 none --ctx "$(printf 'a\nb\033[31m')"
LIMITS="-f 8" run "libxlsxwriter's messages folded into one line" 1 "cannot write 'big.xlsx': .*\(File too large\)" 30 none -m all --xlsx big.xlsx
mkdir -p deep && { printf '{"model_type":"llama","num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"vocab_size":100,"intermediate_size":128,"x":['; head -c 6000000 /dev/zero | tr '\0' '1' | sed 's/1/1,/g'; printf '1]}'; } >deep/config.json
# (AddressSanitizer reserves terabytes of address space: no address-space limit there)
if [ -z "${HOSTILE_NO_VLIMIT:-}" ]; then
    LIMITS="-v 400000" run "out of memory while parsing" 1 "out of memory parsing 'deep/config.json'" 60 none -m deep
else
    skipped=$((skipped + 1)); echo "SKIP: out of memory while parsing: no address-space limit under AddressSanitizer"
fi

echo secret >mode.txt && chmod 600 mode.txt
run "-o over a 0600 file" 0 '' 30 mode.txt -o mode.txt
[ "$(stat -c %a mode.txt)" = 600 ] && ok || bad "-o changed a 0600 file to $(stat -c %a mode.txt)"

if command -v script >/dev/null; then
    script -qc "'$BIN' probe tiny.bin -n 16 -o /dev/null" /dev/null >progress.txt 2>&1
    grep -q 'sampling tokens: 16/16' progress.txt && ok || bad "probe shows no progress on a terminal"
else
    skipped=$((skipped + 1)); echo "SKIP: probe progress on a terminal: no script(1) to make one"
fi

echo "hostile: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ] && [ "$pass" -ge 60 ]
