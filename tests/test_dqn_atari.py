"""algorithms/dqn_atari.py: the TD target, the frame-once replay memory, Atari preprocessing, smoke
runs, enjoy, interrupt and resume, errors."""

import itertools
import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import (
    assert_enjoy_reproduces,
    assert_model_card_reproduces,
    assert_one_line_error,
    interrupt_run,
    only_run_dir,
    run_cli,
)
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

dqn_atari = hub_utils.load_algorithm("dqn_atari.py")
GAME = hub_utils.resolve_env_id("SpaceInvadersNoFrameskip-v4")  # registers the ALE ids
# A few hundred steps that still train: the first gradient steps come after 100 steps.
QUICK = [
    "--total-timesteps",
    "300",
    "--learning-starts",
    "100",
    "--buffer-size",
    "1000",
    "--batch-size",
    "8",
    "--eval-episodes",
    "1",
]


def constant_network(q_values):
    """A stand-in Q-network that gives every observation the same Q-values."""
    return lambda obs: torch.tensor(q_values, dtype=torch.float32).expand(len(obs), -1)


def test_td_target_stops_at_termination_and_bootstraps_through_truncation():
    rewards, next_obs = torch.tensor([1.0, 1.0]), torch.zeros(2, 4, 84, 84, dtype=torch.uint8)
    terminations = torch.tensor([1.0, 0.0])  # a lost life or game over; a truncation is stored as 0
    target_network = constant_network([2.0, 5.0, 3.0])
    # DQN: y = r + gamma * (1 - terminated) * max_a' Q_target(s', a') = 1 + 0.9 * 5 = 5.5 where not terminated
    y = dqn_atari.td_target(rewards, next_obs, terminations, 0.9, target_network)
    torch.testing.assert_close(y, torch.tensor([1.0, 5.5]))
    # Double DQN: the online network picks a' = 2, the target network values it: 1 + 0.9 * 3 = 3.7
    y = dqn_atari.td_target(
        rewards, next_obs, terminations, 0.9, target_network, constant_network([0.0, 1.0, 9.0])
    )
    torch.testing.assert_close(y, torch.tensor([1.0, 3.7]))
    # n-step: G and gamma^k per transition (k = 3 and 2 here): 1 + 0.729 * 5 and 1 + 0.81 * 5
    y = dqn_atari.td_target(
        rewards, next_obs, torch.tensor([0.0, 0.0]), torch.tensor([0.729, 0.81]), target_network
    )
    torch.testing.assert_close(y, torch.tensor([1.0 + 0.729 * 5, 1.0 + 0.81 * 5]))


class StepLog(gym.Wrapper):
    """Keeps (reward, terminated, truncated, lives) of every step the training loop takes."""

    def __init__(self, env):
        super().__init__(env)
        self.steps = []

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps.append((reward, terminated, truncated, info["lives"]))
        return obs, reward, terminated, truncated, info


def test_training_stores_lost_lives_as_terminations_and_time_limits_as_truncations():
    # The game's own time limit (max_num_frames_per_episode) shortened to 800 frames = 200 agent steps.
    env = StepLog(dqn_atari.make_atari_env(GAME, training=True, max_num_frames_per_episode=800))
    memory = dqn_atari.ReplayBuffer(5000)
    obs, _ = env.reset(seed=0)
    memory.start_episode(obs)
    rng = np.random.default_rng(0)
    terminated_slots, truncated_slots, lives = [], [], [3]
    while len(terminated_slots) < 2 or not truncated_slots:
        slot = memory.newest
        dqn_atari.step_and_remember(env, memory, int(rng.integers(6)))
        reward, terminated, truncated, remaining = env.steps[-1]
        assert reward in (-1.0, 0.0, 1.0)  # training clips rewards to their sign
        if terminated:
            assert remaining < lives[-1]  # a lost life ends the agent's episode; the game goes on
            terminated_slots.append(slot)
        if truncated:
            truncated_slots.append(slot)
        lives.append(remaining)
    assert memory.terminated[terminated_slots].all() and memory.has_transition[terminated_slots].all()
    assert not memory.terminated[truncated_slots].any() and memory.has_transition[truncated_slots].all()
    after = np.array(truncated_slots)
    # s' of a truncation is the real final observation (no transition of its own); a new episode follows
    assert not memory.has_transition[after + 1].any() and memory.episode_start[after + 2].all()
    slots = np.array([terminated_slots[0], truncated_slots[0]])
    _, _, rewards, terminations, next_obs, discounts = memory.get(slots)
    assert discounts.tolist() == pytest.approx([0.99, 0.99])  # one step: gamma
    y = dqn_atari.td_target(
        torch.from_numpy(rewards),
        torch.from_numpy(next_obs),
        torch.from_numpy(terminations),
        torch.from_numpy(discounts),
        constant_network([10.0, 20.0]),
    )
    torch.testing.assert_close(y, torch.from_numpy(rewards) + torch.tensor([0.0, 0.99 * 20.0]))


