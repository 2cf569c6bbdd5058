"""Is envpool's LunarLander-v3 gymnasium's LunarLander-v3? Episode statistics of the same policies on both.

    python benchmarks/experiments/envpool_check.py                              # random actions only
    python benchmarks/experiments/envpool_check.py --model runs/<a ppo.py LunarLander run>   # and trained

The two cannot run in lockstep (each draws its terrain, start and engine noise from its own random
generator), so this compares distributions over many episodes: the first observation of an episode
(where the lander starts, its initial push), and each policy's episode returns, lengths and share of
landings (return >= 200), with Welch's t-test on the means and a two-sample Kolmogorov-Smirnov test on
the whole distributions. ppo.py trains on envpool only for ids listed in fast_paths.ENVPOOL_TWINS;
evaluation always runs on gymnasium. Results: benchmarks/README.md, "Experiments"; the full tables:
benchmarks/HISTORY.md, "PPO".
"""

import argparse
import json
from pathlib import Path

import envpool
import gymnasium as gym
import numpy as np
import torch
from safetensors.torch import load_file
from scipy import stats

import fast_paths
import hub_utils

ENV_ID = "LunarLander-v3"


def play_envpool(policy, episodes, seed, num_envs=16):
    """Whole episodes on envpool's twin, num_envs at a time (through fast_paths.EnvpoolVectorEnv, as ppo.py
    trains): (first observations, returns, lengths)."""
    envs = fast_paths.EnvpoolVectorEnv(ENV_ID, num_envs)
    obs, _ = envs.reset(seed=seed)
    firsts, returns, lengths = list(obs), [], []
    running_return, running_length = np.zeros(num_envs), np.zeros(num_envs, dtype=int)
    while len(returns) < episodes:
        obs, reward, terminated, truncated, _ = envs.step(policy(obs))
        running_return, running_length = running_return + reward, running_length + 1
        for i in np.flatnonzero(terminated | truncated):
            returns.append(running_return[i])
            lengths.append(running_length[i])
            firsts.append(obs[i].copy())
            running_return[i], running_length[i] = 0.0, 0
    return np.array(firsts[:episodes]), np.array(returns[:episodes]), np.array(lengths[:episodes])


def play_gymnasium(policy, episodes, seed):
    """The same on gymnasium's environment, one episode per seed (seed, seed + 1, ...)."""
    env = gym.make(ENV_ID)
    firsts, returns, lengths = [], [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        firsts.append(obs)
        total, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(policy(obs[None])[0]))
            total, length, done = total + float(reward), length + 1, terminated or truncated
        returns.append(total)
        lengths.append(length)
    return np.array(firsts), np.array(returns), np.array(lengths)


def compare(name, gymnasium_values, envpool_values):
    welch = stats.ttest_ind(gymnasium_values, envpool_values, equal_var=False)
    ks = stats.ks_2samp(gymnasium_values, envpool_values)
    sem = [values.std(ddof=1) / np.sqrt(len(values)) for values in (gymnasium_values, envpool_values)]
    return (
        f"| {name} | {gymnasium_values.mean():.3f} +/- {sem[0]:.3f} | {envpool_values.mean():.3f} +/- "
        f"{sem[1]:.3f} | {welch.pvalue:.3f} | {ks.statistic:.3f} | {ks.pvalue:.3f} |"
    )


def report(title, policy, episodes, seed):
    g_first, g_return, g_length = play_gymnasium(policy, episodes, seed)
    e_first, e_return, e_length = play_envpool(policy, episodes, seed)
    print(f"\n### {title}, {episodes} episodes on each\n")
    print("| statistic | gymnasium (mean +/- s.e.) | envpool | Welch p | KS distance | KS p |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(compare("episode return", g_return, e_return))
    print(compare("episode length", g_length.astype(float), e_length.astype(float)))
    print(compare("landed (return >= 200)", (g_return >= 200).astype(float), (e_return >= 200).astype(float)))
    for index, name in enumerate(["x", "y", "vx", "vy", "angle", "angular velocity"]):
        print(compare(f"first observation: {name}", g_first[:, index], e_first[:, index]))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=2000, help="random-action episodes on each engine")
    parser.add_argument("--skip-random", action="store_true", help="only the trained policy")
    parser.add_argument("--model", type=Path, help="a ppo.py run folder on LunarLander: its policy too")
    parser.add_argument("--model-episodes", type=int, default=500, help="episodes of the trained policy")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"envpool {envpool.__version__}, gymnasium {gym.__version__}")
    rng = np.random.default_rng(0)
    if not args.skip_random:
        report(
            "Uniformly random actions", lambda obs: rng.integers(0, 4, len(obs)), args.episodes, seed=10_000
        )
    if args.model is not None:
        ppo = hub_utils.load_algorithm("ppo.py")
        run_args = argparse.Namespace(**json.loads((args.model / "args.json").read_text()))
        env = ppo.make_env(run_args)
        agent = ppo.Agent(
            env.observation_space, env.action_space, run_args.hidden_size, run_args.normalize_observation
        )
        agent.load_state_dict(load_file(args.model / "model.safetensors"))

        @torch.inference_mode()
        def greedy(obs):  # what ppo.deterministic_policy computes, for a batch
            return agent.get_deterministic_action(agent.normalize(obs)).numpy()

        report(f"Trained policy ({args.model.name}), greedy", greedy, args.model_episodes, seed=20_000)


if __name__ == "__main__":
    main()
