"""Deep Q-Network (DQN), as in Unit 3 of the Hugging Face Deep RL Course.

Q_theta(s, .) is a neural network with one output per action. Training follows the course's
pseudocode (Mnih et al., 2015):

    for every step t:
        a_t = a random action with probability epsilon, else argmax_a Q_theta(s_t, a)
        play a_t; store (s_t, a_t, r_t, s_t+1, terminated_t) in the replay buffer
        every train_frequency steps, gradient_steps times:
            sample a minibatch of transitions (s, a, r, s', terminated) from the buffer
            y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')          (TD target)
            take a gradient step on loss(Q_theta(s, a), y)               (Huber or squared)
        every target_network_frequency steps: theta_target <- tau * theta + (1 - tau) * theta_target

epsilon decays linearly from --start-e to --end-e over the first --exploration-fraction of
training. With --double-dqn the online network picks a' and the target network values it:
y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_theta(s', a')).

One environment is stepped directly, so every stored transition is real: when an episode is
truncated by its time limit, s' is its true final observation and the target still bootstraps
(terminated = 0); only termination cuts the return. The next episode starts from a reset that
never appears as anyone's s'. The evaluated and published policy is greedy. Actions must be
discrete (for continuous ones, use ppo.py or a2c.py).

    python algorithms/dqn.py --env-id CartPole-v1
    python algorithms/dqn.py --env-id LunarLander-v2
"""

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

import fast_paths  # acting fast on a CPU: the Q-network's numpy mirror
import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import (
    fraction,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    unit_float,
)

# The flags' defaults are CleanRL's, tuned for CartPole-v1 (500k steps). LunarLander uses RL Zoo's
# DQN settings (a 256-256 network, epsilon floor 0.1, target update every 250 steps) with CleanRL's
# loss (squared error, no gradient clipping), one gradient step per 4 environment steps instead of
# the Zoo's 4, and 500k steps instead of 100k. Both are measured in benchmarks/README.md.
LUNAR_LANDER = dict(total_timesteps=500_000, learning_rate=6.3e-4, buffer_size=50_000, batch_size=128)
LUNAR_LANDER.update(learning_starts=0, gamma=0.99, target_network_frequency=250, train_frequency=4)
LUNAR_LANDER.update(gradient_steps=1, exploration_fraction=0.12, end_e=0.1, hidden_sizes=[256, 256])
ENV_DEFAULTS = {"LunarLander": LUNAR_LANDER}


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="dqn", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="CartPole-v1", help="a gymnasium id: Discrete actions, 1-D Box obs")
    add("--seed", type=nonnegative_int, default=1, help="seed of the env, the network and exploration")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=500_000, help="environment steps to train for")
    add("--learning-rate", type=positive_float, default=2.5e-4, help="the optimizer's step size")
    add("--buffer-size", type=positive_int, default=10_000, help="transitions the replay buffer holds")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--tau", type=fraction, default=1.0, help="target network update rate (1: a copy; < 1: Polyak)")
    add("--target-network-frequency", type=positive_int, default=500, help="steps between target updates")
    add("--batch-size", type=positive_int, default=128, help="transitions per gradient step")
    add("--start-e", type=unit_float, default=1.0, help="exploration epsilon at the start")
    add("--end-e", type=unit_float, default=0.05, help="exploration epsilon after the decay")
    add("--exploration-fraction", type=unit_float, default=0.5, help="share of training epsilon decays over")
    add("--learning-starts", type=nonnegative_int, default=10_000, help="steps before the first update")
    add("--train-frequency", type=positive_int, default=10, help="steps between training rounds")
    add("--gradient-steps", type=positive_int, default=1, help="gradient steps per training round")
    add("--loss", choices=["huber", "mse"], default="mse", help="TD loss: Huber or squared error")
    add("--max-grad-norm", type=nonnegative_float, default=0.0, help="gradient norm clip (0: off)")
    add("--double-dqn", action=BOOL, default=False, help="the online network picks a' (Double DQN)")
    add("--hidden-sizes", type=positive_int, nargs="+", default=[120, 84], help="hidden layer widths")
    add("--fast-acting", action=BOOL, default=True, help="on a CPU, act via the Q-network's numpy mirror")
    args = parser.parse(argv)
    widths = args.hidden_sizes
    parameters = sum(a * b for a, b in zip(widths, widths[1:])) + widths[0] + widths[-1]  # at least
    what = f"--hidden-sizes {' '.join(map(str, widths))}: the Q-network"
    training_run.check_memory(parameters * training_run.BYTES_PER_PARAMETER, what)
    if args.batch_size > args.buffer_size:
        raise UserError(f"--batch-size {args.batch_size} is larger than --buffer-size {args.buffer_size}")
    return args


