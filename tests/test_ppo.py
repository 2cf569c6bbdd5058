"""algorithms/ppo.py: GAE by hand, the policy's maths, gymnasium 1.x episode boundaries, smoke runs,
resume, errors."""

import json
import signal

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import (
    REPO,
    assert_enjoy_reproduces,
    assert_one_line_error,
    assert_same_training,
    interrupt_and_check,
    only_run_dir,
    resume_to_the_end,
    run_cli,
)
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import fast_paths
import hub_utils
import training_run

ppo = hub_utils.load_algorithm("ppo.py")
TINY = [
    "--num-envs",
    "2",
    "--num-steps",
    "32",
    "--num-minibatches",
    "2",
    "--update-epochs",
    "2",
    "--eval-episodes",
    "2",
]


def test_gae_matches_a_hand_computed_rollout():
    """Env 0: a step, a termination, a step, a truncation (V(final obs) = 5). Env 1 runs on, V after = 3."""
    gamma, lam = 0.9, 0.8
    rewards = torch.tensor([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0], [4.0, 1.0]])
    values = torch.tensor(
        [[0.5, 1.0], [1.0, 1.0], [1.5, 1.0], [2.0, 1.0], [7.0, 3.0]]
    )  # last row: after the rollout
    continues = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    truncation_values = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    advantages, returns = ppo.compute_gae(rewards, values, continues, truncation_values, gamma, lam)

    # Env 0 by hand. deltas: 1 + .9*1 - .5 = 1.4; 2 + 0 - 1 = 1 (terminated: no bootstrap, and the
    # reset observation's value 1.5 is ignored); 3 + .9*2 - 1.5 = 3.3; 4 + .9*5 - 2 = 6.5 (truncated:
    # bootstraps from the final observation, not from the 7 of the next episode).
    # A3 = 6.5; A2 = 3.3 + .72*6.5 = 7.98; A1 = 1 (the episode ended); A0 = 1.4 + .72*1 = 2.12.
    # Env 1: deltas .9, .9, .9, 1 + .9*3 - 1 = 2.7; A = 2.7, 2.844, 2.94768, 3.0223296 backwards.
    expected = torch.tensor([[2.12, 3.0223296], [1.0, 2.94768], [7.98, 2.844], [6.5, 2.7]])
    torch.testing.assert_close(advantages, expected)
    torch.testing.assert_close(returns, expected + values[:-1])


def test_gae_with_lambda_one_is_the_discounted_return_minus_the_value():
    generator = torch.Generator().manual_seed(0)
    rewards, values = torch.rand(6, 1, generator=generator), torch.rand(7, 1, generator=generator)
    continues = torch.tensor(
        [[1.0], [1.0], [0.0], [1.0], [1.0], [1.0]]
    )  # the first episode terminates at t=2
    advantages, returns = ppo.compute_gae(rewards, values, continues, torch.zeros(6, 1), 0.99, 1.0)
    monte_carlo = [sum(0.99**k * rewards[t + k, 0] for k in range(3 - t)) for t in range(3)]
    monte_carlo += [
        sum(0.99**k * rewards[t + k, 0] for k in range(6 - t)) + 0.99 ** (6 - t) * values[6, 0]
        for t in range(3, 6)
    ]
    torch.testing.assert_close(returns[:, 0], torch.stack(monte_carlo))


def test_vector_env_steps_are_all_real_transitions():
    """SAME_STEP autoreset: no step goes from a terminal observation to a reset one."""
    envs = ppo.make_vector_env("CartPole-v1", 2, use_envpool=False)
    envs.reset(seed=0)
    lengths, steps_in_episode = [], np.zeros(2, dtype=int)
    for _ in range(300):
        _, reward, terminated, truncated, infos = envs.step(np.zeros(2, dtype=int))  # always push left
        assert (reward == 1.0).all()  # NEXT_STEP autoreset would give a 0-reward reset step here
        steps_in_episode += 1
        for i in np.flatnonzero(terminated | truncated):
            assert infos["episode"]["l"][i] == steps_in_episode[i]  # statistics count real steps only
            assert infos["final_obs"][i] is not None
            lengths.append(steps_in_episode[i])
            steps_in_episode[i] = 0
    assert len(lengths) > 10


