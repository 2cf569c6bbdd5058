"""algorithms/a2c.py: n-step returns by hand, Dict flattening, frozen normalization, smoke runs, resume,
errors."""

import argparse
import json
from collections import OrderedDict

import gymnasium as gym
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
    needs_panda_gym,
    only_run_dir,
    resume_to_the_end,
    run_cli,
)
from huggingface_hub import ModelCard
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

a2c = hub_utils.load_algorithm("a2c.py")
TINY = ["--num-envs", "2", "--num-steps", "8", "--eval-episodes", "2"]


def test_n_step_returns_match_a_hand_computed_rollout():
    """Env 0: a step, a termination, a step, a truncation (V(final obs) = 5). Env 1 runs on, V after = 3."""
    gamma = 0.9
    rewards = torch.tensor([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0], [4.0, 1.0]])
    values = torch.tensor(
        [[0.5, 1.0], [1.0, 1.0], [1.5, 1.0], [2.0, 1.0], [7.0, 3.0]]
    )  # last row: after the rollout
    continues = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    truncation_values = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    advantages, returns = a2c.compute_advantages(rewards, values, continues, truncation_values, gamma)

    # Env 0 by hand. The episode that terminates at t=1: R1 = 2 (no bootstrap; the 1.5 of the reset
    # observation is ignored), R0 = 1 + .9*2 = 2.8. The one truncated at t=3 bootstraps from its final
    # observation, not from the 7 of the next episode: R3 = 4 + .9*5 = 8.5, R2 = 3 + .9*8.5 = 10.65.
    # Env 1, no episode end: R3 = 1 + .9*3 = 3.7, R2 = 4.33, R1 = 4.897, R0 = 5.4073.
    expected_returns = torch.tensor([[2.8, 5.4073], [2.0, 4.897], [10.65, 4.33], [8.5, 3.7]])
    torch.testing.assert_close(returns, expected_returns)
    torch.testing.assert_close(advantages, expected_returns - values[:-1])  # A_t = R_t - V(s_t)


def test_gae_lambda_below_one_mixes_shorter_returns():
    rewards, values = torch.tensor([[1.0], [1.0]]), torch.tensor([[0.0], [2.0], [4.0]])
    advantages, _ = a2c.compute_advantages(rewards, values, torch.ones(2, 1), torch.zeros(2, 1), 0.5, 0.5)
    # delta1 = 1 + .5*4 - 2 = 1; delta0 = 1 + .5*2 - 0 = 2; A0 = 2 + .25 * 1 = 2.25 (n-step: 2.5)
    torch.testing.assert_close(advantages, torch.tensor([[2.25], [1.0]]))


class DictObservationEnv(gym.Env):
    """Observations whose Dict is built in non-sorted order: zeta, alpha, mid."""

    observation_space = gym.spaces.Dict(
        OrderedDict(
            zeta=gym.spaces.Box(-1, 1, (1,)),
            alpha=gym.spaces.Box(-1, 1, (2,)),
            mid=gym.spaces.Box(-1, 1, (2, 1)),
        )
    )
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        return dict(zeta=np.array([9.0]), alpha=np.array([1.0, 2.0]), mid=np.array([[3.0], [4.0]])), {}


def test_dict_observations_are_flattened_in_sorted_key_order():
    env = a2c.with_flat_observations(DictObservationEnv())
    assert env.keys == ["alpha", "mid", "zeta"]
    assert env.observation_space.shape == (5,) and env.observation_space.dtype == np.float32
    np.testing.assert_array_equal(env.reset()[0], [1.0, 2.0, 3.0, 4.0, 9.0])


@needs_panda_gym
def test_panda_dict_observations_are_flattened_in_sorted_key_order():
    panda = a2c.make_env(argparse.Namespace(env_id="PandaReachDense-v3"))
    observation, _ = panda.reset(seed=0)
    raw = panda.unwrapped._get_obs()
    np.testing.assert_array_equal(
        observation, np.concatenate([raw["achieved_goal"], raw["desired_goal"], raw["observation"]])
    )
    panda.close()


@needs_panda_gym
def test_panda_training_envs_repeat_their_goals_with_the_seed():
    """panda-gym draws the goal of a reset without a seed (each later episode of the vector env) from the
    system's entropy: the training envs give it a seed from their own generator, seeded by the first."""

    def goals():
        envs = a2c.make_vector_env(hub_utils.resolve_env_id("PandaReachDense-v3"), 2)
        envs.reset(seed=3)
        desired_goal = slice(3, 6)  # after achieved_goal, in sorted key order
        return np.array([env.reset()[0][desired_goal] for env in envs.unwrapped.envs for _ in range(3)])

    first = goals()
    np.testing.assert_array_equal(goals(), first)
    assert len(np.unique(first, axis=0)) == len(first)  # still a new goal every episode


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cartpole")
    process = run_cli(
        ["algorithms/a2c.py", "--env-id", "CartPole-v1", "--total-timesteps", "480", *TINY], cwd
    )
    assert process.returncode == 0, process.stderr
    return only_run_dir(cwd)


