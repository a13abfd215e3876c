# BinaryMoS simulator. `make report` runs the chapters and writes Figures/report.html;
# `make test` runs the tests and a smoke run of the whole report pipeline.

PROFILE ?= quick
CORPUS  ?= synthetic
SEEDS   ?= 5
# The budget and width sweep trains two students per point and seed, the codebook chapter ten
# per seed (five rates, with and without the rotation): fewer seeds keep the report within 15
# minutes on two cores.
REGIME_SEEDS ?= 3
CODEBOOK_SEEDS ?= 3
THREADS ?= $(shell nproc)
FIGURES ?= Figures
# SCHEDULER=slurm runs the chapters' student sweeps as Slurm array jobs (see the README's
# cluster section), with SLURM_OPTIONS such as "--partition cpu --time 2:00:00 --throttle 64".
SCHEDULER ?= local
ifeq ($(SCHEDULER),slurm)
SCHEDULE := --slurm $(SLURM_OPTIONS)
else ifneq ($(SCHEDULER),local)
$(error SCHEDULER=$(SCHEDULER): choose local or slurm)
endif

ifeq ($(strip $(FIGURES)),)
$(error FIGURES is empty: give the folder for the report, e.g. FIGURES=Figures)
endif

SWIFT   ?= swift
BUILD    = $(SWIFT) build -c release
BIN      = .build/release
# One folder per corpus and profile, so switching either never mixes results.
TAG     := $(basename $(notdir $(CORPUS)))-$(PROFILE)
RUN     := $(FIGURES)/runs/$(TAG)
TEACHER := $(RUN)/teacher.safetensors
CHAPTERS = FirstLook BinaryKernel Experts Regime Router MemoryCost PartialBinary Codebook Frontier
CHAPTER_DIRS = $(addprefix $(RUN)/,$(CHAPTERS))
# Students are trained once per run and shared: the expert sweep's serve later chapters.
ARGS_Experts = --seeds $(SEEDS) --students $(RUN)/students
ARGS_Regime  = --seeds $(REGIME_SEEDS) --students $(RUN)/students
ARGS_Router  = --students $(RUN)/students
ARGS_Frontier = --seeds $(SEEDS) --students $(RUN)/students
ARGS_PartialBinary = --seeds 1 --students $(RUN)/students
ARGS_Codebook = --seeds $(CODEBOOK_SEEDS) --students $(RUN)/students

.PHONY: all deps build test test-browser test-slurm check-determinism check-interrupt check-concurrent test-asan test-tsan fuzz \
	report clean help
all: report

help:
	@echo "make report [PROFILE=quick|paper|smoke] [CORPUS=synthetic|PATH] [SEEDS=N] [THREADS=N] [SCHEDULER=local|slurm]"
	@echo "make test     unit tests, then the report pipeline on the smoke profile"
	@echo "make test-browser  the smoke report in headless Chromium (layout, figures, formulas, links)"
	@echo "make test-slurm  a one-node Slurm here (root): the smoke expert sweep through it, against a local run"
	@echo "make check-determinism  the same seed, profile and threads twice: every CSV identical"
	@echo "make check-interrupt    make report interrupted (SIGINT, SIGTERM, SIGKILL), then finished"
	@echo "make check-concurrent   two make report runs on one folder at once"
	@echo "make test-asan, test-tsan  the unit tests under AddressSanitizer, ThreadSanitizer"
	@echo "make fuzz [FUZZ_SECONDS=600]  libFuzzer on the checkpoint, corpus and sweep-CSV readers"
	@echo "make deps     check (and as root install) the Debian packages"
	@echo "make clean    remove Figures/ output (keeps Figures/README.md)"

deps:
	@bash .ci/deps

# The binaries are rebuilt when a source changes; then every chapter reruns,
# so no number in the report comes from older code.
SOURCES := Package.swift $(shell find Sources Chapters -type f \( -name '*.swift' -o -name '*.c' -o -name '*.h' \
             -o -name '*.modulemap' \) 2>/dev/null)
build: $(BIN)/mos
$(BIN)/mos: $(SOURCES) | deps
	$(BUILD)
	@touch $@

# The teacher is trained once per corpus and profile and shared by the chapters.
$(TEACHER): | build
	$(BIN)/mos train --corpus $(CORPUS) --profile $(PROFILE) --threads $(THREADS) --out $@

# What must be redone follows from the code's content, not from file times
# (scripts/stamps, which says what changed): a prose edit, in a chapter or a
# library comment, only re-weaves the report.
# Only a run holding the report's lock (below) stamps: two runs at once take turns.
STAMPS := $(RUN)/.stamps
ifneq ($(REPORT_LOCKED),)
STAMPED := $(shell bash scripts/stamps $(STAMPS) $(CHAPTERS))
endif

