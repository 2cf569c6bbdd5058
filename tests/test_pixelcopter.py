"""envs/pixelcopter.py: PLE's Pixelcopter rules, the gymnasium API contract and seeding."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hub_utils
from envs.pixelcopter import NOOP, THRUST

# PLE's constants for a 48x48 screen at 30 fps (dt = 1000/30 ms, speed = 0.0004 * 48 px/ms).
GRAVITY, THRUST_ACCELERATION, DRAG, SCROLL = 0.0576, -0.56, 0.99, 0.64
COPTER_X = 16  # int(0.35 * 48)
PLAYER_Y, PLAYER_VEL, DIST_TO_CEIL, DIST_TO_FLOOR, GATE_DIST, GATE_TOP, GATE_BOTTOM = range(7)


def make(seed=0, **kwargs):
    env = gym.make(hub_utils.resolve_env_id("Pixelcopter-PLE-v0"), **kwargs)
    observation, _ = env.reset(seed=seed)
    return env, observation


def test_registration_matches_gym_games_and_the_course():
    env, _ = make()
    assert env.spec.id == "Pixelcopter-PLE-v0" and env.spec.max_episode_steps == 10_000  # the course's max_t
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.observation_space.shape == (7,) and env.observation_space.dtype == np.float32
    assert env.metadata["render_fps"] == 30 and env.metadata["render_modes"] == ["rgb_array"]


def test_env_checker_passes_without_warnings():
    env, _ = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)


def test_first_observation_is_ples_initial_state():
    for seed in range(20):
        _, observation = make(seed)
        assert observation[PLAYER_Y] == 24 and observation[PLAYER_VEL] == 0  # mid-screen, at rest
        assert observation[DIST_TO_CEIL] + observation[DIST_TO_FLOOR] == 24  # the cave's opening is H/2
        assert (
            48 - COPTER_X <= observation[GATE_DIST] < 72 - COPTER_X
        )  # the first gate enters at x in [W, 1.5W)
        assert 12 <= observation[GATE_TOP] < 36 and observation[GATE_BOTTOM] - observation[GATE_TOP] == 9


@pytest.mark.parametrize("action, acceleration", [(NOOP, GRAVITY), (THRUST, THRUST_ACCELERATION)])
def test_gravity_and_thrust_accumulate_momentum_with_drag(action, acceleration):
    env, observation = make()
    velocity, y = 0.0, 24.0
    for _ in range(3):  # a fourth thrust would already hit the ceiling
        observation, reward, terminated, _, _ = env.step(action)
        velocity = (velocity + acceleration) * DRAG
        y += velocity
        assert observation[PLAYER_VEL] == pytest.approx(velocity, abs=1e-5)
        assert observation[PLAYER_Y] == pytest.approx(y, abs=1e-5)
        assert not terminated and reward == 0


def test_hitting_the_ceiling_ends_the_episode_with_the_loss_reward():
    env, _ = make()
    for steps in range(1, 50):  # noqa: B007 (read after the loop)
        observation, reward, terminated, truncated, _ = env.step(THRUST)
        if terminated:
            break
    assert terminated and not truncated and reward == -5
    assert observation[DIST_TO_CEIL] <= 0.05 * 48  # PLE's rule: y - player height <= the ceiling
    assert steps < 10


def test_falling_to_the_floor_ends_the_episode():
    env, _ = make()
    for _ in range(100):
        observation, reward, terminated, _, _ = env.step(NOOP)
        if terminated:
            break
    assert terminated and reward in (-5, -4)  # -4: a column left the screen on that step too
    # PLE's rule: y >= the floor of a column the copter overlaps (the observation's floor is the
    # first such column's; the copter can overlap two).
    game = env.unwrapped
    floors = (
        game.columns_y[np.abs(np.trunc(game.columns_x) - COPTER_X) <= 2] + 12
    )  # 4 px columns vs the 2 px copter
    assert observation[PLAYER_Y] >= floors.min() and observation[PLAYER_VEL] > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_cave_column_leaving_the_screen_scores_one(seed):
    """The first column (4 px wide, centred at x = 2) leaves when x <= -4: on step 10 at 0.64 px/step."""
    env, _ = make(seed)
    rewards = [env.step(NOOP)[1] for _ in range(10)]
    assert rewards == [0] * 9 + [1]


def test_passing_a_gate_scores_one_and_brings_the_next():
    env, observation = make()
    game = env.unwrapped
    game.gates = [[COPTER_X + SCROLL / 2, observation[PLAYER_Y] - 12]]  # about to pass, well above the copter
    observation, reward, terminated, _, _ = env.step(NOOP)
    assert reward == 1 and not terminated
    assert 48 - COPTER_X <= observation[GATE_DIST] < 72 - COPTER_X  # the next gate, entering on the right
    assert len(game.gates) == 2  # the passed one stays until it leaves the screen


def test_flying_into_a_gate_ends_the_episode():
    env, observation = make()
    env.unwrapped.gates = [[COPTER_X + 3, observation[PLAYER_Y]]]
    _, reward, terminated, _, _ = env.step(NOOP)
    assert terminated and reward == -5


@pytest.mark.parametrize(
    "dx, dy, crash",
    [(0.5, 4, True), (0.5, 5, False), (0.5, -5, True), (0.5, -6, False), (2.9, 0, True), (3.2, 0, False)],
)
def test_gate_collisions_use_ples_integer_rectangles(dx, dy, crash):
    """pygame places a sprite's rectangle at int(centre) - size // 2: the 4x9 gate and the 2x2 copter
    collide when int(gate y) - int(copter y) is in [-5, 4] and int(gate x) - 16 in [-2, 2]."""
    env, observation = make()
    env.unwrapped.gates = [[COPTER_X + dx + SCROLL, observation[PLAYER_Y] + dy]]  # dx, dy after the step
    _, reward, terminated, _, _ = env.step(NOOP)  # the copter stays at int(y) = 24 on this step
    assert terminated == crash and reward == (-5 if crash else 0)


def test_same_seed_same_game_other_seed_other_cave():
    actions = np.random.default_rng(0).choice([THRUST, NOOP], p=[0.1, 0.9], size=200)

    def play(env, seed):
        observations, rewards = [env.reset(seed=seed)[0]], []
        for action in actions:
            observation, reward, terminated, truncated, _ = env.step(int(action))
            observations.append(observation)
            rewards.append(reward)
            if terminated or truncated:
                break
        return np.array(observations), rewards

    env, _ = make()
    first, again, other_env = play(env, 7), play(env, 7), play(make()[0], 7)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[0], other_env[0])
    assert first[1] == again[1] == other_env[1]
    caves = {tuple(make(seed)[0].unwrapped.columns_y) for seed in range(10)}
    assert len(caves) == 10


def test_observations_stay_in_the_box():
    env, observation = make()
    rng = np.random.default_rng(0)
    for _ in range(3000):
        assert env.observation_space.contains(observation), observation
        observation, _, terminated, truncated, _ = env.step(int(rng.random() < 0.12))
        if terminated or truncated:
            observation, _ = env.reset()


def test_render_draws_the_copter_in_white():
    env, observation = make(render_mode="rgb_array")
    frame = env.render()
    assert frame.shape == (192, 192, 3) and frame.dtype == np.uint8  # 48x48, upscaled 4 times
    white = np.argwhere((frame == 255).all(axis=-1))
    assert len(white) == 8 * 8  # the 2x2 px copter
    assert white[:, 1].mean() / 4 == pytest.approx(COPTER_X, abs=1)
    assert white[:, 0].mean() / 4 == pytest.approx(observation[PLAYER_Y], abs=1)
    assert make(render_mode=None)[0].render() is None
