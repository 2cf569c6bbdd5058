"""Issue #15, class 7: `--resume` with a flag that contradicts the run's saved hyperparameters is
refused in one line naming the flag, its value and the run's; the same value, or a run-only flag
(tracking, upload), is accepted, the latter with a note."""

import json

import pytest
from conftest import assert_one_line_error, run_cli
from test_corrupt_files import fake_run, snapshot

import hub_utils


def test_another_env_id_is_refused_in_one_line(tmp_path):
    run_dir = fake_run(tmp_path, "ppo.py", ["--env-id", "LunarLander-v2"])
    before = snapshot(run_dir)
    process = run_cli(["algorithms/ppo.py", "--resume", "runs/fake", "--env-id", "CartPole-v1"], tmp_path)
    assert_one_line_error(process, "--env-id CartPole-v1 (the run has LunarLander-v2)", "drop the flag")
    assert snapshot(run_dir) == before


@pytest.mark.parametrize(
    "script, saved, flags, refused",
    [
        ("dqn.py", [], ["--gamma", "0.9"], "--gamma 0.9 (the run has 0.99)"),
        ("dqn.py", [], ["--hidden-sizes", "64", "64"], "--hidden-sizes [64, 64] (the run has [120, 84])"),
        ("q_learning.py", [], ["--learning-rate=0.5"], "--learning-rate 0.5 (the run has 0.7)"),
        ("reinforce.py", [], ["--no-normalize-observation"], "--normalize-observation False"),
        ("ppo_atari.py", [], ["--seed", "1", "--num-envs", "4"], "--num-envs 4 (the run has 8)"),
    ],
)
def test_conflicting_flags_are_refused(tmp_path, script, saved, flags, refused):
    run_dir = fake_run(tmp_path, script, saved)
    module = hub_utils.load_algorithm(script)
    with pytest.raises(hub_utils.UserError, match="a resumed run keeps its hyperparameters") as error:
        module.parse_args(["--resume", str(run_dir), *flags])
    assert refused in str(error.value) and "--seed" not in str(error.value)  # the same seed is no conflict


def test_the_same_values_and_run_only_flags_are_accepted(tmp_path, capsys):
    run_dir = fake_run(tmp_path, "dqn.py", ["--gamma", "0.9"])
    dqn = hub_utils.load_algorithm("dqn.py")
    args = dqn.parse_args(["--resume", str(run_dir), "--gamma", "0.9", "--track", "--repo-id", "me/dqn"])
    assert args.gamma == 0.9 and args.track and args.repo_id == "me/dqn"
    assert "note: resuming" in capsys.readouterr().out
    # without the flag, the saved value wins over the default
    args = dqn.parse_args(["--resume", str(run_dir)])
    assert args.gamma == 0.9 == json.loads((run_dir / "args.json").read_text())["gamma"]
