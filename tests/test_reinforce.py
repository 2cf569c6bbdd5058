"""algorithms/reinforce.py: the returns, the policy network, the run folder, enjoy, resume, errors."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from conftest import (
    assert_enjoy_reproduces,
    assert_model_card_reproduces,
    assert_one_line_error,
    assert_same_training,
    interrupt_and_check,
    only_run_dir,
    resume_to_the_end,
    run_cli,
)
from huggingface_hub import ModelCard
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

reinforce = hub_utils.load_algorithm("reinforce.py")
QUICK = ["--eval-episodes", "2", "--total-timesteps", "300"]


def test_discounted_returns_match_a_hand_computed_case():
    rewards = np.array([1.0, 0.0, -2.0, 4.0])
    # G_3 = 4; G_2 = -2 + 0.5 * 4 = 0; G_1 = 0 + 0.5 * 0 = 0; G_0 = 1 + 0.5 * 0 = 1
    np.testing.assert_allclose(reinforce.discounted_returns(rewards, gamma=0.5), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_allclose(reinforce.discounted_returns(rewards, gamma=1.0), [3.0, 2.0, 2.0, 4.0])
    np.testing.assert_allclose(reinforce.discounted_returns(rewards, gamma=0.0), rewards)


def test_returns_are_standardized_within_the_episode():
    returns = reinforce.standardized(np.array([3.0, 2.0, 2.0, 4.0]))
    assert returns.mean() == pytest.approx(0, abs=1e-7) and returns.std() == pytest.approx(1, abs=1e-6)
    assert np.all(reinforce.standardized(np.array([5.0])) == 0)  # one step: no signal, no division by zero


def test_running_observation_statistics_equal_those_of_all_observations_seen():
    policy = reinforce.Policy(obs_size=3, n_actions=2, hidden_size=8, hidden_layers=1)
    batches = [torch.randn(n, 3) * 5 + 2 for n in (1, 7, 30)]
    for batch in batches:
        policy.update_obs_stats(batch)
    seen = torch.cat(batches)
    torch.testing.assert_close(policy.obs_mean, seen.mean(0), atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(policy.obs_var, seen.var(0, unbiased=False), atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("episode_return", [1.0, -1.0])
def test_a_gradient_step_makes_actions_likelier_after_positive_returns_and_rarer_after_negative(
    episode_return,
):
    torch.manual_seed(0)
    policy = reinforce.Policy(obs_size=2, n_actions=3, hidden_size=8, hidden_layers=2)
    obs, actions, returns = torch.tensor([[1.0, -1.0]]), torch.tensor([2]), torch.tensor([episode_return])
    before = torch.softmax(policy(obs), -1)[0, 2].item()
    optimizer = torch.optim.SGD(policy.parameters(), lr=0.1)
    reinforce.policy_loss(torch.log_softmax(policy(obs), -1), actions, returns).backward()
    optimizer.step()
    after = torch.softmax(policy(obs), -1)[0, 2].item()
    assert (after - before) * episode_return > 0


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cartpole")
    process = run_cli(
        ["algorithms/reinforce.py", "--env-id", "CartPole-v1", "--no-capture-video", *QUICK], cwd
    )
    assert process.returncode == 0, process.stderr
    return cwd, only_run_dir(cwd), process


def test_cartpole_run_folder_is_the_hub_repository(cartpole_run):
    _, run_dir, _ = cartpole_run
    names = {path.name for path in run_dir.iterdir()}
    assert {"args.json", "results.json", "model.safetensors", "README.md", "reinforce.py"} <= names
    assert any(name.startswith("events.out.tfevents") for name in names)
    assert not any(name.startswith("checkpoint") for name in names)
    args = json.loads((run_dir / "args.json").read_text())
    assert (args["hidden_size"], args["gamma"], args["learning_rate"]) == (64, 0.99, 0.001)  # CartPole's
    results = json.loads((run_dir / "results.json").read_text())
    assert results["algo"] == "reinforce" and results["dataset_id"] == "CartPole-v1"
    assert results["training"]["env_steps"] >= 300 and len(results["episode_returns"]) == 2
    weights = load_file(run_dir / "model.safetensors")
    assert weights["obs_count"].item() == pytest.approx(
        results["training"]["env_steps"], abs=0.01
    )  # every observation
    assert weights["obs_mean"].abs().sum() > 0 and "network.0.weight" in weights
    assert ModelCard.load(run_dir / "README.md").data.tags[:2] == ["CartPole-v1", "reinforce"]


def test_model_card_command_reproduces_the_hyperparameters(cartpole_run):
    _, run_dir, _ = cartpole_run
    assert_model_card_reproduces(run_dir, reinforce)


def test_tensorboard_has_cleanrl_scalars(cartpole_run):
    _, run_dir, _ = cartpole_run
    scalars = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {
        "charts/episodic_return",
        "charts/episodic_length",
        "charts/SPS",
        "losses/policy_loss",
        "losses/entropy",
    } <= scalars


def test_enjoy_replays_the_saved_run_with_the_same_score(cartpole_run):
    cwd, run_dir, _ = cartpole_run
    assert_enjoy_reproduces(run_dir.relative_to(cwd), cwd)


def test_enjoy_of_a_corrupt_model_fails_with_one_line(tmp_path, cartpole_run):
    _, run_dir, _ = cartpole_run
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("args.json", "results.json"):
        (broken / name).write_text((run_dir / name).read_text())
    (broken / "model.safetensors").write_bytes(b"not a model")
    process = run_cli(["hub_utils.py", "enjoy", "--path", str(broken), "--no-video"], tmp_path)
    assert_one_line_error(process, "cannot load the model", "SafetensorError")


def test_pixelcopter_smoke_run_with_replay(tmp_path):
    process = run_cli(
        ["algorithms/reinforce.py", "--env-id", "Pixelcopter-PLE-v0", "--no-normalize-observation", *QUICK],
        tmp_path,
    )
    assert process.returncode == 0, process.stderr
    run_dir = only_run_dir(tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    assert results["env_id"] == results["env_id_used"] == "Pixelcopter-PLE-v0" and results["video_fps"] == 30
    assert json.loads((run_dir / "args.json").read_text())["hidden_size"] == 64
    weights = load_file(run_dir / "model.safetensors")
    assert (
        not weights["obs_mean"].any() and (weights["obs_var"] == 1).all()
    )  # raw observations, as the course
    frames = np.stack(list(iio.imiter(run_dir / "replay.mp4")))
    assert frames.shape[1:] == (192, 192, 3) and iio.immeta(run_dir / "replay.mp4")["fps"] == pytest.approx(
        30
    )
    assert frames.shape[0] == results["episode_lengths"][0] + 1  # reset + every step of the first evaluation


def test_interrupt_saves_a_checkpoint_and_resume_finishes_the_same_run(tmp_path):
    # not the script's default env: resuming must restore it (and every flag) from the run's args.json
    flags = [
        "algorithms/reinforce.py",
        "--env-id",
        "Pixelcopter-PLE-v0",
        "--total-timesteps",
        "6000",
        "--episodes-per-update",
        "2",
        "--no-capture-video",
        "--eval-episodes",
        "2",
    ]
    reference = run_cli(flags, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr

    cwd = tmp_path / "interrupted"
    run_dir = interrupt_and_check(flags, cwd)
    resume_to_the_end("algorithms/reinforce.py", run_dir, cwd)
    assert_same_training(run_dir, only_run_dir(tmp_path / "reference"))  # bit for bit


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "Pendulum-v1"], ["Discrete action space", "Pendulum-v1", "ppo.py"]),
        (["--env-id", "CartPol-v1"], ["unknown environment id 'CartPol-v1'", "CartPole-v1"]),
    ],
)
def test_bad_environments_fail_with_one_line_and_write_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/reinforce.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "Taxi-v3"], ["1-D Box observation space", "Taxi-v3", "Discrete(500)"]),
        (["--episodes-per-update", "0"], ["--episodes-per-update must be >= 1"]),
        (["--total-timesteps", "0"], ["--total-timesteps must be >= 1"]),
        (["--gamma", "1.5"], ["--gamma", "1.5"]),
        (["--hidden-layers", "0"], ["--hidden-layers must be >= 1"]),
        (["--learning-rate", "-1"], ["--learning-rate must be > 0", "-1"]),
    ],
)
def test_bad_values_are_user_errors(flags, fragments):
    with pytest.raises(hub_utils.UserError) as error:
        reinforce.make_env(reinforce.parse_args(flags))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_per_environment_defaults_and_overrides():
    assert reinforce.parse_args(["--env-id", "Pixelcopter-PLE-v0"]).hidden_size == 64
    assert reinforce.parse_args(["--env-id", "CartPole-v1", "--learning-rate", "0.5"]).learning_rate == 0.5


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        reinforce.parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--env-id",
        "--seed",
        "--torch-deterministic",
        "--cuda",
        "--total-timesteps",
        "--learning-rate",
        "--gamma",
        "--hidden-size",
        "--hidden-layers",
        "--episodes-per-update",
        "--normalize-observation",
        "--eval-episodes",
        "--track",
        "--capture-video",
        "--upload-model",
        "--repo-id",
        "--hf-entity",
        "--resume",
        "--exp-name",
        "continuous",
    ):
        assert flag in text
