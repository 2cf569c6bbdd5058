"""Issue #15, class 2: a misspelled or unknown flag is one line naming it, the closest valid flag and
--help (no usage block), exit code 2; no abbreviation is ever taken for a flag; --help is unchanged."""

import pytest
from conftest import FLAG_CHECKED_SCRIPTS as SCRIPTS
from conftest import run_cli

import hub_utils


@pytest.mark.parametrize(
    "command, bad, closest",
    [
        (["algorithms/q_learning.py", "--learning-rat", "0.1"], "--learning-rat", "--learning-rate"),
        (["algorithms/ppo.py", "--num-env", "8"], "--num-env", "--num-envs"),
        (["algorithms/dqn_atari.py", "--bufer-size=100"], "--bufer-size", "--buffer-size"),
        (["hub_utils.py", "enjoy", "--path", "runs/x", "--no-vide"], "--no-vide", "--no-video"),
        (["hub_utils.py", "push", "runs/x", "--repo-id", "a/b", "--privat"], "--privat", "--private"),
        (["hub_utils.py", "enjoy", "--pat", "runs/x"], "--pat", "--path"),  # not "--path is required"
        (["hub_utils.py", "push", "runs/x", "--repo-i", "a/b"], "--repo-i", "--repo-id"),
    ],
)
def test_a_typo_is_one_line_with_the_closest_flag(tmp_path, command, bad, closest):
    process = run_cli(command, tmp_path)
    assert process.returncode == 2, process.stderr
    assert process.stderr.count("\n") == 1, process.stderr  # no usage block
    line = process.stderr.strip()
    assert line.startswith("error:") and f"'{bad}'" in line and closest in line and "see --help" in line
    assert "Traceback" not in process.stderr and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("script", SCRIPTS)
def test_no_abbreviation_is_accepted(script):
    module = hub_utils.load_algorithm(script)
    env = ["--env-id", "CartPole-v1"] if script == "a2c.py" else []
    with pytest.raises(hub_utils.UserError) as stop:
        module.parse_args([*env, "--total-timestep", "100"])  # once ran as --total-timesteps
    message = str(stop.value)
    assert "\n" not in message and "'--total-timestep'" in message and "--total-timesteps" in message


def test_help_is_unchanged(tmp_path):
    process = run_cli(["algorithms/q_learning.py", "--help"], tmp_path)
    assert process.returncode == 0 and process.stdout.startswith("usage: q_learning.py")
    assert "--learning-rate" in process.stdout and "--resume RUN_DIR" in process.stdout
