"""REINFORCE (Monte Carlo policy gradient), as taught in Unit 4 of the Hugging Face Deep RL Course.

The policy pi_theta(a|s) is a small neural network that outputs action probabilities. Training
repeats the course's pseudocode:

    1. play an episode with pi_theta, sampling every action a_t ~ pi_theta(.|s_t)
    2. compute the discounted return of every step, G_t = r_t + gamma * G_{t+1}
    3. standardize the returns of the episode: G_t <- (G_t - mean(G)) / (std(G) + eps)
    4. take one gradient step on loss = -sum_t log pi_theta(a_t|s_t) * G_t

With --episodes-per-update N, steps 1-3 run for N episodes and step 4 averages their losses.
The network standardizes observations with their running mean and variance (saved with the
weights); --no-normalize-observation feeds them raw, as the course does. The evaluated and
published policy is greedy: argmax_a pi_theta(a|s). Actions must be discrete (for continuous
ones, use ppo.py).

    python algorithms/reinforce.py --env-id CartPole-v1
    python algorithms/reinforce.py --env-id Pixelcopter-PLE-v0
"""

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import nonnegative_int, positive_float, positive_int, unit_float

# Per-environment defaults; any flag given on the command line wins. CartPole: the course's lr 1e-2,
# gamma 1.0 and 16 hidden units pass on some seeds and collapse on others; gamma 0.99 (returns that
# credit an action with the next hundred steps, not the whole episode), a 64-unit layer and lr 1e-3
# learn steadily within the budget (benchmarks/README.md, REINFORCE). The course trains Pixelcopter
# for 50,000 episodes on raw observations with lr 1e-4; standardized observations and lr 2e-3 get
# further in fewer steps.
ENV_DEFAULTS = {
    "CartPole": dict(total_timesteps=500_000, learning_rate=1e-3, gamma=0.99, hidden_size=64),
    "Pixelcopter-PLE": dict(total_timesteps=2_000_000, learning_rate=2e-3, gamma=0.99, hidden_size=64),
}


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="reinforce", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="CartPole-v1", help="Discrete actions, 1-D Box observations")
    add("--seed", type=nonnegative_int, default=1, help="seed of the env, the network and the sampling")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=500_000, help="env steps (ends the episode)")
    add("--learning-rate", type=positive_float, default=1e-3, help="Adam's learning rate")
    add("--gamma", type=unit_float, default=0.99, help="discount factor of the returns")
    add("--hidden-size", type=positive_int, default=64, help="units of each hidden layer (ReLU)")
    add("--hidden-layers", type=positive_int, default=1, help="hidden layers of the policy")
    add("--episodes-per-update", type=positive_int, default=1, help="episodes per gradient step")
    add("--normalize-observation", action=BOOL, default=True, help="running mean/variance")
    args = parser.parse(argv)
    parameters = args.hidden_size * (args.hidden_size * (args.hidden_layers - 1) + 2)  # at least
    what = f"--hidden-size {args.hidden_size} x --hidden-layers {args.hidden_layers}: the policy"
    training_run.check_memory(parameters * training_run.BYTES_PER_PARAMETER, what)
    return args


def make_env(args, render_mode=None):
    """One environment; refuses the spaces REINFORCE's categorical policy cannot handle."""
    env_id = resolve_env_id(args.env_id, quiet=True)
    env = gym.make(env_id, render_mode=render_mode)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        has = f"{args.env_id} has {env.action_space} (continuous actions: use ppo.py)"
        raise UserError(f"reinforce.py needs a Discrete action space; {has}")
    if not (isinstance(env.observation_space, gym.spaces.Box) and len(env.observation_space.shape) == 1):
        has = f"{args.env_id} has {env.observation_space}"
        raise UserError(f"reinforce.py needs a 1-D Box observation space; {has}")
    return env


