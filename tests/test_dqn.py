"""algorithms/dqn.py: TD targets, exploration, the replay buffer, stored transitions, the run folder,
enjoy, resume and errors."""

import json
import sys

import gymnasium as gym
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

dqn = hub_utils.load_algorithm("dqn.py")
QUICK = [
    "--total-timesteps",
    "600",
    "--learning-starts",
    "200",
    "--train-frequency",
    "4",
    "--batch-size",
    "32",
    "--eval-episodes",
    "2",
]


def fixed_q(values):
    """A stand-in network that returns the same Q-values for any batch."""
    return lambda obs: torch.tensor(values)


def test_td_target_bootstraps_on_truncation_and_not_on_termination():
    rewards, terminations = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 0.0])
    target_q = fixed_q([[1.0, 3.0], [5.0, 4.0], [-2.0, -1.0]])
    # row 0 terminated: y = r; row 1 truncated or mid-episode: y = r + gamma * max_a' Q_target(s', a')
    y = dqn.td_target(rewards, None, terminations, 0.9, target_q)
    torch.testing.assert_close(y, torch.tensor([1.0, 2.0 + 0.9 * 5.0, 3.0 + 0.9 * -1.0]))
    # Double DQN: the online network picks a' (action 1 in row 1, action 0 in row 2), the target values it
    online_q = fixed_q([[0.0, 1.0], [0.0, 1.0], [7.0, 0.0]])
    y = dqn.td_target(rewards, None, terminations, 0.9, target_q, online_q)
    torch.testing.assert_close(y, torch.tensor([1.0, 2.0 + 0.9 * 4.0, 3.0 + 0.9 * -2.0]))


def test_epsilon_decays_linearly_then_stays_at_its_floor():
    schedule = [dqn.linear_epsilon(step, 1.0, 0.05, decay_steps=100) for step in (0, 50, 100, 1000)]
    assert schedule == pytest.approx([1.0, 0.525, 0.05, 0.05])
    assert dqn.linear_epsilon(0, 1.0, 0.05, decay_steps=0) == 0.05  # --exploration-fraction 0


def test_replay_buffer_keeps_the_newest_transitions_and_samples_tensors():
    buffer = dqn.ReplayBuffer(capacity=3, obs_size=2)
    assert buffer.observations.dtype == np.float32 and buffer.observations.shape == (3, 2)
    for i in range(5):  # 0 and 1 are overwritten by 3 and 4
        buffer.add(np.full(2, i), i, float(i), np.full(2, i + 1), i == 4)
    assert buffer.size == 3 and sorted(buffer.actions) == [2, 3, 4]
    obs, actions, rewards, next_obs, terminations = buffer.sample(64, np.random.default_rng(0), "cpu")
    assert obs.shape == next_obs.shape == (
        64,
        2,
    ) and actions.shape == rewards.shape == terminations.shape == (64,)
    assert actions.dtype == torch.int64 and obs.dtype == rewards.dtype == terminations.dtype == torch.float32
    assert set(actions.tolist()) == {2, 3, 4}  # only stored transitions, each one consistent
    torch.testing.assert_close(obs[:, 0], actions.float())
    torch.testing.assert_close(next_obs[:, 0], actions.float() + 1)
    torch.testing.assert_close(terminations, (actions == 4).float())

    restored = dqn.ReplayBuffer(capacity=3, obs_size=2)
    restored.load_state_dict(buffer.state_dict())
    assert restored.position == buffer.position and restored.size == 3
    np.testing.assert_array_equal(restored.next_observations, buffer.next_observations)


def test_target_update_copies_or_averages():
    torch.manual_seed(0)
    q_network, target_network = dqn.QNetwork(3, 2, [8]), dqn.QNetwork(3, 2, [8])
    before = [p.clone() for p in target_network.parameters()]
    dqn.update_target(target_network, q_network, tau=0.25)
    for old, new, online in zip(before, target_network.parameters(), q_network.parameters()):
        torch.testing.assert_close(new, 0.25 * online + 0.75 * old)
    dqn.update_target(target_network, q_network, tau=1.0)
    for new, online in zip(target_network.parameters(), q_network.parameters()):
        assert torch.equal(new, online)


