"""Edit safety: a user who changes a line of ppo.py or dqn.py trains, evaluates and publishes exactly
the network and optimizer they wrote.

Each edit is applied to a copy of the script, as a user would make it. Then, for the edited copy:
the policy that acts in the rollouts is the network being trained (log-probs and greedy actions on a
probe batch; in a real run, the first update sees the rollout's own probabilities, or the episodes
played are those the network plays); a short training run exits 0; and the score in results.json
is the score of the saved weights run through the edited torch modules by this test's own loop.
"""

import importlib.util
import itertools
import json
import signal

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import REPO, interrupt_run, only_run_dir, run_cli
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import fast_paths
import hub_utils

PPO_ADAM = "torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)"
PPO_HIDDEN = "            layer_init(nn.Linear(hidden_size, hidden_size)),\n            nn.Tanh(),\n"
PPO_FIRST = "            layer_init(nn.Linear(obs_size, hidden_size)),\n"
PPO_NETWORK_EDITS = {
    "relu": [("nn.Tanh()", "nn.ReLU()")],
    "elu": [("nn.Tanh()", "nn.ELU()")],
    "extra hidden layer": [(PPO_HIDDEN, PPO_HIDDEN * 2)],
    "wider first layer": [
        ("nn.Linear(obs_size, hidden_size)", "nn.Linear(obs_size, 3 * hidden_size)"),
        ("nn.Linear(hidden_size, hidden_size)", "nn.Linear(3 * hidden_size, hidden_size)"),
    ],
    "layer norm": [(PPO_FIRST, PPO_FIRST + "            nn.LayerNorm(hidden_size),\n")],
}
PPO_TRAINING_EDITS = {
    "sgd": [(PPO_ADAM, "torch.optim.SGD(agent.parameters(), lr=args.learning_rate, momentum=0.9)")],
    "rmsprop": [(PPO_ADAM, "torch.optim.RMSprop(agent.parameters(), lr=args.learning_rate, eps=1e-5)")],
    "adamw": [(PPO_ADAM, "torch.optim.AdamW(agent.parameters(), lr=args.learning_rate, weight_decay=0.01)")],
    "huber value loss": [
        (
            "value_loss = 0.5 * ((new_value - mb_returns) ** 2).mean()",
            "value_loss = nn.functional.smooth_l1_loss(new_value, mb_returns)",
        )
    ],
}
DQN_ADAM = "torch.optim.Adam(q_network.parameters(), lr=args.learning_rate)"
DQN_SIZES = "sizes = [obs_size, *hidden_sizes, n_actions]"
DQN_NETWORK_EDITS = {
    "tanh": [("obs = torch.relu(layer(obs))", "obs = torch.tanh(layer(obs))")],
    "elu": [("obs = torch.relu(layer(obs))", "obs = nn.functional.elu(layer(obs))")],
    "extra hidden layer": [(DQN_SIZES, "sizes = [obs_size, *hidden_sizes, hidden_sizes[-1], n_actions]")],
    "wider layers": [(DQN_SIZES, "sizes = [obs_size, *(2 * size for size in hidden_sizes), n_actions]")],
    "layer norm": [
        (
            "        self.layers = nn.ModuleList(",
            "        self.norms = nn.ModuleList(nn.LayerNorm(size) for size in sizes[1:-1])\n"
            "        self.layers = nn.ModuleList(",
        ),
        (
            "        for layer in self.layers[:-1]:\n            obs = torch.relu(layer(obs))",
            "        for layer, norm in zip(self.layers[:-1], self.norms):\n"
            "            obs = torch.relu(norm(layer(obs)))",
        ),
    ],
}
DQN_TRAINING_EDITS = {
    "sgd": [(DQN_ADAM, "torch.optim.SGD(q_network.parameters(), lr=args.learning_rate, momentum=0.9)")],
    "rmsprop": [(DQN_ADAM, "torch.optim.RMSprop(q_network.parameters(), lr=args.learning_rate)")],
    "adamw": [(DQN_ADAM, "torch.optim.AdamW(q_network.parameters(), lr=args.learning_rate)")],
    "huber loss": [('default="mse"', 'default="huber"')],
}