def test_envpool_twin_has_gymnasiums_same_step_interface_and_repeats_with_its_seed():
    """EnvpoolVectorEnv looks like gymnasium's SAME_STEP vector env: gymnasium's spaces; an episode's
    last step returns the next episode's first observation and its own in final_obs; the episode
    statistics add up the real steps; the same seed and actions give the same trajectory."""
    pytest.importorskip("envpool", reason="envpool has no wheel for this Python (requirements.txt)")
    trajectories = []
    for _ in range(2):
        envs = ppo.make_vector_env("LunarLander-v3", 4, use_envpool=True)
        reference = gym.make("LunarLander-v3")
        assert (envs.single_observation_space, envs.single_action_space) == (
            reference.observation_space, reference.action_space,
        )  # fmt: skip
        obs, _ = envs.reset(seed=3)
        rng, steps, returns, episodes, trajectory = (
            np.random.default_rng(0),
            np.zeros(4),
            np.zeros(4),
            0,
            [obs],
        )
        for _ in range(600):
            obs, reward, terminated, truncated, infos = envs.step(rng.integers(0, 4, 4))
            assert obs.shape == (4, 8) and obs.dtype == np.float32 and reward.dtype == np.float64
            steps, returns = steps + 1, returns + reward
            for i in np.flatnonzero(terminated | truncated):
                assert infos["episode"]["l"][i] == steps[i] and infos["episode"]["r"][i] == pytest.approx(
                    returns[i]
                )
                assert infos["final_obs"][i].shape == (8,) and not np.array_equal(
                    infos["final_obs"][i], obs[i]
                )
                assert obs[i][1] > 1.3  # the new episode starts at the top of the screen
                steps[i], returns[i], episodes = 0, 0.0, episodes + 1
            trajectory.append(obs)
        assert episodes > 10
        trajectories.append(np.stack(trajectory))
    np.testing.assert_array_equal(*trajectories)


def test_envpool_twin_plays_like_gymnasiums_lunar_lander(monkeypatch):
    """The same random policy on both engines, 400 episodes each: returns, lengths and the lander's
    starting push agree in distribution (benchmarks/experiments/envpool_check.py runs the long version, with a
    trained policy too)."""
    pytest.importorskip("envpool", reason="envpool has no wheel for this Python (requirements.txt)")
    monkeypatch.syspath_prepend(str(REPO / "benchmarks" / "experiments"))
    import envpool_check
    from scipy import stats

    rng = np.random.default_rng(0)
    gymnasium = envpool_check.play_gymnasium(lambda obs: rng.integers(0, 4, len(obs)), 400, seed=0)
    twin = envpool_check.play_envpool(lambda obs: rng.integers(0, 4, len(obs)), 400, seed=0)
    for name, a, b in [
        ("return", gymnasium[1], twin[1]), ("length", gymnasium[2], twin[2]),
        ("first vx", gymnasium[0][:, 2], twin[0][:, 2]), ("first vy", gymnasium[0][:, 3], twin[0][:, 3]),
    ]:  # fmt: skip
        assert stats.ks_2samp(a, b).pvalue > 0.01, name
        assert stats.ttest_ind(a, b, equal_var=False).pvalue > 0.01, name
    assert not np.array_equal(gymnasium[1][:50], twin[1][:50])  # two engines, not one played twice


def test_a_checkpoint_from_the_other_env_engine_is_one_line():
    """envpool installed or removed between the interruption and --resume: a UserError, no traceback."""
    pytest.importorskip("envpool", reason="envpool has no wheel for this Python (requirements.txt)")
    gymnasium_envs = ppo.make_vector_env("LunarLander-v3", 2, use_envpool=False)
    envpool_envs = ppo.make_vector_env("LunarLander-v3", 2, use_envpool=True)
    for envs in (gymnasium_envs, envpool_envs):
        envs.reset(seed=0)
        envs.step(np.zeros(2, dtype=int))
    for envs, saved_from in ((gymnasium_envs, envpool_envs), (envpool_envs, gymnasium_envs)):
        with pytest.raises(hub_utils.UserError, match="pip install envpool==1.2.5"):
            training_run.replay_running_episodes(envs, training_run.running_episodes(saved_from))


