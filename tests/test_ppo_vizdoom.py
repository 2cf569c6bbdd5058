"""algorithms/ppo_vizdoom.py: Sample Factory's doom_health_gathering_supreme on vizdoom (observations,
the scenario's reward and Sample Factory's medkit bonus against an independent re-derivation, the
time limit against the engine's own timeout, whole-episode evaluation), the threaded games, return
normalization, GAE, smoke run, enjoy, interrupt (of the process, and of its whole group as a terminal or
`timeout` signals it) and resume, errors. Headless: no window, no sound."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import (
    PROGRESS_LINE,
    assert_enjoy_reproduces,
    assert_one_line_error,
    cli_command,
    cli_env,
    interrupt_run,
    only_run_dir,
    run_cli,
)
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

pytest.importorskip("vizdoom", reason="vizdoom is optional: pip install -r requirements-vizdoom.txt")
ppo_vizdoom = hub_utils.load_algorithm("ppo_vizdoom.py")
TINY = ["--num-envs", "2", "--num-steps", "64", "--num-minibatches", "2", "--update-epochs", "1"]
NOTHING, TURN_LEFT, TURN_RIGHT, FORWARD, BACKWARD = range(5)


@pytest.fixture(scope="module")
def game():
    env = ppo_vizdoom.DoomHealthGathering()
    yield env
    env.close()


def test_observations_are_sample_factorys_128x72_rgb_frames_stacked_as_uint8():
    env = ppo_vizdoom.DoomHealthGathering(frame_stack=3)
    first, _ = env.reset(seed=0)
    assert first.shape == (9, 72, 128) and first.dtype == np.uint8 and env.observation_space.contains(first)
    np.testing.assert_array_equal(first[:3], first[6:])  # the stack starts filled with the first frame
    assert env.action_space.n == 5 and first.std() > 10  # a real picture, not a blank screen
    second, *_ = env.step(FORWARD)
    np.testing.assert_array_equal(second[:6], first[3:])  # the stack shifts by one frame per step
    assert not np.array_equal(second[6:], first[6:])
    screen = env.render()
    assert screen.shape == (240, 320, 3) and screen.dtype == np.uint8
    env.close()


def test_standing_still_dies_on_the_acid_floor_with_the_hand_counted_reward(game):
    """Hand-checked: doing nothing, the acid floor kills the agent after 384 tics (96 steps of 4),
    each tic alive is worth 0.01 (Sample Factory's living_reward), the death costs nothing."""
    game.reset(seed=3)
    rewards, bonuses, ends = [], [], []
    for _ in range(200):
        _, reward, terminated, truncated, info = game.step(NOTHING)
        rewards.append(reward)
        bonuses.append(info["health_bonus"])
        ends.append((terminated, truncated))
        if terminated or truncated:
            break
    assert len(rewards) == 96 and ends[-1] == (True, False)
    assert rewards[:-1] == pytest.approx([0.04] * 95) and sum(rewards) == pytest.approx(3.84)
    assert sum(bonuses) == 0  # no medkit picked up standing still


def sample_factory_bonuses(healths, dones):
    """Sample Factory's DoomGatheringRewardShaping, written from its definition: +1 when HEALTH went
    up since the previous step's info, nothing on a done step, nothing before the first health."""
    bonuses, previous = [], None
    for health, done in zip(healths, dones):
        if done:
            bonuses.append(0.0)
            continue
        bonuses.append(1.0 if previous is not None and health - previous > 0 else 0.0)
        previous = health
    return bonuses


def test_the_medkit_bonus_is_sample_factorys_shaping(game):
    """Random play over a few episodes picks up medkits; the env's bonus equals Sample Factory's
    shaping recomputed from the engine's HEALTH variable, and the scenario's reward stays 0.04 a step."""
    rng, picked = np.random.default_rng(0), 0
    for seed in range(4):
        game.reset(seed=seed)
        healths, dones, bonuses, done = [], [], [], False
        while not done:
            _, reward, terminated, truncated, info = game.step(int(rng.choice([TURN_LEFT, FORWARD, FORWARD])))
            done = terminated or truncated
            state = game.game.get_state()
            healths.append(None if state is None else state.game_variables[0])
            dones.append(done)
            bonuses.append(info["health_bonus"])
            assert reward == pytest.approx(0.04) or done
        assert bonuses == sample_factory_bonuses(healths, dones)
        picked += sum(bonuses)
    assert picked >= 3  # the test saw medkits picked up


def test_the_time_limit_truncates_where_the_engines_own_timeout_ends_the_episode():
    """Our 2,100-tic limit is counted in step() (the engine's timeout is off, to keep the last
    screen): with a 200-tic limit, the same seed and actions, the engine with its own timeout of 200
    ends the same episode at the same step, with the same frames and the same reward."""
    ours = ppo_vizdoom.DoomHealthGathering(episode_tics=200)
    engines = ppo_vizdoom.DoomHealthGathering(episode_tics=10**9)
    engines.game.set_episode_timeout(200)
    obs, _ = ours.reset(seed=5)
    engine_obs, _ = engines.reset(seed=5)
    totals, steps = [0.0, 0.0], 0
    while True:
        np.testing.assert_array_equal(obs, engine_obs)
        obs, reward, terminated, truncated, _ = ours.step(FORWARD if steps % 8 else TURN_RIGHT)
        engine_obs, engine_reward, *_ = engines.step(FORWARD if steps % 8 else TURN_RIGHT)
        totals[0], totals[1], steps = totals[0] + reward, totals[1] + engine_reward, steps + 1
        if terminated or truncated:
            break
        assert not engines.game.is_episode_finished()
    assert (steps, terminated, truncated) == (50, False, True) and engines.game.is_episode_finished()
    assert totals == pytest.approx([2.0, 2.0])  # 200 tics alive
    ours.close()
    engines.close()


def test_episodes_are_reproducible_from_their_seed(game):
    def play(seed):
        frames = [game.reset(seed=seed)[0]]
        frames += [game.step(FORWARD if t % 5 else TURN_LEFT)[0] for t in range(40)]
        return np.stack(frames)

    first, again, other = play(11), play(11), play(12)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_evaluation_plays_whole_episodes_with_the_scenarios_reward():
    args = argparse.Namespace(env_id="doom_health_gathering_supreme", frame_stack=1)
    evaluation = hub_utils.evaluate(lambda observation: NOTHING, ppo_vizdoom.make_env(args), [1, 2, 3])
    assert evaluation.returns == pytest.approx([3.84] * 3) and evaluation.lengths == [96] * 3
    assert evaluation.result == pytest.approx(3.84)


def test_threaded_games_reset_in_the_same_step_and_keep_the_last_frame():
    games = ppo_vizdoom.ThreadedDoomGames(3, frame_stack=1, threads=2)
    solo = ppo_vizdoom.DoomHealthGathering()
    obs = games.reset(seed=7)
    assert obs.shape == (3, 3, 72, 128)
    np.testing.assert_array_equal(obs[2], solo.reset(seed=9)[0])  # game i starts from seed + i
    for step in range(96):  # doing nothing, every game dies at step 96
        obs, rewards, terminated, truncated, infos = games.step(np.zeros(3, dtype=np.int64))
        solo_obs, *_ = solo.step(NOTHING)
        if step < 95:
            np.testing.assert_array_equal(obs[2], solo_obs)
            assert not terminated.any() and rewards == pytest.approx([0.04] * 3)
    assert terminated.all() and not truncated.any()
    np.testing.assert_array_equal(infos[2]["final_obs"], solo_obs)  # the last frame before the death
    assert not np.array_equal(obs[2], solo_obs)  # the next episode's first frame
    games.close()
    solo.close()


def test_gae_stops_at_a_death_and_bootstraps_the_time_limit():
    gamma, lam = 0.9, 0.8
    rewards = torch.tensor([[1.0], [1.0], [1.0]])
    values = torch.tensor([[0.5], [1.0], [2.0], [9.0]])
    continues = torch.tensor([[0.0], [1.0], [0.0]])  # step 0: a death; step 2: the time limit
    truncation_values = torch.tensor([[0.0], [0.0], [4.0]])
    advantages, returns = ppo_vizdoom.compute_gae(rewards, values, continues, truncation_values, gamma, lam)
    # deltas: 1 - .5 = .5 (no bootstrap after a death); 1 + .9*2 - 1 = 1.8; 1 + .9*4 - 2 = 2.6
    torch.testing.assert_close(advantages, torch.tensor([[0.5], [1.8 + 0.72 * 2.6], [2.6]]))
    torch.testing.assert_close(returns, advantages + values[:-1])


def test_rewards_are_divided_by_the_std_of_every_discounted_return_so_far_and_clipped():
    normalizer = ppo_vizdoom.ReturnNormalizer(2, gamma=0.5)
    steps = [([1.0, 2.0], [False, False]), ([1.0, 0.0], [True, False]), ([3.0, 1.0], [False, False])]
    returns, seen = np.zeros(2), []
    for rewards, done in steps:
        scaled = normalizer(np.array(rewards), np.array(done))
        returns = returns * 0.5 + rewards
        seen += list(returns)
        returns[np.array(done)] = 0.0
        np.testing.assert_allclose(scaled, np.array(rewards) / np.sqrt(np.var(seen) + 1e-8))
    assert seen == [1.0, 2.0, 1.5, 1.0, 3.0, 1.5]  # env 0's return restarted after its episode ended
    first = ppo_vizdoom.ReturnNormalizer(2, gamma=0.99)(np.array([0.04, 0.04]), np.array([False, False]))
    assert first.tolist() == [10.0, 10.0]  # equal returns have no spread yet: clipped to 10, not 400


def engine_files(temporary_folder):
    """What the vizdoom engines leave in the temporary folder: their settings files."""
    return sorted(path.name for path in temporary_folder.glob("vizdoom-*"))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    cwd, temporary = tmp_path_factory.mktemp("doom"), tmp_path_factory.mktemp("doom-tmp")
    process = run_cli(
        ["algorithms/ppo_vizdoom.py", "--total-timesteps", "512", "--eval-episodes", "2", *TINY],
        cwd,
        {"TMPDIR": str(temporary)},
    )
    assert process.returncode == 0, process.stderr
    assert engine_files(temporary) == []  # the engines' settings files are removed with them
    return cwd, only_run_dir(cwd), process


def test_smoke_run_writes_the_hub_repository(smoke_run):
    cwd, run_dir, _ = smoke_run
    assert sorted(path.name for path in cwd.iterdir() if not path.name.startswith(".")) == [
        "runs"
    ]  # no _vizdoom*
    names = {path.name for path in run_dir.iterdir()}
    assert {
        "args.json",
        "results.json",
        "model.safetensors",
        "README.md",
        "ppo_vizdoom.py",
        "replay.mp4",
    } <= names
    assert "checkpoint.pt" not in names
    results = json.loads((run_dir / "results.json").read_text())
    assert results["dataset_id"] == "doom_health_gathering_supreme" and results["script"] == "ppo_vizdoom.py"
    assert results["video_fps"] == 8.75 and all(0 < r <= 21.0 for r in results["episode_returns"])
    assert [round(r / 0.04) for r in results["episode_returns"]] == results["episode_lengths"]
    training = results["training"]
    assert training["env_steps"] == 512 and training["tics"] == 2048 and training["device"] == "cpu"
    assert {"env_s", "inference_s", "update_s", "sps"} <= set(training)
    weights = load_file(run_dir / "model.safetensors")
    assert weights["network.0.weight"].shape == (16, 3, 8, 8) and weights["actor.weight"].shape == (5, 256)
    scalars = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {"charts/SPS", "charts/learning_rate", "losses/approx_kl", "losses/value_loss"} <= scalars
    assert {
        "charts/episodic_return",
        "charts/episodic_shaped_return",
    } <= scalars  # 256 steps a game: episodes ended
    card = (run_dir / "README.md").read_text()
    assert "doom_health_gathering_supreme" in card and "deep-rl-course" in card
    assert "vizdoom==" in (run_dir / "requirements.txt").read_text()


def test_enjoy_replays_whole_episodes_with_the_same_score(smoke_run):
    cwd, run_dir, _ = smoke_run
    assert_enjoy_reproduces(run_dir.relative_to(cwd), cwd)


def test_push_then_enjoy_from_the_hub_with_the_leaderboards_dataset_id(
    smoke_run, tmp_path, hub_standin, hub_env
):
    from huggingface_hub import ModelCard

    _, run_dir, _ = smoke_run
    shutil.copytree(run_dir, tmp_path / "runs" / run_dir.name)
    repo_id = "alice/ppo-doom_health_gathering_supreme"
    pushed = run_cli(
        ["hub_utils.py", "push", f"runs/{run_dir.name}", "--repo-id", repo_id], tmp_path, hub_env()
    )
    assert pushed.returncode == 0, pushed.stderr
    card = ModelCard(hub_standin.files(repo_id)["README.md"].decode())
    (result,) = card.data.eval_results
    assert result.dataset_type == result.dataset_name == "doom_health_gathering_supreme"
    assert {"doom_health_gathering_supreme", "ppo", "deep-rl-course"} <= set(card.data.tags)
    results = json.loads((run_dir / "results.json").read_text())
    enjoyed = run_cli(
        ["hub_utils.py", "enjoy", "--repo-id", repo_id, "--no-video"], tmp_path / "b", hub_env(None)
    )
    assert enjoyed.returncode == 0, enjoyed.stderr
    assert f"mean_reward {results['mean_reward']:.2f} +/- {results['std_reward']:.2f}" in enjoyed.stdout


def test_interrupt_then_resume_continues_the_run_deterministically(tmp_path):
    flags = ["--total-timesteps", "512", "--no-capture-video", "--eval-episodes", "1", *TINY]
    interrupted = interrupt_run(["algorithms/ppo_vizdoom.py", *flags], tmp_path, signal.SIGTERM)
    assert interrupted.returncode == 130, interrupted.stderr
    run_dir = only_run_dir(tmp_path)
    assert f"--resume {run_dir.relative_to(tmp_path)}" in interrupted.stdout
    stopped_at = torch.load(run_dir / "checkpoint.pt", weights_only=True)["counters"][1]
    assert 0 < stopped_at < 512 and not (run_dir / "model.safetensors").exists()
    twin = run_dir.with_name(run_dir.name + "-twin")
    shutil.copytree(run_dir, twin)
    for folder in (run_dir, twin):
        resumed = run_cli(
            ["algorithms/ppo_vizdoom.py", "--resume", str(folder.relative_to(tmp_path))], tmp_path
        )
        assert resumed.returncode == 0, resumed.stderr
        assert not (folder / "checkpoint.pt").exists()
        assert json.loads((folder / "results.json").read_text())["training"]["env_steps"] == 512
    first, second = load_file(run_dir / "model.safetensors"), load_file(twin / "model.safetensors")
    assert all(torch.equal(first[name], second[name]) for name in first)  # resuming is deterministic


GAME_IN_A_SIGNALLED_GROUP = """
import os, signal, sys
import hub_utils
signal.signal(SIGNUM, lambda *_: print("handled"))  # the script's handler (training_run.start_run's)
game = hub_utils.load_algorithm("ppo_vizdoom.py").DoomHealthGathering()
game.reset(seed=0)
os.killpg(0, SIGNUM)  # this process's group: the engine's too
for _ in range(20):
    game.step(2)
game.close()
print("played on")
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_engine_plays_on_when_its_process_group_is_signalled(tmp_path, signum):
    """The engine, a child process in the group a terminal's Ctrl-C or `timeout` signals, starts with
    SIGINT and SIGTERM ignored: the game goes on (until the script's checkpoint is saved), and closing
    it leaves no settings file behind."""
    code = GAME_IN_A_SIGNALLED_GROUP.replace("SIGNUM", str(int(signum)))
    process = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=cli_env({"TMPDIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == ["handled", "played", "on"]
    assert engine_files(tmp_path) == [] and not any(tmp_path.glob("_vizdoom*"))


def interrupt_group(args, cwd, signum, extra_env):
    """Like conftest's interrupt_run, but signals as a terminal's Ctrl-C or `timeout` does: the whole
    process group (the script leads a session of its own here), the vizdoom engines it started included.
    Returns the completed process once no process of the group is left."""
    process = subprocess.Popen(
        cli_command(args),
        cwd=cwd,
        env=cli_env(extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in process.stdout:
        if PROGRESS_LINE.match(line):
            os.killpg(process.pid, signum)
            break
    stdout, stderr = process.communicate(timeout=120)
    for _ in range(50):  # an engine outliving the script would be left running for good
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("vizdoom engines outlived the interrupted script")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_whole_process_group_saves_a_checkpoint_and_resumes(tmp_path, signum):
    """Ctrl-C in a terminal (SIGINT) and `timeout` or a job scheduler (SIGTERM) signal the process group:
    the engines, started with both ignored, play on until the checkpoint is saved, then are closed."""
    cwd, temporary = tmp_path / "work", tmp_path / "tmp"
    cwd.mkdir()
    temporary.mkdir()
    # Rollouts of 256 steps a game: the signal, sent at the first progress line, comes while they play
    flags = ["--total-timesteps", "1536", "--num-envs", "2", "--num-steps", "256", "--num-minibatches", "2"]
    flags += ["--update-epochs", "1", "--no-capture-video", "--eval-episodes", "1"]
    interrupted = interrupt_group(
        ["algorithms/ppo_vizdoom.py", *flags], cwd, signum, {"TMPDIR": str(temporary)}
    )
    assert interrupted.returncode == 130, interrupted.stderr
    assert "Traceback" not in interrupted.stderr and "ViZDoom" not in interrupted.stderr, interrupted.stderr
    run_dir = only_run_dir(cwd)
    assert f"interrupted: checkpoint saved in {run_dir.relative_to(cwd)}" in interrupted.stdout
    resume = f"resume with: python algorithms/ppo_vizdoom.py --resume {run_dir.relative_to(cwd)}"
    assert resume in interrupted.stdout
    stopped_at = torch.load(run_dir / "checkpoint.pt", weights_only=True)["counters"][1]
    assert 0 < stopped_at < 1536 and not (run_dir / "model.safetensors").exists()
    assert engine_files(temporary) == [] and not any(cwd.glob("_vizdoom*"))
    resumed = run_cli(
        ["algorithms/ppo_vizdoom.py", "--resume", str(run_dir.relative_to(cwd))],
        cwd,
        {"TMPDIR": str(temporary)},
    )
    assert resumed.returncode == 0, resumed.stderr
    assert not (run_dir / "checkpoint.pt").exists() and (run_dir / "model.safetensors").is_file()
    assert json.loads((run_dir / "results.json").read_text())["training"]["env_steps"] == 1536
    assert engine_files(temporary) == []


def test_another_game_fails_with_one_line_and_writes_nothing(tmp_path):
    process = run_cli(["algorithms/ppo_vizdoom.py", "--env-id", "VizdoomHealthGatheringSupreme-v1"], tmp_path)
    assert_one_line_error(process, "doom_health_gathering_supreme", "VizdoomHealthGatheringSupreme-v1")
    assert not (tmp_path / "runs").exists() and not any(tmp_path.glob("_vizdoom*"))


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (
            ["--env-id", "doom_health_gathering_suprme"],
            ["unknown environment id", "doom_health_gathering_supreme"],
        ),
        (["--env-id", "CartPole-v1"], ["plays doom_health_gathering_supreme", "CartPole-v1"]),
        (["--num-minibatches", "3"], ["--num-minibatches 3", "1024"]),
        (["--total-timesteps", "100"], ["less than one rollout", "1024"]),
        (["--num-envs", "0"], ["--num-envs must be >= 1", "0"]),
        (["--frame-stack", "0"], ["--frame-stack must be in [1, 16]"]),
        (["--env-threads", "-1"], ["--env-threads must be in [0, 256]"]),
        (["--frame-stack", "17"], ["--frame-stack must be in [1, 16], got 17"]),
        (["--env-threads", "257"], ["--env-threads must be in [0, 256], got 257"]),
        (["--seed", "-1"], ["--seed must be >= 0, got -1"]),
        (["--learning-rate", "nan"], ["--learning-rate must be a finite number, got nan"]),
        (["--learning-rate", "-0.001"], ["--learning-rate must be > 0, got -0.001"]),
        (["--clip-coef", "0"], ["--clip-coef must be > 0, got 0"]),
        (["--ent-coef", "inf"], ["--ent-coef must be a finite number, got inf"]),
        (["--max-grad-norm", "-0.5"], ["--max-grad-norm must be >= 0, got -0.5"]),
        (["--target-kl", "-1"], ["--target-kl must be >= 0, got -1"]),
        (["--gamma", "1.5"], ["--gamma must be in [0, 1]", "1.5"]),
        (["--eval-episodes", "0"], ["--eval-episodes must be >= 1"]),
    ],
)
def test_bad_values_are_user_errors(flags, fragments):
    with pytest.raises(hub_utils.UserError) as error:
        ppo_vizdoom.make_env(ppo_vizdoom.parse_args(flags))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_without_vizdoom_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "vizdoom", None)  # import vizdoom now fails
    with pytest.raises(hub_utils.UserError, match="pip install -r requirements-vizdoom.txt"):
        ppo_vizdoom.DoomHealthGathering()


def test_help_lists_every_flag_and_says_resuming_is_not_exact(capsys):
    args = ppo_vizdoom.parse_args([])
    assert (args.env_id, args.num_envs, args.num_steps, args.frame_stack, args.total_timesteps) == (
        "doom_health_gathering_supreme",
        8,
        128,
        1,
        1_000_000,
    )
    # no argparse abbreviations: --num-env is not --num-envs
    with pytest.raises(hub_utils.UserError) as abbreviated:
        ppo_vizdoom.parse_args(["--num-env", "4"])
    error = str(abbreviated.value)  # one line naming the typo and the flag it is close to
    assert "unknown flag '--num-env' (did you mean --num-envs?)" in error and "\n" not in error
    with pytest.raises(SystemExit):
        ppo_vizdoom.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--resume is deterministic, not exact" in text
    for name in vars(args):  # the script's flags and the shared ones (--track, --resume, --eval-episodes...)
        assert "--" + name.replace("_", "-") in text
