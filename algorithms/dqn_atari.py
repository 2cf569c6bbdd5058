"""Deep Q-Network (DQN) on Atari games, as in Unit 3 of the Hugging Face Deep RL Course.

Q_theta(s, .) is the Nature CNN (Mnih et al., 2015) reading the last 4 preprocessed frames, one
output per action. Training follows the course's pseudocode:

    for every step t:
        a_t = a random action with probability epsilon, else argmax_a Q_theta(s_t, a)
        play a_t; store (s_t, a_t, r_t, s_t+1, terminated_t) in the replay memory D
        every train_frequency steps, gradient_steps times:
            sample a minibatch of transitions (s_t, a_t) from D, with the n steps that followed
            G = r_t + gamma r_t+1 + ... + gamma^(k-1) r_t+k-1   (k = n, or fewer if the episode ended)
            y = G + gamma^k * (1 - terminated) * max_a' Q_target(s_t+k, a')      (TD target)
            take a gradient step on loss(Q_theta(s_t, a_t), y)           (Huber or squared)
        every target_network_frequency steps: theta_target <- tau * theta + (1 - tau) * theta_target
        every validation_every steps: play greedy games; keep theta if it scores best so far

epsilon decays linearly from --start-e to --end-e over the first --exploration-fraction of training.
--n-step 1 is the course's DQN; more steps of real rewards propagate them faster (Rainbow's multi-step
returns). With --double-dqn the online network picks a' and the target network values it. Training
alone ends the agent's episode at every lost life and clips rewards to their sign; evaluation plays
whole games with the real score, as the course's leaderboard does. With --validation-every (SB3's
EvalCallback and best model), the network published is the one whose greedy games on validation seeds
(not the evaluation's) scored the best mean - std. Ctrl-C saves the networks, the optimizer and the
replay memory; `--resume` continues them with a new game (not bit-identical).

    python algorithms/dqn_atari.py --env-id SpaceInvadersNoFrameskip-v4   # 100k steps without CUDA
    python algorithms/dqn_atari.py --env-id SpaceInvadersNoFrameskip-v4 --budget full   # the course's 1M
"""

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, eval_seeds, evaluate, resolve_env_id
from training_run import finite_float, fraction, nonnegative_int, positive_float, positive_int, unit_float

FRAME_STACK, FRAME_SKIP, FRAME_SHAPE, NOOP_MAX = 4, 4, (84, 84), 30  # frames per observation, per step
REPLAY_BYTES_PER_STEP = math.prod(FRAME_SHAPE) + 1 + 4 + 3  # uint8 frame, action, float32 reward, flags