def test_replay_memory_stores_each_frame_once_as_uint8():
    memory = dqn_atari.ReplayBuffer(1000)
    assert memory.frames.shape == (1000, 84, 84) and memory.frames.dtype == np.uint8
    nbytes = sum(getattr(memory, name).nbytes for name in ("frames", *dqn_atari.ReplayBuffer.ARRAYS))
    assert nbytes == 1000 * dqn_atari.REPLAY_BYTES_PER_STEP == 1000 * (84 * 84 + 8)
    assert 1_000_000 * dqn_atari.REPLAY_BYTES_PER_STEP / 1e9 == pytest.approx(7.064)  # as --help says
    frame = np.full((4, 84, 84), 7, dtype=np.uint8)
    memory.start_episode(frame)
    for step in range(40):
        memory.add(step % 6, 1.0, False, frame)
    obs, actions, rewards, terminations, next_obs, discounts = memory.get(
        memory.sample_slots(32, np.random.default_rng(0))
    )
    assert obs.shape == next_obs.shape == (32, 4, 84, 84) and obs.dtype == next_obs.dtype == np.uint8
    assert actions.shape == rewards.shape == terminations.shape == discounts.shape == (32,)
    assert actions.dtype == np.int64
    assert rewards.dtype == terminations.dtype == discounts.dtype == np.float32


def fill(memory, episodes):
    """Writes episodes of the given lengths, frame k filled with the value k (mod 256); the last
    step of each episode terminates. Returns the slots each frame went to."""
    slots, value = [], 0
    for length in episodes:
        memory.start_episode(np.full((4, 84, 84), value % 256, dtype=np.uint8))
        slots.append(memory.newest)
        for step in range(length):
            value += 1
            memory.add(0, 0.0, step == length - 1, np.full((4, 84, 84), value % 256, dtype=np.uint8))
            slots.append(memory.newest)
        value += 1
    return slots


def test_stacks_repeat_an_episodes_first_frame_instead_of_reaching_into_the_previous_one():
    memory = dqn_atari.ReplayBuffer(100)
    fill(memory, [2, 6])  # slots 0-2: first episode (2 steps); 3-9: second (6 steps)
    assert memory.stack_slots(np.array([0, 1, 2])).tolist() == [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 2]]
    assert memory.stack_slots(np.array([3, 4, 5, 9])).tolist() == [
        [3, 3, 3, 3],
        [3, 3, 3, 4],
        [3, 3, 4, 5],
        [6, 7, 8, 9],
    ]
    obs, _, _, _, next_obs, _ = memory.get(np.array([3]))
    assert obs[0, :, 0, 0].tolist() == [3, 3, 3, 3] and next_obs[0, :, 0, 0].tolist() == [3, 3, 3, 4]


