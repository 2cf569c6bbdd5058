"""algorithms/ppo_rnd.py: curiosity's reward (falls where observations recur, stays high where they are
new), its non-episodic returns, the ablation, which network learns, smoke run, resume, errors."""

import argparse
import json
import signal

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import (
    REPO,
    assert_enjoy_reproduces,
    assert_model_card_reproduces,
    assert_one_line_error,
    assert_same_training,
    interrupt_and_check,
    only_run_dir,
    resume_to_the_end,
    run_cli,
)
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils

ppo_rnd = hub_utils.load_algorithm("ppo_rnd.py")
ENV = ["--env-id", "MiniGrid-DoorKey-5x5-v0"]
TINY = [*ENV, "--num-envs", "2", "--num-steps", "32", "--num-minibatches", "2", "--update-epochs", "2"]
TINY += ["--hidden-size", "16", "--rnd-hidden-size", "16", "--eval-episodes", "2"]


def views(env_id, seed, steps):
    """The agent's 7x7x3 views over ``steps`` random actions of one episode of ``env_id``."""
    env = ppo_rnd.make_env(argparse.Namespace(env_id=env_id))
    observation, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    seen = [observation]
    for _ in range(steps - 1):
        observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
        seen.append(observation if not (terminated or truncated) else env.reset()[0])
    return np.stack(seen).astype(np.float32)


