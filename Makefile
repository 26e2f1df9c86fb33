# GradFlow: the two commands of the README, and their parts.
#   make run    install what is missing, build, run gradient flow on the default problem
#   make test   install what is missing, build, pass the tests (what .ci/run calls)
#   make bench  the benchmark suite (cases A–E against scipy and numpy peers; benchmarks/README.md)
SWIFT ?= swift
OUTPUT ?= default-run.h5

.PHONY: setup build run test bench clean

setup:
	@bash scripts/install-deps.sh

build: setup
	$(SWIFT) build -c release --product gradflow

run: build
	.build/release/gradflow run --output $(OUTPUT) --force

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test

BENCH_ARGS ?=

bench: setup
	@python3 -c 'import numpy, scipy, h5py' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check numpy scipy h5py
	$(SWIFT) build -c release
	.build/release/gradflow-bench $(BENCH_ARGS)

clean:
	rm -rf .build $(OUTPUT)
