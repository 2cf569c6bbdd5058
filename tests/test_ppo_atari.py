"""algorithms/ppo_atari.py: ale-py's C++ vector env (ids, shapes, whole-game statistics under
episodic life, FIRE after a lost life, evaluation frames equal to training's), GAE at lost lives,
the update without the forced FIRE steps, smoke run, enjoy, interrupt and resume, errors."""

import json
import shutil
import signal
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import assert_model_card_reproduces, assert_one_line_error, interrupt_run, only_run_dir, run_cli
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

ppo_atari = hub_utils.load_algorithm("ppo_atari.py")
# Breakout: the stochastic policy loses several lives in a rollout (FIRE steps forced in training), and
# the untrained greedy policy's games end in a few hundred steps, served again after each lost life.
TINY = [
    "--env-id",
    "BreakoutNoFrameskip-v4",
    "--num-envs",
    "2",
    "--num-steps",
    "32",
    "--num-minibatches",
    "2",
    "--update-epochs",
    "1",
    "--env-threads",
    "1",
    "--eval-episodes",
    "1",
]


def test_gymnasium_ids_map_to_rom_names_and_their_sticky_actions():
    assert ppo_atari.ale_settings("BreakoutNoFrameskip-v4") == dict(
        game="breakout",
        repeat_action_probability=0.0,
        full_action_space=False,
        max_num_frames_per_episode=108_000,
    )
    v5 = ppo_atari.ale_settings("ALE/SpaceInvaders-v5")
    assert (v5["game"], v5["repeat_action_probability"], v5["max_num_frames_per_episode"]) == (
        "space_invaders",
        0.25,
        108_000,
    )


def test_preprocessed_observations_are_stacks_of_four_84x84_uint8_frames():
    envs = ppo_atari.make_vector_env("BreakoutNoFrameskip-v4", 3, env_threads=1)
    first, info = envs.reset(seed=0)
    assert first.shape == (3, 4, 84, 84) and first.dtype == np.uint8
    assert envs.single_action_space.n == 4 and info["lives"].tolist() == [5, 5, 5]
    obs, reward, terminated, _, _ = envs.step(np.ones(3, dtype=np.int64))
    assert obs.shape == (3, 4, 84, 84) and obs.dtype == np.uint8 and reward.shape == terminated.shape == (3,)
    np.testing.assert_array_equal(obs[:, :3], first[:, 1:])  # the stack shifts by one frame per step
    assert 0 < first.max() and first.max() <= 255
    envs.close()
    game = ppo_atari.make_env(hub_utils.argparse.Namespace(env_id="ALE/Breakout-v5"))
    single, _ = game.reset(seed=0)
    assert (
        single.shape == (4, 84, 84) and single.dtype == np.uint8 and game.observation_space.contains(single)
    )
    game.close()


def test_whole_games_are_counted_with_the_unclipped_score():
    # lives 3 -> 2 -> 1 (terminations: lost lives, the game going on), then the game over (SAME_STEP: the
    # next game has started, with 3 lives), then a time limit ends that next game after one step
    script = [(3, False, 5.0, False), (2, True, 0.0, False), (1, True, 30.0, False), (3, True, 200.0, False)]
    script.append((3, False, 7.0, True))
    game = ppo_atari.FireAfterLostLife(ScriptedGame(script), life_loss_info=True)
    game.reset(seed=0)
    infos = [game.step(np.zeros(1, dtype=np.int64))[4] for _ in script]
    assert [bool(info["game_over"][0]) for info in infos] == [False, False, False, True, True]
    assert [float(info["game_score"][0]) for info in infos] == [5.0, 5.0, 35.0, 235.0, 7.0]
    assert [int(info["game_length"][0]) for info in infos] == [1, 2, 3, 4, 1]
    # a game without lives (Pong): every termination is a game over
    pong = ppo_atari.FireAfterLostLife(
        ScriptedGame([(0, False, -1.0, False), (0, True, 1.0, False)], lives=0), True
    )
    pong.reset(seed=0)
    infos = [pong.step(np.zeros(1, dtype=np.int64))[4] for _ in range(2)]
    assert [bool(info["game_over"][0]) for info in infos] == [False, True]
    assert [float(info["game_score"][0]) for info in infos] == [-1.0, 0.0]


