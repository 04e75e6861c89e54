# qkvplan — plain, strict Makefile. `make V=1` shows the commands.

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
WERROR   ?=

# Debian packages qkvplan builds and tests with (see `make deps`).
DEB_PACKAGES := build-essential pkg-config libcjson-dev libxlsxwriter-dev check \
                libopenblas-dev liblapacke-dev gnuplot-nox unzip clang libclang-rt-14-dev valgrind \
                clang-format parallel

PKG_CFLAGS := $(shell pkg-config --cflags libcjson openblas lapacke xlsxwriter 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libcjson openblas lapacke xlsxwriter 2>/dev/null) -lpthread
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -I. $(WARN) $(if $(WERROR),-Werror) $(CFLAGS) \
              $(PKG_CFLAGS) -MMD -MP
LDLIBS_ALL := $(PKG_LIBS) -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_DIRS  := analyzer analyzer/core analyzer/formats probes probes/runtime probes/train \
             reports reports/plan reports/probe reports/study reports/generate
LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRC   := $(filter-out cli/main.c,$(wildcard cli/*.c))
TEST_SRC  := $(wildcard tests/*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libqkvplan.a

.PHONY: all deps check check-model test-unit test-cli test-layout demo doc install uninstall clean asan valgrind \
        bench fuzz fuzz-bins mutants format format-check

all: qkvplan

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

qkvplan: $(BUILD)/cli/main.o $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/run-tests: $(TEST_OBJ) $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS_ALL)

BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# Installs the Debian packages above that are missing (apt-get; needs root or sudo).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The README's test command: every Check suite and the CLI tests, under LC_ALL=C,
# with temporaries in a private folder that must be empty afterwards.
CHECK_TMP := $(CURDIR)/$(BUILD)/check-tmp
check: deps check-model
	$(Q)rm -rf $(CHECK_TMP) && mkdir -p $(CHECK_TMP)
	$(Q)TMPDIR=$(CHECK_TMP) $(MAKE) --no-print-directory test-unit test-cli test-layout
	$(Q)if [ -n "$$(ls -A $(CHECK_TMP))" ]; then \
	  echo "check: the tests left temporaries behind:" $$(ls -A $(CHECK_TMP)); exit 1; fi
	$(Q)rmdir $(CHECK_TMP)

# The bundled test model is the one its README describes.
check-model:
	$(Q)cd examples/models && sha256sum --quiet -c SHA256SUMS

test-unit: $(BUILD)/run-tests
	$(Q)LC_ALL=C CK_DEFAULT_TIMEOUT=60 ./$(BUILD)/run-tests

test-cli: qkvplan $(BUILD)/hostile-gen
	$(Q)LC_ALL=C bash tests/cli_test.sh ./qkvplan
	$(Q)LC_ALL=C bash tests/malformed_test.sh ./qkvplan
	$(Q)LC_ALL=C bash tests/hostile/hostile_test.sh ./qkvplan $(BUILD)/hostile-gen

# The layering rules of ARCHITECTURE.md, on the include lines and the objects.
test-layout: $(LIB) $(CLI_OBJ)
	$(Q)BUILD=$(BUILD) bash tests/layout_check.sh

# The hostile-input suite's file generator (tests/hostile/gen.c, standalone).
$(BUILD)/hostile-gen: tests/hostile/gen.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -o $@ $<

# The README's main job.
demo: deps
	$(Q)$(MAKE) --no-print-directory qkvplan
	./qkvplan --device 8GB --ctx 32k

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# in a separate build directory. CK_FORK=no keeps leaks in the test process.
asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  CFLAGS="-O1 -g" build-asan/run-tests qkvplan-asan build-asan/hostile-gen
	$(Q)LC_ALL=C CK_FORK=no ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./build-asan/run-tests
	$(Q)LC_ALL=C ASAN_OPTIONS=detect_leaks=1 bash tests/cli_test.sh ./build-asan/qkvplan
	$(Q)LC_ALL=C ASAN_OPTIONS=detect_leaks=1 bash tests/malformed_test.sh ./build-asan/qkvplan
	$(Q)LC_ALL=C ASAN_OPTIONS=detect_leaks=1 HOSTILE_NO_VLIMIT=1 \
	  bash tests/hostile/hostile_test.sh ./build-asan/qkvplan build-asan/hostile-gen

# The CLI tests with every qkvplan run under valgrind memcheck: any error or
# definite leak fails the run (exit 99 from valgrind, caught by the scripts).
valgrind: deps
	$(Q)$(MAKE) --no-print-directory qkvplan
	$(Q)mkdir -p build && printf '#!/bin/sh\nexec %s -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite %s/qkvplan "$$@"\n' "$$(command -v valgrind)" "$$(pwd)" > build/qkvplan-vg && chmod +x build/qkvplan-vg
	$(Q)LC_ALL=C bash tests/cli_test.sh ./build/qkvplan-vg
	$(Q)LC_ALL=C bash tests/malformed_test.sh ./build/qkvplan-vg

qkvplan-asan: $(BUILD)/cli/main.o $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $(BUILD)/qkvplan")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $(BUILD)/qkvplan $^ $(LDLIBS_ALL)

# The house style (.clang-format): `make format` applies it, `make
# format-check` lists the files that do not follow it and fails.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^tests/peer/')
format:
	$(Q)clang-format -i $(FORMAT_FILES)
format-check:
	$(Q)bad=""; for f in $(FORMAT_FILES); do clang-format "$$f" | cmp -s - "$$f" || bad="$$bad $$f"; done; \
	if [ -n "$$bad" ]; then echo "format-check: not in the house style:$$bad"; exit 1; fi

# Mutation check: the test suite must fail on each deliberate bug in
# tests/mutants/*.patch (built in copies under build-mutants/).
mutants: qkvplan $(BUILD)/run-tests check-model
	$(Q)LC_ALL=C bash tests/mutants/run.sh

# Benchmarks print their figures; nothing here is timed in `make check`.
# bench_generate runs qkvplan beside the real llama.cpp of the peer check
# (peer-install: npm node-llama-cpp@3.21.1); without it, it says so and the
# other figures are still printed.
bench: $(BENCH_BIN) qkvplan
	$(Q)./$(BUILD)/bench/bench_plan ./qkvplan
	$(Q)./$(BUILD)/bench/bench_runtime
	$(Q)./$(BUILD)/bench/bench_formats
	$(Q)./$(BUILD)/bench/bench_lm
	$(Q)if $(MAKE) --no-print-directory $(BUILD)/peer/peer_driver $(BUILD)/peer/peer_gguf >/dev/null; then \
	  ./$(BUILD)/bench/bench_generate ./qkvplan $(BUILD)/peer/peer_driver $(PEER_LIBDIR) $(BUILD)/peer/peer_gguf; \
	else echo "generate vs llama.cpp: skipped (the peer check's llama.cpp could not be installed)"; fi

# libFuzzer harnesses (clang, AddressSanitizer + UBSan) for every parser.
# `make fuzz FUZZ_SECONDS=N` runs each target for N seconds from the seeds in
# tests/fuzz/seeds/TARGET (copied to a working corpus under build-fuzz/) and
# fails on the first crash, leak or timeout, leaving the input in build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := units variants hfconfig llama2c safetensors gguf cli
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

fuzz: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_FLAGS)" CFLAGS="-O1 -g" fuzz-bins
	$(Q)set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; cp -n tests/fuzz/seeds/$$t/* build-fuzz/corpus/$$t/ 2>/dev/null || true; \
	  echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
	  ./build-fuzz/fuzz_$$t build-fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 -artifact_prefix=$(CURDIR)/build-fuzz/crash-$$t- -print_final_stats=1 \
	    2> build-fuzz/fuzz_$$t.log || { tail -40 build-fuzz/fuzz_$$t.log; exit 1; }; \
	  grep -E "^stat::number_of_executed_units|cov: " build-fuzz/fuzz_$$t.log | tail -2; \
	done

fuzz-bins: $(addprefix $(BUILD)/fuzz_,$(FUZZ_TARGETS))

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)

# The manual page and shell completions, generated by qkvplan itself from
# the option tables behind --help (cli/doc.h).
DOC_DIR  := $(BUILD)/doc
DOC_OUT  := $(DOC_DIR)/qkvplan.1 $(DOC_DIR)/qkvplan.bash $(DOC_DIR)/_qkvplan
MAN_DIR  := $(DESTDIR)$(PREFIX)/share/man/man1
BASH_DIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_DIR  := $(DESTDIR)$(PREFIX)/share/zsh/site-functions

doc: $(DOC_OUT)

$(DOC_DIR)/qkvplan.1: qkvplan
	@mkdir -p $(dir $@)
	$(Q)./qkvplan man > $@.tmp && mv $@.tmp $@

$(DOC_DIR)/qkvplan.bash: qkvplan
	@mkdir -p $(dir $@)
	$(Q)./qkvplan completion bash > $@.tmp && mv $@.tmp $@

$(DOC_DIR)/_qkvplan: qkvplan
	@mkdir -p $(dir $@)
	$(Q)./qkvplan completion zsh > $@.tmp && mv $@.tmp $@

install: qkvplan $(DOC_OUT)
	install -d $(DESTDIR)$(PREFIX)/bin $(MAN_DIR) $(BASH_DIR) $(ZSH_DIR)
	install -m 0755 qkvplan $(DESTDIR)$(PREFIX)/bin/qkvplan
	install -m 0644 $(DOC_DIR)/qkvplan.1 $(MAN_DIR)/qkvplan.1
	install -m 0644 $(DOC_DIR)/qkvplan.bash $(BASH_DIR)/qkvplan
	install -m 0644 $(DOC_DIR)/_qkvplan $(ZSH_DIR)/_qkvplan

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/qkvplan $(MAN_DIR)/qkvplan.1 $(BASH_DIR)/qkvplan $(ZSH_DIR)/_qkvplan

clean:
	rm -rf build build-asan build-fuzz build-mutants qkvplan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(BUILD)/cli/main.d $(BUILD)/hostile-gen.d

# Peer check: the planner's KV bytes and refusals against the real llama.cpp.
# `make peer-check` installs npm node-llama-cpp@3.21.1 — prebuilt llama.cpp
# release v0.4.0 (commit 5b4ebc5) for linux-x64 plus its source as a git
# bundle — into PEER_DIR, builds tests/peer/ against it and runs
# tests/peer/peer_check.sh. Needs npm and the npm registry; says so otherwise.
PEER_NPM_PKG := node-llama-cpp@3.21.1
PEER_LLAMA   := v0.4.0
PEER_DIR     ?= $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)/qkvplan-peer
PEER_LIBDIR  := $(PEER_DIR)/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
PEER_SRC     := $(PEER_DIR)/llama.cpp
STORIES260K  ?= examples/models/stories260K.bin
PEER_LIBS    := -L$(PEER_LIBDIR) -l:libllama.$(PEER_LLAMA).so -l:libggml.$(PEER_LLAMA).so \
                -l:libggml-base.so -Wl,-rpath,$(PEER_LIBDIR) -ldl
# The same release built for Vulkan: on Debian's software Vulkan device
# (mesa-vulkan-drivers: llvmpipe) it offloads layers for real, and logs the
# model, KV and compute buffers of every device (the offload cases).
PEER_VK_PKG    := @node-llama-cpp/linux-x64-vulkan@3.21.1
PEER_VK_LIBDIR := $(PEER_DIR)/node_modules/@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan
PEER_VK_LIBS   := -L$(PEER_VK_LIBDIR) -l:libllama.vulkan.$(PEER_LLAMA).so \
                  -l:libggml.vulkan.$(PEER_LLAMA).so -l:libggml-base.so -Wl,-rpath,$(PEER_VK_LIBDIR) -ldl
PEER_DEB_PACKAGES := mesa-vulkan-drivers libvulkan1

.PHONY: peer-check peer-install peer-deps

# Debian's software Vulkan device for the offload cases (apt-get; needs root
# or sudo), or a message saying what to install.
peer-deps:
	$(Q)missing=""; for p in $(PEER_DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "peer-check: installing$$missing (the software Vulkan device llama.cpp offloads to)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; } || { \
	    echo "peer-check: could not install$$missing; run: apt-get install$$missing" >&2; exit 1; }; \
	fi

peer-install:
	$(Q)if [ ! -f $(PEER_LIBDIR)/libllama.$(PEER_LLAMA).so ]; then \
	  command -v npm >/dev/null 2>&1 || { echo "peer-check: npm is not installed; it is needed to fetch $(PEER_NPM_PKG)" >&2; exit 1; }; \
	  mkdir -p $(PEER_DIR) && echo "peer-check: installing $(PEER_NPM_PKG) into $(PEER_DIR)"; \
	  npm install --prefix $(PEER_DIR) --ignore-scripts --no-audit --no-fund --omit=optional \
	    $(PEER_NPM_PKG) @node-llama-cpp/linux-x64@3.21.1 >$(PEER_DIR)/npm.log 2>&1 || { \
	    tail -5 $(PEER_DIR)/npm.log >&2; \
	    echo "peer-check: npm could not install $(PEER_NPM_PKG) (is the npm registry reachable?); log in $(PEER_DIR)/npm.log" >&2; exit 1; }; \
	fi
	$(Q)if [ ! -f $(PEER_VK_LIBDIR)/libllama.vulkan.$(PEER_LLAMA).so ]; then \
	  command -v npm >/dev/null 2>&1 || { echo "peer-check: npm is not installed; it is needed to fetch $(PEER_VK_PKG)" >&2; exit 1; }; \
	  echo "peer-check: installing $(PEER_VK_PKG) into $(PEER_DIR)"; \
	  npm install --prefix $(PEER_DIR) --ignore-scripts --no-audit --no-fund --omit=optional \
	    $(PEER_NPM_PKG) @node-llama-cpp/linux-x64@3.21.1 $(PEER_VK_PKG) >$(PEER_DIR)/npm-vk.log 2>&1 || { \
	    tail -5 $(PEER_DIR)/npm-vk.log >&2; \
	    echo "peer-check: npm could not install $(PEER_VK_PKG) (is the npm registry reachable?); log in $(PEER_DIR)/npm-vk.log" >&2; exit 1; }; \
	fi
	$(Q)test -f $(PEER_SRC)/include/llama.h || { rm -rf $(PEER_SRC) && \
	  git clone -q $(PEER_DIR)/node_modules/node-llama-cpp/llama/gitRelease.bundle $(PEER_SRC) 2>/dev/null; } || { \
	  echo "peer-check: cannot clone the llama.cpp source bundle of $(PEER_NPM_PKG)" >&2; exit 1; }

$(BUILD)/peer/peer_gguf: tests/peer/peer_gguf.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $<

$(BUILD)/peer/peer_driver: tests/peer/peer_driver.c | peer-install
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=c11 $(WARN) $(if $(WERROR),-Werror) $(CFLAGS) -isystem $(PEER_SRC)/include \
	  -isystem $(PEER_SRC)/ggml/include -o $@ $< -rdynamic $(PEER_LIBS)

$(BUILD)/peer/peer_driver_vk: tests/peer/peer_driver.c | peer-install
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (Vulkan)")
	$(Q)$(CC) -std=c11 $(WARN) $(if $(WERROR),-Werror) $(CFLAGS) -isystem $(PEER_SRC)/include \
	  -isystem $(PEER_SRC)/ggml/include -o $@ $< -rdynamic $(PEER_VK_LIBS)

peer-check: qkvplan $(BUILD)/peer/peer_gguf $(BUILD)/peer/peer_driver $(BUILD)/peer/peer_driver_vk peer-deps
	$(Q)LC_ALL=C bash tests/peer/peer_check.sh --qkvplan ./qkvplan --driver $(BUILD)/peer/peer_driver \
	  --gguf $(BUILD)/peer/peer_gguf --libdir $(PEER_LIBDIR) --work $(BUILD)/peer/work \
	  --stories $(STORIES260K) --driver-vk $(BUILD)/peer/peer_driver_vk --libdir-vk $(PEER_VK_LIBDIR)
