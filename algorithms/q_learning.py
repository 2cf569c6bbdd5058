"""Tabular Q-Learning, as taught in Unit 2 of the Hugging Face Deep RL Course.

The agent keeps a table Q[state, action] and improves it with the off-policy TD update

    Q(s, a) <- Q(s, a) + lr * (r + gamma * max_a' Q(s', a') - Q(s, a))

while acting epsilon-greedily, epsilon decaying exponentially from max to min over episodes.
The greedy policy argmax_a Q(s, a) is what gets evaluated and published.

    python algorithms/q_learning.py --env-id Taxi-v3
    python algorithms/q_learning.py --env-id FrozenLake-v1 --map-name 4x4 --no-is-slippery
"""

import argparse
import io
import json
import time
from functools import partial
from pathlib import Path

import gymnasium as gym
import numpy as np

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, atomic_write_bytes, eval_seeds, resolve_env_id
from training_run import fraction, nonnegative_float, nonnegative_int, positive_int, unit_float

# The course's fixed evaluation seeds for Taxi-v3: its leaderboard plays these 100 episodes.
TAXI_EVAL_SEEDS = """
    16 54 165 177 191 191 120 80 149 178 48 38 6 125 174 73 50 172 100 148 146 6 25 40 68 148 49 167 9 97
    164 176 61 7 54 55 161 131 184 51 170 12 120 113 95 126 51 98 36 135 54 82 45 95 89 59 95 124 9 113
    58 85 51 134 121 169 105 21 30 11 50 65 12 43 82 145 152 97 106 55 31 85 38 112 102 168 123 97 21 83
    158 26 80 63 5 81 32 11 28 148"""
TAXI_EVAL_SEEDS = [int(seed) for seed in TAXI_EVAL_SEEDS.split()]

# The course's hyperparameters per environment; any flag given on the command line wins.
ENV_DEFAULTS = {
    "FrozenLake": dict(
        total_episodes=10_000, decay_rate=0.0005, eval_episodes=100, map_name="4x4", is_slippery=False
    ),
    # min_epsilon 0.3 instead of the course's 0.05: exploring more keeps correcting rarely-tried
    # actions, so the greedy policy scores like value iteration's on more seeds (benchmarks/README.md).
    "Taxi": dict(total_episodes=25_000, decay_rate=0.005, min_epsilon=0.3, eval_episodes=100),
}


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="q_learning", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="Taxi-v3", help="Discrete observations and actions")
    add("--seed", type=nonnegative_int, default=1, help="seed of the environment and of exploration")
    add("--total-episodes", type=positive_int, default=10_000, help="training episodes")
    add("--total-timesteps", type=positive_int, default=None, help="optional cap on environment steps")
    add("--learning-rate", type=fraction, default=0.7, help="step size of the TD update")
    add("--gamma", type=unit_float, default=0.95, help="discount factor")
    add("--max-steps", type=positive_int, default=99, help="steps per episode before truncation")
    add("--max-epsilon", type=unit_float, default=1.0, help="exploration rate at the start")
    add("--min-epsilon", type=unit_float, default=0.05, help="exploration rate it decays to")
    add("--decay-rate", type=nonnegative_float, default=0.0005, help="epsilon's decay per episode")
    add("--map-name", default=None, choices=("4x4", "8x8"), help="FrozenLake map")
    add("--is-slippery", action=BOOL, default=None, help="FrozenLake: slippery ice")
    args = parser.parse(argv)
    if not args.min_epsilon <= args.max_epsilon:
        got = f"got {args.min_epsilon} and {args.max_epsilon}"
        raise UserError(f"need 0 <= --min-epsilon <= --max-epsilon <= 1, {got}")
    evaluation_seeds(args)  # Taxi: fail now, not after training, if there are not enough seeds
    return args


def is_frozen_lake(env_id):
    return env_id.startswith("FrozenLake")


def make_env(args, render_mode=None):
    """The environment as the course builds it; episodes end after --max-steps steps."""
    env_id = resolve_env_id(args.env_id, quiet=True)
    options = dict(map_name=args.map_name, is_slippery=args.is_slippery) if is_frozen_lake(env_id) else {}
    env = gym.make(env_id, max_episode_steps=args.max_steps, render_mode=render_mode, **options)
    for space_name in ("observation_space", "action_space"):
        space = getattr(env, space_name)
        if not isinstance(space, gym.spaces.Discrete):
            raise UserError(
                f"q_learning.py needs a Discrete {space_name.replace('_', ' ')}; "
                f"{args.env_id} has {space} (use dqn.py or ppo.py for it)"
            )
    return env


def leaderboard_id(args):
    """The course leaderboard names FrozenLake by map and slipperiness."""
    if is_frozen_lake(args.env_id):
        return f"{args.env_id}-{args.map_name}" + ("" if args.is_slippery else "-no_slippery")
    return args.env_id


def evaluation_seeds(args):
    """Taxi uses the course's 100 fixed seeds; other environments seeds distinct from training."""
    if args.env_id.startswith("Taxi"):
        if args.eval_episodes > len(TAXI_EVAL_SEEDS):
            raise UserError(
                f"--eval-episodes {args.eval_episodes}: the course's Taxi "
                f"protocol has {len(TAXI_EVAL_SEEDS)} seeds"
            )
        return TAXI_EVAL_SEEDS[: args.eval_episodes]
    return eval_seeds(args.seed, args.eval_episodes)