def test_a_real_game_life_losses_terminate_training_episodes_and_evaluation_sees_the_same_frames():
    """One Breakout game, the same seed and actions in the training env and the evaluation env:
    training terminates at each of the 5 lost lives, both replace the same actions by FIRE after
    them, the wrapper counts one game with the evaluation's real score, and every observation is
    identical."""
    training = ppo_atari.make_vector_env("BreakoutNoFrameskip-v4", 1, env_threads=1)
    evaluation = ppo_atari.make_env(hub_utils.argparse.Namespace(env_id="BreakoutNoFrameskip-v4"))
    obs, info = training.reset(seed=3)
    eval_obs, _ = evaluation.reset(seed=3)
    rng, terminations, forced, eval_return, steps = np.random.default_rng(3), 0, 0, 0.0, 0
    while True:
        np.testing.assert_array_equal(obs[0], eval_obs)
        action = int(rng.integers(4))
        obs, reward, terminated, truncated, info = training.step(np.array([action]))
        eval_obs, eval_reward, eval_terminated, eval_truncated, eval_info = evaluation.step(action)
        assert reward[0] == eval_reward  # raw rewards: training clips them itself
        assert info["forced_action"][0] == eval_info["forced_action"]
        eval_return += eval_reward
        steps += 1
        terminations += int(terminated[0])
        forced += int(info["forced_action"][0])
        if eval_terminated:
            break
        assert not info["game_over"][0]
    assert terminations == 5 and not truncated[0] and not eval_truncated  # 4 lost lives, then the game over
    assert forced == 4 * 2  # FIRE and action 2 after each lost life, none after the game over
    np.testing.assert_array_equal(info["final_obs"][0], eval_obs)  # SAME_STEP: the last frame is in info
    assert info["game_over"][0] and info["game_score"][0] == eval_return and info["game_length"][0] == steps
    assert info["lives"][0] == 5  # the next game has already started
    training.close()
    evaluation.close()


class ScriptedGame(gym.vector.VectorEnv):
    """A one-game stand-in for AtariVectorEnv: Breakout's action set, scripted (lives, terminated)
    or (lives, terminated, reward, truncated) per step; records the actions it is given."""

    def __init__(self, script, action_set=("NOOP", "FIRE", "RIGHT", "LEFT"), lives=3):
        from ale_py import Action

        self.num_envs, self.script, self.taken, self.start_lives = 1, iter(script), [], lives
        self.ale = SimpleNamespace(get_action_set=lambda: [getattr(Action, name) for name in action_set])

    def reset(self, *, seed=None, options=None):
        return np.zeros(1), {"lives": np.array([self.start_lives])}

    def step(self, actions):
        self.taken.append(int(actions[0]))
        lives, terminated, reward, truncated = (*next(self.script), 0.0, False)[:4]
        return (
            np.zeros(1),
            np.array([reward]),
            np.array([terminated]),
            np.array([truncated]),
            {"lives": np.array([lives])},
        )


@pytest.mark.parametrize("life_loss_info", [True, False])
def test_a_lost_life_is_followed_by_fire_then_action_2_like_fire_reset_env(life_loss_info):
    # lives 3 -> 2 at the first step (a termination only with life_loss_info), the game going on; with
    # life_loss_info the game over restarts at once (SAME_STEP: full lives), else it shows 0 lives
    game_over = (3, True) if life_loss_info else (0, True)
    script = [(2, life_loss_info), (2, False), (2, False), (2, False), game_over, (3, False)]
    game = ppo_atari.FireAfterLostLife(ScriptedGame(script), life_loss_info=life_loss_info)
    game.reset(seed=0)
    agent_actions = [3, 3, 3, 0, 0, 3]
    forced = [bool(game.step(np.array([action]))[4]["forced_action"][0]) for action in agent_actions]
    assert game.env.taken == [
        3,
        1,
        2,
        0,
        0,
        3,
    ]  # FIRE, RIGHT replace the agent's 3, 3; nothing after a game over
    assert forced == [False, True, True, False, False, False]


