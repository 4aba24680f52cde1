# vfuctl - top-level Makefile (plain GNU make).
#
#   make                 lib/libvfuctl.a, lib/libvfuctl.so.0 (+ .so link), cli/vfuctl
#   make check           install missing Debian packages, build, fuzz-smoke, run all tests
#   make test            build and run all tests, nothing installed
#   make asan            build into build-asan/ with ASan+UBSan and run the tests there
#   make valgrind        unit tests and a few vfuctl runs under valgrind
#   make fuzz            libFuzzer targets in build-fuzz/, FUZZ_RUNS runs each
#   make fuzz-smoke      the same targets, FUZZ_SMOKE_RUNS runs each (part of check)
#   make bench           build bench/*.c and run bench/run.sh (or each program)
#   make demo            install missing packages, build, run traces/demo.sh
#   make deps            install missing Debian packages (tests/deps.sh)
#   make update-golden NAME=x   (or: make update-golden x) run tests/update-golden.sh
#   make install/uninstall      PREFIX (default /usr/local) and DESTDIR honoured;
#                        the Wireshark plugin goes to WIRESHARK_PLUGINDIR (default
#                        your personal Lua plugin folder; empty: not installed)
#   make install-plugin  only the plugin, into WIRESHARK_PLUGINDIR (no root needed)
#   make clean
#   make print-cflags    the compiler flags of this build
#
# Knobs: V=1 (show commands), CC=clang, O=DIR (outputs under DIR/ instead of
# beside the sources), CFLAGS (default -O2 -g; warnings are always added),
# DEVELOPER=1 (warnings are errors; CI sets it), SKIP_DEPS=1 (make deps does
# nothing).
#
# Sources are found by wildcard: lib/*.c -> the library, cli/*.c -> vfuctl,
# tests/unit/test-*.c -> one program each (other tests/unit/*.c are helpers
# linked into every one), bench/*.c -> one program each, tests/fuzz/fuzz-*.c -> one
# fuzzer each.  Nothing needs to be listed here.

VERSION := 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# Wireshark and tshark load Lua plugins from here without any option
WIRESHARK_PLUGINDIR ?= $(HOME)/.local/lib/wireshark/plugins

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VECTORS ?= $(abspath $(TOP)/../shared/vectors)

# ---------------------------------------------------------------- output

ifeq ($(V),1)
Q :=
else
Q := @
QUIET_CC = @echo '    CC       $@';
QUIET_AR = @echo '    AR       $@';
QUIET_LINK = @echo '    LINK     $@';
QUIET_GEN = @echo '    GEN      $@';
endif
MAKEFLAGS += --no-print-directory

# ---------------------------------------------------------------- flags

CFLAGS ?= -O2 -g
WFLAGS := -Wall -Wextra -Wshadow -Wpointer-arith \
	  -Wstrict-prototypes -Wmissing-prototypes
# Developers and CI (.ci/run) build with DEVELOPER=1: a warning fails the
# build.  A user's plain "make" with a newer compiler only warns (git's
# DEVELOPER knob).  Sub-makes (asan, fuzz) inherit it.
DEVELOPER ?=
ifeq ($(DEVELOPER),1)
WFLAGS += -Werror
endif
PKG_CONFIG ?= pkg-config
PKGS := jansson libsodium libpcap

# Asked of pkg-config once, on first use (so "make deps" can run first).
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell $(PKG_CONFIG) --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell $(PKG_CONFIG) --libs $(PKGS)))$(PKG_LIBS)
READLINE_LIBS ?= -lreadline
# libpci names vendors, devices and classes for vfuctl config (cli only).
CLI_PKGS := libpci
CLI_PKG_CFLAGS = $(eval CLI_PKG_CFLAGS := $$(shell $(PKG_CONFIG) --cflags $(CLI_PKGS)))$(CLI_PKG_CFLAGS)
CLI_PKG_LIBS = $(eval CLI_PKG_LIBS := $$(shell $(PKG_CONFIG) --libs $(CLI_PKGS)))$(CLI_PKG_LIBS)

# SAN_FLAGS is set by the asan and fuzz targets for their own build dirs.
SAN_FLAGS ?=
ALL_CPPFLAGS = -D_GNU_SOURCE -Ilib -DVFUCTL_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS = -std=gnu99 $(CFLAGS) $(WFLAGS) -fPIC $(SAN_FLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) -Wl,--as-needed $(LDFLAGS)
LIB_LDLIBS = $(PKG_LIBS) $(LDLIBS)
CLI_LDLIBS = $(PKG_LIBS) $(CLI_PKG_LIBS) $(READLINE_LIBS) -pthread $(LDLIBS)