def greedy_policy(qtable):
    """pi(s) = argmax_a Q(s, a): the policy we evaluate and publish."""
    return lambda state: int(np.argmax(qtable[state]))


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: the greedy policy of a saved Q-table (npz, no pickle)."""
    with np.load(Path(run_dir) / "qtable.npz", allow_pickle=False) as saved:
        return greedy_policy(saved["qtable"])


def save_npz(path, **arrays):
    """np.savez, written atomically: an interrupted save leaves the previous file (or none)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def main():
    args = parse_args()
    env = make_env(args)  # checks the spaces before anything is written

    # Initialize Q(s, a) = 0 for every state and action (course: Step 0), or reload a checkpoint.
    qtable = np.zeros((env.observation_space.n, env.action_space.n))
    rng = np.random.default_rng(args.seed)  # drives exploration
    start_episode, global_step = 0, 0
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.npz", keys=("qtable", "state"))
        if checkpoint["qtable"].shape != qtable.shape:
            raise UserError(f"{args.resume}/checkpoint.npz: its Q-table does not fit {args.env_id}")
    run = training_run.start_run(args, __file__)
    if run.resumed:
        qtable = checkpoint["qtable"]
        saved = json.loads(str(checkpoint["state"]))
        start_episode, global_step = saved["episode"], saved["global_step"]
        rng.bit_generator.state = saved["rng"]
        env.reset(seed=args.seed)
        env.unwrapped.np_random.bit_generator.state = saved["env_rng"]

    progress = run.progress(args.total_episodes, "episodes", initial=start_episode)
    start_time, start_step, episodes_done = time.time(), global_step, start_episode
    recent_returns, recent_lengths = [], []
    for episode in range(start_episode, args.total_episodes):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint at the episode boundary (exactly resumable)
            saved = dict(episode=episode, global_step=global_step, rng=rng.bit_generator.state)
            saved.update(env_rng=env.unwrapped.np_random.bit_generator.state)
            save = partial(save_npz, run.dir / "checkpoint.npz", qtable=qtable, state=json.dumps(saved))
            run.save_and_exit(save)  # a second Ctrl-C during the save waits for it
        if args.total_timesteps is not None and global_step >= args.total_timesteps:
            break

        # Exploration rate for this episode: epsilon = min + (max - min) * exp(-decay * episode)
        decay = np.exp(-args.decay_rate * episode)
        epsilon = args.min_epsilon + (args.max_epsilon - args.min_epsilon) * decay
        state, _ = env.reset(seed=args.seed if episode == 0 else None)
        episode_return, episode_length, done = 0.0, 0, False
        while not done:
            # Epsilon-greedy: a random action with probability epsilon, else argmax_a Q(s, a)
            if rng.random() < epsilon:
                action = int(rng.integers(env.action_space.n))
            else:
                action = int(np.argmax(qtable[state]))
            next_state, reward, terminated, truncated, _ = env.step(action)

            # TD target r + gamma * max_a' Q(s', a'). A terminal state has value 0, so no bootstrap
            # on termination; a time-limit truncation is not terminal, so it still bootstraps.
            target = reward + args.gamma * np.max(qtable[next_state]) * (not terminated)
            qtable[state, action] += args.learning_rate * (target - qtable[state, action])

            state = next_state
            episode_return += reward
            episode_length += 1
            global_step += 1
            done = terminated or truncated or global_step == args.total_timesteps

        # Episodes are short and many: log the mean of each block of 100 (a curve, not 25k points).
        recent_returns.append(episode_return)
        recent_lengths.append(episode_length)
        episodes_done = episode + 1
        if episodes_done % 100 == 0 or episodes_done == args.total_episodes:
            sps = (global_step - start_step) / max(time.time() - start_time, 1e-9)
            run.writer.add_scalar("charts/episodic_return", np.mean(recent_returns), global_step)
            run.writer.add_scalar("charts/episodic_length", np.mean(recent_lengths), global_step)
            run.writer.add_scalar("charts/epsilon", epsilon, global_step)
            run.writer.add_scalar("charts/SPS", sps, global_step)
            progress.update(len(recent_returns), sps=sps, ret=np.mean(recent_returns), eps=epsilon)
            recent_returns, recent_lengths = [], []
    env.close()
    training_seconds = time.time() - start_time
    training = dict(episodes=episodes_done, env_steps=global_step, wall_time_s=round(training_seconds, 1))

    # Save the table (npz: loading it never runs code), then evaluate the greedy policy and publish: on
    # the course's seeds for Taxi, under the course's leaderboard id (FrozenLake: map and ice).
    save_npz(run.dir / "qtable.npz", qtable=qtable)
    card = dict(algo="q-learning", algo_title="Q-Learning", model_file="qtable.npz", video_fps=1)
    card.update(seeds=evaluation_seeds(args), dataset_id=leaderboard_id(args))
    training_run.publish(run, args, greedy_policy(qtable), make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