# Students are made once per teacher and library code: either changing starts them afresh.
STUDENTS := $(RUN)/students/.made
$(STUDENTS): $(TEACHER) $(STAMPS)/library
	@rm -rf $(@D) && mkdir -p $(@D) && touch $@

# A chapter: run it (on binaries built first), then render the gnuplot scripts it wrote to SVG.
$(RUN)/%/.done: $(TEACHER) $(STUDENTS) $(STAMPS)/% | build
	@mkdir -p $(@D)
	$(BIN)/$(shell echo $* | sed -E 's/([a-z])([A-Z])/\1-\2/g' | tr A-Z a-z) \
	  --teacher $(TEACHER) --corpus $(CORPUS) --profile $(PROFILE) --threads $(THREADS) --out $(@D) $(ARGS_$*) \
	  $(SCHEDULE)
	@cd $(@D) && for gp in *.gp; do [ ! -e "$$gp" ] || gnuplot "$$gp" || exit 1; done
	@touch $@

# Later chapters read the students the expert sweep made. The chapters that
# time kernels run alone, after the others, so that `make -j2` cannot load the
# cores they measure.
# These are orderings only: a chapter reruns when its own stamp says so.
$(RUN)/Regime/.done $(RUN)/Router/.done $(RUN)/PartialBinary/.done $(RUN)/Codebook/.done: | $(RUN)/Experts/.done
$(RUN)/Frontier/.done: | $(addsuffix /.done,$(addprefix $(RUN)/,FirstLook Experts Regime Router MemoryCost PartialBinary Codebook))
$(RUN)/BinaryKernel/.done: | $(RUN)/Frontier/.done

# The page: woven again when a result, a chapter's prose or a library file it shows changes.
$(FIGURES)/report.html: $(addsuffix /.done,$(CHAPTER_DIRS)) $(SOURCES) | build
	$(BIN)/mos weave --out $@ --teacher $(TEACHER) \
	  --meta "corpus=$(CORPUS)" --meta "profile=$(PROFILE)" --meta "seeds=$(SEEDS)" --meta "threads=$(THREADS)" \
	  --meta "commit=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	  --meta "date=$$(date -u +%Y-%m-%dT%H:%MZ)" \
	  --meta "machine=$$(uname -m), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
	  $(foreach c,$(CHAPTERS),Chapters/$(c)/main.swift=$(RUN)/$(c))

# Two reports on one folder take turns on a lock (scripts/lock), which names
# the holder to the one that waits: without it, one run would delete the
# students the other is making.
ifeq ($(REPORT_LOCKED),)
report:
	@REPORT_LOCKED=1 bash scripts/lock $(RUN)/.lock $(MAKE) --no-print-directory report
else
report: $(FIGURES)/report.html
	@echo "report: $(FIGURES)/report.html"
endif

test: build
	$(SWIFT) test -c release --disable-swift-testing
	$(MAKE) --no-print-directory report PROFILE=smoke FIGURES=.build/smoke-report
	@test -s .build/smoke-report/report.html && echo "smoke report: .build/smoke-report/report.html"

# The smoke report as a reader's browser shows it (scripts/browser-check.py).
test-browser:
	@bash .ci/deps browser
	$(MAKE) --no-print-directory report PROFILE=smoke FIGURES=.build/smoke-report
	BROWSER_CHECK_REQUIRED=1 python3 scripts/browser-check.py .build/smoke-report/report.html .build/smoke-report/screenshots

# A real one-node Slurm (scripts/slurm-local.sh; needs root): sweeps through it equal local ones.
test-slurm: build
	bash scripts/check-slurm.sh

# Reliability checks (scripts/check-*.sh), run by CI after the tests.
check-determinism: build
	bash scripts/check-determinism.sh $(THREADS)
check-interrupt: build
	bash scripts/check-interrupt.sh
check-concurrent: build
	bash scripts/check-concurrent.sh

# The unit tests under the sanitizers, each in its own build folder. Leaks
# are not checked: Foundation's file reading leaks a page per call (Swift 6.3).
test-asan: | deps
	SANITIZER=address ASAN_OPTIONS=detect_leaks=0 \
	  $(SWIFT) test -c release --sanitize=address --scratch-path .build-asan --disable-swift-testing
# Under ThreadSanitizer the command-line tests (mos in subprocesses, itself
# built with it) are left out: they take over eight minutes, and once hung.
test-tsan: | deps
	SANITIZER=thread $(SWIFT) test -c release --sanitize=thread --scratch-path .build-tsan --disable-swift-testing \
	  --skip CLITests

# libFuzzer on the readers of outside files (scripts/fuzz.sh); not part of make test.
fuzz: | deps
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) bash scripts/fuzz.sh

clean:
	find $(FIGURES) -mindepth 1 ! -name README.md -delete
