"""A pushed model repository replays on its own, as its card says: downloaded from the (stand-in)
Hub with `hf download` into a folder outside the project, installed from its requirements.txt into
a fresh virtual environment (no system site-packages, no project), then
`python hub_utils.py enjoy --path .` scores exactly what the training run's results.json says.

Slow (pip installs torch into the new environment): marked `slow`, so that `pytest -m "not slow"`
leaves it out; the suite (`make test`) runs it once.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env, only_run_dir, run_cli

RUNS = {  # repository -> training command: a torch network, and an environment of envs/ (Pixelcopter)
    "alice/reinforce-CartPole-v1": ["--env-id", "CartPole-v1", "--total-timesteps", "600"],
    "alice/reinforce-Pixelcopter-PLE-v0": ["--env-id", "Pixelcopter-PLE-v0", "--total-timesteps", "300"],
}


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_pushed_repository_replays_with_pip_packages_alone(tmp_path, hub_env):
    project, stranger = tmp_path / "project", tmp_path / "stranger"
    results = {}
    for repo_id, flags in RUNS.items():
        cwd = project / repo_id.split("/")[1]
        trained = run_cli(["algorithms/reinforce.py", *flags, "--eval-episodes", "3"], cwd)
        assert trained.returncode == 0, trained.stderr
        run_dir = only_run_dir(cwd)
        results[repo_id] = json.loads((run_dir / "results.json").read_text())
        pushed = run_cli(["hub_utils.py", "push", str(run_dir), "--repo-id", repo_id], cwd, hub_env())
        assert pushed.returncode == 0, pushed.stderr

    # A stranger: the card's commands, in a folder outside the project, with a new environment.
    stranger.mkdir()
    hub = cli_env({**hub_env(None), "HF_HOME": str(stranger / ".hf-home")})
    folders = {}
    for repo_id in RUNS:
        folders[repo_id] = stranger / repo_id.split("/")[1]
        hf = Path(sys.executable).parent / "hf"
        download = subprocess.run(
            [str(hf), "download", repo_id, "--local-dir", str(folders[repo_id])],
            env=hub,
            capture_output=True,
            text=True,
        )
        assert download.returncode == 0, download.stderr
    assert (folders["alice/reinforce-Pixelcopter-PLE-v0"] / "envs" / "pixelcopter.py").is_file()

    venv = stranger / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    requirements = [arg for folder in folders.values() for arg in ("-r", str(folder / "requirements.txt"))]
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", *requirements], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    distributions = subprocess.run([python, "-m", "pip", "list"], capture_output=True, text=True).stdout
    assert "deep-rl-single-file" not in distributions and "torch" in distributions

    clean = {key: value for key, value in cli_env().items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for repo_id, folder in folders.items():
        replay = subprocess.run(
            [python, "hub_utils.py", "enjoy", "--path", "."],
            cwd=folder,
            env=clean,
            capture_output=True,
            text=True,
        )
        assert replay.returncode == 0, replay.stderr
        expected = results[repo_id]
        assert (
            f"mean_reward {expected['mean_reward']:.2f} +/- {expected['std_reward']:.2f} over 3 episodes"
            in replay.stdout
        )
        assert list((folder / "runs" / "enjoy").glob("*.mp4"))
        where = subprocess.run(
            [python, "-c", "import hub_utils; print(hub_utils.__file__)"],
            cwd=folder,
            env=clean,
            capture_output=True,
            text=True,
        )
        assert Path(where.stdout.strip()) == folder / "hub_utils.py"  # the repository's copy, not ours
