# framewatch: the two commands a new user needs are `make serve` and `make test`.
VENV       ?= .venv
PYTHON     ?= python3
BIN        := $(VENV)/bin
CONFIG     ?= configs/default.yaml
CHECKPOINT ?= checkpoints/default
REPORT     ?= reports/latest
STAMP      := $(VENV)/.framewatch-installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup serve train test test-fast evaluate gate lint bench bench-scale container clean

## setup: create .venv with the CPU build of torch and framewatch (editable) + dev tools; quick when up to date
setup: $(STAMP)
$(STAMP): pyproject.toml requirements/torch.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/torch.txt
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	touch $(STAMP)

## train: train the default model unless a complete checkpoint exists (resumes an interrupted run)
train: setup
	@if [ -f $(CHECKPOINT)/MANIFEST.sha256 ]; then echo "checkpoint $(CHECKPOINT) exists; skipping training"; \
	else $(BIN)/framewatch train --config $(CONFIG) --output $(CHECKPOINT) --resume; fi

## serve: set up, train if needed, then serve the default model on 127.0.0.1:8000
serve: train
	$(BIN)/framewatch serve --config $(CONFIG) --checkpoint $(CHECKPOINT)

## test: the test suite (unit tests on a tiny model, one end-to-end run of the real base model)
test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

## evaluate: report on the test split into $(REPORT)
evaluate: train
	$(BIN)/framewatch evaluate --config $(CONFIG) --checkpoint $(CHECKPOINT) --report $(REPORT)

## gate: train a fresh default model, evaluate it, fail on a quality drop (what CI runs)
gate: setup
	$(BIN)/framewatch train --config $(CONFIG) --output $(CHECKPOINT)
	$(BIN)/framewatch evaluate --config $(CONFIG) --checkpoint $(CHECKPOINT) --report $(REPORT) --gate

lint: setup
	$(BIN)/ruff check framewatch training serving evaluation tests benchmarks scripts
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

## bench: batch-scoring and server benchmarks (each prints its ratio against a baseline run in the same process)
bench: train
	$(BIN)/python benchmarks/predict.py --checkpoint $(CHECKPOINT)
	$(BIN)/python benchmarks/serve.py --checkpoint $(CHECKPOINT)

## bench-scale: predict's peak memory on 1M rows against 10k, and Spark local[2] against the CLI (tens of minutes)
bench-scale: train
	$(BIN)/python benchmarks/predict_memory.py --checkpoint $(CHECKPOINT)
	$(BIN)/python benchmarks/spark_vs_cli.py --checkpoint $(CHECKPOINT)

## container: build and smoke-test the image with podman (not run by CI)
container:
	bash scripts/container.sh

clean:
	rm -rf $(REPORT) .pytest_cache
