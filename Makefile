# faultline. The two entry points (see README): `make fuzz` and `make test`.
# Both install what is missing (apt-get, as root), configure and build with
# CMake and clang into build/, then run.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)

APT_PACKAGES := clang cmake ninja-build protobuf-compiler libprotobuf-dev \
  libboost-context-dev libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev \
  libcli11-dev nlohmann-json3-dev libclang-rt-14-dev afl++ zip unzip python3

.PHONY: all deps configure build test fuzz bench clean

all: build

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing packages:$$missing (run as root to install them)"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake --preset default -B $(BUILD)

build: configure
	cmake --build $(BUILD) -j $(JOBS)
	cmake --build $(BUILD) -j $(JOBS) --target fuzz_schedule_afl_target

# Everything, then the unit and CLI tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer (fibers included).
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@[ -f $(BUILD)/asan/build.ninja ] || cmake --preset asan -B $(BUILD)/asan
	cmake --build $(BUILD)/asan -j $(JOBS) --target faultline_tests
	$(BUILD)/asan/bin/faultline_tests --gtest_filter=-Fuzzing.*

bench: build
	$(BUILD)/bin/sim_bench
	$(BUILD)/bin/run_bench

fuzz: build
	tools/fuzz.sh

clean:
	rm -rf $(BUILD)