def test_sampling_skips_final_observations_and_stacks_the_write_head_has_overwritten():
    memory = dqn_atari.ReplayBuffer(20)
    fill(memory, [7, 7, 7])  # 24 frames in 20 slots: the first 4 are overwritten, the head is at slot 4
    assert memory.size == 20 and memory.head == 4 and memory.newest == 3
    sampled = set(memory.sample_slots(5000, np.random.default_rng(0)).tolist())
    # slots in time order 4..19, 0..3; finals (no transition): 7, 15, 3 (newest, also a final).
    # Slot 4 (oldest) and 5, 6 would stack frames from slots 3, 2, 1: the newest episode's.
    # Slot 8 starts an episode and needs no older frame, so it stays; slot 16 too.
    assert sampled == set(range(20)) - {3, 4, 5, 6, 7, 15}
    obs, *_ = memory.get(np.array(sorted(sampled)))
    for stack in obs[:, :, 0, 0]:  # frames of one stack: consecutive values, or an episode's first repeated
        assert all(later - earlier in (0, 1) for earlier, later in itertools.pairwise(stack))


def n_step_transition(steps, start, n, gamma):
    """The n-step transition from steps[start] computed from the log of what the agent observed:
    (s, a, G, terminated, s', gamma^k), stopping early at the end of an episode or of the log."""
    obs, action = steps[start]["obs"], steps[start]["action"]
    ret, discount, terminated = 0.0, 1.0, False
    for step in steps[start : start + n]:
        ret, discount, next_obs = ret + discount * step["reward"], discount * gamma, step["next_obs"]
        terminated = step["terminated"]
        if step["terminated"] or step["truncated"]:
            break
    return obs, action, ret, terminated, next_obs, discount


@pytest.mark.parametrize("n_step", [1, 3, 8])
def test_sampled_transitions_are_exactly_what_the_agent_observed_across_episodes_and_wraparound(n_step):
    # Lost lives (terminations) and 200-step games (truncations) end episodes: 5 of each here.
    env = dqn_atari.make_atari_env(GAME, training=True, max_num_frames_per_episode=800)
    memory = dqn_atari.ReplayBuffer(300, n_step=n_step, gamma=0.9)
    obs, _ = env.reset(seed=1)
    memory.start_episode(obs)
    steps, step_of_slot, rng = [], {}, np.random.default_rng(1)
    for _ in range(1000):  # the ring wraps three times
        slot, action = memory.newest, int(rng.integers(6))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        memory.add(action, reward, terminated, next_obs)
        step_of_slot[slot] = len(steps)
        steps.append(dict(obs=obs, action=action, reward=reward, terminated=terminated, truncated=truncated))
        steps[-1]["next_obs"] = obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
            memory.start_episode(obs)
    assert sum(step["terminated"] for step in steps) >= 4 and sum(step["truncated"] for step in steps) >= 4
    slots = np.unique(memory.sample_slots(3000, rng))
    assert len(slots) > 280  # all but the finals and the 3 oldest slots
    walked_past_one_step = 0
    for slot, sampled in zip(slots, zip(*memory.get(slots))):
        expected = n_step_transition(steps, step_of_slot[slot], n_step, 0.9)
        np.testing.assert_array_equal(sampled[0], expected[0])
        np.testing.assert_array_equal(sampled[4], expected[4])
        assert (sampled[1], bool(sampled[3])) == (expected[1], expected[3])
        assert (sampled[2], sampled[5]) == pytest.approx((expected[2], expected[5]), rel=1e-6)
        walked_past_one_step += bool(sampled[5] < 0.9 - 1e-6)
    assert walked_past_one_step == 0 if n_step == 1 else walked_past_one_step > 200


def test_training_and_evaluation_see_the_same_observations_until_a_life_is_lost():
    training = dqn_atari.make_atari_env(GAME, training=True)
    evaluation = dqn_atari.make_env(hub_utils.argparse.Namespace(env_id=GAME))
    obs, _ = training.reset(seed=5)
    eval_obs, _ = evaluation.reset(seed=5)
    rng, unclipped = np.random.default_rng(5), []
    lives = evaluation.unwrapped.ale.lives()
    while evaluation.unwrapped.ale.lives() == lives:
        np.testing.assert_array_equal(obs, eval_obs)
        assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
        action = int(rng.integers(6))
        obs, reward, terminated, _, _ = training.step(action)
        eval_obs, eval_reward, eval_terminated, _, _ = evaluation.step(action)
        assert reward == np.sign(eval_reward)
        unclipped.append(eval_reward)
    assert terminated and not eval_terminated  # the lost life ends training's episode only
    assert max(unclipped) > 1  # evaluation counts the real score


