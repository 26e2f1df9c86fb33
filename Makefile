# GradFlow: the two commands of the README, and their parts.
#   make run    install what is missing, build, run gradient flow on the default problem
#   make test   install what is missing, build, pass the tests (what .ci/run calls)
SWIFT ?= swift
OUTPUT ?= default-run.h5

.PHONY: setup build run test clean

setup:
	@bash scripts/install-deps.sh

build: setup
	$(SWIFT) build -c release --product gradflow

run: build
	.build/release/gradflow run --output $(OUTPUT) --force

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test

clean:
	rm -rf .build $(OUTPUT)
