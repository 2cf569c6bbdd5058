"""Deep Q-Network (DQN) on Atari games, as in Unit 3 of the Hugging Face Deep RL Course.

Q_theta(s, .) is the Nature CNN (Mnih et al., 2015) reading the last 4 preprocessed frames; it has
one output per action. Training follows the course's pseudocode:

    for every step t:
        a_t = a random action with probability epsilon, else argmax_a Q_theta(s_t, a)
        play a_t; store (s_t, a_t, r_t, s_t+1, terminated_t) in the replay memory D
        every train_frequency steps, gradient_steps times:
            sample a minibatch of transitions (s, a, r, s', terminated) from D
            y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')          (TD target)
            take a gradient step on loss(Q_theta(s, a), y)               (Huber or squared)
        every target_network_frequency steps: theta_target <- tau * theta + (1 - tau) * theta_target

epsilon decays linearly from --start-e to --end-e over the first --exploration-fraction of
training. With --double-dqn the online network picks a' and the target network values it:
y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_theta(s', a')).

Preprocessing (the standard one; gymnasium's AtariPreprocessing plus small wrappers below): up to
30 no-op actions at reset, each action repeated for 4 frames with the max of the last two frames
observed, FIRE pressed at reset in games that need it, 84x84 grayscale, the last 4 frames stacked.
Training alone also ends the agent's episode at every lost life and clips rewards to their sign;
evaluation plays whole games and counts the real score, as the course's leaderboard does. A lost
life is a termination for the TD target (no bootstrap past it); a time limit is a truncation and
bootstraps. Every env step here is one agent step, i.e. 4 Atari frames; the game's own limit,
108,000 frames (30 minutes of play, ale-py's max_num_frames_per_episode for v4 and v5 ids alike),
is the truncation. The env id's own frame skip is replaced by the wrapper's (frameskip=1 below
it); sticky actions are the id's own: none for `...NoFrameskip-v4`, repeat_action_probability
0.25 for `ALE/...-v5`, as Machado et al. (2018) and the v5 ids define them.

The replay memory stores each 84x84 frame once, as uint8, and rebuilds the 4-frame stacks s and s'
by index when it samples: 7 KB per step instead of 56 KB for separate s and s' stacks, so
1,000,000 steps take 7.06 GB (see --buffer-size). Ctrl-C saves the network, the optimizer and the
whole used replay memory (checkpoint_frames.npy, up to 7 GB); `--resume` reloads all of it and
continues at the same step, exploration rate and memory, with a new game (the game under way is
not saved), so a resumed run is not bit-identical to an uninterrupted one.

    python algorithms/dqn_atari.py --env-id SpaceInvadersNoFrameskip-v4
    python algorithms/dqn_atari.py --env-id ALE/Breakout-v5 --total-timesteps 10000000
"""

import argparse
import math
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

import hub_utils

FRAME_STACK = 4  # frames per observation
FRAME_SKIP = 4  # Atari frames per agent step
FRAME_SHAPE = (84, 84)
NOOP_MAX = 30
# Bytes the replay memory holds per step: one uint8 frame, then the action (uint8), the reward
# (float32) and three flags (terminated, episode start, has a transition).
REPLAY_BYTES_PER_STEP = math.prod(FRAME_SHAPE) + 1 + 4 + 3

# The other hyperparameters are CleanRL's dqn_atari.py, for every game. The course's game trains
# for the course's budget, 1M steps (CleanRL's 10M is about 10 hours on a GPU and days on a CPU).
ENV_DEFAULTS = {
    "SpaceInvadersNoFrameskip": dict(total_timesteps=1_000_000),
    "ALE/SpaceInvaders": dict(total_timesteps=1_000_000),
}


