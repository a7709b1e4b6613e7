# nnlua -- see README.md. Targets:
#   all (./nnlua, types/)  test  test-asan  clean  types (editor definitions)
#   deps (Debian packages)  deps-bench (PyTorch, for make bench)  deps-fuzz (clang, libFuzzer)
#   bench (nnlua beside PyTorch)  bench-tensor  bench-data
#   fuzz  fuzz-build (libFuzzer harnesses, tests/fuzz/README.md)
#   install-kernel (the nnlua kernel for Jupyter, docs/jupyter.md)
PKGS    = lua5.4 libpng libedit libcjson zlib cairo freetype2
DEBS    = liblua5.4-dev libpng-dev zlib1g-dev libdnnl-dev libedit-dev libcjson-dev \
          libopenblas-dev libcairo2-dev libgif-dev fonts-dejavu-core pkg-config make gcc \
          dataset-fashion-mnist tmux lua-argparse python3-torch python3-numpy \
          jupyter-notebook jupyter-nbconvert jupyter-client python3-ipykernel python3-nbclient \
          poppler-utils
BENCH_DEBS = python3-torch python3-torchvision lua5.4 gdb
FUZZ_DEBS  = clang-14 libclang-rt-14-dev libomp-14-dev

OPT    ?= -O3 -march=native
SAN    ?=
CFLAGS ?= -g $(OPT)
# -ffp-contract=off (also implied by -std=c11): no a * b + c becomes an FMA unless the code
# says fmaf, so every build (native, portable, each copy of nn/dispatch.h) gives the same bits
CFLAGS += $(SAN) -std=c11 -ffp-contract=off -D_DEFAULT_SOURCE -fno-math-errno -fopenmp -Wall -Wextra -Wshadow \
          -Wmissing-prototypes -MMD -MP -I. $(shell pkg-config --cflags $(PKGS))
LDLIBS += $(SAN) $(shell pkg-config --libs $(PKGS)) -lgif -ldnnl -fopenmp -lm   # giflib ships no .pc

