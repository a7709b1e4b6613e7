# nnlua -- see README.md. Targets: all (./nnlua), deps, test, test-asan, bench, bench-tensor, bench-data, clean.
PKGS    = lua5.4 libpng libedit libcjson zlib cairo freetype2
DEBS    = liblua5.4-dev libpng-dev zlib1g-dev libdnnl-dev libedit-dev libcjson-dev \
          libopenblas-dev libcairo2-dev fonts-dejavu-core pkg-config make gcc \
          dataset-fashion-mnist tmux
BENCH_DEBS = python3-torch python3-torchvision lua5.4 gdb
FUZZ_DEBS  = clang-14 libclang-rt-14-dev libomp-14-dev

OPT    ?= -O3 -march=native
SAN    ?=
CFLAGS ?= -g $(OPT)
CFLAGS += $(SAN) -std=c11 -D_DEFAULT_SOURCE -fno-math-errno -fopenmp -Wall -Wextra -Wshadow -Wmissing-prototypes \
          -MMD -MP -I. $(shell pkg-config --cflags $(PKGS))
LDLIBS += $(SAN) $(shell pkg-config --libs $(PKGS)) -ldnnl -fopenmp -lm

BUILD  ?= build
CORE    = $(patsubst %.c,$(BUILD)/%.o,$(wildcard nn/*.c))
HOST    = $(patsubst %.c,$(BUILD)/%.o,$(wildcard bindings/*.c vm/*.c))
CTESTS  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/c/*.c))

all: nnlua

nnlua: $(BUILD)/nnlua
	cp $< $@

$(BUILD)/nnlua: $(HOST) $(BUILD)/libnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/libnn.a: $(CORE)
	rm -f $@; ar rcs $@ $^

$(BUILD)/tests/c/run: $(CTESTS) $(BUILD)/libnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

test: nnlua $(BUILD)/tests/c/run
	NNLUA=./nnlua CTEST=$(BUILD)/tests/c/run tests/run

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer, in their own build folder.
test-asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -march=native" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build-asan/nnlua build-asan/tests/c/run
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  NNLUA=build-asan/nnlua CTEST=build-asan/tests/c/run NNLUA_ASAN=1 tests/run

# Installs every Debian package the project needs; apt-get update only when one is missing.
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

deps-bench:
	@$(MAKE) --no-print-directory deps DEBS="$(BENCH_DEBS)"

$(BUILD)/bench/%: bench/%.c $(BUILD)/libnn.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.a,$^) $(LDFLAGS) $(LDLIBS) -lopenblas

bench-tensor: $(BUILD)/bench/bench_tensor
	$(BUILD)/bench/bench_tensor

# One epoch of FashionMNIST batches: nnlua against PyTorch and memcpy (needs make deps-bench).
bench-data: nnlua $(BUILD)/bench/bench_memcpy
	./nnlua bench/bench_data.lua $(BUILD)/bench/bench_memcpy

# The one report: nnlua side by side with PyTorch, the GEMM floor, start-up, data and
# optimizers (bench/README.md; about 3-5 minutes; PyTorch rows need make deps-bench).
BENCH_BINS = $(addprefix $(BUILD)/bench/,floor startup optim_bw bench_memcpy)
bench: nnlua $(BENCH_BINS)
	./nnlua bench/bench.lua $(BUILD)

# libFuzzer harnesses of the PNG and IDX readers (tests/fuzz/README.md), built with clang
# from the sources they need (ctx.c pulls in rng.c and gemm.c, hence oneDNN), not libnn.a.
# `make fuzz FUZZ_SECONDS=300` runs both at once; new inputs and crashes go to build/fuzz.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_OUT      = $(BUILD)/fuzz
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -I. \
                $(shell pkg-config --cflags libpng zlib)
FUZZ_LIBS     = $(shell pkg-config --libs libpng zlib) -ldnnl -lgomp -lm
FUZZ_CORE     = nn/png.c nn/atomic.c nn/idx.c nn/ctx.c nn/rng.c nn/gemm.c
FUZZ_ENV      = UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=max_allocation_size_mb=300
FUZZ_RUN      = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_CORE) $(wildcard nn/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_OUT)/fuzz_png $(FUZZ_OUT)/fuzz_idx

fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)/corpus/png $(FUZZ_OUT)/corpus/idx $(FUZZ_OUT)/crashes
	@echo "fuzzing PNG and IDX for $(FUZZ_SECONDS) s each, at once; logs in $(FUZZ_OUT)/*.log"
	@$(FUZZ_ENV) $(FUZZ_OUT)/fuzz_png $(FUZZ_RUN) -dict=tests/fuzz/png.dict \
	  -artifact_prefix=$(FUZZ_OUT)/crashes/png- $(FUZZ_OUT)/corpus/png tests/fuzz/corpus/png \
	  >$(FUZZ_OUT)/png.log 2>&1 & p=$$!; \
	$(FUZZ_ENV) $(FUZZ_OUT)/fuzz_idx $(FUZZ_RUN) \
	  -artifact_prefix=$(FUZZ_OUT)/crashes/idx- $(FUZZ_OUT)/corpus/idx tests/fuzz/corpus/idx \
	  >$(FUZZ_OUT)/idx.log 2>&1 & i=$$!; \
	wait $$p; rp=$$?; wait $$i; ri=$$?; \
	for f in png idx; do echo "== $$f"; \
	  grep -E '^(Done|#[0-9]+.*DONE|stat::number_of_executed_units)|ERROR|SUMMARY' \
	    $(FUZZ_OUT)/$$f.log; done; \
	echo "fuzz_png exit $$rp, fuzz_idx exit $$ri"; [ $$rp = 0 ] && [ $$ri = 0 ]

# The safetensors reader's harness needs the tensor core (and data.c needs png.c):
# every nn/*.c but plotting. `make fuzz` runs it after the PNG and IDX ones.
FUZZ_ST_CORE  = $(filter-out nn/canvas.c nn/plot.c nn/plot_image.c,$(wildcard nn/*.c))

$(FUZZ_OUT)/fuzz_safetensors: tests/fuzz/fuzz_safetensors.c $(FUZZ_ST_CORE) $(wildcard nn/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fopenmp -o $@ $< $(FUZZ_ST_CORE) $(FUZZ_LIBS) -lcjson

fuzz-build: $(FUZZ_OUT)/fuzz_safetensors
fuzz: fuzz-safetensors

fuzz-safetensors: $(FUZZ_OUT)/fuzz_safetensors
	@mkdir -p $(FUZZ_OUT)/corpus/safetensors $(FUZZ_OUT)/crashes
	@echo "fuzzing safetensors for $(FUZZ_SECONDS) s; log in $(FUZZ_OUT)/safetensors.log"
	@$(FUZZ_ENV) $(FUZZ_OUT)/fuzz_safetensors $(FUZZ_RUN) -dict=tests/fuzz/safetensors.dict \
	  -artifact_prefix=$(FUZZ_OUT)/crashes/safetensors- $(FUZZ_OUT)/corpus/safetensors \
	  tests/fuzz/corpus/safetensors >$(FUZZ_OUT)/safetensors.log 2>&1; r=$$?; \
	grep -E '^(Done|#[0-9]+.*DONE|stat::number_of_executed_units)|ERROR|SUMMARY' \
	  $(FUZZ_OUT)/safetensors.log; echo "fuzz_safetensors exit $$r"; [ $$r = 0 ]

.PHONY: fuzz-safetensors

# Installs clang and libFuzzer for make fuzz.
deps-fuzz:
	@$(MAKE) --no-print-directory deps DEBS="$(FUZZ_DEBS)"

.PHONY: fuzz fuzz-build deps-fuzz

clean:
	rm -rf build build-asan nnlua

.PHONY: all test test-asan deps deps-bench bench bench-tensor bench-data clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