def replay_memory_gb(buffer_size):
    return buffer_size * REPLAY_BYTES_PER_STEP / 1e9


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Per-environment defaults: " + "; ".join(f"{name}: {values}" for name, values in ENV_DEFAULTS.items()))
    parser.add_argument("--env-id", default="SpaceInvadersNoFrameskip-v4",
                        help="an Atari game: `<Game>NoFrameskip-v4` or `ALE/<Game>-v5` (ale-py ships the ROMs)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the environment, the network and exploration")
    parser.add_argument("--torch-deterministic", action=argparse.BooleanOptionalAction, default=True,
                        help="sets torch.backends.cudnn.deterministic")
    parser.add_argument("--cuda", action=argparse.BooleanOptionalAction, default=True,
                        help="use CUDA when it is available")
    parser.add_argument("--total-timesteps", type=int, default=10_000_000,
                        help="agent steps to train for (each is 4 Atari frames)")
    parser.add_argument("--learning-rate", type=float, default=1e-4, help="Adam's learning rate")
    parser.add_argument("--buffer-size", type=int, default=1_000_000,
                        help=f"steps the replay memory holds. Each 84x84 frame is stored once (uint8) and stacks "
                             f"are rebuilt when sampled: {REPLAY_BYTES_PER_STEP:,} bytes per step, so 1,000,000 "
                             f"steps x 84x84 = {replay_memory_gb(1_000_000):.2f} GB "
                             f"({1_000_000 * REPLAY_BYTES_PER_STEP / 2**30:.1f} GiB), 100,000 = "
                             f"{replay_memory_gb(100_000):.2f} GB. Allocated at the start, it takes memory as it "
                             f"fills. A Ctrl-C checkpoint writes the used part to disk")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount factor")
    parser.add_argument("--tau", type=float, default=1.0,
                        help="target network update rate (1: copy the online network)")
    parser.add_argument("--target-network-frequency", type=int, default=1000,
                        help="steps between target network updates")
    parser.add_argument("--batch-size", type=int, default=32, help="transitions per gradient step")
    parser.add_argument("--start-e", type=float, default=1.0, help="exploration epsilon at the start")
    parser.add_argument("--end-e", type=float, default=0.01, help="exploration epsilon after the decay")
    parser.add_argument("--exploration-fraction", type=float, default=0.1,
                        help="fraction of --total-timesteps over which epsilon decays")
    parser.add_argument("--learning-starts", type=int, default=80_000,
                        help="steps of random-ish play stored before the first gradient step")
    parser.add_argument("--train-frequency", type=int, default=4, help="steps between training rounds")
    parser.add_argument("--gradient-steps", type=int, default=1, help="gradient steps per training round")
    parser.add_argument("--loss", choices=["huber", "mse"], default="huber",
                        help="TD loss: Huber (smooth L1: the DQN paper's error clipping, SB3) or squared error "
                             "(CleanRL)")
    parser.add_argument("--max-grad-norm", type=float, default=10.0,
                        help="clip the gradient's global norm to this value, as SB3 does (<= 0: no clipping)")
    parser.add_argument("--double-dqn", action=argparse.BooleanOptionalAction, default=False,
                        help="Double DQN target: the online network picks a', the target network values it")
    hub_utils.add_run_args(parser, exp_name="dqn_atari")

    env_name = parser.parse_known_args(argv)[0].env_id.split("-v")[0]
    parser.set_defaults(**ENV_DEFAULTS.get(env_name, {}))
    args = hub_utils.apply_resume(parser.parse_args(argv))
    for flag in ("total_timesteps", "buffer_size", "batch_size", "target_network_frequency", "train_frequency",
                 "gradient_steps", "eval_episodes"):
        if getattr(args, flag) < 1:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.learning_rate <= 0:
        raise hub_utils.UserError(f"--learning-rate must be > 0, got {args.learning_rate}")
    for flag in ("gamma", "start_e", "end_e", "exploration_fraction"):
        if not 0 <= getattr(args, flag) <= 1:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be in [0, 1], got {getattr(args, flag)}")
    if not 0 < args.tau <= 1:
        raise hub_utils.UserError(f"--tau must be in (0, 1], got {args.tau}")
    if args.buffer_size < args.batch_size + FRAME_STACK:
        raise hub_utils.UserError(f"--buffer-size {args.buffer_size} is too small: it must hold at least "
                                  f"--batch-size + {FRAME_STACK} = {args.batch_size + FRAME_STACK} steps")
    if args.learning_starts < args.batch_size:
        raise hub_utils.UserError(f"--learning-starts {args.learning_starts} must be at least --batch-size "
                                  f"{args.batch_size}: the first minibatch needs that many stored steps")
    return args