# The other hyperparameters are CleanRL's dqn_atari.py, for every game. The "full" budget (the default
# with CUDA) trains the course's game for the course's 1M steps, other games for CleanRL's 10M. Without
# CUDA the default is the "cpu" budget, as 1M steps take a CPU many hours: 100k steps (the Atari 100k
# benchmark's 400k frames), a 100k-step memory, learning from step 10k, and a validation every 20k steps:
# the last network alone often replays one low-scoring game while the training games score well.
COURSE_BUDGET = dict(total_timesteps=1_000_000)
ENV_DEFAULTS = {"SpaceInvadersNoFrameskip": COURSE_BUDGET, "ALE/SpaceInvaders": COURSE_BUDGET}
BUDGETS = {"full": {}, "cpu": dict(total_timesteps=100_000, buffer_size=100_000, learning_starts=10_000)}
BUDGETS["cpu"].update(validation_every=20_000)


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="dqn_atari", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    memory = f"1,000,000 steps x 84x84 = {1e6 * REPLAY_BYTES_PER_STEP / 1e9:.2f} GB, allocated as it fills"
    add("--env-id", default="SpaceInvadersNoFrameskip-v4", help="e.g. ALE/Breakout-v5")
    add("--seed", type=nonnegative_int, default=1, help="seed of the env, the network and exploration")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=10_000_000, help="agent steps (4 frames each)")
    add("--learning-rate", type=positive_float, default=1e-4, help="the optimizer's step size")
    add("--buffer-size", type=positive_int, default=1_000_000, help=f"replay memory steps ({memory})")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--n-step", type=positive_int, default=1, help="real rewards in the TD target (1: DQN's)")
    add("--tau", type=fraction, default=1.0, help="target network update rate (1: a copy; < 1: Polyak)")
    add("--target-network-frequency", type=positive_int, default=1000, help="steps between target updates")
    add("--batch-size", type=positive_int, default=32, help="transitions per gradient step")
    add("--start-e", type=unit_float, default=1.0, help="exploration epsilon at the start")
    add("--end-e", type=unit_float, default=0.01, help="exploration epsilon after the decay")
    add("--exploration-fraction", type=unit_float, default=0.1, help="share of training epsilon decays over")
    add("--learning-starts", type=nonnegative_int, default=80_000, help="steps before the first update")
    add("--train-frequency", type=positive_int, default=4, help="steps between training rounds")
    add("--gradient-steps", type=positive_int, default=1, help="gradient steps per training round")
    add("--loss", choices=["huber", "mse"], default="huber", help="TD loss: SB3's huber, CleanRL's mse")
    add("--max-grad-norm", type=finite_float, default=10.0, help="gradient norm clip (<= 0: off)")
    add("--double-dqn", action=BOOL, default=False, help="the online network picks a' (Double DQN)")
    add("--validation-every", type=nonnegative_int, default=0, help="steps between validations (0: none)")
    add("--validation-games", type=positive_int, default=5, help="greedy games per validation")
    add("--budget", choices=BUDGETS, help="cpu (the default without CUDA) or full (course)")
    add("--torch-threads", type=nonnegative_int, default=0, help="CPU threads of the CNN (0: one a core)")

    def budget_defaults(flags):  # the budget's defaults, which win over the game's
        budget = flags.budget or ("full" if flags.cuda and torch.cuda.is_available() else "cpu")
        return dict(BUDGETS[budget], budget=budget)

    args = parser.parse(argv, overrides=budget_defaults)
    memory = args.buffer_size * REPLAY_BYTES_PER_STEP
    training_run.check_memory(memory, f"--buffer-size {args.buffer_size}: the replay memory (as it fills)")
    if args.buffer_size < args.batch_size + FRAME_STACK:
        need = f"at least --batch-size + {FRAME_STACK} = {args.batch_size + FRAME_STACK} steps"
        raise UserError(f"--buffer-size {args.buffer_size} is too small: it must hold {need}")
    if args.learning_starts < args.batch_size:
        need = f"--batch-size {args.batch_size}: the first minibatch needs that many stored steps"
        raise UserError(f"--learning-starts {args.learning_starts} must be at least {need}")
    return args


# ---- Environment: the standard Atari preprocessing ----------------------------------------------
def make_atari_env(env_id, training, render_mode=None, **ale_kwargs):
    """The standard preprocessing: up to 30 no-ops at reset, 4 frames per action (max of the last two),
    FIRE at reset where needed, 84x84 grayscale, 4 frames stacked; the id's sticky actions and time
    limit (108,000 frames, a truncation). Training alone ends the episode at a lost life and clips
    rewards; info["episode"] (RecordEpisodeStatistics, below both) reports whole games, real score."""
    env = gym.make(env_id, frameskip=1, render_mode=render_mode, **ale_kwargs)
    preprocessing = dict(noop_max=NOOP_MAX, frame_skip=FRAME_SKIP, screen_size=FRAME_SHAPE[0])
    env = gym.wrappers.AtariPreprocessing(env, **preprocessing)  # grayscale; lost lives: EpisodicLife
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
    env_id = resolve_env_id(args.env_id, quiet=True)
    if not str(gym.spec(env_id).entry_point).startswith("ale_py"):
        example = "an Atari game such as SpaceInvadersNoFrameskip-v4 or ALE/Breakout-v5"
        raise UserError(f"dqn_atari.py needs {example}; {args.env_id} is not one (use dqn.py)")
    return make_atari_env(env_id, training=False, render_mode=render_mode)


# ---- The Q-network and the TD target ------------------------------------------------------------
class QNetwork(nn.Module):
    """Q_theta(s, .): the Nature CNN. 4 stacked 84x84 frames / 255 -> 3 conv layers -> 512 -> Q per action."""

    def __init__(self, n_actions):
        super().__init__()
        self.network = nn.Sequential(
            *(nn.Conv2d(FRAME_STACK, 32, 8, stride=4), nn.ReLU()),
            *(nn.Conv2d(32, 64, 4, stride=2), nn.ReLU()),
            *(nn.Conv2d(64, 64, 3, stride=1), nn.ReLU()),
            nn.Flatten(),
            *(nn.Linear(64 * 7 * 7, 512), nn.ReLU()),
            nn.Linear(512, n_actions),
        )

    def forward(self, obs):
        return self.network(obs.float() / 255.0)


def linear_epsilon(step, start_e, end_e, decay_steps):
    """epsilon falls linearly from start_e at step 0 to end_e at decay_steps, then stays there."""
    return end_e if decay_steps <= 0 else start_e + (end_e - start_e) * min(step / decay_steps, 1.0)


def td_target(returns, next_obs, terminations, discounts, target_network, q_network=None):
    """y = G + gamma^k * (1 - terminated) * Q_target(s', a'), a' = argmax of Q_target (DQN), or of
    Q_theta (Double DQN, when q_network is given); G: the discounted rewards of the k steps to s'. A
    truncated transition has terminated = 0: a time limit is not the end of the game, it bootstraps."""
    with torch.no_grad():
        next_q = target_network(next_obs)
        if q_network is None:
            next_value = next_q.max(dim=1).values
        else:
            next_value = next_q.gather(1, q_network(next_obs).argmax(dim=1, keepdim=True)).squeeze(1)
        return returns + discounts * (1.0 - terminations) * next_value


@torch.no_grad()
def update_target(target_network, q_network, tau):
    """theta_target <- tau * theta + (1 - tau) * theta_target; tau = 1 copies theta exactly."""
    for target_param, param in zip(target_network.parameters(), q_network.parameters()):
        target_param.lerp_(param, tau)


def greedy_policy(q_network, device):
    """argmax_a Q_theta(s, a): the deterministic policy that is evaluated and published."""

    @torch.inference_mode()
    def act(obs):
        return int(q_network(torch.as_tensor(np.asarray(obs), device=device).unsqueeze(0)).argmax())

    return act


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: the greedy policy of saved weights (safetensors, no pickle)."""
    q_network = QNetwork(make_env(args).action_space.n)
    q_network.load_state_dict(load_file(run_dir / "model.safetensors"))
    return greedy_policy(q_network.eval(), "cpu")


def main():
    args = parse_args()
    with make_env(args) as probe_env:  # checks the id before anything is written
        n_actions = probe_env.action_space.n
    torch.manual_seed(args.seed)  # the network's initialization
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")
    if device.type == "cpu" and args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(args.seed)  # exploration and minibatch sampling

    q_network = QNetwork(n_actions).to(device)
    target_network = QNetwork(n_actions).to(device)
    target_network.load_state_dict(q_network.state_dict())
    best_network = QNetwork(n_actions).to(device)  # the best validated network, published at the end
    # foreach: torch's multi-tensor Adam, the same update in fewer calls (any optimizer but LBFGS, SparseAdam)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=args.learning_rate, foreach=True)
    networks = dict(q_network=q_network, target_network=target_network, optimizer=optimizer)  # checkpointed
    networks.update(best_network=best_network)
    replay_buffer = ReplayBuffer(args.buffer_size, args.n_step, args.gamma)
    act = greedy_policy(q_network, device)
    decay_steps = args.exploration_fraction * args.total_timesteps
    validation_seeds = eval_seeds(args.seed, args.eval_episodes + args.validation_games)[args.eval_episodes :]

    global_step, games, gradient_steps, best = 0, 0, 0, dict(result=-math.inf, step=0)
    if args.resume is not None:  # read (frames included) before anything is written
        keys = "replay_buffer frames global_step games gradient_steps rng best".split()
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, networks, device)
        replay_buffer.load_state_dict(checkpoint["replay_buffer"], args.resume / checkpoint["frames"])
    run = training_run.start_run(args, __file__)
    env = make_atari_env(run.env_id, training=True)
    if run.resumed:  # the same networks, optimizer, replay memory and random streams; a new game
        global_step, games = checkpoint["global_step"], checkpoint["games"]
        gradient_steps, best = checkpoint["gradient_steps"], checkpoint["best"]
        rng.bit_generator.state = checkpoint["rng"]
        memory = f"{replay_buffer.size:,} steps in the replay memory"
        print(f"resumed at step {global_step:,} with {memory}", flush=True)
    obs, _ = env.reset(seed=args.seed + global_step)
    replay_buffer.start_episode(obs)

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    while global_step < args.total_timesteps:
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between steps, with the replay memory, exit
            state = {name: value.state_dict() for name, value in networks.items()}
            state.update(replay_buffer=replay_buffer.state_dict(), rng=rng.bit_generator.state, best=best)
            state.update(global_step=global_step, games=games, gradient_steps=gradient_steps)
            run.checkpoint_and_exit(**state, frames=replay_buffer.frames[: replay_buffer.size])  # as a .npy

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
                slots = replay_buffer.sample_slots(args.batch_size, rng)
                batch = (torch.from_numpy(array).to(device) for array in replay_buffer.get(slots))
                b_obs, b_actions, b_returns, b_terminations, b_next_obs, b_discounts = batch
                online = q_network if args.double_dqn else None  # Double DQN: the online network picks a'
                target = td_target(b_returns, b_next_obs, b_terminations, b_discounts, target_network, online)
                q_taken = q_network(b_obs).gather(1, b_actions.unsqueeze(1)).squeeze(1)  # Q_theta(s_t, a_t)
                loss = (F.smooth_l1_loss if args.loss == "huber" else F.mse_loss)(q_taken, target)
                optimizer.zero_grad()
                loss.backward()
                if args.max_grad_norm > 0:
                    nn.utils.clip_grad_norm_(q_network.parameters(), args.max_grad_norm)
                optimizer.step()
                gradient_steps += 1

        # 4. move the target network towards the online one
        if global_step > args.learning_starts and global_step % args.target_network_frequency == 0:
            update_target(target_network, q_network, args.tau)

        # 5. validation (and at the last step): greedy games on seeds of their own; keep the best network
        last_step, learning = global_step == args.total_timesteps, global_step > args.learning_starts
        if args.validation_every and (last_step or learning and global_step % args.validation_every == 0):
            validation = evaluate(act, make_env(args), validation_seeds)
            run.writer.add_scalar("charts/validation_result", validation.result, global_step)
            if validation.result >= best["result"]:  # a tie goes to the later, longer-trained network
                best = dict(result=validation.result, step=global_step)
                best_network.load_state_dict(q_network.state_dict())

        if global_step % 100 == 0 or global_step == args.total_timesteps:
            sps = (global_step - start_step) / max(time.time() - start_time, 1e-9)
            run.writer.add_scalar("charts/SPS", sps, global_step)
            if gradient_steps:  # the latest minibatch's
                run.writer.add_scalar("losses/td_loss", loss.item(), global_step)
                run.writer.add_scalar("losses/q_values", q_taken.mean().item(), global_step)
            progress.update(global_step - progress.done, sps=sps, ret=recent_return, eps=epsilon)
    env.close()
    training_seconds = time.time() - start_time
    training = dict(env_steps=global_step, frames=global_step * FRAME_SKIP, games=games, budget=args.budget)
    training.update(gradient_steps=gradient_steps, wall_time_s=round(training_seconds, 1))
    training.update(sps=round((global_step - start_step) / max(training_seconds, 1e-9)))
    training.update(replay_memory_gb=round(args.buffer_size * REPLAY_BYTES_PER_STEP / 1e9, 2))
    if args.validation_every:  # which network was published, and its validation score
        training.update(published_step=best["step"], validation_result=round(best["result"], 2))

    # Save the weights, then evaluate the greedy policy on whole games, on seeds of its own, and publish.
    q_network = (best_network if args.validation_every else q_network).cpu().eval()
    training_run.save_weights(q_network.state_dict(), run.dir / "model.safetensors")
    fps = 60 / FRAME_SKIP  # real time: the Atari draws 60 frames a second, the agent sees every 4th
    card = dict(algo="dqn", algo_title="DQN", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, greedy_policy(q_network, "cpu"), make_env, training=training, **card)


# ---- Atari machinery: a lost life ends the episode, FIRE at reset, the frame-once replay memory ---
class EpisodicLife(gym.Wrapper):
    """Training only: a lost life ends the agent's episode (terminated: no bootstrap past it); reset()
    then continues the game with a no-op, a new one only after a game over (CleanRL's EpisodicLifeEnv)."""

    lives, game_over = 0, True  # until the first reset

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        terminated = terminated or 0 < lives < self.lives
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs):
        if not self.game_over:  # a life was lost: the game goes on after a no-op
            obs, _, terminated, truncated, info = self.env.step(0)
        if self.game_over or terminated or truncated:
            obs, info = self.env.reset(**kwargs)
        self.game_over, self.lives = False, self.env.unwrapped.ale.lives()
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


class ReplayBuffer:
    """The replay memory D: the last ``capacity`` steps in a ring, each 84x84 frame stored once (not in
    separate s and s' stacks). Slot i holds the newest frame of an observation s, whether s starts an
    episode, and once an action was taken from s, that step's (a, r, terminated); s' is in slot i + 1
    (an episode's final observation takes a slot of its own: a truncation bootstraps from it). A stack
    is rebuilt from slots i-3..i, repeating an episode's first frame as FrameStackObservation does."""

    ARRAYS = ("actions", "rewards", "terminated", "episode_start", "has_transition")

    def __init__(self, capacity, n_step=1, gamma=0.99):
        self.capacity, self.n_step, self.gamma = capacity, n_step, gamma
        self.frames = np.zeros((capacity, *FRAME_SHAPE), dtype=np.uint8)  # pages committed as they fill
        self.actions = np.zeros(capacity, dtype=np.uint8)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        flags = (np.zeros(capacity, dtype=bool) for _ in range(3))
        self.terminated, self.episode_start, self.has_transition = flags
        self.head, self.size, self.newest = 0, 0, -1  # next slot to write, slots written, newest slot

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
        self.actions[i], self.rewards[i], self.terminated[i] = action, reward, terminated
        self.has_transition[i] = True

    def stack_slots(self, slots):
        """For each slot, the FRAME_STACK slots (oldest first) whose frames make its observation."""
        stacks = np.empty((len(slots), FRAME_STACK), dtype=np.int64)
        stacks[:, -1] = current = slots
        for k in range(FRAME_STACK - 2, -1, -1):  # step back, but never past an episode's first frame
            current = np.where(self.episode_start[current], current, (current - 1) % self.capacity)
            stacks[:, k] = current
        return stacks

    def sample_slots(self, batch_size, rng):
        """``batch_size`` transition slots drawn uniformly (with replacement) among those with s and s'
        intact: s' written after s, and the stack of s reaching back no further than the oldest slot."""
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
        """The n-step transitions from ``slots``: s and s' as uint8 stacks (batch, 4, 84, 84), a, the
        return G = r_t + ... + gamma^(k-1) r_t+k-1, terminated, gamma^k. s' is s_t+k: n steps later, or
        the episode's final observation if it ended first (the walk stops at a slot with no transition)."""
        returns, discounts = np.zeros(len(slots), np.float32), np.ones(len(slots), np.float32)
        terminated, running, current = np.zeros(len(slots), bool), np.ones(len(slots), bool), slots
        for _ in range(self.n_step):
            returns += running * discounts * self.rewards[current]
            discounts = np.where(running, discounts * np.float32(self.gamma), discounts)
            terminated |= running & self.terminated[current]
            current = np.where(running, (current + 1) % self.capacity, current)  # s' so far
            running &= ~terminated & self.has_transition[current]
        obs, next_obs = self.frames[self.stack_slots(slots)], self.frames[self.stack_slots(current)]
        actions = self.actions[slots].astype(np.int64)
        return obs, actions, returns, terminated.astype(np.float32), next_obs, discounts

    def state_dict(self):
        """The used part of the small arrays and the positions; the frames go to a .npy file of their own."""
        arrays = {name: torch.from_numpy(getattr(self, name)[: self.size]) for name in self.ARRAYS}
        return dict(arrays, head=self.head, size=self.size, newest=self.newest)

    def load_state_dict(self, state, frames_path, chunk=50_000):
        """Restores state_dict() and the frames, in chunks from a memory map (never all in memory twice)."""
        self.head, self.size, self.newest = int(state["head"]), int(state["size"]), int(state["newest"])
        for name in self.ARRAYS:
            getattr(self, name)[: self.size] = state[name].numpy()
        frames = training_run.load_array(frames_path, self.size, FRAME_SHAPE)
        for start in range(0, self.size, chunk):
            end = min(start + chunk, self.size)
            self.frames[start:end] = frames[start:end]


def step_and_remember(env, replay_buffer, action):
    """Plays a_t, stores the step in D; returns the next observation to act on (a new episode's first
    after an end) and the step's info. Only a termination stops the bootstrap, not a truncation."""
    next_obs, reward, terminated, truncated, info = env.step(action)
    replay_buffer.add(action, reward, terminated, next_obs)
    if terminated or truncated:
        next_obs, _ = env.reset()
        replay_buffer.start_episode(next_obs)
    return next_obs, info


if __name__ == "__main__":
    training_run.run_script(main)
