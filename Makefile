# Cachet: make | make test | make run | make bench | make fuzz | make lint | make clean
# Build output goes to $(BUILD) (default build/), so parallel builds with
# different BUILD dirs do not collide. The server binary is also copied to
# src/cachet-server.

CC ?= cc
BUILD ?= build
OPT ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -g -MMD -MP
CFLAGS ?= $(OPT)
# Lua 5.1 (EVAL) with cjson and bit, from Debian (scripts/deps.sh).
LUA_CFLAGS := $(shell pkg-config --cflags lua5.1 2>/dev/null || echo -I/usr/include/lua5.1)
LUA_LIBS := -llua5.1-cjson -llua5.1-bitop $(shell pkg-config --libs lua5.1 2>/dev/null || echo -llua5.1)
CFLAGS_BASE += $(LUA_CFLAGS)
LDLIBS_BASE = -lm -lssl -lcrypto $(LUA_LIBS)
MALLOC ?= jemalloc
ifeq ($(MALLOC),jemalloc)
  LDLIBS_MALLOC = -ljemalloc
else
  LDLIBS_MALLOC =
  CFLAGS_BASE += -DCACHET_NO_JEMALLOC
endif

# src/lib: code every binary shares (event loop, sockets, connections, RESP,
# hash table, logging, memory); src/server: the data node. Library objects
# are compiled seeing only src/lib, so shared code cannot include the data
# node's headers (docs/architecture.md, "Layout").
LIB_SRC := $(wildcard src/lib/*.c)
SERVER_SRC := $(wildcard src/server/*.c)
SRC := $(LIB_SRC) $(SERVER_SRC)
OBJ := $(patsubst src/%.c,$(BUILD)/src/%.o,$(SRC))
INC_LIB = -Isrc/lib
INC_SERVER = -Isrc/lib -Isrc/server
SERVER := $(BUILD)/cachet-server
# src/cachetd: the control plane (docs/control-plane.md), its own binary
# $(BUILD)/cachetd on the library objects only; it never sees src/server.
CACHETD_SRC := $(wildcard src/cachetd/*.c)
CACHETD_OBJ := $(patsubst src/%.c,$(BUILD)/src/%.o,$(CACHETD_SRC))
LIB_ONLY_OBJ := $(patsubst src/%.c,$(BUILD)/src/%.o,$(LIB_SRC))
INC_CACHETD = -Isrc/lib -Isrc/cachetd
CACHETD := $(BUILD)/cachetd
CACHETD_LIBS = -lmicrohttpd -lsqlite3 -lpthread
# Small client programs: tools/X.c -> $(BUILD)/X (cachet-load is also copied
# to tools/cachet-load for users), bench/X.c -> $(BUILD)/bench/X.
TOOLS := $(patsubst tools/%.c,$(BUILD)/%,$(wildcard tools/*.c))
BENCH_TOOLS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

# run: the control plane with one ready group (scripts/run-cachetd.sh);
# run-server: a bare cachet-server. run-cachetd is the old name of run.
.PHONY: all run run-cachetd run-server test test-unit test-integration test-sanitize sanitize-build bench bench-script bench-cluster clean deps node-deps fuzz fuzz-smoke fuzz-build fuzz-bins lint

all: $(SERVER) src/cachet-server $(TOOLS) $(patsubst $(BUILD)/%,tools/%,$(TOOLS)) \
	$(BUILD)/cachet-snapshot tools/cachet-snapshot $(CACHETD)

$(BUILD)/src/lib/%.o: src/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(INC_LIB) -c $< -o $@

$(BUILD)/src/server/%.o: src/server/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(INC_SERVER) -c $< -o $@

$(BUILD)/src/cachetd/%.o: src/cachetd/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(INC_CACHETD) -c $< -o $@

$(CACHETD): $(CACHETD_OBJ) $(LIB_ONLY_OBJ)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $(CACHETD_OBJ) $(LIB_ONLY_OBJ) $(CACHETD_LIBS) $(LDLIBS_BASE) $(LDLIBS_MALLOC) $(LDFLAGS)

$(SERVER): $(OBJ)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $(OBJ) $(LDLIBS_BASE) $(LDLIBS_MALLOC) $(LDFLAGS)

# cachet-snapshot is the server binary under another name (main.c
# dispatches on argv[0]), so it reads RDB files with the server's loader.
$(BUILD)/cachet-snapshot: $(SERVER)
	ln -sf cachet-server $@

src/cachet-server: $(SERVER)
	@if [ "$(BUILD)" = "build" ]; then cp $(SERVER) src/cachet-server; fi

$(BUILD)/%: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $< $(LDLIBS_BASE)

tools/%: $(BUILD)/%
	@if [ "$(BUILD)" = "build" ]; then cp $< $@; fi

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $< $(LDLIBS_BASE)

deps:
	@scripts/deps.sh

# cachetd (the ElastiCache API) on 127.0.0.1:9736 with its data in
# ./cachetd-data and the replication group "demo" ready (a primary and one
# replica, tls-mode preferred); prints how to reach it. ^C stops cachetd and
# the nodes; the next run reuses the directory and the group.
run: deps all
	@scripts/run-cachetd.sh

run-cachetd: run

# A bare cachet-server in tls-mode preferred with a development CA made in
# ./tls, so both plaintext and TLS clients connect to the same port.
run-server: deps all
	@scripts/gen-certs.sh tls
	@echo "Cachet on 127.0.0.1:6379, tls-mode preferred (plaintext and TLS on the same port):"
	@echo "  plaintext: redis-cli -p 6379"
	@echo "  TLS:       redis-cli -p 6379 --tls --cacert tls/ca.crt"
	@echo "  require TLS from now on: redis-cli -p 6379 --tls --cacert tls/ca.crt CONFIG SET tls-mode required"
	./src/cachet-server --bind 127.0.0.1 --port 6379 --tls-mode preferred \
		--tls-cert-file tls/server.crt --tls-key-file tls/server.key --tls-ca-cert-file tls/ca.crt

clean:
	rm -rf build build-* src/cachet-server tools/cachet-load tools/cachet-snapshot

-include $(OBJ:.o=.d) $(CACHETD_OBJ:.o=.d)

# ---- tests -------------------------------------------------------------
PYTEST = /usr/bin/python3 -m pytest
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# Unit tests link every server object except main's file.
LIB_OBJ := $(filter-out $(BUILD)/src/server/main.o,$(OBJ))

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(INC_SERVER) -o $@ $< $(LIB_OBJ) $(LDLIBS_BASE) $(LDLIBS_MALLOC)

# cachetd's unit tests (tests/unit/cachetd_*.c) link cachetd's pure modules
# (no daemon state: the Query/XML codec and SigV4) and the library.
CACHETD_PURE_OBJ := $(BUILD)/src/cachetd/query.o $(BUILD)/src/cachetd/sigv4.o
CACHETD_UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/cachetd_*.c))
$(BUILD)/tests/cachetd_%: tests/unit/cachetd_%.c $(CACHETD_PURE_OBJ) $(LIB_ONLY_OBJ) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(INC_CACHETD) -o $@ $< $(CACHETD_PURE_OBJ) $(LIB_ONLY_OBJ) $(CACHETD_LIBS) $(LDLIBS_BASE) $(LDLIBS_MALLOC)

test-unit: $(UNIT_BIN) $(CACHETD_UNIT_BIN)
	@set -e; for t in $(UNIT_BIN) $(CACHETD_UNIT_BIN); do echo "== $$t"; $$t; done

# The suite runs on TEST_JOBS pytest-xdist workers (every test has its own
# servers on free ports), then the tests marked solo alone: they bound
# latencies or open thousands of sockets (tests/integration/conftest.py).
# Four workers on two cores: most of a test is waiting (a server starting, a
# replica syncing, a deadline polled), and the suite used a third of two
# cores on two workers; each worker takes its servers' ports from a range of
# its own (conftest.py free_port).
TEST_JOBS ?= 4
INTEGRATION = $(PYTEST) -q -p no:cacheprovider -n $(TEST_JOBS) -m "not solo" tests/integration && \
	$(PYTEST) -q -p no:cacheprovider -m solo tests/integration

# The npm packages of the JavaScript client tests (tests/node: node-redis,
# the AWS SDK), exactly as tests/node/package-lock.json pins them, installed
# again only when node_modules is missing or older than the lock file.
node-deps: tests/node/node_modules/.package-lock.json

tests/node/node_modules/.package-lock.json: tests/node/package-lock.json tests/node/package.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/node --no-audit --no-fund --prefer-offline --loglevel=error && touch $@; \
	else echo "node-deps: npm is not installed (scripts/deps.sh installs it); the node client tests will skip"; fi

test-integration: all node-deps
	$(INTEGRATION)

# The integration suite once more against an ASan+UBSan build (clang,
# libc malloc so the sanitizer sees every allocation).
# CACHET_ASSERTS turns on the invariant checks of src/lib/dassert.h.
sanitize-build:
	$(MAKE) -j$(NPROC) BUILD=build-asan CC=clang MALLOC=libc OPT="-O1 -DCACHET_ASSERTS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all

test-sanitize: node-deps sanitize-build
	CACHET_SERVER=$(CURDIR)/build-asan/cachet-server ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1 sh -c '$(INTEGRATION)'

# Builds inside `make test` use every core (the three builds are a few
# minutes of compiling each).
NPROC := $(shell nproc 2>/dev/null || echo 2)
# Then unit, integration, sanitizer and fuzz-smoke steps in turn, with
# `make lint` and the sanitizer and fuzz builds running beside them at idle
# priority (scripts/test.sh says why).
test: deps
	$(MAKE) -j$(NPROC) all
	MAKE="$(MAKE)" scripts/test.sh

# ---- static analysis (docs/hardening.md, "Static analysis") --------------
# cppcheck over src/, tests/unit/ and fuzz/, clang-tidy over src/ with the
# checked-in .clang-tidy and scripts/cppcheck-suppressions.txt; any finding
# fails. LINT_JOBS sets the parallelism (default 2).
lint:
	@scripts/lint.sh

# ---- fuzzing (clang libFuzzer + ASan/UBSan; fuzz/README.md) ---------------
# fuzz/fuzz_NAME.c -> build-fuzz/fuzz/fuzz_NAME, linked with every server
# object except main.o, built with libc malloc so ASan sees every allocation.
# `make fuzz` runs each harness FUZZ_SECONDS (new corpus entries go to
# build-fuzz/corpus/NAME, the checked-in seeds stay as they are) and fails on
# any crash, leak or timeout; `make fuzz-smoke` (part of `make test`) runs
# each ~5 s and replays fuzz/regressions/NAME/*.
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_BIN = $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard fuzz/fuzz_*.c))

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -fsanitize=fuzzer $(INC_SERVER) -o $@ $< $(LIB_OBJ) $(LDLIBS_BASE)

fuzz-bins: $(FUZZ_BIN)

fuzz-build: deps
	$(MAKE) -j$(NPROC) BUILD=build-fuzz CC=clang MALLOC=libc OPT="-g -O1 -DCACHET_ASSERTS -fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-bins

fuzz: fuzz-build
	fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# One harness per core: each runs 5 s of wall time.
fuzz-smoke: fuzz-build
	FUZZ_JOBS=$(NPROC) fuzz/run.sh build-fuzz 5 --smoke

# ---- benchmarks (not part of make test) ----------------------------------
# Servers run pinned to one CPU and the clients to another (when there are
# two), so the figures measure the server, not the scheduler; each script
# writes its table to bench/results/. `make bench BENCH_FLAGS=--quick`: a
# smoke run of all five.
BENCH_FLAGS ?=
bench: deps all $(BENCH_TOOLS)
	/usr/bin/python3 bench/run.py --busy-poll $(BENCH_FLAGS)
	/usr/bin/python3 bench/acl.py $(BENCH_FLAGS)
	/usr/bin/python3 bench/tls.py $(BENCH_FLAGS)
	/usr/bin/python3 bench/snapshot.py $(BENCH_FLAGS)
	/usr/bin/python3 bench/repl.py $(BENCH_FLAGS)

# Scripting and streams against redis-server 7.0 (EVALSHA, XADD,
# XREADGROUP+XACK, a 1M-entry stream's memory): bench/script.py.
bench-script: deps all
	/usr/bin/python3 bench/script.py $(BENCH_FLAGS)

# Replication alone (full sync, memory during a sync under load, lag): `make
# bench-repl BENCH_FLAGS="--rounds 5"`.
.PHONY: bench-repl
bench-repl: deps all
	/usr/bin/python3 bench/repl.py $(BENCH_FLAGS)

# Cluster mode against a Redis 7.0 cluster (bench/cluster.py), on its own.
bench-cluster: deps all
	/usr/bin/python3 bench/cluster.py $(BENCH_FLAGS)