def test_discrete_smoke_run_writes_the_hub_folder(cartpole_run):
    run_dir = cartpole_run
    assert {"model.safetensors", "replay.mp4", "README.md", "a2c.py", "args.json", "results.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    results = json.loads((run_dir / "results.json").read_text())
    assert (results["algo"], results["training"]["env_steps"], results["eval_episodes"]) == ("a2c", 480, 2)
    assert ModelCard.load(run_dir / "README.md").data.tags[:2] == ["CartPole-v1", "a2c"]
    events = EventAccumulator(str(run_dir)).Reload()
    assert {
        "charts/episodic_return",
        "charts/SPS",
        "losses/value_loss",
        "losses/policy_loss",
        "losses/entropy",
        "losses/explained_variance",
        "charts/learning_rate",
    } <= set(events.Tags()["scalars"])


def test_model_card_command_reproduces_the_hyperparameters(cartpole_run):
    assert_model_card_reproduces(cartpole_run, a2c)


def test_continuous_smoke_run_with_adam(tmp_path):
    process = run_cli(
        [
            "algorithms/a2c.py",
            "--env-id",
            "Pendulum-v1",
            "--total-timesteps",
            "480",
            "--optimizer",
            "adam",
            "--norm-adv",
            "--no-capture-video",
            *TINY,
        ],
        tmp_path,
    )
    assert process.returncode == 0, process.stderr
    weights = load_file(only_run_dir(tmp_path) / "model.safetensors")
    assert (
        weights["actor_logstd"].shape == (1, 1) and "obs_rms.mean" not in weights
    )  # Pendulum: no normalization


@needs_panda_gym
def test_panda_reach_dict_run_saves_frozen_normalization_that_enjoy_reuses(tmp_path):
    process = run_cli(
        ["algorithms/a2c.py", "--env-id", "PandaReachDense-v3", "--total-timesteps", "400", *TINY], tmp_path
    )
    assert process.returncode == 0, process.stderr
    run_dir = only_run_dir(tmp_path)
    args = json.loads((run_dir / "args.json").read_text())
    assert args["normalize_observation"] and args["normalize_reward"]  # PandaReach defaults
    weights = load_file(run_dir / "model.safetensors")
    assert weights["obs_rms.var"].shape == (12,) and weights["obs_rms.count"] >= 400
    assert not torch.equal(weights["obs_rms.mean"], torch.zeros(12))
    frames = np.stack(list(iio.imiter(run_dir / "replay.mp4")))
    assert frames.shape == (51, 480, 720, 3) and frames.std() > 0  # reset + 50 steps, rendered headless
    assert iio.immeta(run_dir / "replay.mp4")["fps"] == pytest.approx(25)

    policy = a2c.load_policy(run_dir, argparse.Namespace(**args))
    observation = np.linspace(-2, 2, 12, dtype=np.float32)
    first = policy(observation)
    for _ in range(20):  # evaluation must not move the statistics
        policy(np.full(12, 5.0, dtype=np.float32))
    np.testing.assert_array_equal(policy(observation), first)
    assert first.shape == (3,) and np.all(np.abs(first) <= 1.0)

    assert_enjoy_reproduces(run_dir, tmp_path)


@pytest.mark.parametrize(
    "env_id", ["CartPole-v1", "LunarLander-v3", pytest.param("PandaReachDense-v3", marks=needs_panda_gym)]
)
def test_interrupted_and_resumed_run_ends_exactly_as_the_uninterrupted_one(tmp_path, env_id):
    """The checkpoint replays each running episode (its reset, then its actions): the resumed run
    trains on exactly the transitions the uninterrupted one does, so it ends with the same weights."""
    flags = ["algorithms/a2c.py", "--env-id", env_id, "--total-timesteps", "6400", "--no-capture-video"]
    flags += TINY
    reference = run_cli(flags, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    run_dir = interrupt_and_check(flags, tmp_path / "interrupted")
    stopped_at = torch.load(run_dir / "checkpoint.pt", weights_only=True)["global_step"]
    assert 0 < stopped_at < 6400
    resume_to_the_end("algorithms/a2c.py", run_dir, tmp_path / "interrupted")
    reference_dir = only_run_dir(tmp_path / "reference")
    assert_same_training(run_dir, reference_dir)  # bit for bit
    results, expected = (json.loads((d / "results.json").read_text()) for d in (run_dir, reference_dir))
    assert results["episode_returns"] == expected["episode_returns"]


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "CartPole-v1", "--gamma", "1.5"], ["--gamma must be in [0, 1]", "1.5"]),
        (["--env-id", "CartPole-v1", "--learning-rate", "0"], ["--learning-rate must be > 0"]),
        (["--env-id", "CartPole-v1", "--total-timesteps", "30"], ["less than one rollout", "40"]),
        (["--env-id", "Taxi-v3"], ["Box or a Dict of Box observation space", "Taxi-v3", "Discrete(500)"]),
        (["--env-id", "Blackjack-v1"], ["observation space", "Tuple"]),
        (["--env-id", "CartPol-v1"], ["unknown environment id", "CartPole-v1"]),
    ],
)
def test_bad_input_fails_with_one_line_and_writes_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/a2c.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()


def test_missing_panda_gym_says_how_to_install_it(tmp_path):
    broken = tmp_path / "site" / "panda_gym"  # stands in for an environment without panda-gym
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('No module named panda_gym')\n")
    process = run_cli(
        ["algorithms/a2c.py", "--env-id", "PandaReachDense-v3"],
        tmp_path,
        extra_env={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert_one_line_error(
        process, "PandaReachDense-v3 needs panda-gym", "pip install -r requirements-robotics.txt"
    )
    assert not (tmp_path / "runs").exists()
