# mlrepro: `make reproduce` runs both blocks on the config's store; `make test` runs the tests.
#
# Variables: CONFIG=configs/reference.yaml  TRACKING_URI=path|file://…|sqlite:///…
#            JOBS=N  FORCE=1  CARGO_TARGET_DIR=dir (default: a persistent cache outside the
#            clone, so a fresh clone on the same machine rebuilds only mlrepro, not DuckDB).

CARGO_TARGET_DIR ?= $(HOME)/.cache/mlrepro/target
export CARGO_TARGET_DIR
CARGO ?= cargo
CONFIG ?= configs/default.yaml
JOBS ?=
TRACKING_URI ?=
FORCE ?=

BIN := $(CARGO_TARGET_DIR)/release/mlrepro
RUN_FLAGS := -c $(CONFIG) $(if $(JOBS),-j $(JOBS)) $(if $(filter 1,$(FORCE)),--force)
STORE_FLAGS := $(if $(TRACKING_URI),--tracking-uri '$(TRACKING_URI)')

.PHONY: build reproduce reproduce-from-checkpoint extract analyze status test check acceptance bench fixtures clean wheel wheel-check contact-sheet

build:
	$(CARGO) build --release --locked

reproduce: build
	$(BIN) $(RUN_FLAGS) reproduce $(STORE_FLAGS)

reproduce-from-checkpoint: build
	$(BIN) $(RUN_FLAGS) reproduce --from-checkpoint

extract: build
	$(BIN) $(RUN_FLAGS) extract $(STORE_FLAGS)

analyze: build
	$(BIN) $(RUN_FLAGS) analyze

status: build
	$(BIN) $(RUN_FLAGS) status $(STORE_FLAGS)

# One profile (release) for build, test, bench and clippy: DuckDB's C++ is compiled once.
test:
	$(CARGO) test --release --locked --workspace

check:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings
	scripts/same_features.sh

# The README's walkthrough on a clean clone of HEAD in a temporary directory.
acceptance:
	scripts/acceptance.sh

# A Python wheel carrying the binary, in dist/ (maturin; reuses this build cache).
wheel:
	scripts/wheel.sh build

# The wheel installed into a fresh venv: --version, ldd, reproduce --from-checkpoint.
wheel-check:
	scripts/wheel.sh check

# assets/figures.png: every figure in figures/ on one page, for the README (ImageMagick).
contact-sheet:
	scripts/contact_sheet.sh figures assets/figures.png

bench: build
	scripts/bench/run.sh

fixtures:
	scripts/fixtures/regenerate.sh

clean: build
	$(BIN) $(RUN_FLAGS) clean