def test_greedy_policy_is_the_argmax_of_the_network_and_follows_its_training():
    torch.manual_seed(0)
    q_network = dqn.QNetwork(4, 3, [16, 16])
    act = dqn.greedy_policy(q_network)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=0.1)
    observations = torch.randn(200, 4)
    for _ in range(2):
        with torch.no_grad():
            expected = q_network(observations).argmax(1).tolist()
        assert [act(obs.numpy()) for obs in observations] == expected
        loss = (q_network(observations)[:, 0] - 10).pow(2).mean()  # push Q(s, 0) up: the argmax changes
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert set(expected) == {0}


@pytest.mark.parametrize(
    "env_id, episode_end", [("CartPole-v1", "terminated"), ("MountainCar-v0", "truncated")]
)
def test_every_stored_transition_is_a_real_step_of_the_environment(
    tmp_path, monkeypatch, env_id, episode_end
):
    """Runs the script's own loop and replays every transition it stores: s' must be what the
    environment returns for (s, a) -- also at a time limit, never the next episode's reset -- and
    `terminated` must be set at a termination only."""
    stored = []
    add = dqn.ReplayBuffer.add

    def recording_add(self, obs, action, reward, next_obs, terminated):
        stored.append((np.array(obs), action, reward, np.array(next_obs), terminated))
        add(self, obs, action, reward, next_obs, terminated)

    monkeypatch.setattr(dqn.ReplayBuffer, "add", recording_add)
    monkeypatch.chdir(tmp_path)
    steps = (
        450  # MountainCar: two episodes cut at 200 steps by the time limit (a random policy never gets up)
    )
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "dqn.py",
            "--env-id",
            env_id,
            "--total-timesteps",
            str(steps),
            "--learning-starts",
            "100",
            "--no-capture-video",
            "--eval-episodes",
            "1",
        ],
    )
    dqn.main()

    env = gym.make(env_id).unwrapped
    episode_ends = 0
    for i, (obs, action, reward, next_obs, terminated) in enumerate(stored):
        env.reset(seed=i)
        env.state = obs.astype(np.float64)  # put the environment in s, then play a
        expected_next_obs, expected_reward, expected_terminated, _, _ = env.step(action)
        np.testing.assert_allclose(next_obs, expected_next_obs, atol=1e-5)
        assert (reward, terminated) == (expected_reward, expected_terminated)
        if i + 1 < len(stored) and not np.array_equal(stored[i + 1][0], next_obs):  # an episode ended here
            episode_ends += 1
            assert terminated == (episode_end == "terminated")
    assert len(stored) == steps and episode_ends >= 2


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cartpole")
    process = run_cli(
        ["algorithms/dqn.py", "--env-id", "CartPole-v1", "--double-dqn", "--gradient-steps", "2", *QUICK], cwd
    )
    assert process.returncode == 0, process.stderr
    return cwd, only_run_dir(cwd), process


def test_cartpole_run_folder_is_the_hub_repository(cartpole_run):
    _, run_dir, _ = cartpole_run
    names = {path.name for path in run_dir.iterdir()}
    assert {"args.json", "results.json", "model.safetensors", "README.md", "dqn.py", "replay.mp4"} <= names
    assert any(name.startswith("events.out.tfevents") for name in names)
    assert not any(name.startswith("checkpoint") for name in names)
    args = json.loads((run_dir / "args.json").read_text())
    assert (
        args["hidden_sizes"] == [120, 84] and args["learning_rate"] == 2.5e-4 and args["double_dqn"]
    )  # CleanRL's
    results = json.loads((run_dir / "results.json").read_text())
    assert results["algo"] == "dqn" and results["dataset_id"] == "CartPole-v1"
    # 600 steps, training every 4 steps after the first 200, 2 gradient steps each time
    assert results["training"]["env_steps"] == 600 and results["training"]["gradient_steps"] == 100 * 2
    assert len(results["episode_returns"]) == 2
    weights = load_file(run_dir / "model.safetensors")
    assert weights["layers.0.weight"].shape == (120, 4) and weights["layers.2.weight"].shape == (2, 84)
    assert ModelCard.load(run_dir / "README.md").data.tags[:2] == ["CartPole-v1", "dqn"]


def test_model_card_command_reproduces_the_hyperparameters(cartpole_run):
    _, run_dir, _ = cartpole_run
    command = assert_model_card_reproduces(run_dir, dqn)
    assert "--hidden-sizes 120 84" in command