def test_fire_after_a_lost_life_only_in_games_whose_action_1_is_fire():
    script = [(2, True), (2, False)]
    for action_set, taken in [
        (("NOOP", "UP", "DOWN"), [0, 0]),
        (("NOOP", "FIRE"), [0, 0]),
        (("NOOP", "FIRE", "UP"), [0, 1]),
    ]:  # Freeway; too few actions; a FIRE game
        game = ppo_atari.FireAfterLostLife(ScriptedGame(script, action_set), life_loss_info=True)
        game.reset()
        for _ in script:
            game.step(np.zeros(1, dtype=np.int64))
        assert game.env.taken == taken
    for env_id, fires in [
        ("BreakoutNoFrameskip-v4", True),
        ("PongNoFrameskip-v4", True),
        ("ALE/SpaceInvaders-v5", True),
        ("FreewayNoFrameskip-v4", False),
    ]:
        envs = ppo_atari.make_vector_env(env_id, 1, env_threads=1)
        assert envs.serve.tolist() == ([1, 2] if fires else [])
        envs.close()


def test_a_greedy_policy_that_never_fires_plays_breakout_to_the_game_over():
    """Issue #7: after a lost life Breakout waits for FIRE. Always NOOP (never FIRE): every game must
    end by losing its 5 lives within a few hundred steps, in evaluation and in training, not wait
    for the time limit (here shortened to 5,000 steps)."""
    limit = 20_000  # frames = 5,000 agent steps
    evaluation = hub_utils.evaluate(
        lambda observation: 0,
        ppo_atari.AtariGame("BreakoutNoFrameskip-v4", max_num_frames_per_episode=limit),
        seeds=[1, 2, 3],
    )
    assert max(evaluation.lengths) < 1000, evaluation.lengths

    envs = ppo_atari.make_vector_env(
        "BreakoutNoFrameskip-v4", 2, env_threads=1, max_num_frames_per_episode=limit
    )
    _, info = envs.reset(seed=1)
    lives, lost_lives, games_over, forced = info["lives"], [set(), set()], [0, 0], [set(), set()]
    for step in range(1000):
        _, _, terminated, truncated, info = envs.step(np.zeros(2, dtype=np.int64))
        assert not truncated.any()
        for env in range(2):
            if info["forced_action"][env]:
                forced[env].add(step)
            if terminated[env] and info["lives"][env] < lives[env]:
                lost_lives[env].add(step)
            elif terminated[env]:  # the game is over and has restarted (SAME_STEP)
                games_over[env] += 1
        lives = info["lives"]
    envs.close()
    assert min(games_over) >= 2
    for env in range(2):  # the two steps after each lost life, no other, are the env's own
        assert forced[env] == {lost + k for lost in lost_lives[env] for k in (1, 2)} - {1000, 1001}


def test_time_limits_are_truncations_with_the_final_observation():
    envs = ppo_atari.make_vector_env("PongNoFrameskip-v4", 2, env_threads=1, max_num_frames_per_episode=400)
    envs.reset(seed=0)
    for step in range(1, 101):  # noqa: B007 (read after the loop)
        _, _, terminated, truncated, info = envs.step(np.zeros(2, dtype=np.int64))
        assert not terminated.any()
    assert truncated.all() and step * ppo_atari.FRAME_SKIP == 400  # 400 frames = 100 agent steps
    assert info["final_obs"].shape == (2, 4, 84, 84)
    envs.close()


def test_gae_stops_at_a_lost_life_and_bootstraps_a_time_limit():
    gamma, lam = 0.9, 0.8
    rewards = torch.tensor([[1.0], [1.0], [1.0]])
    values = torch.tensor([[0.5], [1.0], [2.0], [9.0]])
    continues = torch.tensor([[0.0], [1.0], [0.0]])  # step 0: a lost life; step 2: a time limit
    truncation_values = torch.tensor([[0.0], [0.0], [4.0]])
    advantages, returns = ppo_atari.compute_gae(rewards, values, continues, truncation_values, gamma, lam)
    # deltas: 1 - .5 = .5 (no bootstrap past the lost life); 1 + .9*2 - 1 = 1.8; 1 + .9*4 - 2 = 2.6
    torch.testing.assert_close(advantages, torch.tensor([[0.5], [1.8 + 0.72 * 2.6], [2.6]]))
    torch.testing.assert_close(returns, advantages + values[:-1])