# ---------------------------------------------------------------- files

O ?=
B := $(if $(O),$(patsubst %/,%,$(O))/)

LIB_SRCS := $(wildcard lib/*.c)
CLI_SRCS := $(wildcard cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_HELPER_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
BENCH_SRCS := $(wildcard bench/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(B)%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(B)%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)%.o)
UNIT_HELPER_OBJS := $(UNIT_HELPER_SRCS:%.c=$(B)%.o)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(B)%.o)
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(B)%.o)
ALL_OBJS := $(LIB_OBJS) $(CLI_OBJS) $(UNIT_OBJS) $(UNIT_HELPER_OBJS) \
	    $(BENCH_OBJS) $(FUZZ_OBJS)

SONAME := libvfuctl.so.0
# The shared object exports only what this lists (tests/abi.bats checks it
# against nm -D and API_HEADERS); the static library holds everything.
LIBMAP := lib/libvfuctl.map
LIBA := $(B)lib/libvfuctl.a
LIBSO := $(B)lib/$(SONAME)
LIBSO_LINK := $(B)lib/libvfuctl.so
VFUCTL_BIN := $(B)cli/vfuctl
UNIT_DIR := $(B)tests/unit
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)%)
BENCH_BINS := $(BENCH_SRCS:%.c=$(B)%)
FUZZ_BINS := $(FUZZ_SRCS:%.c=$(B)%)
BUGGY_BIN := $(B)tests/buggy-server
BUGGY_AFL_BIN := $(B)tests/buggy-server-afl
PCFILE := $(B)libvfuctl.pc

# A change of compiler or flags rebuilds everything (git's GIT-CFLAGS).
FLAGS_STAMP := $(B).build-flags
BUILD_FLAGS = $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIB_LDLIBS)
sq = $(subst ','\'',$(1))

# ---------------------------------------------------------------- tools

ASAN_CC ?= clang
ASAN_DIR := build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
# A sanitizer report exits 86, never 1, which a test may expect of vfuctl.
ASAN_OPTIONS ?= exitcode=86:detect_leaks=1
UBSAN_OPTIONS ?= print_stacktrace=1:exitcode=86

FUZZ_CC ?= clang
FUZZ_DIR := build-fuzz
FUZZ_RUNS ?= 2000000
FUZZ_SMOKE_RUNS := 5000
FUZZ_FLAGS ?=

AFL_CC ?= afl-clang-fast
AFL_CC_PATH := $(shell command -v $(AFL_CC) 2>/dev/null)

VALGRIND ?= valgrind
VALGRIND_FLAGS := -q --error-exitcode=1 --leak-check=full

# ---------------------------------------------------------------- build

.PHONY: all units benches fuzzers check test asan valgrind bench fuzz \
	fuzz-smoke demo deps install install-plugin uninstall clean \
	update-golden print-cflags FORCE

all: $(LIBA) $(LIBSO) $(LIBSO_LINK) $(VFUCTL_BIN)

units: $(UNIT_BINS) $(BUGGY_BIN) $(if $(AFL_CC_PATH),$(BUGGY_AFL_BIN))

benches: $(BENCH_BINS)

fuzzers: $(FUZZ_BINS)

$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(call sq,$(BUILD_FLAGS))' ]; then \
		printf '%s\n' '$(call sq,$(BUILD_FLAGS))' > $@; fi

$(ALL_OBJS): $(B)%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(CLI_OBJS): ALL_CFLAGS += $(CLI_PKG_CFLAGS)

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(QUIET_AR)$(AR) rcs $@ $^

# Linked from the archive so that a still-empty lib/ links too.
$(LIBSO): $(LIBA) $(LIBMAP)
	$(QUIET_LINK)$(CC) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=$(LIBMAP) $(ALL_LDFLAGS) -o $@ \
		-Wl,--whole-archive $(LIBA) -Wl,--no-whole-archive $(LIB_LDLIBS)

$(LIBSO_LINK): $(LIBSO)
	$(Q)ln -sf $(SONAME) $@

$(VFUCTL_BIN): $(CLI_OBJS) $(LIBA)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBA) $(CLI_LDLIBS)

$(UNIT_BINS): $(B)%: $(B)%.o $(UNIT_HELPER_OBJS) $(LIBA)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_HELPER_OBJS) $(LIBA) $(LIB_LDLIBS)

$(BENCH_BINS): $(B)%: $(B)%.o $(LIBA)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIB_LDLIBS)

# The planted-bug server of tests/fuzz.bats: always with ASan, never installed.
BUGGY_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
$(BUGGY_BIN): tests/buggy-server.c $(LIBA) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(BUGGY_FLAGS) -o $@ $< \
		$(LIBA) $(LIB_LDLIBS)

# The same server built with AFL++'s instrumentation (ASan too: they go
# together), whose coverage guides vfuctl fuzz in tests/fuzz-afl.bats and
# bench/fuzz.sh; only where afl-clang-fast is (deps.sh installs it).
$(BUGGY_AFL_BIN): tests/buggy-server.c $(LIBA) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(QUIET_LINK)AFL_QUIET=1 $(AFL_CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) \
		$(BUGGY_FLAGS) -o $@ $< $(LIBA) $(LIB_LDLIBS)

# Only built inside $(FUZZ_DIR), where SAN_FLAGS carries fuzzer-no-link.
$(FUZZ_BINS): $(B)%: $(B)%.o $(LIBA)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBA) $(LIB_LDLIBS)

$(PCFILE): libvfuctl.pc.in FORCE
	@mkdir -p $(@D)
	$(QUIET_GEN)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@PKGS@|$(PKGS)|g' $< > $@

-include $(ALL_OBJS:.o=.d)

# ---------------------------------------------------------------- tests

deps:
ifeq ($(SKIP_DEPS),1)
	@echo 'make deps: skipped (SKIP_DEPS=1)'
else
	$(Q)bash tests/deps.sh
endif

check: deps
	$(Q)$(MAKE) fuzz-smoke
	$(Q)$(MAKE) test

# The compiler flags of this build (tests/abi.bats checks DEVELOPER=1).
print-cflags:
	@echo '$(call sq,$(ALL_CFLAGS))'

# The test runner takes the build to test from VFUCTL and UNIT_DIR.
test: all units
	@echo '    TEST     $(B)cli/vfuctl built with $(CC), $(if $(filter -Werror,$(WFLAGS)),warnings as errors (DEVELOPER=1),warnings not errors (no DEVELOPER=1))'
	$(Q)VFUCTL='$(abspath $(VFUCTL_BIN))' UNIT_DIR='$(abspath $(UNIT_DIR))' \
		VECTORS='$(VECTORS)' bash tests/run-tests.sh

asan:
	$(Q)ASAN_OPTIONS='$(ASAN_OPTIONS)' UBSAN_OPTIONS='$(UBSAN_OPTIONS)' \
		$(MAKE) O=$(ASAN_DIR) CC='$(ASAN_CC)' SAN_FLAGS='$(ASAN_FLAGS)' test

valgrind: all units
	$(Q)set -e; for t in $(UNIT_BINS); do \
		echo "    VALGRIND $$t"; \
		$(VALGRIND) $(VALGRIND_FLAGS) $$t > /dev/null; \
	done
	$(Q)set -e; run() { echo "    VALGRIND vfuctl $$*"; \
		$(VALGRIND) $(VALGRIND_FLAGS) $(VFUCTL_BIN) "$$@" > /dev/null; }; \
	run --version; run --help; run help decode; \
	for c in $$($(VFUCTL_BIN) --list-commands); do run $$c --help; done; \
	run schema; \
	if [ -f '$(VECTORS)/qemu-gpio-boot.jsonl' ]; then \
		run decode '$(VECTORS)/qemu-gpio-boot.jsonl'; \
		run decode -o json '$(VECTORS)/qemu-gpio-boot.jsonl'; \
	fi

bench: benches
	$(Q)if [ -f bench/run.sh ]; then \
		BENCH_DIR='$(abspath $(B)bench)' VFUCTL='$(abspath $(VFUCTL_BIN))' \
		VECTORS='$(VECTORS)' bash bench/run.sh; \
	else \
		set -e; for b in $(BENCH_BINS); do echo "    BENCH    $$b"; $$b; done; \
	fi

# ---------------------------------------------------------------- fuzzing

# run_fuzzers(RUNS, QUIET): each fuzzer with its tests/fuzz/NAME.dict, the
# max_len of tests/fuzz/NAME.options and seeds made from the vectors; new
# inputs go to $(FUZZ_DIR)/corpus/NAME/, crashes to $(FUZZ_DIR)/crashes/.
# Every committed regression input tests/crashes/NAME--* is replayed first.
define run_fuzzers
	$(Q)if [ -z '$(FUZZ_SRCS)' ]; then echo '    FUZZ     no tests/fuzz/fuzz-*.c targets'; fi
	$(Q)if [ -d '$(VECTORS)' ]; then VECTORS='$(VECTORS)' \
		bash tests/fuzz/make-corpus.sh '$(FUZZ_DIR)/corpus' >/dev/null; fi
	$(Q)set -e; mkdir -p $(FUZZ_DIR)/crashes; \
	for src in $(FUZZ_SRCS); do \
		n=$$(basename $$src .c); bin=$(FUZZ_DIR)/tests/fuzz/$$n; \
		args="-runs=$(1) -seed=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$$n-"; \
		if [ -f tests/fuzz/$$n.dict ]; then args="$$args -dict=tests/fuzz/$$n.dict"; fi; \
		if [ -f tests/fuzz/$$n.options ]; then \
			ml=$$(sed -n 's/^[[:space:]]*max_len[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' tests/fuzz/$$n.options); \
			if [ -n "$$ml" ]; then args="$$args -max_len=$$ml"; fi; \
		fi; \
		mkdir -p $(FUZZ_DIR)/corpus/$$n; seeds=; \
		set -- tests/crashes/$$n--*; \
		if [ -e "$$1" ] && ! $$bin "$$@" > $(FUZZ_DIR)/$$n.regress.log 2>&1; then \
			tail -n 40 $(FUZZ_DIR)/$$n.regress.log; \
			echo "fuzz: $$n fails a regression input in tests/crashes/" >&2; \
			exit 1; \
		fi; \
		echo "    FUZZ     $$n -runs=$(1)"; \
		if [ '$(2)' = quiet ]; then \
			if ! $$bin $$args $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus/$$n $$seeds \
				> $(FUZZ_DIR)/$$n.log 2>&1; then \
				tail -n 40 $(FUZZ_DIR)/$$n.log; \
				echo "fuzz-smoke: $$n failed (log: $(FUZZ_DIR)/$$n.log)" >&2; \
				exit 1; \
			fi; \
		else \
			$$bin $$args $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus/$$n $$seeds; \
		fi; \
	done
endef

FUZZ_MAKE = $(MAKE) O=$(FUZZ_DIR) CC='$(FUZZ_CC)' \
	SAN_FLAGS='-fsanitize=fuzzer-no-link $(ASAN_FLAGS)' fuzzers

fuzz:
	$(Q)$(FUZZ_MAKE)
	$(call run_fuzzers,$(FUZZ_RUNS),loud)

fuzz-smoke:
	$(Q)$(FUZZ_MAKE)
	$(call run_fuzzers,$(FUZZ_SMOKE_RUNS),quiet)

# ---------------------------------------------------------------- deps and demo

demo: deps
	$(Q)$(MAKE) all
	$(Q)if [ ! -f traces/demo.sh ]; then \
		echo 'make demo: traces/demo.sh not found' >&2; exit 1; fi
	$(Q)VFUCTL='$(abspath $(VFUCTL_BIN))' VECTORS='$(VECTORS)' bash traces/demo.sh

# "make update-golden NAME" takes the words after update-golden as names.
ifeq (update-golden,$(firstword $(MAKECMDGOALS)))
GOLDEN_NAMES := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
ifneq ($(GOLDEN_NAMES),)
$(eval $(GOLDEN_NAMES):;@:)
endif
endif

update-golden: all
	$(Q)if [ ! -f tests/update-golden.sh ]; then \
		echo 'make update-golden: tests/update-golden.sh not found' >&2; exit 1; fi
	$(Q)VFUCTL='$(abspath $(VFUCTL_BIN))' VECTORS='$(VECTORS)' \
		bash tests/update-golden.sh $(NAME) $(GOLDEN_NAMES)

# ---------------------------------------------------------------- install

MAN1 := $(wildcard man/*.1)
MAN5 := $(wildcard man/*.5)
MAN3 := $(wildcard man/*.3)
# The library's API: what a program linking libvfuctl.so may include (each
# compiles alone; lib/libvfuctl.map lists what they declare).  Other lib/
# headers are internal and not installed.
API_HEADERS := $(addprefix lib/,vx-client.h vx-conn.h vx-device.h vx-diff.h \
	vx-error.h vx-filter.h vx-framer.h vx-fuzz.h vx-fuzz-input.h vx-msg.h vx-pci.h vx-relay.h \
	vx-replay.h vx-server.h vx-session.h vx-sock.h vx-trace.h vx-walk.h \
	vx-wire.h fields.def findings.def notes.def)
HEADERS := $(wildcard $(API_HEADERS))

install: all $(PCFILE) $(if $(WIRESHARK_PLUGINDIR),install-plugin)
	$(Q)install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(LIBDIR)' \
		'$(DESTDIR)$(INCLUDEDIR)/vfuctl' '$(DESTDIR)$(PKGCONFIGDIR)' \
		'$(DESTDIR)$(MANDIR)/man1' $(if $(MAN5),'$(DESTDIR)$(MANDIR)/man5') \
		$(if $(MAN3),'$(DESTDIR)$(MANDIR)/man3') \
		'$(DESTDIR)$(BASHCOMPDIR)' '$(DESTDIR)$(DATADIR)/vfuctl'
	$(Q)install -m 0755 $(VFUCTL_BIN) '$(DESTDIR)$(BINDIR)/vfuctl'
	$(Q)install -m 0644 $(LIBA) '$(DESTDIR)$(LIBDIR)/libvfuctl.a'
	$(Q)install -m 0755 $(LIBSO) '$(DESTDIR)$(LIBDIR)/$(SONAME)'
	$(Q)ln -sf $(SONAME) '$(DESTDIR)$(LIBDIR)/libvfuctl.so'
	$(Q)install -m 0644 $(PCFILE) '$(DESTDIR)$(PKGCONFIGDIR)/libvfuctl.pc'
	$(Q)$(if $(HEADERS),install -m 0644 $(HEADERS) '$(DESTDIR)$(INCLUDEDIR)/vfuctl/')
	$(Q)$(if $(MAN1),install -m 0644 $(MAN1) '$(DESTDIR)$(MANDIR)/man1/')
	$(Q)$(if $(MAN5),install -m 0644 $(MAN5) '$(DESTDIR)$(MANDIR)/man5/')
	$(Q)$(if $(MAN3),install -m 0644 $(MAN3) '$(DESTDIR)$(MANDIR)/man3/')
	$(Q)install -m 0644 completions/vfuctl.bash '$(DESTDIR)$(BASHCOMPDIR)/vfuctl'
	$(Q)install -m 0644 dissector/vfio-user.lua '$(DESTDIR)$(DATADIR)/vfuctl/'

# The plugin file is self-contained (its field table is inside it).
install-plugin:
	$(Q)install -d '$(DESTDIR)$(WIRESHARK_PLUGINDIR)'
	$(Q)install -m 0644 dissector/vfio-user.lua '$(DESTDIR)$(WIRESHARK_PLUGINDIR)/'
	$(Q)echo 'vfio-user.lua installed in $(DESTDIR)$(WIRESHARK_PLUGINDIR): Wireshark and tshark load it at start'

uninstall:
	$(Q)rm -f '$(DESTDIR)$(BINDIR)/vfuctl' \
		'$(DESTDIR)$(LIBDIR)/libvfuctl.a' '$(DESTDIR)$(LIBDIR)/$(SONAME)' \
		'$(DESTDIR)$(LIBDIR)/libvfuctl.so' '$(DESTDIR)$(PKGCONFIGDIR)/libvfuctl.pc' \
		'$(DESTDIR)$(BASHCOMPDIR)/vfuctl' '$(DESTDIR)$(DATADIR)/vfuctl/vfio-user.lua' \
		$(if $(WIRESHARK_PLUGINDIR),'$(DESTDIR)$(WIRESHARK_PLUGINDIR)/vfio-user.lua') \
		$(addprefix '$(DESTDIR)$(MANDIR)/man1/,$(addsuffix ',$(notdir $(MAN1)))) \
		$(addprefix '$(DESTDIR)$(MANDIR)/man5/,$(addsuffix ',$(notdir $(MAN5)))) \
		$(addprefix '$(DESTDIR)$(MANDIR)/man3/,$(addsuffix ',$(notdir $(MAN3))))
	$(Q)rm -rf '$(DESTDIR)$(INCLUDEDIR)/vfuctl'
	$(Q)rmdir '$(DESTDIR)$(DATADIR)/vfuctl' 2>/dev/null || true

clean:
	$(Q)rm -f $(ALL_OBJS) $(ALL_OBJS:.o=.d) $(LIBA) $(LIBSO) $(LIBSO_LINK) \
		$(VFUCTL_BIN) $(UNIT_BINS) $(BENCH_BINS) $(FUZZ_BINS) $(PCFILE) \
		$(BUGGY_BIN) $(BUGGY_AFL_BIN) \
		$(FLAGS_STAMP)
	$(Q)find lib cli tests bench -name '*.[od]' -type f -exec rm -f {} + 2>/dev/null || true
	$(Q)rm -rf $(ASAN_DIR) $(FUZZ_DIR)
