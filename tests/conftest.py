"""Shared test helpers: run the project's command lines as a user would, in a scratch folder."""

import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hub_standin import HubStandIn, hub_standin  # noqa: F401  (hub_standin is a fixture)

REPO = Path(__file__).resolve().parents[1]
# The scripts whose flags test_bad_values.py and test_flag_typos.py check on every run (ppo_vizdoom.py's
# flags are checked in test_ppo_vizdoom.py, beside the game it needs).
FLAG_CHECKED_SCRIPTS = ("q_learning.py", "reinforce.py", "dqn.py", "a2c.py", "ppo.py", "dqn_atari.py")
FLAG_CHECKED_SCRIPTS += ("ppo_atari.py", "ppo_rnd.py", "ppo_selfplay.py")

# pytest-xdist (`-n auto` in pyproject.toml) runs one worker per core, up to 4. Each worker and the
# scripts it starts get an equal share of the cores for torch and OpenMP: threads beyond the cores only
# wait on each other. Set here, before anything imports torch; cli_env passes it on to every subprocess.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    cores_per_worker = (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, cores_per_worker)))

# panda-gym needs pybullet, which has wheels for Python 3.10 and 3.11 only (requirements-robotics.txt):
# elsewhere the Panda tests are skipped with this reason, shown by `pytest -ra` (make test).
needs_panda_gym = pytest.mark.skipif(
    importlib.util.find_spec("panda_gym") is None,
    reason=f"panda-gym is not installed (pybullet has wheels for Python 3.10/3.11 only, this is "
    f"{sys.version_info.major}.{sys.version_info.minor}): see requirements-robotics.txt",
)


def cli_env(extra_env=None):
    """The environment scripts run in: the Hub and W&B stay offline unless a test says otherwise."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "WANDB_"))}
    env.update(PYTHONUNBUFFERED="1", WANDB_MODE="offline", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    env.update(extra_env or {})
    return env


def cli_command(args):
    """``python <args>``, with algorithms/... and hub_utils.py resolved to this repository's files."""
    return [sys.executable] + [
        str(REPO / arg) if arg.startswith(("algorithms/", "hub_utils.py")) else str(arg) for arg in args
    ]


def run_cli(args, cwd, extra_env=None, timeout=300):
    """Runs a project command line in ``cwd`` (created if needed) as a user would."""
    Path(cwd).mkdir(parents=True, exist_ok=True)
    env = cli_env({"HF_HOME": str(Path(cwd) / ".hf-home"), **(extra_env or {})})
    return subprocess.run(
        cli_command(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def interrupt_run(args, cwd, signum=signal.SIGINT):
    """Starts a project command line in ``cwd``, sends it ``signum`` once its first progress line
    shows that training is under way, and returns the completed process."""
    Path(cwd).mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        cli_command(args), cwd=cwd, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in process.stdout:
        if PROGRESS_LINE.match(line):
            process.send_signal(signum)
            break
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# training_run.Progress's plain line, e.g. "512/6,400 steps (8%)"
PROGRESS_LINE = re.compile(r"[\d,]+/[\d,]+ \w+ \(\d+%\)")


def only_run_dir(cwd):
    """The single run folder a script made under ``cwd/runs``."""
    runs = [path for path in (Path(cwd) / "runs").iterdir() if path.name != "enjoy"]
    assert len(runs) == 1, runs
    return runs[0]


def assert_one_line_error(process, *fragments, code=2):
    """A user error: the exit code, no traceback, and one ``error:`` line naming the fragments."""
    assert process.returncode == code, (process.returncode, process.stdout, process.stderr)
    assert "Traceback" not in process.stderr, process.stderr
    lines = [line for line in process.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, process.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def hub_env(hub_standin):  # noqa: F811
    """Environment variables that point a subprocess's huggingface_hub at the local stand-in."""
    return lambda token="hf_alice_token": {**hub_standin.client_env(token), "HF_HUB_OFFLINE": "0"}


@pytest.fixture(scope="session")
def frozenlake_run(tmp_path_factory):
    """One FrozenLake training run (with --track, W&B offline) shared by the read-only tests."""
    cwd = tmp_path_factory.mktemp("frozenlake")
    process = run_cli(["algorithms/q_learning.py", "--env-id", "FrozenLake-v1", "--track"], cwd)
    assert process.returncode == 0, process.stderr
    return cwd, only_run_dir(cwd), process


__all__ = [
    "HubStandIn",
    "REPO",
    "cli_command",
    "cli_env",
    "run_cli",
    "interrupt_run",
    "only_run_dir",
    "assert_one_line_error",
]


def assert_model_card_reproduces(run_dir, module):
    """The model card's `## Reproduce` command names the run's script and re-parses, with the
    script's own parse_args, to exactly the hyperparameters saved in args.json. Returns the command."""
    import hub_utils

    text = (Path(run_dir) / "README.md").read_text()
    command = text.split("## Reproduce")[1].split("```bash")[1].split("```")[0]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["python", f"algorithms/{Path(module.__file__).name}"]
    reparsed = {
        key: value
        for key, value in vars(module.parse_args(words[2:])).items()
        if key not in hub_utils.RUN_ONLY_FLAGS
    }
    assert reparsed == json.loads((Path(run_dir) / "args.json").read_text())
    return command


def assert_same_training(run_dir, reference_dir):
    """Two runs trained identically: the same weights bit for bit, and the same training record
    (steps, episodes, updates) apart from timings."""
    from safetensors.torch import load_file

    weights, expected = (load_file(Path(folder) / "model.safetensors") for folder in (run_dir, reference_dir))
    assert weights.keys() == expected.keys()
    assert all((weights[name] == expected[name]).all() for name in expected)
    trained, expected_training = (
        json.loads((Path(folder) / "results.json").read_text())["training"]
        for folder in (run_dir, reference_dir)
    )
    for training in (trained, expected_training):
        for timing in ("wall_time_s", "sps"):
            training.pop(timing, None)
    assert trained == expected_training


def assert_enjoy_reproduces(run_dir, cwd):
    """`hub_utils.py enjoy --path run_dir` rebuilds the agent from the folder alone and scores exactly
    what the training run's own evaluation wrote to results.json."""
    results = json.loads((Path(cwd) / run_dir / "results.json").read_text())  # run_dir may be relative to cwd
    process = run_cli(["hub_utils.py", "enjoy", "--path", str(run_dir), "--no-video"], cwd)
    assert process.returncode == 0, process.stderr
    assert f"mean_reward {results['mean_reward']:.2f} +/- {results['std_reward']:.2f}" in process.stdout


def interrupt_and_check(flags, cwd, signum=signal.SIGINT):
    """Interrupts a training command line (``flags[0]`` is its script) once training is under way,
    and checks what the spec promises: exit 130, a checkpoint and no final model in the run folder,
    and the command that resumes it. Returns the run folder."""
    interrupted = interrupt_run(flags, cwd, signum)
    assert interrupted.returncode == 130, interrupted.stderr
    run_dir = only_run_dir(cwd)
    assert (run_dir / "checkpoint.pt").is_file() and not (run_dir / "model.safetensors").exists()
    assert f"resume with: python {flags[0]} --resume {run_dir.relative_to(cwd)}" in interrupted.stdout
    return run_dir


def resume_to_the_end(script, run_dir, cwd):
    """`python <script> --resume <run_dir>` finishes the run and removes its checkpoint."""
    resumed = run_cli([script, "--resume", str(Path(run_dir).relative_to(cwd))], cwd)
    assert resumed.returncode == 0, resumed.stderr
    assert not (Path(run_dir) / "checkpoint.pt").exists()