def edited_copy(tmp_path, script, edits):
    """A copy of algorithms/<script> with each (old, new) replacement made everywhere old occurs."""
    source = (REPO / "algorithms" / script).read_text()
    for old, new in edits:
        assert old in source, f"the edit no longer applies to {script}: {old!r}"
        source = source.replace(old, new)
    path = tmp_path / "edited" / script
    path.parent.mkdir(parents=True)
    path.write_text(source)
    return path


def import_file(path):
    spec = importlib.util.spec_from_file_location(f"edited_{path.stem}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_edited(path, flags, cwd):
    process = run_cli([str(path), "--no-capture-video", "--eval-episodes", "3", *flags], cwd)
    assert process.returncode == 0, process.stderr[-3000:]
    run_dir = only_run_dir(cwd)
    return run_dir, json.loads((run_dir / "results.json").read_text())


def scalars(run_dir, tag):
    return [event.value for event in EventAccumulator(str(run_dir)).Reload().Scalars(tag)]


def play(greedy_action, env_id, seeds):
    """Our own evaluation loop: one episode per seed with the greedy action of the torch network."""
    env, returns = gym.make(env_id), []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                action = greedy_action(torch.as_tensor(obs, dtype=torch.float32)[None])
            obs, reward, terminated, truncated, _ = env.step(action)
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    return returns


def ppo_agent(module, run_dir):
    args = json.loads((run_dir / "args.json").read_text())
    env = gym.make(args["env_id"])
    agent = module.Agent(env.observation_space, env.action_space, args["hidden_size"])
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return agent


def assert_ppo_acts_with_the_network(module, edit):
    """On a probe batch: the sampled log-probs are those the update computes, and the evaluated
    action is the actor's mode; the edit shows in the network."""
    for space in (gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))):
        torch.manual_seed(0)
        agent = module.Agent(gym.spaces.Box(-5.0, 5.0, (4,)), space)
        layers = {type(layer).__name__ for layer in agent.modules()}
        assert {"relu": "ReLU", "elu": "ELU", "layer norm": "LayerNorm"}.get(edit, "Linear") in layers
        obs = torch.randn(256, 4, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            action, log_prob, _, value = agent.get_action_and_value(obs)
            _, recomputed_log_prob, _, recomputed_value = agent.get_action_and_value(obs, action)
            actor = agent.actor(obs)
        torch.testing.assert_close(log_prob, recomputed_log_prob, rtol=0, atol=0)
        torch.testing.assert_close(value, agent.critic(obs).squeeze(-1))
        torch.testing.assert_close(value, recomputed_value, rtol=0, atol=0)
        # the rollout's fast sampler mirrors the edited actor (and would refuse an edit it cannot follow)
        sampler = fast_paths.PolicySampler(agent.actor, None, obs.numpy(), np.random.default_rng(0), "--x")
        np.testing.assert_allclose(sampler.mirror(obs.numpy()), actor.numpy(), rtol=1e-5, atol=1e-5)
        policy = module.deterministic_policy(agent, space)
        for row in range(0, 256, 32):
            evaluated = policy(obs[row].numpy())
            if agent.continuous:
                np.testing.assert_allclose(evaluated, actor[row].clamp(-1, 1).numpy(), rtol=1e-5, atol=1e-6)
            else:
                assert evaluated == int(actor[row].argmax())


@pytest.mark.parametrize("edit", PPO_NETWORK_EDITS)
def test_ppo_network_edits_act_learn_and_publish_the_edited_network(tmp_path, edit):
    path = edited_copy(tmp_path, "ppo.py", PPO_NETWORK_EDITS[edit])
    module = import_file(path)
    assert_ppo_acts_with_the_network(module, edit)

    # A nearly frozen update (one minibatch, lr 1e-9): the rollout's log pi_old(a|s) are the optimized
    # network's own exactly when the first update's KL to them is ~0 (a stale copy gives >= 1e-3).
    flags = ["--env-id", "CartPole-v1", "--total-timesteps", "256", "--num-envs", "2", "--num-steps", "64"]
    flags += ["--num-minibatches", "1", "--update-epochs", "1", "--learning-rate", "1e-9"]
    run_dir, results = run_edited(path, flags, tmp_path / "work")
    assert max(abs(kl) for kl in scalars(run_dir, "losses/approx_kl")) < 1e-6  # float32 rounding: ~1e-9
    agent = ppo_agent(module, run_dir)
    assert results["episode_returns"] == play(lambda obs: int(agent.actor(obs).argmax()), "CartPole-v1",
                                              results["eval_seeds"])  # fmt: skip


@pytest.mark.parametrize("edit", PPO_TRAINING_EDITS)
def test_ppo_optimizer_and_loss_edits_train_with_the_schedule_and_publish_what_they_trained(tmp_path, edit):
    path = edited_copy(tmp_path, "ppo.py", PPO_TRAINING_EDITS[edit])
    flags = ["--env-id", "CartPole-v1", "--total-timesteps", "1024", "--num-envs", "2", "--num-steps", "128"]
    run_dir, results = run_edited(path, [*flags, "--num-minibatches", "4", "--update-epochs", "2"], tmp_path)
    learning_rates = scalars(run_dir, "charts/learning_rate")  # --anneal-lr (CartPole's default)
    np.testing.assert_allclose(learning_rates, [2.5e-4 * (1 - k / 4) for k in range(4)], rtol=1e-6)
    agent = ppo_agent(import_file(path), run_dir)
    assert not torch.equal(agent.actor[0].weight, ppo_agent_init(path, run_dir).actor[0].weight)  # it learned
    assert results["episode_returns"] == play(lambda obs: int(agent.actor(obs).argmax()), "CartPole-v1",
                                              results["eval_seeds"])  # fmt: skip


def ppo_agent_init(path, run_dir):
    """The edited script's Agent as main() initializes it (torch.manual_seed(seed) first)."""
    module = import_file(path)
    args = json.loads((run_dir / "args.json").read_text())
    env = gym.make(args["env_id"])
    torch.manual_seed(args["seed"])
    return module.Agent(env.observation_space, env.action_space, args["hidden_size"])


def test_ppo_without_lr_annealing_keeps_the_optimizer_rate(tmp_path):
    flags = ["--env-id", "CartPole-v1", "--total-timesteps", "512", "--num-envs", "2", "--num-steps", "64"]
    process = run_cli(["algorithms/ppo.py", *flags, "--no-anneal-lr", "--no-capture-video"], tmp_path)
    assert process.returncode == 0, process.stderr
    assert scalars(only_run_dir(tmp_path), "charts/learning_rate") == pytest.approx([2.5e-4] * 4)


def test_ppo_checkpoint_keeps_the_edited_optimizers_state_and_resumes(tmp_path):
    path = edited_copy(tmp_path, "ppo.py", PPO_TRAINING_EDITS["sgd"])
    flags = ["--env-id", "CartPole-v1", "--total-timesteps", "8192", "--num-envs", "2", "--num-steps", "64"]
    interrupted = interrupt_run([str(path), *flags, "--no-capture-video"], tmp_path / "work", signal.SIGINT)
    assert interrupted.returncode == 130, interrupted.stderr
    run_dir = only_run_dir(tmp_path / "work")
    optimizer_state = torch.load(run_dir / "checkpoint.pt", weights_only=True)["optimizer"]["state"]
    assert optimizer_state and all("momentum_buffer" in state for state in optimizer_state.values())
    resumed = run_cli([str(path), "--resume", str(run_dir)], tmp_path / "work")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run_dir / "results.json").read_text())["training"]["env_steps"] == 8192


