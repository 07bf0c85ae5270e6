# fwgate: see README.md.  `make` builds the module and fwgatectl,
# `make test` runs every test, `make demo` shows the gate at work.

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
BUILD       := build
CC          ?= cc
CFLAGS      ?= -O2 -g
FWG_CFLAGS  := -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
               -Wno-unused-parameter -Isrc/core $(CFLAGS)
LDLIBS_CORE := -lcrypto

CORE_SRCS   := src/core/fwg_types.c src/core/fwg_b64.c src/core/fwg_sf.c \
               src/core/fwg_sig.c src/core/fwg_sigfast.c \
               src/core/fwg_key.c src/core/fwg_semver.c \
               src/core/fwg_cohort.c src/core/fwg_decide.c \
               src/core/fwg_digest.c src/core/fwg_siphash.c \
               src/core/fwg_record.c src/core/fwg_reply.c src/core/fwg_resp.c \
               src/core/fwg_sha256.c \
               src/core/fwg_json.c src/core/fwg_report.c \
               src/core/fwg_release.c src/core/fwg_token.c \
               src/core/fwg_respsig.c
CORE_HDRS   := $(wildcard src/core/*.h)
CORE_OBJS   := $(CORE_SRCS:src/core/%.c=$(BUILD)/core/%.o)
CLI_SRCS    := $(wildcard src/cli/*.c)
CLI_HDRS    := $(wildcard src/cli/*.h)
UNIT_SRCS   := $(wildcard t/unit/*.c)
NGX_SRCS    := $(wildcard src/ngx/*.c src/ngx/*.h)

MODULE      := $(BUILD)/ngx_http_fwgate_module.so

.PHONY: all module cli unit test test-unit test-nginx test-asan demo deps \
        build-strict deb test-deb test-matrix \
        test-faults test-fleet test-admission test-valgrind test-token \
        test-rollout \
        bench bench-verify bench-instr fuzz clean

all: module cli

# --- core library -------------------------------------------------------

$(BUILD)/core/%.o: src/core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(FWG_CFLAGS) -c -o $@ $<

$(BUILD)/libfwgcore.a: $(CORE_OBJS)
	ar rcs $@ $^

# --- fwgatectl ----------------------------------------------------------

FWGATECTL   ?= fwgatectl

cli: $(FWGATECTL)

$(FWGATECTL): $(CLI_SRCS) $(CLI_HDRS) $(BUILD)/libfwgcore.a
	$(CC) $(FWG_CFLAGS) $(LDFLAGS) -Isrc/cli -o $@ $(CLI_SRCS) \
	    $(BUILD)/libfwgcore.a -lhiredis $(LDLIBS_CORE)

# --- unit tests ---------------------------------------------------------

unit: $(BUILD)/run_unit

$(BUILD)/run_unit: $(UNIT_SRCS) t/unit/*.h $(BUILD)/libfwgcore.a
	$(CC) $(FWG_CFLAGS) -It/unit -o $@ $(UNIT_SRCS) $(BUILD)/libfwgcore.a \
	    -lhiredis $(LDLIBS_CORE)

test-unit: $(BUILD)/run_unit
	FWG_SF_TESTS=$${FWG_SF_TESTS:-$(CURDIR)/t/data/sf-tests} \
	    $(BUILD)/run_unit

# core unit tests under AddressSanitizer and UBSan
test-unit-asan:
	$(MAKE) BUILD=build/asan CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined \
	            -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    test-unit

# the core, fwgatectl and the unit tests with -Werror, by gcc and by clang
# (CI runs it; the module gets nginx's own -Werror from its configure)
build-strict:
	$(MAKE) BUILD=build/strict-gcc CC=gcc FWGATECTL=build/strict-gcc/fwgatectl \
	    CFLAGS="-O2 -g -Werror" build/strict-gcc/fwgatectl \
	    build/strict-gcc/run_unit
	$(MAKE) BUILD=build/strict-clang CC=clang \
	    FWGATECTL=build/strict-clang/fwgatectl CFLAGS="-O2 -g -Werror" \
	    build/strict-clang/fwgatectl build/strict-clang/run_unit

# --- nginx module -------------------------------------------------------

module: $(MODULE)

# Configure as Debian builds its libnginx-mod packages: nginx-dev's
# configure with Debian's conf_flags, in a copy inside build/ so nothing
# is written under /usr.  NGINX_SRC=DIR builds against an upstream tree.
$(BUILD)/nginx/objs/Makefile: config scripts/configure-module.sh
	bash scripts/configure-module.sh $(NGINX_SRC) $(BUILD)/nginx $(CURDIR)

$(MODULE): $(BUILD)/nginx/objs/Makefile $(CORE_SRCS) $(CORE_HDRS) $(NGX_SRCS)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@# a new inode: a running nginx keeps mapping the old file
	cp $(BUILD)/nginx/objs/ngx_http_fwgate_module.so $@.tmp && mv -f $@.tmp $@

# --- tests --------------------------------------------------------------

test: deps all test-unit test-nginx

test-nginx: all
	bash t/run-suites.sh

demo: deps all
	bash scripts/demo.sh

# download tokens end to end: a signed update check, then curl with only
# the token URL and Range headers, then a halt (docs/testing.md)
test-token: all
	bash scripts/token-e2e.sh

# --- proof under load and faults (docs/benchmarks.md) -------------------

# plain nginx beside the gate under wrk; BENCH_DURATION=S lengthens it
bench: all
	bash bench/run.sh

# one verification in isolation: fwg_sig_verify per algorithm beside
# `openssl speed`'s loop and the parts of an ECDSA verify, a few seconds
# on CPU 1 (docs/benchmarks.md, "ECDSA verify"); VERIFY_ARGS="REPS MS"
VERIFY_ARGS ?= 25 20

$(BUILD)/verify_speed: bench/verify_speed.c $(CORE_HDRS) $(BUILD)/libfwgcore.a
	$(CC) $(FWG_CFLAGS) -o $@ bench/verify_speed.c $(BUILD)/libfwgcore.a \
	    $(LDLIBS_CORE)

bench-verify: $(BUILD)/verify_speed
	taskset -c 1 $(BUILD)/verify_speed $(VERIFY_ARGS)

# instructions per request under callgrind, gated against plain: what a
# change costs, free of the machine's timing noise (INSTR_ARGS: warm|cold
# DEVICES REQUESTS)
bench-instr: all
	bash bench/instr.sh $(INSTR_ARGS)

# libFuzzer targets, FUZZ_SECONDS (default 60) each
fuzz:
	bash fuzz/run.sh

# nginx built from upstream source with ASan and UBSan, the t/ suites
test-asan: cli
	bash scripts/build-asan-nginx.sh

# the Test::Nginx suites with nginx under memcheck (TEST_NGINX_USE_VALGRIND)
test-valgrind: module cli
	bash scripts/test-valgrind.sh

# Redis faults and replicas against real nginx and redis (docs/faults.md)
test-faults: module cli
	bash scripts/test-faults.sh

# a primary, three replicas behind delay proxies, three edges, Sentinels:
# halt/revoke propagation, failover, a cut link, edge ACL (docs/faults.md)
test-admission: module cli
	bash scripts/test-admission.sh

test-fleet: module cli
	bash scripts/test-fleet.sh

# every suite against nginx 1.22.1 and 1.26.3 built from upstream source
test-matrix: cli
	bash scripts/test-matrix.sh

# Debian packages (debian/), and a test that installs them into the
# machine's nginx, serves a gated request and removes them
deb:
	bash scripts/build-deb.sh

test-deb: deb
	bash scripts/test-deb.sh

deps:
	bash scripts/deps.sh

clean:
	rm -rf $(BUILD) fwgatectl t/servroot*

# two edges, one redis, 10,000 simulated devices: a phased rollout that
# reaches 100 % on its own, then one halted by a failure spike
# (docs/fleet-guide.md, "Phased rollouts")
test-rollout: module cli
	bash scripts/test-rollout.sh