def test_running_mean_std_matches_numpy():
    rms = ppo.RunningMeanStd((3,))
    data = np.random.default_rng(0).normal(5.0, 2.0, size=(1000, 3))
    for chunk in np.split(data, 10):
        rms.update(torch.as_tensor(chunk))
    np.testing.assert_allclose(rms.mean.numpy(), data.mean(0), rtol=1e-6)
    np.testing.assert_allclose(rms.var.numpy(), data.var(0), rtol=1e-5)


def far_from_uniform_agent(action_space, normalize_observation=False):
    """An Agent with a far-from-uniform policy and (if asked) non-trivial observation statistics."""
    torch.manual_seed(0)
    agent = ppo.Agent(
        gym.spaces.Box(-1.0, 1.0, (4,)), action_space, normalize_observation=normalize_observation
    )
    with torch.no_grad():
        agent.actor[-1].weight.normal_()
        if agent.continuous:
            agent.actor_logstd.copy_(torch.tensor([[-0.7, 0.3]]))
    if normalize_observation:
        agent.obs_rms.update(np.random.default_rng(0).normal(3.0, 2.0, size=(100, 4)))
    return agent


@pytest.mark.parametrize("action_space", [gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))])
def test_log_prob_and_entropy_match_torch_distributions(action_space):
    """The rollout's log pi(a|s) is what the update recomputes and what torch.distributions gives."""
    agent = far_from_uniform_agent(action_space)
    obs = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        action, sampled_log_prob, _, sampled_value = agent.get_action_and_value(obs)
        _, log_prob, entropy, value = agent.get_action_and_value(obs, action)
        if agent.continuous:
            reference = torch.distributions.Normal(agent.actor(obs), agent.actor_logstd.exp().expand(5, 2))
            expected_log_prob, expected_entropy = (
                reference.log_prob(action).sum(-1),
                reference.entropy().sum(-1),
            )
        else:
            reference = torch.distributions.Categorical(logits=agent.actor(obs))
            expected_log_prob, expected_entropy = reference.log_prob(action), reference.entropy()
        torch.testing.assert_close(sampled_log_prob, log_prob, rtol=0, atol=0)
        torch.testing.assert_close(log_prob, expected_log_prob)
        torch.testing.assert_close(entropy, expected_entropy)
        torch.testing.assert_close(value, agent.critic(obs).squeeze(-1))
        torch.testing.assert_close(sampled_value, value, rtol=0, atol=0)


@pytest.mark.parametrize("action_space", [gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))])
def test_observation_normalization_is_clipped_and_reads_the_live_statistics(action_space):
    """normalize() is (obs - mean) / sqrt(var + 1e-8) clipped to +-10 with the statistics of the
    moment, and the deterministic policy plays the mode of the actor on those inputs."""
    agent = far_from_uniform_agent(action_space, normalize_observation=True)
    policy = ppo.deterministic_policy(agent, action_space)
    raw_obs = np.array([[3.0, 1.0, 5.0, 3.0], [100.0, -100.0, 0.0, 3.5]], dtype=np.float32)
    for _ in range(2):  # before and after an update of the statistics
        mean, var = agent.obs_rms.mean, agent.obs_rms.var
        expected = ((torch.from_numpy(raw_obs) - mean) / torch.sqrt(var + 1e-8)).clamp(-10, 10).float()
        obs = agent.normalize(raw_obs)
        assert obs.dtype == torch.float32 and obs[1, :2].abs().tolist() == [10.0, 10.0]  # clipped
        torch.testing.assert_close(obs, expected)
        with torch.no_grad():
            actor = agent.actor(expected)
        for row, observation in enumerate(raw_obs):
            action = policy(observation)
            if agent.continuous:
                np.testing.assert_allclose(action, actor[row].clamp(-1, 1).numpy(), rtol=1e-5, atol=1e-6)
            else:
                assert action == int(actor[row].argmax())
        agent.obs_rms.update(raw_obs[:1])