BUILD  ?= build
NN_DIRS = nn nn/io nn/data nn/plot
NN_SRC  = $(foreach d,$(NN_DIRS),$(wildcard $(d)/*.c))
NN_HDR  = $(foreach d,$(NN_DIRS),$(wildcard $(d)/*.h))
CORE    = $(patsubst %.c,$(BUILD)/%.o,$(NN_SRC))
HOST    = $(patsubst %.c,$(BUILD)/%.o,$(wildcard bindings/*.c vm/*.c))
CTESTS  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/c/*.c))

all: nnlua types

nnlua: $(BUILD)/nnlua
	cp $< $@

# lua-language-server definitions of the whole API (---@meta files, one per module), made by
# nnlua.help from the Reference sections of docs/*.md; point an editor at types/ (README.md).
types: types/tensor.lua
types/tensor.lua: nnlua stdlib/nnlua/help.lua $(wildcard docs/*.md)
	./nnlua -e 'require("nnlua.help").write_definitions("types")'

$(BUILD)/nnlua: $(HOST) $(BUILD)/libnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/libnn.a: $(CORE)
	rm -f $@; ar rcs $@ $^

$(BUILD)/tests/c/run: $(CTESTS) $(BUILD)/libnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

test: nnlua $(BUILD)/tests/c/run dist
	NNLUA=./nnlua CTEST=$(BUILD)/tests/c/run tests/run

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer, in their own build folder.
ASAN_VARS = BUILD=build-asan OPT="-O1 -march=native" \
  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
test-asan:
	$(MAKE) $(ASAN_VARS) build-asan/nnlua build-asan/tests/c/run
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

# Registers the nnlua kernel with Jupyter (docs/jupyter.md): for this user, or
# under KERNEL_PREFIX/share/jupyter/kernels when given. The kernel runs this
# checkout's ./nnlua, under Debian's Python (where python3-ipykernel is).
KERNEL_PYTHON ?= /usr/bin/python3
KERNEL_PREFIX ?=
.PHONY: install-kernel
install-kernel: nnlua
	$(KERNEL_PYTHON) jupyter/nnlua_kernel.py install $(CURDIR)/nnlua $(KERNEL_PREFIX)

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

# libFuzzer harnesses (tests/fuzz/README.md), built with clang: the PNG, IDX and CSV readers
# from the sources they need (ctx.c pulls in rng.c only: it frees the GEMM cache through a
# hook, nn/ctx.h, so no oneDNN), the shape arithmetic and the safetensors reader from all of
# nn/ and its subfolders (tensor.c reaches autograd and every kernel), never from gcc's libnn.a. `make fuzz FUZZ_SECONDS=300` runs the FUZZERS at once,
# then a summary; new inputs and crashes go to build/fuzz.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZERS      ?= png idx shape safetensors csv
FUZZ_OUT      = $(BUILD)/fuzz
FUZZ_PKGS     = libpng zlib libcjson cairo freetype2
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra \
                -Wno-source-uses-openmp -I. $(shell pkg-config --cflags $(FUZZ_PKGS))
FUZZ_LIBS     = $(shell pkg-config --libs $(FUZZ_PKGS)) -lgif -lgomp -lm
FUZZ_CORE     = nn/mem.c nn/io/png.c nn/io/atomic.c nn/io/gate.c nn/io/idx.c nn/ctx.c nn/rng.c
FUZZ_CSV      = nn/mem.c nn/io/csv.c nn/io/gate.c nn/ctx.c nn/rng.c
FUZZ_ALL      = $(NN_SRC)
FUZZ_ENV      = UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=max_allocation_size_mb=300
FUZZ_RUN      = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_CORE) $(NN_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE) $(FUZZ_LIBS)

$(FUZZ_OUT)/fuzz_shape $(FUZZ_OUT)/fuzz_safetensors: $(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c \
    tests/fuzz/shape_one.h $(FUZZ_ALL) $(NN_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_ALL) $(FUZZ_LIBS) -ldnnl

# the CSV reader, with Lua linked into the harness alone: tonumber is its numbers' oracle
$(FUZZ_OUT)/fuzz_csv: tests/fuzz/fuzz_csv.c $(FUZZ_CSV) $(NN_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(shell pkg-config --cflags lua5.4) -o $@ $< $(FUZZ_CSV) \
	  $(FUZZ_LIBS) $(shell pkg-config --libs lua5.4)

fuzz-build: $(addprefix $(FUZZ_OUT)/fuzz_,$(FUZZERS))

fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)/crashes $(addprefix $(FUZZ_OUT)/corpus/,$(FUZZERS))
	@echo "fuzzing $(FUZZERS) for $(FUZZ_SECONDS) s each, at once; logs in $(FUZZ_OUT)/*.log"
	@pids=; for f in $(FUZZERS); do \
	  dict=; [ -f tests/fuzz/$$f.dict ] && dict=-dict=tests/fuzz/$$f.dict; \
	  $(FUZZ_ENV) $(FUZZ_OUT)/fuzz_$$f $(FUZZ_RUN) $$dict -artifact_prefix=$(FUZZ_OUT)/crashes/$$f- \
	    $(FUZZ_OUT)/corpus/$$f tests/fuzz/corpus/$$f >$(FUZZ_OUT)/$$f.log 2>&1 & pids="$$pids $$!"; \
	done; \
	codes=; for p in $$pids; do wait $$p; codes="$$codes $$?"; done; \
	for f in $(FUZZERS); do echo "== $$f"; \
	  grep -E '^(Done|#[0-9]+.*DONE|stat::number_of_executed_units)|ERROR|SUMMARY' \
	    $(FUZZ_OUT)/$$f.log; done; \
	echo "exit codes ($(FUZZERS)):$$codes"; \
	for c in $$codes; do [ $$c = 0 ] || exit 1; done

# The Lua fuzzers (tests/fuzz/README.md): FUZZ_SEEDS seeds of api.lua, views.lua and saved.lua
# on the ASan build; the output of a failing seed is kept in build-asan/fuzz-lua/.
FUZZ_SEEDS ?= 50
fuzz-lua:
	$(MAKE) $(ASAN_VARS) build-asan/nnlua
	tests/fuzz/run_lua build-asan/nnlua $(FUZZ_SEEDS) build-asan/fuzz-lua

# Installs clang and libFuzzer for make fuzz.
deps-fuzz:
	@$(MAKE) --no-print-directory deps DEBS="$(FUZZ_DEBS)"

.PHONY: fuzz fuzz-build deps-fuzz fuzz-lua

# ---- libraries, install, stock Lua (docs/install.md) ------------------------------------
# What is installed is built in its own folder, DIST, portable (x86-64-v2: oneDNN picks
# its kernels at run time, nnlua's hot loops carry v3 and v4 copies too, nn/dispatch.h)
# and position-independent, once for the binary, libnnlua.a,
# libnnlua.so.0 and the stock-Lua module nnlua.so. `make` keeps -march=native for local use.
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
DATADIR  ?= $(PREFIX)/share/nnlua
MANDIR   ?= $(PREFIX)/share/man/man1
DOCDIR   ?= $(PREFIX)/share/doc/nnlua
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
LUACDIR  ?= $(LIBDIR)/lua/5.4
PCDIR    ?= $(LIBDIR)/pkgconfig
SOVER     = 0
SONAME    = libnnlua.so.$(SOVER)
DIST     ?= build/dist
DIST_OPT ?= -O3 -march=x86-64-v2 -mtune=generic
LIB_OBJ   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard bindings/*.c) vm/embed.c vm/path.c vm/guard.c vm/run.c) $(CORE)
LUA_LIBS  = $(shell pkg-config --libs lua5.4)
PIC      ?=
CFLAGS   += $(PIC)
DEBS     += lua5.4 luarocks debhelper dpkg-dev   # the rock and the .deb are built by test_install.lua

$(BUILD)/libnnlua.a: $(LIB_OBJ)
	rm -f $@; ar rcs $@ $^

$(BUILD)/$(SONAME): $(LIB_OBJ) vm/nnlua.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=vm/nnlua.map -o $@ \
	  $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

# the Lua C module: the lua5.4 program provides Lua itself
$(BUILD)/nnlua.so: $(LIB_OBJ) vm/luamod.map
	$(CC) $(CFLAGS) -shared -Wl,--version-script=vm/luamod.map -o $@ \
	  $(LIB_OBJ) $(LDFLAGS) $(filter-out $(LUA_LIBS),$(LDLIBS))

DIST_OUT = $(addprefix $(DIST)/,nnlua libnnlua.a $(SONAME) nnlua.so)
dist:
	$(MAKE) --no-print-directory BUILD=$(DIST) OPT="$(DIST_OPT)" PIC=-fPIC $(DIST_OUT)

$(DIST)/nnlua.pc: nnlua.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(shell \
	  sed -n 's/^#define NNLUA_VERSION "\(.*\)"/\1/p' bindings/bindings.h)|' $< >$@

DOCS = README.md docs/install.md $(filter-out docs/install.md,$(wildcard docs/*.md))
install: dist
	$(MAKE) --no-print-directory -B $(DIST)/nnlua.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(DATADIR) \
	  $(DESTDIR)$(MANDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(LUACDIR) $(DESTDIR)$(PCDIR)
	install -m 755 $(DIST)/nnlua $(DESTDIR)$(BINDIR)/nnlua
	rm -rf $(DESTDIR)$(DATADIR)/stdlib
	cd stdlib && find . -type d -exec install -d $(abspath $(DESTDIR)$(DATADIR))/stdlib/{} \; \
	  && find . -type f -name '*.lua' -exec install -m 644 {} $(abspath $(DESTDIR)$(DATADIR))/stdlib/{} \;
	install -m 644 $(DIST)/libnnlua.a $(DESTDIR)$(LIBDIR)/libnnlua.a
	install -m 755 $(DIST)/$(SONAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnnlua.so
	install -m 755 $(DIST)/nnlua.so $(DESTDIR)$(LUACDIR)/nnlua.so
	install -m 644 include/nnlua.h $(DESTDIR)$(INCDIR)/nnlua.h
	install -m 644 $(DIST)/nnlua.pc $(DESTDIR)$(PCDIR)/nnlua.pc
	install -m 644 man/nnlua.1 $(DESTDIR)$(MANDIR)/nnlua.1
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 examples/embed.c $(DESTDIR)$(DOCDIR)/embed.c
	install -m 644 completion/nnlua.bash $(DESTDIR)$(BASHCOMPDIR)/nnlua

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nnlua $(DESTDIR)$(LIBDIR)/libnnlua.a $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/libnnlua.so $(DESTDIR)$(LUACDIR)/nnlua.so $(DESTDIR)$(INCDIR)/nnlua.h \
	  $(DESTDIR)$(PCDIR)/nnlua.pc $(DESTDIR)$(MANDIR)/nnlua.1 $(DESTDIR)$(BASHCOMPDIR)/nnlua
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

# luarocks make (nnlua-0.1.0-1.rockspec): the stock-Lua module in the rock's C module folder,
# the stdlib under its Lua folder (nnlua/stdlib, which nnlua.so finds from the tree)
install-rock: dist
	install -d $(DESTDIR)$(LUACDIR) $(DESTDIR)$(ROCK_LUADIR)/nnlua/stdlib
	install -m 755 $(DIST)/nnlua.so $(DESTDIR)$(LUACDIR)/nnlua.so
	cd stdlib && find . -type d -exec install -d $(abspath $(DESTDIR)$(ROCK_LUADIR))/nnlua/stdlib/{} \; \
	  && find . -type f -name '*.lua' -exec install -m 644 {} $(abspath $(DESTDIR)$(ROCK_LUADIR))/nnlua/stdlib/{} \;

.PHONY: dist install uninstall install-rock
# ---- end of libraries, install, stock Lua ------------------------------------------------

clean:
	rm -rf build build-asan nnlua types

.PHONY: all types test test-asan deps deps-bench bench bench-tensor bench-data clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