def dqn_network(module, run_dir, initial=False):
    args = json.loads((run_dir / "args.json").read_text())
    env = gym.make(args["env_id"])
    torch.manual_seed(args["seed"])  # main() seeds torch, then builds the Q-network
    q_network = module.QNetwork(env.observation_space.shape[0], env.action_space.n, args["hidden_sizes"])
    if not initial:
        q_network.load_state_dict(load_file(run_dir / "model.safetensors"))
    return q_network


@pytest.mark.parametrize("edit", DQN_NETWORK_EDITS)
def test_dqn_network_edits_act_learn_and_publish_the_edited_network(tmp_path, edit):
    path = edited_copy(tmp_path, "dqn.py", DQN_NETWORK_EDITS[edit])
    module = import_file(path)
    q_network = module.QNetwork(4, 2, [120, 84])
    obs = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
    act = module.greedy_policy(q_network)
    with torch.no_grad():
        assert [act(row.numpy()) for row in obs] == q_network(obs).argmax(-1).tolist()

    # Always greedy, no learning for the first 400 steps: the episodes played then are exactly those
    # the initial edited network plays from the same resets. Then it learns until step 700.
    flags = ["--total-timesteps", "700", "--learning-starts", "400", "--train-frequency", "2"]
    run_dir, results = run_edited(path, [*flags, "--start-e", "0", "--end-e", "0"], tmp_path / "work")
    initial = dqn_network(module, run_dir, initial=True)
    played = scalars(run_dir, "charts/episodic_return")
    lengths = scalars(run_dir, "charts/episodic_length")
    before_learning = len([n for n in itertools.accumulate(lengths) if n <= 400])
    assert before_learning >= 3
    env = gym.make("CartPole-v1")  # dqn.py resets with the seed once, then continues the env's generator
    replayed = []
    for episode in range(before_learning):
        obs, _ = env.reset(seed=1) if episode == 0 else env.reset()
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                obs, reward, terminated, truncated, _ = env.step(int(initial(torch.as_tensor(obs)).argmax()))
            total, done = total + float(reward), terminated or truncated
        replayed.append(total)
    assert played[:before_learning] == replayed
    trained = dqn_network(module, run_dir)
    assert not torch.equal(trained.layers[0].weight, initial.layers[0].weight)
    assert results["episode_returns"] == play(lambda obs: int(trained(obs).argmax()), "CartPole-v1",
                                              results["eval_seeds"])  # fmt: skip


