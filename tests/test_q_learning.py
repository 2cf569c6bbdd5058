"""algorithms/q_learning.py: correctness against value iteration, the run folder, logs, resume, errors."""

import json

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
import pytest
from conftest import REPO, assert_one_line_error, interrupt_run, only_run_dir, run_cli
from huggingface_hub import ModelCard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

q_learning = hub_utils.load_algorithm("q_learning.py")


def value_iteration(env, gamma, tolerance=1e-10):
    """Q* of a tabular gymnasium env from its transition table P[s][a] = [(p, s', r, terminal)]."""
    transitions = env.unwrapped.P
    n_states, n_actions = env.observation_space.n, env.action_space.n
    q = np.zeros((n_states, n_actions))
    while True:
        v = q.max(axis=1)
        updated = np.array(
            [
                [
                    sum(p * (r + gamma * v[s2] * (not done)) for p, s2, r, done in transitions[s][a])
                    for a in range(n_actions)
                ]
                for s in range(n_states)
            ]
        )
        if np.abs(updated - q).max() < tolerance:
            return updated
        q = updated


def test_learned_table_equals_value_iteration_on_frozenlake(frozenlake_run):
    _, run_dir, _ = frozenlake_run
    learned = np.load(run_dir / "qtable.npz")["qtable"]
    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=False)
    optimal = value_iteration(env, gamma=0.95)
    tiles = env.unwrapped.desc.flatten()
    non_terminal = [s for s in range(16) if tiles[s] not in (b"H", b"G")]
    np.testing.assert_allclose(learned[non_terminal], optimal[non_terminal], atol=1e-6)
    assert not learned[
        [s for s in range(16) if s not in non_terminal]
    ].any()  # terminal states: never updated


def test_taxi_evaluation_protocol_reproduces_the_course_optimum():
    """The optimal (value iteration) policy scores 7.56 +/- 2.71 on the course's 100 Taxi seeds."""
    args = q_learning.parse_args(["--env-id", "Taxi-v3"])
    optimal = value_iteration(q_learning.make_env(args), gamma=0.95)
    seeds = q_learning.evaluation_seeds(args)
    assert len(seeds) == 100 and seeds[:5] == [16, 54, 165, 177, 191]
    evaluation = hub_utils.evaluate(q_learning.greedy_policy(optimal), q_learning.make_env(args), seeds)
    assert (round(evaluation.mean, 2), round(evaluation.std, 2), round(evaluation.result, 2)) == (
        7.56,
        2.71,
        4.85,
    )


def test_frozenlake_run_folder_is_the_hub_repository(frozenlake_run):
    _, run_dir, process = frozenlake_run
    names = {path.name for path in run_dir.iterdir()}
    assert {"args.json", "results.json", "qtable.npz", "replay.mp4", "README.md", "q_learning.py"} <= names
    assert any(name.startswith("events.out.tfevents") for name in names)
    assert not any(name.startswith("checkpoint") for name in names)
    assert (run_dir / "q_learning.py").read_text() == (REPO / "algorithms/q_learning.py").read_text()
    assert "mean_reward 1.00 +/- 0.00 over 100 episodes" in process.stdout


def test_results_json(frozenlake_run):
    _, run_dir, _ = frozenlake_run
    results = json.loads((run_dir / "results.json").read_text())
    assert results["mean_reward"] == 1.0 and results["std_reward"] == 0.0 and results["result"] == 1.0
    assert results["dataset_id"] == "FrozenLake-v1-4x4-no_slippery"
    assert results["env_id"] == results["env_id_used"] == "FrozenLake-v1"
    assert results["eval_episodes"] == len(results["eval_seeds"]) == len(results["episode_returns"]) == 100
    assert results["episode_lengths"] == [6] * 100  # the shortest path, every time
    assert results["training"]["episodes"] == 10_000
    args = json.loads((run_dir / "args.json").read_text())
    assert args["decay_rate"] == 0.0005 and args["is_slippery"] is False and "track" not in args


def test_model_card_metadata_matches_the_course_leaderboard(frozenlake_run):
    _, run_dir, _ = frozenlake_run
    card = ModelCard.load(run_dir / "README.md")
    assert card.data.tags == [
        "FrozenLake-v1-4x4-no_slippery",
        "q-learning",
        "deep-reinforcement-learning",
        "reinforcement-learning",
        "custom-implementation",
        "deep-rl-course",
    ]
    (result,) = card.data.eval_results
    assert result.task_type == "reinforcement-learning"
    assert result.dataset_type == result.dataset_name == "FrozenLake-v1-4x4-no_slippery"
    assert result.metric_type == "mean_reward" and result.metric_value == "1.00 +/- 0.00"
    assert "| learning_rate | 0.7 |" in card.text
    assert "--env-id FrozenLake-v1" in card.text and "--no-is-slippery" in card.text
    assert f"python hub_utils.py enjoy --path runs/{run_dir.name}" in card.text


