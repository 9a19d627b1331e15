# ridgeline: `make` builds build/ridgeline; `make test` builds and runs every test;
# `make lab` installs what is missing, builds, runs the lab and writes results/ + the report.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
LAB_FLAGS ?=
# TP=N: the lab tensor parallel over N GPUs (`ridgeline lab --tp N`), into results/<gpu>-tpN/.
TP ?=
# Where `make lab` writes: results/<gpu>/ on a GPU (h100, h200, ...), results/cpu/ otherwise.
LAB_OUT ?= $(shell scripts/lab-out-dir.sh $(if $(TP),--tp $(TP)))

.PHONY: all build configure deps test lab asan fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	@scripts/install-deps.sh --check-only || scripts/install-deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

# CMAKE_FLAGS on an existing build dir (e.g. -DCMAKE_CUDA_ARCHITECTURES=80): configure again with them
# (a build dir this make call creates was configured with them already).
FRESH_BUILD := $(if $(wildcard $(BUILD)/CMakeCache.txt),,1)
configure: $(BUILD)/CMakeCache.txt
	$(if $(and $(strip $(CMAKE_FLAGS)),$(if $(FRESH_BUILD),,1)),cmake -S . -B $(BUILD) $(CMAKE_FLAGS))

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# ASan + UBSan build of the CPU tests (CUDA off: the sanitizers do not see device code).
asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DRIDGELINE_SANITIZE=ON -DRIDGELINE_CUDA=OFF
	cmake --build $(BUILD)-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir $(BUILD)-asan --output-on-failure -j $(JOBS) -E lab

# libFuzzer on the safetensors and config.json parsers, FUZZ_SECONDS each (make test runs 20 s each).
FUZZ_SECONDS ?= 300
fuzz: deps
	bash tests/fuzz/run.sh . $(BUILD)-fuzz $(FUZZ_SECONDS)

lab: deps build
	@mkdir -p $(LAB_OUT)
	./$(BUILD)/ridgeline lab --out $(LAB_OUT) $(if $(TP),--tp $(TP)) $(LAB_FLAGS)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