@pytest.mark.parametrize("edit", DQN_TRAINING_EDITS)
def test_dqn_optimizer_and_loss_edits_train_and_publish_what_they_trained(tmp_path, edit):
    path = edited_copy(tmp_path, "dqn.py", DQN_TRAINING_EDITS[edit])
    flags = ["--total-timesteps", "1000", "--learning-starts", "200", "--train-frequency", "2"]
    run_dir, results = run_edited(path, flags, tmp_path)
    module = import_file(path)
    trained, initial = dqn_network(module, run_dir), dqn_network(module, run_dir, initial=True)
    assert not torch.equal(trained.layers[0].weight, initial.layers[0].weight)
    assert results["training"]["gradient_steps"] == 400
    assert results["episode_returns"] == play(lambda obs: int(trained(obs).argmax()), "CartPole-v1",
                                              results["eval_seeds"])  # fmt: skip


def test_no_algorithm_keeps_a_second_copy_of_a_forward_pass():
    """Weights are read only to initialize them: no numpy (or other) re-implementation of a network."""
    for path in sorted((REPO / "algorithms").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if ".weight" in line or ".bias" in line:
                assert "nn.init." in line, f"{path.name}:{number} reads a layer's parameters: {line.strip()}"
            assert "np.tanh(" not in line and "fused=" not in line, f"{path.name}:{number}: {line.strip()}"


DQN_UNMIRRORED_EDITS = {
    "dropout": [
        (
            "        self.layers = nn.ModuleList(",
            "        self.dropout = nn.Dropout(0.1)\n        self.layers = nn.ModuleList(",
        ),
        (
            "            obs = torch.relu(layer(obs))",
            "            obs = self.dropout(torch.relu(layer(obs)))",
        ),
    ],
    "dueling head": [
        (
            "        return self.layers[-1](obs)",
            "        q = self.layers[-1](obs)\n        return q - q.mean(-1, keepdim=True)",
        )
    ],
}


@pytest.mark.parametrize("edit", DQN_UNMIRRORED_EDITS)
def test_dqn_edit_the_fast_path_cannot_follow_stops_in_one_line_and_trains_without_it(tmp_path, edit):
    path = edited_copy(tmp_path, "dqn.py", DQN_UNMIRRORED_EDITS[edit])
    flags = [
        "--total-timesteps",
        "600",
        "--learning-starts",
        "200",
        "--no-capture-video",
        "--eval-episodes",
        "2",
    ]
    refused = run_cli([str(path), *flags], tmp_path / "work")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "fast numpy path" in line and "--no-fast-acting" in line
    assert {"dropout": "Dropout", "dueling head": "mean"}[edit] in line
    assert not (tmp_path / "work" / "runs").exists()  # refused before anything was written
    process = run_cli([str(path), *flags, "--no-fast-acting"], tmp_path / "work")
    assert process.returncode == 0, process.stderr[-3000:]


def test_ppo_edit_the_fast_rollout_cannot_follow_stops_in_one_line_and_trains_without_it(tmp_path):
    path = edited_copy(tmp_path, "ppo.py", [("nn.Tanh()", "nn.Softsign()")])
    flags = ["--env-id", "CartPole-v1", "--total-timesteps", "256", "--num-envs", "2", "--num-steps", "64"]
    flags += ["--no-capture-video", "--eval-episodes", "2"]
    refused = run_cli([str(path), *flags], tmp_path / "work")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "fast numpy path" in line and "--no-fast-rollout" in line and "Softsign" in line
    assert not (tmp_path / "work" / "runs").exists()  # refused before anything was written
    process = run_cli([str(path), *flags, "--no-fast-rollout"], tmp_path / "work")
    assert process.returncode == 0, process.stderr[-3000:]


def test_numpy_mirror_follows_the_modules_and_notices_when_it_no_longer_can():
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.Linear(5, 16), torch.nn.LayerNorm(16), torch.nn.ELU(0.5), torch.nn.Linear(16, 16),
        torch.nn.Tanh(), torch.nn.Linear(16, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 3),
    )  # fmt: skip
    probe = np.random.default_rng(0).normal(0.0, 3.0, (64, 5)).astype(np.float32)
    mirror = fast_paths.numpy_mirror(network, probe, off_switch="--off")
    with torch.no_grad():
        np.testing.assert_allclose(
            mirror(probe), network(torch.from_numpy(probe)).numpy(), rtol=1e-5, atol=1e-5
        )
        network[0].weight.mul_(2.0)  # an in-place update (what optimizers do) is seen at once
        np.testing.assert_allclose(
            mirror(probe), network(torch.from_numpy(probe)).numpy(), rtol=1e-5, atol=1e-5
        )
        network[3].weight = torch.nn.Parameter(torch.randn(16, 16))  # a new tensor: the mirror is stale
    with pytest.raises(hub_utils.UserError, match="does not reproduce Sequential.*--off"):
        fast_paths.check_mirror(mirror, network, probe, off_switch="--off")
    with pytest.raises(hub_utils.UserError, match="cannot mirror layer '1' \\(BatchNorm1d\\).*--off"):
        fast_paths.numpy_mirror(
            torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4)), probe, "--off"
        )
