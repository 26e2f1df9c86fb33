# GradFlow: the two commands of the README, and their parts.
#   make run    install what is missing, build, run gradient flow on the default problem
#   make test   install what is missing, build, pass the Swift tests, then the Python ones (what .ci/run calls)
#   make bench  the benchmark suite (cases A–E against scipy, numpy and diffrax peers; benchmarks/README.md)
SWIFT ?= swift
OUTPUT ?= default-run.h5

.PHONY: setup build run test bench clean

setup:
	@bash scripts/install-deps.sh

build: setup
	$(SWIFT) build -c release --product gradflow

run: build
	.build/release/gradflow run --output $(OUTPUT) --force

PYTHON ?= python3

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@$(PYTHON) -c 'import numpy, h5py, xarray, h5netcdf, pandas, pytest' 2>/dev/null || $(PYTHON) -m pip install --quiet --disable-pip-version-check numpy h5py xarray h5netcdf pandas pytest \
	  || $(PYTHON) -m pip install --quiet --disable-pip-version-check --break-system-packages numpy h5py xarray h5netcdf pandas pytest
	GRADFLOW_BINARY="$(CURDIR)/.build/debug/gradflow" $(PYTHON) -m pytest -q -p no:cacheprovider python/tests

BENCH_ARGS ?=

bench: setup
	@python3 -c 'import numpy, scipy, h5py' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check numpy scipy h5py
	@python3 -c 'import jax, diffrax' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check jax diffrax \
	  || echo "jax and diffrax could not be installed: the diffrax peer is reported as n/a"
	$(SWIFT) build -c release
	.build/release/gradflow-bench $(BENCH_ARGS)

clean:
	rm -rf .build $(OUTPUT)
