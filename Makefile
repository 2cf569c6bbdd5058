# Two commands do everything on a fresh machine with Python 3.10+:
#   make demo   bootstrap .venv, install, train + evaluate + package the main job
#   make test   bootstrap .venv, install, run the test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-robotics.txt requirements-benchmarks.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python algorithms/ppo.py --env-id LunarLander-v2 --total-timesteps 1000000

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs wandb .pytest_cache