def test_the_update_leaves_out_the_forced_fire_steps():
    forced = np.zeros((4, 3), dtype=bool)
    forced[1, 0] = forced[2, 0] = True  # env 0 lost a life at step 0: FIRE at step 1, action 2 at step 2
    torch.manual_seed(0)
    minibatches = ppo_atari.minibatches_of_decisions(forced, 4)
    assert sorted(torch.cat(minibatches).tolist()) == [0, 1, 2, 4, 5, 7, 8, 9, 10, 11]  # step * 3 + env
    assert sorted(len(minibatch) for minibatch in minibatches) == [2, 2, 3, 3]
    torch.manual_seed(0)  # without forced steps: CleanRL's minibatches, from the same random numbers
    minibatches = ppo_atari.minibatches_of_decisions(np.zeros((4, 3), dtype=bool), 4)
    torch.manual_seed(0)
    assert all(
        torch.equal(ours, cleanrls) for ours, cleanrls in zip(minibatches, torch.randperm(12).split(3))
    )


def test_rendered_replay_follows_the_same_game():
    game = ppo_atari.make_env(hub_utils.argparse.Namespace(env_id="ALE/Pong-v5"), render_mode="rgb_array")
    game.reset(seed=7)
    frame = game.render()
    assert frame.shape == (210, 160, 3) and frame.dtype == np.uint8
    rng, scored = np.random.default_rng(7), 0
    for _ in range(300):  # the colour copy scores the same points at the same steps (same seed, actions)
        action = np.array([rng.integers(6)])
        _, reward, _, _, info = game.envs.step(action)
        screen, screen_reward, _, _, screen_info = game.screen_envs.step(action)
        assert (
            reward[0] == screen_reward[0]
            and info["episode_frame_number"] == screen_info["episode_frame_number"]
        )
        scored += reward[0] != 0
    assert scored > 0 and screen.shape == (1, 1, 210, 160, 3)
    game.close()


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("breakout")
    process = run_cli(["algorithms/ppo_atari.py", "--total-timesteps", "256", *TINY], cwd)
    assert process.returncode == 0, process.stderr
    return cwd, only_run_dir(cwd), process


def test_smoke_run_writes_the_hub_repository(smoke_run):
    _, run_dir, _ = smoke_run
    names = {path.name for path in run_dir.iterdir()}
    assert {
        "args.json",
        "results.json",
        "model.safetensors",
        "README.md",
        "ppo_atari.py",
        "replay.mp4",
    } <= names
    assert "checkpoint.pt" not in names
    results = json.loads((run_dir / "results.json").read_text())
    assert results["script"] == "ppo_atari.py" and results["dataset_id"] == "BreakoutNoFrameskip-v4"
    assert results["video_fps"] == 15 and 0 <= results["mean_reward"] <= 864
    training = results["training"]
    assert training["env_steps"] == 256 and training["frames"] == 1024 and training["device"] == "cpu"
    assert {"env_s", "inference_s", "update_s"} <= set(training)
    weights = load_file(run_dir / "model.safetensors")
    assert weights["network.0.weight"].shape == (32, 4, 8, 8) and weights["actor.weight"].shape == (4, 512)
    scalars = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {
        "charts/SPS",
        "charts/learning_rate",
        "losses/approx_kl",
        "losses/clipfrac",
        "losses/value_loss",
        "losses/explained_variance",
    } <= scalars
    assert_model_card_reproduces(run_dir, ppo_atari)


def test_enjoy_replays_whole_games_with_the_same_score(smoke_run):
    cwd, run_dir, _ = smoke_run
    results = json.loads((run_dir / "results.json").read_text())
    process = run_cli(["hub_utils.py", "enjoy", "--path", str(run_dir.relative_to(cwd)), "--no-video"], cwd)
    assert process.returncode == 0, process.stderr
    assert f"mean_reward {results['mean_reward']:.2f} +/- {results['std_reward']:.2f}" in process.stdout


