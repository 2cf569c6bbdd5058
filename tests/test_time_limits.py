"""Actor-critic scripts bootstrap a time limit, never a termination, also when both fall on one step."""

import sys

import gymnasium as gym
import numpy as np
import pytest

import hub_utils


class Countdown(gym.Env):
    """Reward 1 per step; terminates after `terminate_after` steps (None: never)."""

    observation_space = gym.spaces.Box(-10.0, 10.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminate_after=None, render_mode=None):
        self.terminate_after, self.render_mode = terminate_after, render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), 1.0, self.t == self.terminate_after, False, {}


# Both end every episode at the 3-step time limit; only the first also terminates there.
gym.register(
    "TerminatesAtTheLimit-v0", entry_point=Countdown, max_episode_steps=3, kwargs={"terminate_after": 3}
)
gym.register("OnlyTruncated-v0", entry_point=Countdown, max_episode_steps=3)


@pytest.mark.parametrize(
    "script, advantage_function", [("ppo.py", "compute_gae"), ("a2c.py", "compute_advantages")]
)
@pytest.mark.parametrize(
    "env_id, bootstraps", [("TerminatesAtTheLimit-v0", False), ("OnlyTruncated-v0", True)]
)
def test_only_a_pure_time_limit_bootstraps(
    tmp_path, monkeypatch, script, advantage_function, env_id, bootstraps
):
    module = hub_utils.load_algorithm(script)
    seen = []
    compute = getattr(module, advantage_function)

    def recording(rewards, values, episode_continues, truncation_values, *args):
        seen.append((episode_continues.clone(), truncation_values.clone()))
        return compute(rewards, values, episode_continues, truncation_values, *args)

    monkeypatch.setattr(module, advantage_function, recording)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            script,
            "--env-id",
            env_id,
            "--total-timesteps",
            "48",
            "--num-envs",
            "2",
            "--num-steps",
            "12",
            "--no-capture-video",
            "--eval-episodes",
            "1",
        ]
        + (["--num-minibatches", "2"] if script == "ppo.py" else []),
    )
    module.main()

    assert len(seen) == 2
    for episode_continues, truncation_values in seen:
        episode_ends = episode_continues == 0
        assert episode_ends.sum() == 8  # 12 steps x 2 envs, an episode ends every 3 steps
        assert (truncation_values[~episode_ends] == 0).all()  # mid-episode steps bootstrap from the next V
        assert (
            truncation_values[episode_ends] != 0
        ).all() == bootstraps  # V(final obs) only for a pure limit
        assert (truncation_values[episode_ends] == 0).all() != bootstraps
