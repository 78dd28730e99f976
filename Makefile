# Two set-up commands, each complete on a fresh machine:
#   make demo   runs the main job on the bundled sample (outputs in demo-output/)
#   make test   installs what the tests need (the cloud and ray extras too) and runs lint +
#               the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MIRA := $(BIN)/mira
OUT := demo-output

.PHONY: demo test lint bench bench-sizes bench-duplicates clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cloud,ray]'
	touch $@

demo: $(VENV)/.installed
	rm -rf $(OUT) && mkdir -p $(OUT)
	$(MIRA) import-qsl sample/project.json -o $(OUT)/sample.tar
	$(MIRA) stats $(OUT)/sample.tar
	$(MIRA) dedupe $(OUT)/sample.tar -o $(OUT)/deduped.tar --threshold 0.9
	$(MIRA) split $(OUT)/deduped.tar --sizes 0.5 0.25 0.25 --group metadata.origin --out-dir $(OUT)
	$(MIRA) augment $(OUT)/deduped-train.tar -o $(OUT)/train-augmented.tar --config examples/augment.yaml --copies 2 --keep-original
	$(MIRA) tile $(OUT)/deduped.tar -o $(OUT)/tiles.tar --max-size 200 --mode grid
	$(MIRA) merge $(OUT)/deduped.tar $(OUT)/tiles.tar -o $(OUT)/combined.tar
	$(MIRA) filter $(OUT)/deduped.tar -o $(OUT)/sunny.tar --with-labels sunny --min-area 400
	$(MIRA) remap $(OUT)/deduped.tar -o $(OUT)/shapes.tar --map examples/shapes.yaml
	$(MIRA) placeholder $(OUT)/deduped.tar -o $(OUT)/placeholder.tar
	$(MIRA) render $(OUT)/deduped.tar -o $(OUT)/rendered --limit 16
	@echo "demo outputs are in $(OUT)/ (rendered images in $(OUT)/rendered/)"

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python tests/benchmarks/run.py

# Output bytes of tile and augment against their source and SAHI (installed in a venv of its own)
bench-sizes: $(VENV)/.installed
	$(BIN)/python tests/benchmarks/sizes.py

# mira dedupe --images similar against imagededup's PHash (installed without torch)
bench-duplicates: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --no-deps imagededup
	$(BIN)/python -m pip install --quiet PyWavelets tqdm
	$(BIN)/python tests/benchmarks/near_duplicates.py

clean:
	rm -rf $(OUT) build *.egg-info