def test_interrupt_then_resume_continues_the_run_deterministically(tmp_path):
    flags = ["--total-timesteps", "1280", "--no-capture-video", *TINY]
    interrupted = interrupt_run(["algorithms/ppo_atari.py", *flags], tmp_path, signal.SIGTERM)
    assert interrupted.returncode == 130, interrupted.stderr
    run_dir = only_run_dir(tmp_path)
    assert (
        f"resume with: python algorithms/ppo_atari.py --resume {run_dir.relative_to(tmp_path)}"
        in interrupted.stdout
    )
    stopped_at = torch.load(run_dir / "checkpoint.pt", weights_only=True)["global_step"]
    assert 0 < stopped_at < 1280 and not (run_dir / "model.safetensors").exists()

    twin = run_dir.with_name(run_dir.name + "-twin")
    shutil.copytree(run_dir, twin)
    for folder in (run_dir, twin):
        resumed = run_cli(
            [
                "algorithms/ppo_atari.py",
                "--resume",
                str(folder.relative_to(tmp_path)),
                "--eval-episodes",
                "1",
            ],
            tmp_path,
        )
        assert resumed.returncode == 0, resumed.stderr
        assert not (folder / "checkpoint.pt").exists()
        assert json.loads((folder / "results.json").read_text())["training"]["env_steps"] == 1280
    first, second = load_file(run_dir / "model.safetensors"), load_file(twin / "model.safetensors")
    assert all(torch.equal(first[name], second[name]) for name in first)  # resuming is deterministic
    steps = [event.step for event in EventAccumulator(str(run_dir)).Reload().Scalars("charts/SPS")]
    assert max(steps) == 1280 and min(steps) <= stopped_at  # one curve across both sessions


def test_a_game_that_is_not_atari_fails_with_one_line_and_writes_nothing(tmp_path):
    process = run_cli(["algorithms/ppo_atari.py", "--env-id", "CartPole-v1"], tmp_path)
    assert_one_line_error(process, "needs an Atari game", "CartPole-v1", "ppo.py")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "BreakoutNoFrameskp-v4"], ["unknown environment id", "BreakoutNoFrameskip-v4"]),
        (["--env-id", "ALE/Brakeout-v5"], ["unknown environment id", "ALE/Breakout-v5"]),
        (["--num-minibatches", "3"], ["--num-minibatches 3", "1024"]),
        (["--total-timesteps", "100"], ["less than one rollout", "1024"]),
        (["--num-envs", "0"], ["--num-envs must be >= 1"]),
        (["--env-threads", "-1"], ["--env-threads must be >= 0"]),
        (["--clip-coef", "0"], ["--clip-coef must be > 0"]),
        (["--gamma", "1.5"], ["--gamma must be in [0, 1]", "1.5"]),
        (["--learning-rate", "-1"], ["--learning-rate must be > 0"]),
        (["--seed", "-1"], ["--seed must be >= 0, got -1"]),
        (["--ent-coef", "inf"], ["--ent-coef must be a finite number, got inf"]),
        (["--target-kl", "0"], ["--target-kl must be > 0, got 0"]),
        (["--total-timesteps", "1e6"], ["--total-timesteps", "invalid int value: '1e6'"]),
    ],
)
def test_bad_values_are_user_errors(flags, fragments):
    with pytest.raises(hub_utils.UserError) as error:
        ppo_atari.make_env(ppo_atari.parse_args(flags))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_game_without_a_rom_in_the_vector_env_is_a_user_error(monkeypatch):
    from ale_py import roms

    monkeypatch.setattr(roms, "get_rom_path", lambda game: None)
    with pytest.raises(hub_utils.UserError, match="no ROM 'pong'"):
        ppo_atari.ale_settings("PongNoFrameskip-v4")


def test_defaults_are_cleanrls_and_help_lists_every_flag(capsys):
    args = ppo_atari.parse_args([])
    assert (
        args.env_id,
        args.num_envs,
        args.num_steps,
        args.clip_coef,
        args.ent_coef,
        args.learning_rate,
        args.total_timesteps,
    ) == ("BreakoutNoFrameskip-v4", 8, 128, 0.1, 0.01, 2.5e-4, 10_000_000)
    with pytest.raises(SystemExit):
        ppo_atari.parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--env-id",
        "--seed",
        "--torch-deterministic",
        "--cuda",
        "--total-timesteps",
        "--learning-rate",
        "--anneal-lr",
        "--num-envs",
        "--env-threads",
        "--num-steps",
        "--gamma",
        "--gae-lambda",
        "--num-minibatches",
        "--update-epochs",
        "--norm-adv",
        "--clip-coef",
        "--clip-vloss",
        "--ent-coef",
        "--vf-coef",
        "--max-grad-norm",
        "--target-kl",
        "--track",
        "--capture-video",
        "--upload-model",
        "--resume",
        "--exp-name",
    ):
        assert flag in text
