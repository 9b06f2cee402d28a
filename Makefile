# cybersafe: `make demo` and `make test` work on a fresh Debian machine as root.
# They install every system package (apt-get) and Python package (pip, into .venv) they need, then run.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# What `make demo` runs: the firmware extractors unblob needs (feasibility.md 1), the tools and binaries the
# example firmware is built from, poppler and pango for PDF reports and label PNGs.
DEMO_APT := \
	squashfs-tools 7zip p7zip-full lz4 lzop zstd e2fsprogs mtd-utils android-sdk-libsparse-utils \
	lziprecover lzip partclone unar cabextract xz-utils cpio erofs-utils u-boot-tools file libmagic1 \
	busybox-static dropbear-bin gcc libc6-dev \
	poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
# What only the tests need: real SSH, FTP and TLS servers, a QR decoder, a browser, PostgreSQL.
TEST_APT := openssh-server openssh-client openssl vsftpd libzbar0 chromium postgresql procps
# What only the benchmarks need.
BENCH_APT := wrk hyperfine

.PHONY: help demo test test-packages lint bench install install-test system-deps system-deps-test system-deps-bench schemas docs clean

help:
	@echo "make demo   - install what the demo runs, assess the bundled example product, write out/demo/"
	@echo "make test   - install the test tools too and run the whole test suite"
	@echo "make lint   - ruff, ruff format --check, mypy --strict"
	@echo "make bench  - run the benchmarks in bench/ (prints figures)"
	@echo "make docs   - regenerate JSON Schemas, README blocks and golden files after a catalog change"

# $(call apt,PACKAGES): install the Debian packages of the list that are missing (as root).
define apt
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if ! $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "need root for apt-get (or install:$$missing)"; exit 2; fi; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system-deps:
	$(call apt,$(DEMO_APT))

system-deps-test: system-deps
	$(call apt,$(TEST_APT))

system-deps-bench: system-deps-test
	$(call apt,$(BENCH_APT))

# The demo's venv holds cybersafe with every extra; the test venv adds the test and lint tools.
$(BIN)/.installed-all: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
	$(BIN)/pip install -q --disable-pip-version-check -e '.[all]'
	$(BIN)/pip check
	touch $@

$(BIN)/.installed-dev: pyproject.toml $(BIN)/.installed-all
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip check
	touch $@

install: system-deps $(BIN)/.installed-all

install-test: system-deps-test $(BIN)/.installed-dev

demo: install
	$(BIN)/cybersafe demo --out out/demo

# Real Debian packages the firmware tests read (component signatures, hardening, SBOM), downloaded once
# with apt-get download into the git-ignored .cache/debs; the tests never reach the network themselves.
test-packages: install-test
	$(BIN)/python -m tests.evidence.firmware.debs

test: install-test test-packages
	$(BIN)/pytest -q -p no:cacheprovider --cov --cov-report=term:skip-covered

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install-test system-deps-bench
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python "$$script"; done

schemas: install-test
	$(BIN)/python -m cybersafe.dossier.schema

# After a catalog or output change: the published JSON Schemas, the README's generated blocks and every golden file.
docs: install-test schemas
	$(BIN)/python -m cybersafe.docs README.md
	CYBERSAFE_UPDATE_GOLDEN=1 $(BIN)/pytest -q -p no:cacheprovider tests/test_assess.py tests/render tests/label/test_label_golden.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache .coverage
