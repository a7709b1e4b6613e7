# nnlua -- see README.md. Targets: all (./nnlua), deps, test, test-asan, bench, bench-tensor, clean.
PKGS    = lua5.4 libpng libedit libcjson zlib
DEBS    = liblua5.4-dev libpng-dev zlib1g-dev libdnnl-dev libedit-dev libcjson-dev \
          libopenblas-dev pkg-config make gcc dataset-fashion-mnist
BENCH_DEBS = python3-torch python3-torchvision

OPT    ?= -O3 -march=native
SAN    ?=
CFLAGS ?= -g $(OPT)
CFLAGS += $(SAN) -std=c11 -D_DEFAULT_SOURCE -fopenmp -Wall -Wextra -Wshadow -Wmissing-prototypes \
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

bench: bench-tensor

clean:
	rm -rf build build-asan nnlua

.PHONY: all test test-asan deps deps-bench bench bench-tensor clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