# ------------------------------------------------------------------------------------------------
# Environment: the standard Atari preprocessing
# ------------------------------------------------------------------------------------------------
class EpisodicLife(gym.Wrapper):
    """Training only: a lost life ends the agent's episode (terminated=True, so the TD target does
    not bootstrap past it) while the game goes on; reset() then continues the same game with a
    no-op, and starts a new game only after a real game over (CleanRL's EpisodicLifeEnv)."""

    def __init__(self, env):
        super().__init__(env)
        self.lives, self.game_over = 0, True

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs):
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.game_over = False
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info


class FireReset(gym.Wrapper):
    """Presses FIRE (then action 2) after every reset, for games that wait for it to start."""

    def reset(self, **kwargs):
        self.env.reset(**kwargs)
        for action in (1, 2):
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        return obs, info


def make_atari_env(env_id, training, render_mode=None, **ale_kwargs):
    """The preprocessed game. Training and evaluation share every step of the preprocessing except
    two that only training has: a lost life ends the episode, and rewards are clipped to {-1, 0, 1}.

    RecordEpisodeStatistics sits below both, so info["episode"] reports whole games with the real
    score. ``ale_kwargs`` go to the ALE environment (the tests shorten its time limit with them)."""
    env = gym.make(env_id, frameskip=1, render_mode=render_mode, **ale_kwargs)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=NOOP_MAX, frame_skip=FRAME_SKIP, screen_size=FRAME_SHAPE[0],
                                          terminal_on_life_loss=False, grayscale_obs=True)
    env = gym.wrappers.RecordEpisodeStatistics(env)
    if training:
        env = EpisodicLife(env)
    if env.unwrapped.get_action_meanings()[1:2] == ["FIRE"] and env.action_space.n >= 3:
        env = FireReset(env)
    if training:
        env = gym.wrappers.TransformReward(env, lambda reward: float(np.sign(reward)))
    return gym.wrappers.FrameStackObservation(env, FRAME_STACK)  # pads a new episode with its first frame


def make_env(args, render_mode=None):
    """The evaluation environment (whole games, real score), also used by `hub_utils.py enjoy`.
    Refuses ids that are not Atari games, before anything is written."""
    env_id = hub_utils.resolve_env_id(args.env_id, quiet=True)
    spec = gym.spec(env_id)
    if not str(spec.entry_point).startswith("ale_py"):
        raise hub_utils.UserError(f"dqn_atari.py needs an Atari game such as SpaceInvadersNoFrameskip-v4 or "
                                  f"ALE/Breakout-v5; {args.env_id} is not one (vector observations: use dqn.py)")
    return make_atari_env(env_id, training=False, render_mode=render_mode)