def test_replay_memory_checkpoint_restores_every_step(tmp_path):
    memory = dqn_atari.ReplayBuffer(50)
    fill(memory, [30, 25])
    np.save(tmp_path / "frames.npy", memory.frames[: memory.size])  # as main() checkpoints them
    torch.save(memory.state_dict(), tmp_path / "state.pt")
    restored = dqn_atari.ReplayBuffer(50)
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    restored.load_state_dict(state, tmp_path / "frames.npy", chunk=7)
    assert (restored.head, restored.size, restored.newest) == (memory.head, memory.size, memory.newest)
    for name in ("frames", *dqn_atari.ReplayBuffer.ARRAYS):
        np.testing.assert_array_equal(getattr(restored, name), getattr(memory, name))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("spaceinvaders")
    process = run_cli(["algorithms/dqn_atari.py", *QUICK], cwd)
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
        "dqn_atari.py",
        "replay.mp4",
    } <= names
    assert not any(name.startswith("checkpoint") for name in names)
    results = json.loads((run_dir / "results.json").read_text())
    assert (
        results["algo"] == "dqn"
        and results["dataset_id"] == results["env_id"] == "SpaceInvadersNoFrameskip-v4"
    )
    training = results["training"]
    assert training["env_steps"] == 300 and training["frames"] == 1200
    assert training["gradient_steps"] == (300 - 100) // 4  # every 4th step after learning_starts
    assert training["replay_memory_gb"] == pytest.approx(1000 * 7064 / 1e9, abs=0.01)
    assert (
        results["video_fps"] == 15 and results["episode_returns"][0] % 5 == 0
    )  # the real score, not clipped
    weights = load_file(run_dir / "model.safetensors")
    assert weights["network.0.weight"].shape == (32, 4, 8, 8) and weights["network.9.weight"].shape == (
        6,
        512,
    )
    scalars = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {"charts/SPS", "losses/td_loss", "losses/q_values"} <= scalars


def test_model_card_command_reproduces_the_hyperparameters(smoke_run):
    _, run_dir, _ = smoke_run
    assert_model_card_reproduces(run_dir, dqn_atari)


def test_enjoy_replays_whole_games_with_the_same_score(smoke_run):
    cwd, run_dir, _ = smoke_run
    assert_enjoy_reproduces(run_dir.relative_to(cwd), cwd)


def test_v5_ids_run_with_their_sticky_actions(tmp_path):
    process = run_cli(
        [
            "algorithms/dqn_atari.py",
            "--env-id",
            "ALE/Pong-v5",
            "--double-dqn",
            "--loss",
            "mse",
            "--max-grad-norm",
            "0",
            "--no-capture-video",
            *QUICK,
        ],
        tmp_path,
    )
    assert process.returncode == 0, process.stderr
    run_dir = next((tmp_path / "runs").glob("ALE-Pong-v5__*"))
    results = json.loads((run_dir / "results.json").read_text())
    assert results["env_id_used"] == "ALE/Pong-v5" and -21 <= results["mean_reward"] <= 21
    env = dqn_atari.make_env(hub_utils.argparse.Namespace(env_id="ALE/Pong-v5"))
    assert env.unwrapped._frameskip == 1 and env.unwrapped.ale.getFloat("repeat_action_probability") == 0.25