def test_tensorboard_has_cleanrl_scalars(cartpole_run):
    _, run_dir, _ = cartpole_run
    scalars = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {"charts/episodic_return", "charts/episodic_length", "charts/SPS", "charts/epsilon"} <= scalars


def test_enjoy_replays_the_saved_run_with_the_same_score(cartpole_run):
    cwd, run_dir, _ = cartpole_run
    assert_enjoy_reproduces(run_dir.relative_to(cwd), cwd)


def test_lunar_lander_smoke_run_uses_the_current_version(tmp_path):
    process = run_cli(
        ["algorithms/dqn.py", "--env-id", "LunarLander-v2", *QUICK, "--no-capture-video"], tmp_path
    )
    assert process.returncode == 0, process.stderr
    assert "running LunarLander-v3" in process.stdout
    results = json.loads((only_run_dir(tmp_path) / "results.json").read_text())
    assert (results["env_id"], results["env_id_used"]) == ("LunarLander-v2", "LunarLander-v3")
    assert json.loads((only_run_dir(tmp_path) / "args.json").read_text())["hidden_sizes"] == [256, 256]


def test_interrupt_saves_a_checkpoint_and_resume_finishes_the_same_run(tmp_path):
    flags = [
        "algorithms/dqn.py",
        "--env-id",
        "CartPole-v1",
        "--total-timesteps",
        "3000",
        "--learning-starts",
        "500",
        "--train-frequency",
        "4",
        "--gradient-steps",
        "1",
        "--target-network-frequency",
        "100",
        "--hidden-sizes",
        "64",
        "64",
        "--no-capture-video",
        "--eval-episodes",
        "2",
    ]
    reference = run_cli(flags, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr

    cwd = tmp_path / "interrupted"
    run_dir = interrupt_and_check(flags, cwd)
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert (
        1000 <= checkpoint["global_step"] < 3000
        and len(checkpoint["replay_buffer"]["actions"]) == checkpoint["global_step"]
    )  # the replay buffer is saved with the networks

    resume_to_the_end("algorithms/dqn.py", run_dir, cwd)
    assert_same_training(run_dir, only_run_dir(tmp_path / "reference"))  # bit for bit


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "Pendulum-v1"], ["Discrete action space", "Pendulum-v1", "ppo.py"]),
        (["--env-id", "CartPol-v1"], ["unknown environment id 'CartPol-v1'", "CartPole-v1"]),
    ],
)
def test_bad_environments_fail_with_one_line_and_write_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/dqn.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "Taxi-v3"], ["1-D Box observation space", "Taxi-v3", "Discrete(500)"]),
        (
            ["--env-id", "CartPole-v1", "--batch-size", "64", "--buffer-size", "32"],
            ["--batch-size 64", "--buffer-size 32"],
        ),
        (["--train-frequency", "0"], ["--train-frequency must be >= 1"]),
        (["--end-e", "1.5"], ["--end-e", "1.5"]),
        (["--tau", "0"], ["--tau must be in (0, 1]"]),
        (["--hidden-sizes", "64", "0"], ["--hidden-sizes must be >= 1, got 0"]),
        (["--learning-rate", "-1"], ["--learning-rate must be > 0", "-1"]),
    ],
)
def test_bad_values_are_user_errors(flags, fragments):
    with pytest.raises(hub_utils.UserError) as error:
        dqn.make_env(dqn.parse_args(flags))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_per_environment_defaults_and_overrides():
    assert dqn.parse_args(["--env-id", "LunarLander-v2"]).train_frequency == 4
    assert dqn.parse_args(["--env-id", "Acrobot-v1"]).hidden_sizes == [120, 84]  # CleanRL's, for other envs
    assert dqn.parse_args(["--env-id", "LunarLander-v2"]).hidden_sizes == [256, 256]
    assert dqn.parse_args(["--env-id", "CartPole-v1", "--hidden-sizes", "32"]).hidden_sizes == [32]


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        dqn.parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--env-id",
        "--seed",
        "--torch-deterministic",
        "--cuda",
        "--total-timesteps",
        "--learning-rate",
        "--buffer-size",
        "--gamma",
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
        "--hidden-sizes",
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