# ------------------------------------------------------------------------------------------------
# Replay memory: each frame stored once
# ------------------------------------------------------------------------------------------------
class ReplayBuffer:
    """The replay memory D: the last ``capacity`` steps in a ring, each 84x84 frame stored once.

    Slot i holds the newest frame of one observation s, whether s starts an episode, and, once an
    action was taken from s, that step's (a, r, terminated); its s' is then the observation in
    slot i + 1. The final observation of an episode takes a slot with no transition of its own, so
    truncated episodes can bootstrap from it; the next episode's first observation takes the next
    slot. A stack is rebuilt from slots i-3..i, repeating an episode's first frame instead of
    reaching into the previous episode, exactly as FrameStackObservation pads after a reset.
    """

    ARRAYS = ("actions", "rewards", "terminated", "episode_start", "has_transition")

    def __init__(self, capacity):
        self.capacity = capacity
        self.frames = np.zeros((capacity, *FRAME_SHAPE), dtype=np.uint8)  # pages committed as they fill
        self.actions = np.zeros(capacity, dtype=np.uint8)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=bool)
        self.episode_start = np.zeros(capacity, dtype=bool)
        self.has_transition = np.zeros(capacity, dtype=bool)
        self.head, self.size, self.newest = 0, 0, -1  # next slot to write, slots written, newest slot

    @property
    def nbytes(self):
        return sum(getattr(self, name).nbytes for name in ("frames", *self.ARRAYS))

    def _write(self, frame, episode_start):
        i = self.head
        self.frames[i], self.episode_start[i], self.has_transition[i] = frame, episode_start, False
        self.newest, self.head, self.size = i, (i + 1) % self.capacity, min(self.size + 1, self.capacity)

    def start_episode(self, obs):
        """Stores the first observation of an episode (a stack of FRAME_STACK copies of one frame)."""
        self._write(obs[-1], episode_start=True)

    def add(self, action, reward, terminated, next_obs):
        """Stores the step taken from the newest observation: a, r, terminated, and s' = next_obs."""
        i = self.newest
        self._write(next_obs[-1], episode_start=False)
        self.actions[i], self.rewards[i], self.terminated[i], self.has_transition[i] = action, reward, terminated, True

    def stack_slots(self, slots):
        """For each slot, the FRAME_STACK slots (oldest first) whose frames make its observation."""
        stacks = np.empty((len(slots), FRAME_STACK), dtype=np.int64)
        stacks[:, -1] = current = slots
        for k in range(FRAME_STACK - 2, -1, -1):  # step back, but never past an episode's first frame
            current = np.where(self.episode_start[current], current, (current - 1) % self.capacity)
            stacks[:, k] = current
        return stacks

    def sample_slots(self, batch_size, rng):
        """Slots of ``batch_size`` transitions drawn uniformly (with replacement) among those whose
        s and s' are both intact: the slot holds a transition (its s' was written after it) and its
        stack reaches no further back than the oldest slot, which the write head overwrites next."""
        oldest = self.head if self.size == self.capacity else 0
        slots, missing = np.empty(batch_size, dtype=np.int64), np.arange(batch_size)
        while missing.size:
            age = rng.integers(0, self.size, size=missing.size)  # 0: the oldest slot
            candidates = (oldest + age) % self.capacity
            reach = (candidates - self.stack_slots(candidates)[:, 0]) % self.capacity
            valid = self.has_transition[candidates] & (reach <= age)
            slots[missing[valid]] = candidates[valid]
            missing = missing[~valid]
        return slots

    def get(self, slots):
        """The transitions of ``slots``: s and s' as uint8 stacks (batch, 4, 84, 84), a, r, terminated."""
        return (self.frames[self.stack_slots(slots)], self.actions[slots].astype(np.int64), self.rewards[slots],
                self.terminated[slots].astype(np.float32),
                self.frames[self.stack_slots((slots + 1) % self.capacity)])

    def state_dict(self):
        """The used part of the small arrays (tensors, for the checkpoint) and the positions; the
        frames go to their own .npy file (save_frames), up to 7 GB."""
        return dict({name: torch.from_numpy(getattr(self, name)[:self.size]) for name in self.ARRAYS},
                    head=self.head, size=self.size, newest=self.newest)

    def save_frames(self, path):
        np.save(path, self.frames[:self.size])

    def load(self, state, frames_path, chunk=50_000):
        """Restores state_dict() and the frames, copied in chunks from a memory map: the file is
        never read into memory whole next to the buffer."""
        self.head, self.size, self.newest = int(state["head"]), int(state["size"]), int(state["newest"])
        for name in self.ARRAYS:
            getattr(self, name)[:self.size] = state[name].numpy()
        frames = np.load(frames_path, mmap_mode="r")
        for start in range(0, self.size, chunk):
            end = min(start + chunk, self.size)
            self.frames[start:end] = frames[start:end]


def step_and_remember(env, replay_buffer, action):
    """Plays a_t and stores the step in D. Returns the observation to act on next (after the end of
    an episode, the first of a new one) and the step's info.

    Only a termination (a game over, or a lost life in training) is stored as terminated and stops
    the bootstrap; a truncated episode's s' is its real final observation and keeps its value."""
    next_obs, reward, terminated, truncated, info = env.step(action)
    replay_buffer.add(action, reward, terminated, next_obs)
    if terminated or truncated:
        next_obs, _ = env.reset()
        replay_buffer.start_episode(next_obs)
    return next_obs, info


# ------------------------------------------------------------------------------------------------
# The Q-network and the TD target
# ------------------------------------------------------------------------------------------------
class QNetwork(nn.Module):
    """Q_theta(s, .): the Nature CNN. 4 stacked 84x84 frames / 255 -> 3 conv layers -> 512 -> one Q per action."""

    def __init__(self, n_actions):
        super().__init__()
        self.network = nn.Sequential(
            nn.Conv2d(FRAME_STACK, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 512), nn.ReLU(),
            nn.Linear(512, n_actions))

    def forward(self, obs):
        return self.network(obs.float() / 255.0)