@pytest.mark.timeout(900)  # two runs with validation games: near the default 300 s on a loaded machine
def test_interrupt_saves_the_replay_memory_and_resume_finishes_the_run(tmp_path):
    flags = [
        "algorithms/dqn_atari.py",
        "--env-id",
        "ALE/SpaceInvaders-v5",
        "--total-timesteps",
        "1500",
        "--learning-starts",
        "200",
        "--batch-size",
        "8",
        "--train-frequency",
        "8",
        "--buffer-size",
        "5000",
        "--no-capture-video",
        "--eval-episodes",
        "1",
        "--validation-every",
        "300",
        "--validation-games",
        "1",
    ]
    interrupted = interrupt_run(flags, tmp_path)
    assert interrupted.returncode == 130, interrupted.stderr
    run_dir = next((tmp_path / "runs").glob("ALE-SpaceInvaders-v5__*"))
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    stopped_at, stored = checkpoint["global_step"], checkpoint["replay_buffer"]["size"]
    assert 0 < stopped_at < 1500 and stored >= stopped_at + 1  # every step, plus the first observations
    assert checkpoint["best"]["step"] <= stopped_at and "best_network" in checkpoint
    assert np.load(run_dir / checkpoint["frames"], mmap_mode="r").shape == (stored, 84, 84)
    assert not (run_dir / "model.safetensors").exists()
    assert (
        f"resume with: python algorithms/dqn_atari.py --resume {run_dir.relative_to(tmp_path)}"
        in interrupted.stdout
    )

    resumed = run_cli(["algorithms/dqn_atari.py", "--resume", str(run_dir.relative_to(tmp_path))], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed at step {stopped_at:,} with {stored:,} steps in the replay memory" in resumed.stdout
    assert not any(run_dir.glob("checkpoint*"))
    training = json.loads((run_dir / "results.json").read_text())["training"]
    assert training["env_steps"] == 1500 and training["gradient_steps"] == (1500 - 200) // 8
    events = EventAccumulator(str(run_dir)).Reload()
    games = events.Scalars("charts/episodic_return")  # whole games, scored as the game counts them
    assert training["games"] == len(games) >= 1 and all(
        game.value % 5 == 0 and game.value > 1 for game in games
    )
    validations = {event.step: event.value for event in events.Scalars("charts/validation_result")}
    assert sorted(validations) == [300, 600, 900, 1200, 1500]  # each once, before or after the interruption
    assert validations[training["published_step"]] == max(validations.values())


def test_the_published_network_is_the_best_validated_one_trained_as_without_validation(tmp_path):
    """Validation games change nothing in training: the network published (the best mean - std of the
    validations, the later one on a tie) is bit for bit the one a run without validation ends with
    when it stops at that step (constant epsilon, so the two runs explore alike)."""
    flags = ["algorithms/dqn_atari.py", *QUICK, "--seed", "1", "--exploration-fraction", "0"]
    flags += ["--learning-rate", "0.005", "--no-capture-video"]  # here the step-200 network is best
    total = flags.index("--total-timesteps") + 1
    flags[total] = "600"
    validated = run_cli(
        [*flags, "--validation-every", "100", "--validation-games", "1"], tmp_path / "validated"
    )
    assert validated.returncode == 0, validated.stderr
    run_dir = only_run_dir(tmp_path / "validated")
    scores = [
        (event.value, event.step)
        for event in EventAccumulator(str(run_dir)).Reload().Scalars("charts/validation_result")
    ]
    assert [step for _, step in scores] == [200, 300, 400, 500, 600]  # after learning starts, and the last
    training = json.loads((run_dir / "results.json").read_text())["training"]
    best_score, best_step = max(scores)  # the higher step among equal scores
    assert (training["validation_result"], training["published_step"]) == (round(best_score, 2), best_step)

    flags[total] = str(best_step)
    stopped = run_cli([*flags, "--validation-every", "0"], tmp_path / "stopped")
    assert stopped.returncode == 0, stopped.stderr
    stopped_dir = only_run_dir(tmp_path / "stopped")
    assert "published_step" not in json.loads((stopped_dir / "results.json").read_text())["training"]
    published, reference = (load_file(folder / "model.safetensors") for folder in (run_dir, stopped_dir))
    assert all(torch.equal(published[name], reference[name]) for name in reference)


def test_a_game_that_is_not_atari_fails_with_one_line_and_writes_nothing(tmp_path):
    process = run_cli(["algorithms/dqn_atari.py", "--env-id", "CartPole-v1"], tmp_path)
    assert_one_line_error(process, "needs an Atari game", "CartPole-v1", "dqn.py")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (
            ["--env-id", "SpaceInvadrsNoFrameskip-v4"],
            ["unknown environment id", "SpaceInvadersNoFrameskip-v4"],
        ),
        (["--buffer-size", "20"], ["--buffer-size 20 is too small", "36"]),
        (["--learning-starts", "10"], ["--learning-starts 10 must be at least --batch-size 32"]),
        (["--total-timesteps", "0"], ["--total-timesteps must be >= 1"]),
        (["--n-step", "0"], ["--n-step must be >= 1"]),
        (["--tau", "0"], ["--tau must be in (0, 1]"]),
        (["--gamma", "1.5"], ["--gamma must be in [0, 1]", "1.5"]),
        (["--end-e", "-0.1"], ["--end-e must be in [0, 1]"]),
        (["--learning-rate", "0"], ["--learning-rate must be > 0"]),
        (["--validation-every", "-1"], ["--validation-every must be >= 0", "-1"]),
        (["--validation-games", "0"], ["--validation-games must be >= 1"]),
    ],
)
def test_bad_values_are_user_errors(flags, fragments):
    with pytest.raises(hub_utils.UserError) as error:
        dqn_atari.make_env(dqn_atari.parse_args(flags))
    for fragment in fragments:
        assert fragment in str(error.value)


