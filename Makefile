# Two commands do everything on a fresh machine with Python 3.11-3.13 (3.10 still works):
#   make demo   bootstrap .venv, install, train + evaluate + package the main job
#   make test   bootstrap .venv, install, run the test suite (what CI runs)
# Options: PYTHON=python3.12 (the interpreter), VENV=path (where the environment goes),
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu   installs torch from PyTorch's CPU-only index
#   first (Linux: about 0.2 GB instead of PyPI's CUDA build with several GB of nvidia-* wheels).
PYTHON ?= python3
VENV ?= .venv
TORCH_INDEX ?=
BIN := $(VENV)/bin

.PHONY: install demo test clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-robotics.txt requirements-benchmarks.txt requirements-vizdoom.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install --quiet "torch>=2.4,<2.14" --index-url $(TORCH_INDEX)
endif
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python algorithms/ppo.py --env-id LunarLander-v2 --total-timesteps 1000000

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs wandb .pytest_cache