@pytest.mark.parametrize("action_space", [gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))])
def test_sampled_actions_follow_the_policy(action_space):
    """Sampled categorical actions have the softmax's frequencies; Gaussian ones the actor's mean and std."""
    agent = far_from_uniform_agent(action_space)
    obs = torch.tensor([[0.5, -0.2, 0.1, 0.9]]).repeat(100_000, 1)
    torch.manual_seed(0)
    with torch.no_grad():
        actions, log_probs, _, _ = agent.get_action_and_value(obs)
        actor = agent.actor(obs[:1])[0]
    if agent.continuous:
        torch.testing.assert_close(actions.mean(0), actor, atol=0.02, rtol=0)
        torch.testing.assert_close(actions.std(0), torch.tensor([-0.7, 0.3]).exp(), rtol=0.02, atol=0)
    else:
        probabilities = actor.softmax(-1)
        assert probabilities.max() > 0.5  # far from uniform, so a wrong sampler would show
        frequencies = torch.bincount(actions, minlength=3) / len(actions)
        torch.testing.assert_close(frequencies, probabilities, atol=0.01, rtol=0)
        torch.testing.assert_close(log_probs.exp(), probabilities[actions])


@pytest.mark.parametrize("action_space", [gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))])
def test_fast_rollout_samples_the_agents_policy_and_notices_when_its_mirror_is_stale(action_space):
    """The rollout's numpy sampler (fast_paths.PolicySampler on agent.actor) draws from the agent's own
    distribution, follows the live weights, and fails in one line naming --no-fast-rollout when its
    mirror no longer reproduces the actor."""
    agent = far_from_uniform_agent(action_space)
    probe = np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32)
    log_std = agent.actor_logstd if agent.continuous else None
    sample = fast_paths.PolicySampler(
        agent.actor, log_std, probe, np.random.default_rng(0), "--no-fast-rollout"
    )
    obs = np.tile(np.array([[0.5, -0.2, 0.1, 0.9]], dtype=np.float32), (100_000, 1))
    with torch.no_grad():
        agent.actor[-1].bias.add_(0.3)  # an update: the sampler must see it
        actor = agent.actor(torch.from_numpy(obs[:1]))[0]
    actions = torch.as_tensor(sample(obs))
    if agent.continuous:
        torch.testing.assert_close(actions.mean(0), actor, atol=0.02, rtol=0)
        torch.testing.assert_close(actions.std(0), agent.actor_logstd[0].exp(), rtol=0.02, atol=0)
    else:
        probabilities = actor.softmax(-1)
        assert probabilities.max() > 0.5
        torch.testing.assert_close(
            torch.bincount(actions, minlength=3) / len(actions), probabilities, atol=0.01, rtol=0
        )
    sample.check()
    sample.mirror = lambda x: np.zeros((len(x), actor.shape[-1]), dtype=np.float32)  # a stale mirror
    with pytest.raises(hub_utils.UserError, match="--no-fast-rollout"):
        sample.check()