class Policy(nn.Module):
    """pi_theta(a|s): standardized observation -> MLP -> one logit per action."""

    def __init__(self, obs_size, n_actions, hidden_size, hidden_layers):
        super().__init__()
        # Running statistics of the observations (buffers: saved with the weights, not trained).
        self.register_buffer("obs_mean", torch.zeros(obs_size))
        self.register_buffer("obs_var", torch.ones(obs_size))
        self.register_buffer("obs_count", torch.tensor(1e-4))
        layers, size = [], obs_size
        for _ in range(hidden_layers):
            layers += [nn.Linear(size, hidden_size), nn.ReLU()]
            size = hidden_size
        self.network = nn.Sequential(*layers, nn.Linear(size, n_actions))

    def forward(self, obs):
        return self.network((obs - self.obs_mean) / torch.sqrt(self.obs_var + 1e-8))

    # ppo.py's RunningMeanStd.update (the parallel algorithm of Chan et al.), on this policy's own
    # float32 buffers obs_mean, obs_var, obs_count: the names and precision saved in published models.
    @torch.no_grad()
    def update_obs_stats(self, batch):
        mean, var, count = self.obs_mean, self.obs_var, self.obs_count  # updated in place
        batch_mean, batch_var, batch_count = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta, total = batch_mean - mean, count + batch_count
        mean += delta * batch_count / total
        m2 = var * count + batch_var * batch_count + delta**2 * count * batch_count / total
        var.copy_(m2 / total)
        count.fill_(total)