def test_replay_decodes_into_the_episode_frames(frozenlake_run):
    _, run_dir, _ = frozenlake_run
    frames = np.stack(list(iio.imiter(run_dir / "replay.mp4")))
    assert frames.shape == (7, 256, 256, 3)  # reset + 6 steps
    assert iio.immeta(run_dir / "replay.mp4")["fps"] == pytest.approx(1)
    assert frames[0].std() > 10  # a rendered board, not a blank frame


def test_tensorboard_logs(frozenlake_run):
    _, run_dir, _ = frozenlake_run
    events = EventAccumulator(str(run_dir)).Reload()
    assert {"charts/episodic_return", "charts/episodic_length", "charts/epsilon", "charts/SPS"} <= set(
        events.Tags()["scalars"]
    )
    epsilon = [event.value for event in events.Scalars("charts/epsilon")]
    assert len(epsilon) == 100 and epsilon == sorted(epsilon, reverse=True)
    returns = [event.value for event in events.Scalars("charts/episodic_return")]
    assert returns[0] < 0.2 and returns[-1] > 0.9  # exploring at first, then mostly greedy
    steps = [event.step for event in events.Scalars("charts/episodic_return")]
    assert steps == sorted(steps)


def test_track_writes_an_offline_wandb_run(frozenlake_run):
    cwd, run_dir, _ = frozenlake_run
    (wandb_run,) = (cwd / "wandb").glob("offline-run-*")
    assert list(wandb_run.glob("run-*.wandb"))
    synced = list((wandb_run / "files").rglob("events.out.tfevents*"))  # sync_tensorboard copied the logs
    assert synced and synced[0].parent.name == run_dir.name


def test_interrupt_saves_a_checkpoint_and_resume_finishes_the_same_run(tmp_path):
    # not the script's default env or map: resuming must restore them from the run's args.json
    flags = [
        "--env-id",
        "FrozenLake-v1",
        "--map-name",
        "8x8",
        "--total-episodes",
        "8000",
        "--no-capture-video",
        "--eval-episodes",
        "5",
    ]
    reference = run_cli(["algorithms/q_learning.py", *flags], tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr

    cwd = tmp_path / "interrupted"
    interrupted = interrupt_run(["algorithms/q_learning.py", *flags], cwd)
    assert interrupted.returncode == 130, interrupted.stderr
    stdout = interrupted.stdout
    run_dir = only_run_dir(cwd)
    assert (run_dir / "checkpoint.npz").is_file() and not (run_dir / "qtable.npz").exists()
    assert f"resume with: python algorithms/q_learning.py --resume {run_dir.relative_to(cwd)}" in stdout

    resumed = run_cli(["algorithms/q_learning.py", "--resume", str(run_dir.relative_to(cwd))], cwd)
    assert resumed.returncode == 0, resumed.stderr
    assert not (run_dir / "checkpoint.npz").exists()
    expected = np.load(only_run_dir(tmp_path / "reference") / "qtable.npz")["qtable"]
    np.testing.assert_array_equal(np.load(run_dir / "qtable.npz")["qtable"], expected)  # bit for bit
    assert json.loads((run_dir / "results.json").read_text())["training"]["episodes"] == 8000


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "CartPole-v1"], ["Discrete observation space", "CartPole-v1", "dqn.py"]),
        (["--env-id", "FrozenLak-v1"], ["unknown environment id 'FrozenLak-v1'", "FrozenLake-v1"]),
        (["--eval-episodes", "0"], ["--eval-episodes must be >= 1"]),
        (["--min-epsilon", "0.5", "--max-epsilon", "0.2"], ["--min-epsilon", "0.5"]),
        (["--env-id", "Taxi-v3", "--eval-episodes", "101"], ["100 seeds"]),
        (["--resume", "runs/nothing-here"], ["--resume runs/nothing-here", "no args.json"]),
    ],
)
def test_bad_input_fails_with_one_line_and_writes_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/q_learning.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()


def test_help_documents_every_flag(tmp_path):
    process = run_cli(["algorithms/q_learning.py", "--help"], tmp_path)
    assert process.returncode == 0
    for flag in (
        "--env-id",
        "--seed",
        "--total-episodes",
        "--total-timesteps",
        "--learning-rate",
        "--gamma",
        "--min-epsilon",
        "--decay-rate",
        "--map-name",
        "--is-slippery",
        "--eval-episodes",
        "--track",
        "--capture-video",
        "--upload-model",
        "--repo-id",
        "--hf-entity",
        "--resume",
        "--exp-name",
    ):
        assert flag in process.stdout