def linear_epsilon(step, start_e, end_e, decay_steps):
    """epsilon falls linearly from start_e at step 0 to end_e at decay_steps, then stays there."""
    if decay_steps <= 0:
        return end_e
    return start_e + (end_e - start_e) * min(step / decay_steps, 1.0)


def td_target(rewards, next_obs, terminations, gamma, target_network, q_network=None):
    """y = r + gamma * (1 - terminated) * Q_target(s', a'), a' = argmax of Q_target (DQN), or of
    Q_theta (Double DQN, when q_network is given). A truncated transition has terminated = 0: the
    time limit is not the end of the game, so it bootstraps from its real final observation."""
    with torch.no_grad():
        next_q = target_network(next_obs)
        if q_network is None:
            next_value = next_q.max(dim=1).values
        else:
            next_value = next_q.gather(1, q_network(next_obs).argmax(dim=1, keepdim=True)).squeeze(1)
        return rewards + gamma * (1.0 - terminations) * next_value


def greedy_policy(q_network, device):
    """argmax_a Q_theta(s, a): the deterministic policy that is evaluated and published."""
    @torch.inference_mode()
    def act(obs):
        return int(q_network(torch.as_tensor(np.asarray(obs), device=device).unsqueeze(0)).argmax())
    return act


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: the greedy policy of saved weights (safetensors, no pickle)."""
    env = make_env(args)
    q_network = QNetwork(env.action_space.n)
    q_network.load_state_dict(load_file(Path(run_dir) / "model.safetensors"))
    return greedy_policy(q_network.eval(), "cpu")


def main():
    args = parse_args()
    probe_env = make_env(args)  # checks the id before anything is written
    n_actions = probe_env.action_space.n
    probe_env.close()
    run = hub_utils.start_run(args, __file__)
    torch.manual_seed(args.seed)  # the network's initialization
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # the machine's other cores are for other work (benchmarks/README.md)
    rng = np.random.default_rng(args.seed)  # exploration and minibatch sampling

    env = make_atari_env(run.env_id, training=True)
    q_network = QNetwork(n_actions).to(device)
    target_network = QNetwork(n_actions).to(device)
    target_network.load_state_dict(q_network.state_dict())
    optimizer = torch.optim.Adam(q_network.parameters(), lr=args.learning_rate)
    replay_buffer = ReplayBuffer(args.buffer_size)
    act = greedy_policy(q_network, device)
    decay_steps = args.exploration_fraction * args.total_timesteps

    global_step, games, gradient_steps = 0, 0, 0
    checkpoint_path, frames_path = run.dir / "checkpoint.pt", run.dir / "checkpoint_frames.npy"
    if run.resumed:  # the same networks, optimizer, replay memory and random streams; a new game
        checkpoint = torch.load(checkpoint_path, weights_only=True, map_location=device)
        q_network.load_state_dict(checkpoint["q_network"])
        target_network.load_state_dict(checkpoint["target_network"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        replay_buffer.load(checkpoint["replay_buffer"], frames_path)
        global_step, games, gradient_steps = checkpoint["global_step"], checkpoint["games"], checkpoint["gradient_steps"]
        rng.bit_generator.state = checkpoint["rng"]
        print(f"resumed at step {global_step:,} with {replay_buffer.size:,} steps in the replay memory", flush=True)
    obs, _ = env.reset(seed=args.seed + global_step)
    replay_buffer.start_episode(obs)

    progress = hub_utils.Progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    while global_step < args.total_timesteps:
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between steps, with the replay memory
            print(f"saving the replay memory ({replay_buffer.size * REPLAY_BYTES_PER_STEP / 1e9:.2f} GB)", flush=True)
            replay_buffer.save_frames(frames_path)
            torch.save(dict(q_network=q_network.state_dict(), target_network=target_network.state_dict(),
                            optimizer=optimizer.state_dict(), replay_buffer=replay_buffer.state_dict(),
                            global_step=global_step, games=games, gradient_steps=gradient_steps,
                            rng=rng.bit_generator.state), checkpoint_path)
            progress.close()
            run.exit_interrupted()

        # 1. epsilon-greedy action: explore with probability epsilon, else exploit argmax_a Q(s, a)
        epsilon = linear_epsilon(global_step, args.start_e, args.end_e, decay_steps)
        action = int(rng.integers(n_actions)) if rng.random() < epsilon else act(obs)

        # 2. play it and store the transition (lost lives are terminations, time limits are not)
        obs, info = step_and_remember(env, replay_buffer, action)
        global_step += 1
        if "episode" in info:  # a whole game ended: its real, unclipped score
            games += 1
            recent_return = float(info["episode"]["r"])
            run.writer.add_scalar("charts/episodic_return", recent_return, global_step)
            run.writer.add_scalar("charts/episodic_length", int(info["episode"]["l"]), global_step)
            run.writer.add_scalar("charts/epsilon", epsilon, global_step)

        # 3. learn from minibatches of past transitions, once the memory holds enough
        if global_step > args.learning_starts and global_step % args.train_frequency == 0:
            for _ in range(args.gradient_steps):
                b_obs, b_actions, b_rewards, b_terminations, b_next_obs = (
                    torch.from_numpy(array).to(device)
                    for array in replay_buffer.get(replay_buffer.sample_slots(args.batch_size, rng)))
                target = td_target(b_rewards, b_next_obs, b_terminations, args.gamma, target_network,
                                   q_network if args.double_dqn else None)
                q_taken = q_network(b_obs).gather(1, b_actions.unsqueeze(1)).squeeze(1)  # Q_theta(s, a)
                loss = F.smooth_l1_loss(q_taken, target) if args.loss == "huber" else F.mse_loss(q_taken, target)
                optimizer.zero_grad()
                loss.backward()
                if args.max_grad_norm > 0:
                    nn.utils.clip_grad_norm_(q_network.parameters(), args.max_grad_norm)
                optimizer.step()
                gradient_steps += 1

        # 4. move the target network towards the online one
        if global_step > args.learning_starts and global_step % args.target_network_frequency == 0:
            with torch.no_grad():
                for target_param, param in zip(target_network.parameters(), q_network.parameters()):
                    target_param.lerp_(param, args.tau)  # tau * theta + (1 - tau) * theta_target

        if global_step % 100 == 0 or global_step == args.total_timesteps:
            sps = (global_step - start_step) / max(time.time() - start_time, 1e-9)
            run.writer.add_scalar("charts/SPS", sps, global_step)
            if gradient_steps:  # the latest minibatch's
                run.writer.add_scalar("losses/td_loss", loss.item(), global_step)
                run.writer.add_scalar("losses/q_values", q_taken.mean().item(), global_step)
            progress.update(global_step - progress.done, sps=sps, ret=recent_return, eps=epsilon)
    progress.close()
    env.close()
    training_seconds = time.time() - start_time

    # Save the weights (safetensors: loading them never runs code), then evaluate the greedy policy
    # on whole games with the real score.
    q_network = q_network.cpu().eval()
    save_file(q_network.state_dict(), run.dir / "model.safetensors")
    checkpoint_path.unlink(missing_ok=True)
    frames_path.unlink(missing_ok=True)
    act = greedy_policy(q_network, "cpu")
    seeds = hub_utils.eval_seeds(args.seed, args.eval_episodes)
    evaluation = hub_utils.evaluate(act, make_env(args), seeds)
    fps = 60 / FRAME_SKIP  # real time: the Atari draws 60 frames a second, the agent sees every 4th
    if args.capture_video:
        hub_utils.record_video(act, make_env(args, render_mode="rgb_array"), run.dir / "replay.mp4",
                               fps=fps, seed=seeds[0])
    results = hub_utils.write_results(
        run, args, algo="dqn", algo_title="DQN", evaluation=evaluation, model_file="model.safetensors",
        video_fps=fps,
        training=dict(env_steps=global_step, frames=global_step * FRAME_SKIP, games=games,
                      gradient_steps=gradient_steps, wall_time_s=round(training_seconds, 1),
                      sps=round((global_step - start_step) / max(training_seconds, 1e-9)),
                      replay_memory_gb=round(replay_buffer.nbytes / 1e9, 2)))
    run.close()
    hub_utils.upload_if_requested(run, args, results)


if __name__ == "__main__":
    hub_utils.run_script(main)