def greedy_policy(policy, device):
    """argmax_a pi_theta(a|s): the deterministic policy that is evaluated and published."""

    @torch.no_grad()
    def act(obs):
        return int(policy(torch.as_tensor(obs, dtype=torch.float32, device=device)).argmax())

    return act


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: the greedy policy of saved weights (safetensors, no pickle)."""
    env = make_env(args)
    policy = Policy(env.observation_space.shape[0], env.action_space.n, args.hidden_size, args.hidden_layers)
    policy.load_state_dict(load_file(Path(run_dir) / "model.safetensors"))
    return greedy_policy(policy, "cpu")


def play_episode(env, policy, device, seed=None):
    """Step 1: one episode following pi_theta, every action sampled a_t ~ pi_theta(.|s_t).

    An episode cut by a time limit simply ends there: REINFORCE has no value to bootstrap from."""
    observations, actions, rewards = [], [], []
    obs, _ = env.reset(seed=seed)
    done = False
    while not done:
        with torch.no_grad():
            probabilities = policy(torch.as_tensor(obs, dtype=torch.float32, device=device)).softmax(-1)
        action = torch.multinomial(probabilities, 1).item()
        observations.append(obs)
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
        done = terminated or truncated
    return np.array(observations, dtype=np.float32), np.array(actions), np.array(rewards)


def discounted_returns(rewards, gamma):
    """Step 2: G_t = r_t + gamma * G_{t+1}, computed backwards from the last step in O(T)."""
    returns, future = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


def standardized(returns):
    """Step 3: zero mean and unit variance within the episode (the course's eps avoids 0/0)."""
    return (returns - returns.mean()) / (returns.std() + np.finfo(np.float32).eps)


def policy_loss(log_probabilities, actions, returns):
    """Step 4: -sum_t log pi_theta(a_t|s_t) * G_t, from the log-probabilities of every action."""
    return -(log_probabilities.gather(1, actions[:, None]).squeeze(1) * returns).sum()


def main():
    args = parse_args()
    env = make_env(args)  # checks the spaces before anything is written
    torch.set_num_threads(1)  # a small network: one thread is fastest, and leaves the other cores free
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")

    policy = Policy(
        env.observation_space.shape[0], env.action_space.n, args.hidden_size, args.hidden_layers
    ).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.learning_rate)
    global_step, episodes, updates = 0, 0, 0
    if args.resume is not None:  # continue exactly where the interrupted run stopped (read before writing)
        keys = ("global_step", "episodes", "updates", "torch_rng", "env_rng")
        checkpoint = training_run.load_checkpoint(
            args.resume / "checkpoint.pt", keys, into=dict(policy=policy, optimizer=optimizer)
        )
    run = training_run.start_run(args, __file__)
    if run.resumed:
        global_step, episodes, updates = (checkpoint[k] for k in ("global_step", "episodes", "updates"))
        torch.set_rng_state(checkpoint["torch_rng"])
        if device.type == "cuda":
            torch.cuda.set_rng_state(checkpoint["cuda_rng"])
        env.reset(seed=args.seed)
        env.unwrapped.np_random.bit_generator.state = checkpoint["env_rng"]

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_returns = time.time(), global_step, []
    while global_step < args.total_timesteps:
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between updates (exactly resumable), then exit
            run.checkpoint_and_exit(
                policy=policy.state_dict(),
                optimizer=optimizer.state_dict(),
                global_step=global_step,
                episodes=episodes,
                updates=updates,
                torch_rng=torch.get_rng_state(),
                cuda_rng=torch.cuda.get_rng_state() if device.type == "cuda" else None,
                env_rng=env.unwrapped.np_random.bit_generator.state,
            )

        # Steps 1-3 for each episode of this update.
        batch_obs, batch_actions, batch_returns = [], [], []
        for _ in range(args.episodes_per_update):
            seed = args.seed if episodes == 0 else None  # seeded once: later episodes continue its stream
            obs, actions, rewards = play_episode(env, policy, device, seed=seed)
            batch_obs.append(obs)
            batch_actions.append(actions)
            batch_returns.append(standardized(discounted_returns(rewards, args.gamma)))
            episodes += 1
            global_step += len(rewards)
            recent_returns.append(rewards.sum())
            run.writer.add_scalar("charts/episodic_return", rewards.sum(), global_step)
            run.writer.add_scalar("charts/episodic_length", len(rewards), global_step)

        # Step 4: loss = -sum_t log pi_theta(a_t|s_t) * G_t, averaged over the episodes. The
        # log-probabilities are recomputed in one batch: the same values as during the episode,
        # since the policy has not changed since.
        obs = torch.as_tensor(np.concatenate(batch_obs), device=device)
        actions = torch.as_tensor(np.concatenate(batch_actions), device=device)
        returns = torch.as_tensor(np.concatenate(batch_returns), dtype=torch.float32, device=device)
        log_probabilities = torch.log_softmax(policy(obs), dim=-1)
        loss = policy_loss(log_probabilities, actions, returns) / args.episodes_per_update
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if args.normalize_observation:  # after the step, which must use the statistics the episodes used
            policy.update_obs_stats(obs)
        updates += 1

        if updates % 10 == 0 or global_step >= args.total_timesteps:
            entropy = -(log_probabilities.exp() * log_probabilities).sum(-1).mean()
            sps = (global_step - start_step) / max(time.time() - start_time, 1e-9)
            run.writer.add_scalar("losses/policy_loss", loss.item(), global_step)
            run.writer.add_scalar("losses/entropy", entropy.item(), global_step)
            run.writer.add_scalar("charts/SPS", sps, global_step)
            progress.update(
                min(global_step, args.total_timesteps) - progress.done, sps=sps, ret=np.mean(recent_returns)
            )
            recent_returns = []
    env.close()
    training_seconds = time.time() - start_time
    training = dict(episodes=episodes, updates=updates, env_steps=global_step)
    training.update(wall_time_s=round(training_seconds, 1))

    # Save the weights, then evaluate the greedy policy on seeds of its own and publish.
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in policy.state_dict().items()}
    training_run.save_weights(weights, run.dir / "model.safetensors")
    act, fps = greedy_policy(policy, device), env.metadata.get("render_fps", 30)
    card = dict(algo="reinforce", algo_title="REINFORCE", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, act, make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