VALIDATION_FLAGS = [("--budget", "cpu"), ("--budget", "full"), ("--validation-every", "0")]


def budget(flags):
    args = dqn_atari.parse_args(flags)
    return args.budget, args.total_timesteps, args.buffer_size, args.learning_starts, args.n_step


def test_defaults_and_help(capsys, monkeypatch):
    """Without CUDA the default is the cpu budget (100k steps); --budget full is the course's 1M steps
    on SpaceInvaders and CleanRL's 10M elsewhere (the default with CUDA); explicit flags still win."""
    monkeypatch.setattr(dqn_atari.torch.cuda, "is_available", lambda: False)
    assert dqn_atari.parse_args([]).env_id == "SpaceInvadersNoFrameskip-v4"
    assert budget([]) == budget(["--env-id", "ALE/Breakout-v5"]) == ("cpu", 100_000, 100_000, 10_000, 1)
    assert budget(["--budget", "full"]) == ("full", 1_000_000, 1_000_000, 80_000, 1)
    assert budget(["--budget", "full", "--env-id", "ALE/Breakout-v5"]) == (
        "full",
        10_000_000,
        1_000_000,
        80_000,
        1,
    )
    assert budget(["--total-timesteps", "200000", "--n-step", "3"]) == ("cpu", 200_000, 100_000, 10_000, 3)
    monkeypatch.setattr(dqn_atari.torch.cuda, "is_available", lambda: True)
    assert budget([]) == ("full", 1_000_000, 1_000_000, 80_000, 1)
    assert budget(["--no-cuda"]) == budget(["--budget", "cpu"]) == ("cpu", 100_000, 100_000, 10_000, 1)
    validation = {flags: dqn_atari.parse_args(list(flags)).validation_every for flags in VALIDATION_FLAGS}
    assert validation == {
        ("--budget", "cpu"): 20_000,
        ("--budget", "full"): 0,
        ("--validation-every", "0"): 0,
    }
    with pytest.raises(SystemExit):
        dqn_atari.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "1,000,000 steps x 84x84 = 7.06 GB" in text
    for flag in (
        "--env-id",
        "--seed",
        "--torch-deterministic",
        "--cuda",
        "--total-timesteps",
        "--learning-rate",
        "--buffer-size",
        "--gamma",
        "--n-step",
        "--tau",
        "--target-network-frequency",
        "--batch-size",
        "--start-e",
        "--end-e",
        "--exploration-fraction",
        "--learning-starts",
        "--train-frequency",
        "--gradient-steps",
        "--loss",
        "--max-grad-norm",
        "--double-dqn",
        "--budget",
        "--validation-every",
        "--validation-games",
        "--torch-threads",
        "--eval-episodes",
        "--track",
        "--capture-video",
        "--upload-model",
        "--repo-id",
        "--hf-entity",
        "--resume",
        "--exp-name",
    ):
        assert flag in text
