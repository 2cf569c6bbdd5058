#!/usr/bin/env bash
# Fresh-venv install + smoke run of every script, on each given Python, one at a time.
#   docs/python_versions.sh 3.12.1 3.13.0      (pyenv versions; logs in $OUT, default /tmp/python-versions)
# For each version: `make install` into a new venv (what `make test` does first; pip's cache is
# bypassed so download sizes are real), what pip chose (torch build, nvidia-* wheels, panda-gym), a
# tiny training run of every script in algorithms/, `hub_utils.py enjoy` on one run, and the tests
# named in $TESTS. docs/python-versions.md records what it printed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/python-versions}
TESTS=${TESTS:-tests/test_project.py tests/test_a2c.py tests/test_hub.py}
mkdir -p "$OUT"
for version in "$@"; do
    python="$(pyenv root)/versions/$version/bin/python"
    root="$OUT/$version" && rm -rf "$root" && mkdir -p "$root/smoke"
    log="$root/log.txt"
    echo "== Python $version, $(date -u '+%Y-%m-%d %H:%M UTC')" | tee "$log"
    start=$SECONDS
    if PIP_NO_CACHE_DIR=1 make install PYTHON="$python" VENV="$root/venv" >"$root/install.txt" 2>&1; then
        echo "install: ok in $((SECONDS - start)) s" | tee -a "$log"
    else
        echo "install: FAILED after $((SECONDS - start)) s (tail of $root/install.txt:)" | tee -a "$log"
        tail -5 "$root/install.txt" | tee -a "$log"
        continue
    fi
    venv_python="$root/venv/bin/python"
    echo "venv size: $(du -sh "$root/venv" | cut -f1)" | tee -a "$log"
    "$venv_python" - <<'PY' 2>&1 | tee -a "$log"
import importlib.metadata as md, importlib.util, pathlib
import torch
nvidia = [d for d in md.distributions() if d.metadata["Name"].lower().startswith(("nvidia-", "triton"))]
size = sum(f.locate().stat().st_size for d in nvidia for f in (d.files or []) if f.locate().is_file())
print(f"torch {torch.__version__} (CUDA build: {torch.version.cuda}); {len(nvidia)} nvidia-*/triton "
      f"packages, {size / 2**30:.2f} GiB")
for name in ("gymnasium", "numpy", "ale-py", "box2d", "pygame-ce", "panda-gym", "pybullet", "ray"):
    try:
        print(f"{name} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name}: not installed")
PY
    smoke() {  # smoke NAME ARGS...: a tiny run in its own folder; prints ok/FAILED and the time
        local name=$1 && shift
        local cwd="$root/smoke/$name" t0=$SECONDS && mkdir -p "$cwd"
        if (cd "$cwd" && WANDB_MODE=offline "$venv_python" "$@" >out.txt 2>&1); then
            echo "smoke $name: ok in $((SECONDS - t0)) s" | tee -a "$log"
        else
            echo "smoke $name: FAILED: $(grep -v '^\s*$' "$cwd/out.txt" | tail -1)" | tee -a "$log"
        fi
    }
    repo=$PWD
    smoke q_learning "$repo/algorithms/q_learning.py" --env-id Taxi-v3 --total-episodes 300 --eval-episodes 5
    smoke ppo "$repo/algorithms/ppo.py" --env-id LunarLander-v2 --total-timesteps 256 --num-envs 2 \
        --num-steps 32 --num-minibatches 2 --update-epochs 2 --eval-episodes 2
    smoke dqn "$repo/algorithms/dqn.py" --env-id CartPole-v1 --total-timesteps 600 --learning-starts 200 \
        --batch-size 32 --eval-episodes 2
    smoke dqn_atari "$repo/algorithms/dqn_atari.py" --total-timesteps 300 --learning-starts 100 \
        --buffer-size 1000 --batch-size 8 --eval-episodes 1
    smoke reinforce "$repo/algorithms/reinforce.py" --env-id Pixelcopter-PLE-v0 --total-timesteps 300 \
        --eval-episodes 2
    if "$venv_python" -c "import panda_gym" 2>/dev/null; then a2c_env=PandaReachDense-v3; else a2c_env=CartPole-v1; fi
    smoke "a2c-$a2c_env" "$repo/algorithms/a2c.py" --env-id "$a2c_env" --total-timesteps 400 --num-envs 2 \
        --num-steps 8 --eval-episodes 2
    smoke ppo_atari "$repo/algorithms/ppo_atari.py" --env-id BreakoutNoFrameskip-v4 --total-timesteps 256 \
        --num-envs 2 --num-steps 32 --num-minibatches 2 --update-epochs 1 --env-threads 1 --eval-episodes 1
    for extra in "$repo"/algorithms/*.py; do  # scripts added since this list was written: --help only
        case $(basename "$extra" .py) in q_learning | ppo | dqn | dqn_atari | reinforce | a2c | ppo_atari) ;;
            *) smoke "$(basename "$extra" .py)-help" "$extra" --help ;; esac
    done
    ppo_run=$(ls -d "$root"/smoke/ppo/runs/*/ 2>/dev/null | head -1)
    [ -n "$ppo_run" ] && smoke enjoy "$repo/hub_utils.py" enjoy --path "$ppo_run" --eval-episodes 2
    t0=$SECONDS
    # shellcheck disable=SC2086
    "$venv_python" -m pytest $TESTS -q -ra -p no:cacheprovider >"$root/pytest.txt" 2>&1
    echo "pytest ($TESTS): $(tail -1 "$root/pytest.txt") in $((SECONDS - t0)) s" | tee -a "$log"
    grep '^SKIPPED' "$root/pytest.txt" | tee -a "$log"
    echo "total: $((SECONDS - start)) s" | tee -a "$log"
done