def test_discrete_smoke_run_with_a_retired_env_id(tmp_path):
    process = run_cli(
        ["algorithms/ppo.py", "--env-id", "LunarLander-v2", "--total-timesteps", "256", *TINY], tmp_path
    )
    assert process.returncode == 0, process.stderr
    assert "note: LunarLander-v2 is retired" in process.stdout
    run_dir = only_run_dir(tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    assert (results["env_id"], results["env_id_used"], results["dataset_id"]) == (
        "LunarLander-v2",
        "LunarLander-v3",
        "LunarLander-v2",
    )
    assert {"model.safetensors", "replay.mp4", "README.md", "ppo.py", "args.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    events = EventAccumulator(str(run_dir)).Reload()
    assert {
        "charts/SPS",
        "losses/approx_kl",
        "losses/clipfrac",
        "losses/explained_variance",
        "losses/value_loss",
        "charts/learning_rate",
    } <= set(events.Tags()["scalars"])


def test_continuous_run_saves_frozen_normalization_that_enjoy_reuses(tmp_path):
    process = run_cli(
        [
            "algorithms/ppo.py",
            "--env-id",
            "Pendulum-v1",
            "--total-timesteps",
            "512",
            "--normalize-observation",
            "--normalize-reward",
            "--no-capture-video",
            *TINY,
        ],
        tmp_path,
    )
    assert process.returncode == 0, process.stderr
    run_dir = only_run_dir(tmp_path)
    weights = load_file(run_dir / "model.safetensors")
    assert weights["obs_rms.count"] > 512 and weights["obs_rms.var"].shape == (3,)
    assert not torch.equal(weights["obs_rms.mean"], torch.zeros(3))

    args = json.loads((run_dir / "args.json").read_text())
    policy = ppo.load_policy(run_dir, hub_utils.argparse.Namespace(**args))
    action = policy(np.array([1.0, 0.0, 0.5], dtype=np.float32))
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0  # clipped to Pendulum's torque range

    assert_enjoy_reproduces(run_dir, tmp_path)
    assert load_file(run_dir / "model.safetensors")["obs_rms.count"] == weights["obs_rms.count"]  # frozen

    (run_dir / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    corrupt = run_cli(["hub_utils.py", "enjoy", "--path", str(run_dir), "--no-video"], tmp_path)
    assert_one_line_error(corrupt, "cannot load the model", "SafetensorError")


@pytest.mark.parametrize(
    "flags",
    [
        ["--env-id", "CartPole-v1", "--total-timesteps", "6400"],
        ["--env-id", "LunarLanderContinuous-v3", "--total-timesteps", "3200", "--normalize-observation",
         "--normalize-reward"],
        ["--env-id", "LunarLander-v3", "--total-timesteps", "3200"],
        ["--env-id", "LunarLander-v3", "--total-timesteps", "3200", "--no-fast-rollout"],
    ],
    ids=["CartPole", "LunarLanderContinuous-normalized", "LunarLander-envpool", "LunarLander-torch-sampling"],
)  # fmt: skip
def test_interrupted_and_resumed_run_ends_exactly_as_the_uninterrupted_one(tmp_path, flags):
    """The checkpoint replays each running episode (its reset, then its actions), so the resumed run
    trains on exactly the transitions the uninterrupted one does: same weights, same evaluation."""
    flags = ["algorithms/ppo.py", *flags, "--no-capture-video", *TINY]
    reference = run_cli(flags, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    run_dir = interrupt_and_check(flags, tmp_path / "interrupted", signal.SIGTERM)
    stopped_at = torch.load(run_dir / "checkpoint.pt", weights_only=True)["global_step"]
    assert 0 < stopped_at < int(flags[flags.index("--total-timesteps") + 1])
    resume_to_the_end("algorithms/ppo.py", run_dir, tmp_path / "interrupted")
    reference_dir = only_run_dir(tmp_path / "reference")
    assert_same_training(run_dir, reference_dir)  # bit for bit
    results, expected = (json.loads((d / "results.json").read_text()) for d in (run_dir, reference_dir))
    assert results["episode_returns"] == expected["episode_returns"]
    steps = [event.step for event in EventAccumulator(str(run_dir)).Reload().Scalars("charts/SPS")]
    assert min(steps) <= stopped_at < max(steps)  # one curve across both sessions


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--num-envs", "4", "--num-steps", "128", "--num-minibatches", "3"], ["--num-minibatches 3", "512"]),
        (["--total-timesteps", "0"], ["--total-timesteps must be >= 1"]),
        (["--env-id", "CartPole-v1", "--total-timesteps", "100"], ["less than one rollout", "512"]),
        (["--env-id", "Taxi-v3"], ["flat Box observation space", "Taxi-v3", "Discrete(500)"]),
        (["--env-id", "Blackjack-v1"], ["flat Box observation space", "Tuple"]),
        (["--env-id", "LunarLandr-v2"], ["unknown environment id", "LunarLander"]),
    ],
)
def test_bad_input_fails_with_one_line_and_writes_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/ppo.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()