def make_env(args, render_mode=None):
    """One environment; refuses the spaces a Q-network with one output per action cannot handle."""
    env = gym.make(resolve_env_id(args.env_id, quiet=True), render_mode=render_mode)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise UserError(
            f"dqn.py needs a Discrete action space; {args.env_id} has {env.action_space} "
            f"(continuous actions: use ppo.py or a2c.py)"
        )
    if not (isinstance(env.observation_space, gym.spaces.Box) and len(env.observation_space.shape) == 1):
        raise UserError(
            f"dqn.py needs a 1-D Box observation space; {args.env_id} has "
            f"{env.observation_space} (Atari pixels: use dqn_atari.py)"
        )
    return env


class QNetwork(nn.Module):
    """Q_theta(s, .): observation -> linear layers with ReLU between them -> one Q-value per action."""

    def __init__(self, obs_size, n_actions, hidden_sizes):
        super().__init__()
        sizes = [obs_size, *hidden_sizes, n_actions]
        self.layers = nn.ModuleList(nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:]))

    def forward(self, obs):
        for layer in self.layers[:-1]:
            obs = torch.relu(layer(obs))
        return self.layers[-1](obs)


class ReplayBuffer:
    """The last `capacity` transitions in preallocated arrays; the oldest is overwritten first."""

    def __init__(self, capacity, obs_size):
        self.capacity, self.size, self.position = capacity, 0, 0
        self.observations = np.zeros((capacity, obs_size), dtype=np.float32)
        self.next_observations = np.zeros((capacity, obs_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminations = np.zeros(capacity, dtype=np.float32)

    def add(self, obs, action, reward, next_obs, terminated):
        i = self.position
        self.observations[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_observations[i], self.terminations[i] = next_obs, terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng, device):
        """A uniform minibatch (with replacement) as tensors: obs, actions, rewards, next_obs, terminated."""
        indices = rng.integers(0, self.size, batch_size)
        arrays = (self.observations, self.actions, self.rewards, self.next_observations, self.terminations)
        return [torch.from_numpy(array[indices]).to(device) for array in arrays]

    def state_dict(self):
        """The stored part (as tensors) and the write position, for the checkpoint."""
        names = ("observations", "next_observations", "actions", "rewards", "terminations")
        return dict(
            {name: torch.from_numpy(getattr(self, name)[: self.size]) for name in names},
            position=self.position,
        )

    def load_state_dict(self, state):
        self.size, self.position = len(state["actions"]), int(state["position"])
        for name in ("observations", "next_observations", "actions", "rewards", "terminations"):
            getattr(self, name)[: self.size] = state[name].numpy()


def linear_epsilon(step, start_e, end_e, decay_steps):
    """epsilon falls linearly from start_e at step 0 to end_e at decay_steps, then stays there."""
    return end_e if decay_steps <= 0 else start_e + (end_e - start_e) * min(step / decay_steps, 1.0)


def td_target(rewards, next_obs, terminations, gamma, target_network, q_network=None):
    """y = r + gamma * (1 - terminated) * Q_target(s', a'), a' = argmax of Q_target (DQN), or of
    Q_theta (Double DQN, when q_network is given). A truncated transition has terminated = 0: the
    time limit is not the end of the task, so it bootstraps from its real final observation."""
    with torch.no_grad():
        next_q = target_network(next_obs)
        if q_network is None:
            next_value = next_q.max(dim=1).values
        else:
            next_value = next_q.gather(1, q_network(next_obs).argmax(dim=1, keepdim=True)).squeeze(1)
        return rewards + gamma * (1.0 - terminations) * next_value


@torch.no_grad()
def update_target(target_network, q_network, tau):
    """theta_target <- tau * theta + (1 - tau) * theta_target; tau = 1 copies theta exactly."""
    for target_param, param in zip(target_network.parameters(), q_network.parameters()):
        target_param.lerp_(param, tau)


def greedy_policy(q_network, mirror=None):
    """argmax_a Q_theta(s, a) for one observation: the action played when not exploring, and the
    deterministic policy evaluated and published (always by the network itself). While training on a
    CPU, `mirror` (fast_paths.numpy_mirror: the network's layers run by numpy, derived from it and
    checked against it) computes the same Q-values with a fraction of torch's per-call overhead."""
    if mirror is not None:
        return lambda obs: int(mirror(obs).argmax())
    device = next(q_network.parameters()).device

    @torch.no_grad()
    def act(obs):
        return int(q_network(torch.as_tensor(obs, dtype=torch.float32, device=device)).argmax())

    return act


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: the greedy policy of saved weights (safetensors, no pickle)."""
    env = make_env(args)
    q_network = QNetwork(env.observation_space.shape[0], env.action_space.n, args.hidden_sizes)
    q_network.load_state_dict(load_file(run_dir / "model.safetensors"))
    return greedy_policy(q_network)


def main():
    args = parse_args()
    env = make_env(args)  # checks the spaces before anything is written
    torch.manual_seed(args.seed)  # the network's initialization
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # small networks: extra threads only wait on each other
    rng = np.random.default_rng(args.seed)  # exploration and minibatch sampling

    obs_size, n_actions = env.observation_space.shape[0], env.action_space.n
    buffer_bytes = args.buffer_size * (2 * 4 * obs_size + 16)  # float32 s and s', int64 a, r, terminated
    training_run.check_memory(buffer_bytes, f"--buffer-size {args.buffer_size}: the replay buffer")
    q_network = QNetwork(obs_size, n_actions, args.hidden_sizes).to(device)
    target_network = QNetwork(obs_size, n_actions, args.hidden_sizes).to(device)
    target_network.load_state_dict(q_network.state_dict())
    optimizer = torch.optim.Adam(q_network.parameters(), lr=args.learning_rate)
    networks = dict(q_network=q_network, target_network=target_network, optimizer=optimizer)  # checkpointed
    mirror = None  # the fast path: the network's own layers run by numpy, checked against it
    if args.fast_acting and device.type == "cpu":
        probe = np.random.default_rng(0).normal(0.0, 3.0, (256, obs_size)).astype(np.float32)
        mirror = fast_paths.numpy_mirror(q_network, probe, off_switch="--no-fast-acting")
    act = greedy_policy(q_network, mirror)
    replay_buffer = ReplayBuffer(args.buffer_size, obs_size)
    decay_steps = args.exploration_fraction * args.total_timesteps

    global_step, episodes, gradient_steps = 0, 0, 0
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys = "replay_buffer global_step episodes gradient_steps rng env_rng".split()
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, networks, device)
    run = training_run.start_run(args, __file__)
    obs, _ = env.reset(seed=args.seed)
    if run.resumed:  # continue exactly where the interrupted run stopped (at an episode's start)
        replay_buffer.load_state_dict(checkpoint["replay_buffer"])
        global_step, episodes = checkpoint["global_step"], checkpoint["episodes"]
        gradient_steps = checkpoint["gradient_steps"]
        rng.bit_generator.state = checkpoint["rng"]
        env.unwrapped.np_random.bit_generator.state = checkpoint["env_rng"]
        obs, _ = env.reset()

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step = time.time(), global_step
    episode_return, episode_length, recent_return = 0.0, 0, float("nan")
    while global_step < args.total_timesteps:
        # 1. epsilon-greedy action: explore with probability epsilon, else exploit argmax_a Q(s, a)
        epsilon = linear_epsilon(global_step, args.start_e, args.end_e, decay_steps)
        action = int(rng.integers(n_actions)) if rng.random() < epsilon else act(obs)

        # 2. play it and store the transition; s' is the real next observation, also on truncation
        next_obs, reward, terminated, truncated, _ = env.step(action)
        replay_buffer.add(obs, action, reward, next_obs, terminated)
        global_step += 1
        episode_return += float(reward)
        episode_length += 1
        obs = next_obs

        # 3. learn from minibatches of past transitions, once the buffer holds enough
        if global_step > args.learning_starts and global_step % args.train_frequency == 0:
            for _ in range(args.gradient_steps):
                batch = replay_buffer.sample(args.batch_size, rng, device)
                b_obs, b_actions, b_rewards, b_next_obs, b_terminations = batch
                online = q_network if args.double_dqn else None  # Double DQN: the online network picks a'
                target = td_target(b_rewards, b_next_obs, b_terminations, args.gamma, target_network, online)
                q_taken = q_network(b_obs).gather(1, b_actions.unsqueeze(1)).squeeze(1)  # Q_theta(s, a)
                loss = (F.smooth_l1_loss if args.loss == "huber" else F.mse_loss)(q_taken, target)
                optimizer.zero_grad()
                loss.backward()
                if args.max_grad_norm > 0:
                    nn.utils.clip_grad_norm_(q_network.parameters(), args.max_grad_norm)
                optimizer.step()
                gradient_steps += 1
            if global_step % (100 * args.train_frequency) == 0:  # every 100 training rounds
                run.writer.add_scalar("losses/td_loss", loss.item(), global_step)
                run.writer.add_scalar("losses/q_values", q_taken.mean().item(), global_step)

        # 4. move the target network towards the online one
        if global_step > args.learning_starts and global_step % args.target_network_frequency == 0:
            update_target(target_network, q_network, args.tau)
            if mirror is not None:  # the fast path proves itself again
                fast_paths.check_mirror(mirror, q_network, probe, off_switch="--no-fast-acting")

        if terminated or truncated:
            episodes += 1
            recent_return = episode_return
            run.writer.add_scalar("charts/episodic_return", episode_return, global_step)
            run.writer.add_scalar("charts/episodic_length", episode_length, global_step)
            run.writer.add_scalar("charts/epsilon", epsilon, global_step)
            episode_return, episode_length = 0.0, 0
            if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between episodes (exactly resumable), exit
                state = {name: value.state_dict() for name, value in networks.items()}
                state.update(replay_buffer=replay_buffer.state_dict(), rng=rng.bit_generator.state)
                state.update(global_step=global_step, episodes=episodes, gradient_steps=gradient_steps)
                run.checkpoint_and_exit(**state, env_rng=env.unwrapped.np_random.bit_generator.state)
            obs, _ = env.reset()

        if global_step % 1000 == 0 or global_step == args.total_timesteps:
            sps = (global_step - start_step) / max(time.time() - start_time, 1e-9)
            run.writer.add_scalar("charts/SPS", sps, global_step)
            progress.update(global_step - progress.done, sps=sps, ret=recent_return)
    env.close()
    training_seconds = time.time() - start_time
    training = dict(env_steps=global_step, episodes=episodes, gradient_steps=gradient_steps)
    training.update(wall_time_s=round(training_seconds, 1))
    training.update(sps=round((global_step - start_step) / max(training_seconds, 1e-9)))

    # Save the weights, then evaluate the greedy policy on seeds of its own and publish.
    q_network = q_network.cpu().eval()
    training_run.save_weights(q_network.state_dict(), run.dir / "model.safetensors")
    fps = env.metadata.get("render_fps", 30)
    card = dict(algo="dqn", algo_title="DQN", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, greedy_policy(q_network), make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