def test_the_intrinsic_reward_falls_where_observations_recur_and_stays_high_where_they_are_new():
    """r_i = || f_hat(s') - f(s') ||^2: fitting f_hat on the same views over and over drives their reward
    down; views of rooms never shown to the predictor keep most of theirs."""
    torch.manual_seed(0)
    familiar, novel = views("MiniGrid-DoorKey-8x8-v0", 0, 64), views("MiniGrid-MultiRoom-N2-S4-v0", 1, 64)
    space = gym.spaces.Box(0, 255, (7, 7, 3), np.uint8)
    agent, rnd = ppo_rnd.Agent(space, gym.spaces.Discrete(7)), ppo_rnd.RandomNetworkDistillation(space)
    agent.obs_rms.update(np.concatenate([familiar, novel]))  # one normalization for both, as in a run
    familiar, novel = agent.normalize(familiar), agent.normalize(novel)
    with torch.no_grad():
        before = rnd(familiar).mean().item(), rnd(novel).mean().item()
    optimizer = torch.optim.Adam(rnd.predictor.parameters(), lr=1e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: more threads only wait on each other (and on other jobs)
    try:
        for _ in range(300):
            optimizer.zero_grad()
            rnd(familiar).mean().backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        after = rnd(familiar).mean().item(), rnd(novel).mean().item()
    assert after[0] < 0.05 * before[0]  # seen again and again: hardly any reward left
    assert after[1] > 0.3 * before[1] and after[1] > 10 * after[0]  # novel: still rewarded


def test_intrinsic_returns_cross_episode_ends_while_extrinsic_ones_do_not():
    """One env; its episode ends after step 1 (terminated) and both rewards come at step 3. The
    extrinsic advantage of steps 0-1 sees none of it, the intrinsic one does, through the episode's end."""
    rewards = torch.tensor([0.0, 0.0, 0.0, 1.0])[:, None]
    values, continues = torch.zeros(5, 1), torch.tensor([1.0, 0.0, 1.0, 1.0])[:, None]
    always, never = torch.ones(4, 1), torch.zeros(4, 1)
    extrinsic, _ = ppo_rnd.compute_gae(rewards, values, continues, never, 0.9, 1.0)
    intrinsic, _ = ppo_rnd.compute_gae(rewards, values, always, never, 0.9, 1.0)
    assert extrinsic[:2].abs().max() == 0 and extrinsic[2, 0] == pytest.approx(0.9)
    assert intrinsic[:, 0].tolist() == pytest.approx([0.729, 0.81, 0.9, 1.0])
    # The running return that scales r_i goes on from rollout to rollout, whatever the episodes did.
    returns, carried = ppo_rnd.intrinsic_returns(np.ones((3, 2)), np.array([10.0, 0.0]), 0.5)
    assert returns[:, 0].tolist() == [6.0, 4.0, 3.0] and returns[:, 1].tolist() == [1.0, 1.5, 1.75]
    assert carried.tolist() == [3.0, 1.75]


def test_the_memory_forgets_only_at_an_episode_start_and_the_policy_resets_between_episodes():
    """h_t depends on the episode's earlier views and on nothing before its start; the update's replay
    of a whole sequence gives the rollout's step-by-step memories; evaluation clears the memory."""
    torch.manual_seed(0)
    space = gym.spaces.Box(0, 255, (7, 7, 3), np.uint8)
    agent = ppo_rnd.Agent(space, gym.spaces.Discrete(7), hidden_size=16)
    obs, starts = torch.randn(6, 2, 7, 7, 3), torch.zeros(6, 2)
    starts[3, 0] = 1.0  # env 0 starts a new episode at step 3
    memory = torch.randn(2, 16)
    with torch.no_grad():
        replayed = agent.remember(obs, memory, starts)
        stepwise, h = [], memory
        for t in range(6):
            h = agent.remember(obs[t : t + 1], h, starts[t : t + 1])[-1]
            stepwise.append(h)
        other_past = obs.clone()
        other_past[:3] = torch.randn(3, 2, 7, 7, 3)  # different views before step 3
        changed = agent.remember(other_past, memory, starts)
    assert torch.allclose(replayed, torch.stack(stepwise), atol=1e-6)
    assert torch.allclose(changed[3:, 0], replayed[3:, 0], atol=1e-6)  # env 0: the new episode forgot them
    assert not torch.allclose(changed[3:, 1], replayed[3:, 1], atol=1e-3)  # env 1: the same episode did not
    # Evaluation clears the memory as each episode starts (hub_utils calls reset()): the same views played
    # again give the same actions after a reset, and other actions when the memory is carried over.
    with torch.no_grad():
        agent.actor.weight.normal_(std=10.0)  # away from the near-uniform start: actions that follow h
    policy, seen = ppo_rnd.deterministic_policy(agent.eval()), views("MiniGrid-MultiRoom-N2-S4-v0", 1, 40)
    first = [policy(view) for view in seen]
    carried_over = [policy(view) for view in seen]
    policy.reset()
    assert [policy(view) for view in seen] == first != carried_over
    resets = []
    spy = lambda observation: policy(observation)  # noqa: E731
    spy.reset = lambda: resets.append(policy.reset())
    hub_utils.evaluate(spy, ppo_rnd.make_env(argparse.Namespace(env_id="MiniGrid-DoorKey-5x5-v0")), [3, 4])
    assert len(resets) == 2


def initial_networks(run_dir):
    """The agent and the RND networks as the run built them: the same seed, built in the same order."""
    args = argparse.Namespace(**json.loads((run_dir / "args.json").read_text()))
    env = ppo_rnd.make_env(args)
    torch.manual_seed(args.seed)
    agent = ppo_rnd.Agent(env.observation_space, env.action_space, args.hidden_size)
    rnd = ppo_rnd.RandomNetworkDistillation(env.observation_space, args.rnd_hidden_size, args.rnd_output_size)
    return agent, rnd


def test_smoke_run_writes_a_complete_run_folder_that_enjoy_replays(tmp_path):
    process = run_cli(["algorithms/ppo_rnd.py", "--total-timesteps", "256", *TINY], tmp_path)
    assert process.returncode == 0, process.stderr
    run_dir = only_run_dir(tmp_path)
    files = {"model.safetensors", "replay.mp4", "README.md", "ppo_rnd.py", "args.json", "results.json"}
    assert files | {"hub_utils.py", "training_run.py", "requirements.txt"} <= {
        p.name for p in run_dir.iterdir()
    }
    assert "minigrid==" in (run_dir / "requirements.txt").read_text()
    results = json.loads((run_dir / "results.json").read_text())
    assert (results["dataset_id"], results["algo"]) == ("MiniGrid-DoorKey-5x5-v0", "ppo-rnd")
    card = (run_dir / "README.md").read_text()
    assert "- MiniGrid-DoorKey-5x5-v0" in card and "name: MiniGrid-DoorKey-5x5-v0" in card
    tags = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {"charts/intrinsic_reward", "charts/intrinsic_reward_scale", "charts/intrinsic_return"} <= tags
    assert {"charts/extrinsic_return", "losses/forward_loss", "losses/intrinsic_value_loss"} <= tags
    assert_model_card_reproduces(run_dir, ppo_rnd)
    assert_enjoy_reproduces(run_dir, tmp_path)
    agent, _ = initial_networks(run_dir)  # only the agent is published, with its observation statistics
    assert set(load_file(run_dir / "model.safetensors")) == set(agent.state_dict())


def test_the_ablation_removes_every_intrinsic_term(tmp_path):
    """--int-coef 0: no intrinsic reward, return or scale, no intrinsic value or predictor loss; V_i's output
    row never gets a gradient, so it leaves the run as it was initialized."""
    process = run_cli(
        ["algorithms/ppo_rnd.py", "--total-timesteps", "256", "--int-coef", "0", *TINY], tmp_path
    )
    assert process.returncode == 0, process.stderr
    run_dir = only_run_dir(tmp_path)
    events = EventAccumulator(str(run_dir)).Reload()
    assert "losses/value_loss" in events.Tags()["scalars"]
    assert [tag for tag in events.Tags()["scalars"] if "intrinsic" in tag or "forward" in tag] == []
    trained, (initial, _) = load_file(run_dir / "model.safetensors"), initial_networks(run_dir)
    assert torch.equal(trained["critic.weight"][1], initial.state_dict()["critic.weight"][1])  # V_i
    assert not torch.equal(trained["critic.weight"][0], initial.state_dict()["critic.weight"][0])  # V_e


def test_only_the_predictor_learns_and_a_resumed_run_ends_as_the_uninterrupted_one(tmp_path):
    """The checkpoint of an interrupted run holds both RND networks: the target as initialized, the
    predictor trained. Resumed, the run finishes bit for bit as the uninterrupted one."""
    flags = ["algorithms/ppo_rnd.py", "--total-timesteps", "3200", "--no-capture-video", *TINY]
    reference = run_cli(flags, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    run_dir = interrupt_and_check(flags, tmp_path / "interrupted", signal.SIGTERM)
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert 0 < checkpoint["global_step"] < 3200
    _, rnd = initial_networks(run_dir)
    for name, initial in rnd.state_dict().items():
        same = torch.equal(checkpoint["rnd"][name], initial)
        assert same if name.startswith("target.") else not same, name
    resume_to_the_end("algorithms/ppo_rnd.py", run_dir, tmp_path / "interrupted")
    reference_dir = only_run_dir(tmp_path / "reference")
    assert_same_training(run_dir, reference_dir)
    results, expected = (json.loads((d / "results.json").read_text()) for d in (run_dir, reference_dir))
    assert results["episode_returns"] == expected["episode_returns"]


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (
            ["--env-id", "MiniGrid-Nonsense-v0"],
            ["unknown environment id 'MiniGrid-Nonsense-v0'", "MiniGrid-"],
        ),
        (["--env-id", "Pendulum-v1"], ["Discrete action space", "Pendulum-v1", "Box"]),
        (["--env-id", "Blackjack-v1"], ["Box observation space", "Tuple"]),
        (["--update-proportion", "0"], ["--update-proportion must be in (0, 1]", "0"]),
        (["--num-minibatches", "3"], ["--num-minibatches 3", "--num-envs 16"]),
    ],
)
def test_bad_input_fails_with_one_line_and_writes_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/ppo_rnd.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()


def test_an_edited_network_and_optimizer_train_and_publish(tmp_path):
    """Edit safety: the networks are defined once (mlp) and trained by one torch.optim optimizer, so a
    copy with ReLU layers and SGD trains, evaluates and publishes with them, the copy in its folder."""
    source = (REPO / "algorithms" / "ppo_rnd.py").read_text()
    edits = [
        ("activation=nn.Tanh", "activation=nn.ReLU"),
        ("torch.optim.Adam(params, lr=args.learning_rate, eps=1e-5)", "torch.optim.SGD(params, lr=0.01)"),
    ]
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    path = tmp_path / "edited" / "ppo_rnd.py"
    path.parent.mkdir()
    path.write_text(source)
    process = run_cli([str(path), "--total-timesteps", "256", "--no-capture-video", *TINY], tmp_path / "work")
    assert process.returncode == 0, process.stderr
    run_dir = only_run_dir(tmp_path / "work")
    assert (run_dir / "ppo_rnd.py").read_text() == source and (run_dir / "results.json").is_file()
