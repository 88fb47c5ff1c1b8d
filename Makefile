# The two commands: `make dev` and `make test`. Every other target is a step of those.
# On a fresh machine they install what is missing first (pinned versions only).

SHELL := /bin/bash
.DEFAULT_GOAL := help

WRANGLER := node_modules/.bin/wrangler
BLOG := target/release/blog
# The build's wasm-bindgen step (crates/bindgen), in a target directory of its own so that a
# first run compiles it beside the Worker; an unoptimised build runs in about a second.
BINDGEN := target/tools/debug/blog-bindgen
PORT ?= 8787

export WRANGLER_SEND_METRICS := false
export BINDGEN_BIN := $(CURDIR)/$(BINDGEN)
export WASM_OPT_BIN := $(CURDIR)/node_modules/.bin/wasm-opt
export ESBUILD_BIN := $(CURDIR)/node_modules/.bin/esbuild

# What the Worker is built from: itself, the core and the templates (never the author's tools),
# and the script that builds it. The entry module counts too: BLOG_BUILD_ID covers all of src/.
WORKER_SOURCES := Cargo.toml Cargo.lock build.rs tools/build-worker.sh tools/short-names.mjs \
	$(shell find src crates/core templates -type f)

WASM_LIB := target/wasm32-unknown-unknown/worker/blog_worker.wasm

.PHONY: help dev dev-ready test lint tools wasm-target rust-components build sync check deploy bench clean chromium python-deps fuzz

help:
	@echo "make dev    build, sync content/ into local KV, serve http://127.0.0.1:$(PORT)"
	@echo "make test   every test: host unit tests, end to end on workerd, browser"
	@echo "make bench  speed and size figures"
	@echo "make fuzz   five minutes of fuzzing per target"

# A first run does in parallel what waits on nothing else: blog-bindgen's compile (in its own
# target directory), npm's packages, and the Worker's then the CLI's compile (one target
# directory, so cargo runs those two one after the other). Chromium and Python's feedparser
# are only for `make test`.
# `blog serve`: syncs content/ (drafts included) into local KV, runs `wrangler dev` behind a
# local proxy, and on every save syncs again and reloads the open pages.
dev:
	@$(MAKE) --no-print-directory -j3 dev-ready
	$(BLOG) serve --port $(PORT)

dev-ready: build $(BLOG) .dev.vars

# The local Worker's secrets, which `wrangler dev` reads and git ignores: a random stats
# token, which `blog stats` reads from here too. Never overwritten.
.dev.vars:
	@umask 077 && printf 'STATS_TOKEN=%s\n' "$$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" > $@
	@echo "wrote .dev.vars: a new STATS_TOKEN for the local Worker and blog stats"

# The end-to-end tests and the host checks (lint, cargo test, the deploy dry run, the fuzz
# smoke run) run side by side: see tests/run.sh.
test: tools build $(BLOG) chromium python-deps rust-components
	tests/run.sh

# Formatting and lints, warnings as errors: the host build of every crate, and the Worker as
# it ships (wasm32), where the edge's code is compiled at all.
lint: rust-components
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p blog-worker -p blog-bench-floor --target wasm32-unknown-unknown --locked -- -D warnings

# Long fuzzing runs; findings land in fuzz/artifacts/ (commit the ones that found bugs).
fuzz:
	fuzz/run.sh 300

tools: $(BINDGEN) node_modules/.installed wasm-target

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

rust-components:
	@rustup component list --installed | grep -q '^clippy' && rustup component list --installed | grep -q '^rustfmt' || rustup component add clippy rustfmt

$(BINDGEN): $(shell find crates/bindgen -type f) Cargo.toml Cargo.lock
	CARGO_TARGET_DIR=target/tools cargo build --locked -p blog-bindgen
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit
	touch $@

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The feed tests parse our feeds with Python's feedparser (pinned in tests/requirements.txt).
python-deps:
	@python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt

# wrangler runs `make build` before every dev session and deploy: it does nothing when the
# worker is up to date. tools/build-worker.sh says what the steps are; index.js is its last file.
build: build/index.js

build/index.js: $(WORKER_SOURCES) $(WASM_LIB) $(BINDGEN) | tools
	tools/build-worker.sh

# The Worker's compile alone (the script's first step), so a first run overlaps it with the
# tools' installs; the full script then finds it done.
$(WASM_LIB): $(WORKER_SOURCES) | wasm-target
	tools/build-worker.sh cargo
	@touch $@

$(BLOG): $(shell find crates/core crates/author -type f) Cargo.toml Cargo.lock
	cargo build --release -p blog-author --bin blog

sync: $(BLOG)
	$(BLOG) sync

check: $(BLOG)
	$(BLOG) check

deploy: tools build $(BLOG)
	$(BLOG) sync --remote
	$(WRANGLER) deploy

# Speed and size figures, side by side in one run; writes bench/RESULTS.md.
bench: tools build $(BLOG)
	@command -v wrk >/dev/null && command -v hyperfine >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk hyperfine; }
	cargo build --release -p blog-author --example render_bench
	node bench/run.mjs

clean:
	rm -rf build target/deploy-dry-run tests/artifacts
