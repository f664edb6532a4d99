# citizenhour — two commands on a fresh Debian 12 / Ubuntu 24.04 machine:
#   make demo   installs what is missing, builds (release) and runs one complete citizen hour
#   make test   installs what is missing (plus test tools), then runs the whole test suite
.PHONY: demo test deps test-deps build lint fmt assets clean

CARGO ?= cargo

deps:
	deploy/install-deps.sh

test-deps:
	deploy/install-deps.sh --test

build: deps
	$(CARGO) build --release --locked

demo: build
	./target/release/citizenhour demo

test: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked -- --test-threads=2

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Refreshes the embedded front-end packages from npm (pinned in assets/package.json).
assets:
	cd assets && npm ci --no-audit --no-fund && cp node_modules/hls.js/dist/hls.min.js vendor/hls.min.js

clean:
	$(CARGO) clean
