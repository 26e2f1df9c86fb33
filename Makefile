# GradFlow: the two commands of the README, and their parts.
#   make run    install what is missing, build, run gradient flow on the default problem
#   make test   install what is missing, build, pass the tests (what .ci/run calls)
#   make bench  kernel timings: gradient, Hessian-vector product, gradient-descent step
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

bench: setup
	$(SWIFT) build -c release --product gradflow-bench
	.build/release/gradflow-bench

clean:
	rm -rf .build $(OUTPUT)
