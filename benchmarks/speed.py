"""Training speed of an algorithm script against the raw speed of its environment, and against
CleanRL's script of the same algorithm at identical hyperparameters when a copy of it is given.

    python benchmarks/speed.py --env-id LunarLander-v2 --total-timesteps 200000 -- \\
        --num-envs 16 --num-steps 1024 --num-minibatches 256
    python benchmarks/speed.py --cleanrl path/to/cleanrl/ppo.py --repeats 3 -- --num-envs 4
    python benchmarks/speed.py --algo dqn --env-id CartPole-v1 --total-timesteps 60000 \\
        --cleanrl path/to/cleanrl/dqn.py --ours-only "--hidden-sizes 120 84" -- --learning-rate 2.5e-4 ...

Flags after `--` go to both scripts unchanged. Runs alternate (ours, CleanRL, ours, ...) so that
both see the same machine state; the table reports medians. Ours is run with --no-capture-video
and one evaluation episode, and its SPS is read from results.json (training only); CleanRL's is
the last `SPS:` line it prints. For PPO, the split of one training iteration into environment
stepping, policy inference and the update is measured in-process with the script's code paths.
"""

import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import torch

import hub_utils

REPO = Path(__file__).resolve().parents[1]
ppo = hub_utils.load_algorithm("ppo.py")


def raw_throughput(env_id, num_envs, steps=20_000):
    """Steps per second of the environment the script trains on, with random actions: ppo.py's
    vector env of num_envs copies, or dqn.py's single env (num_envs None)."""
    if num_envs is None:
        envs, num_envs = gym.wrappers.Autoreset(gym.make(hub_utils.resolve_env_id(env_id, quiet=True))), 1
    else:
        envs = ppo.make_vector_env(hub_utils.resolve_env_id(env_id, quiet=True), num_envs)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    actions = [envs.action_space.sample() for _ in range(steps // num_envs)]
    start = time.perf_counter()
    for action in actions:
        envs.step(action)
    return len(actions) * num_envs / (time.perf_counter() - start)


def time_split(args):
    """Seconds per iteration spent stepping the envs, running the policy, and updating."""
    torch.set_num_threads(1)
    envs = ppo.make_vector_env(hub_utils.resolve_env_id(args.env_id, quiet=True), args.num_envs)
    agent = ppo.build_agent(args, ppo.make_env(args))
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5, fused=True)
    next_obs, _ = envs.reset(seed=0)
    env_seconds = inference_seconds = 0.0
    batch_obs, batch_actions = [], []
    for _ in range(args.num_steps):
        start = time.perf_counter()
        with torch.inference_mode():
            obs = torch.as_tensor(next_obs, dtype=torch.float32)
            action, _, _ = agent.sample_action(obs)
        inference_seconds += time.perf_counter() - start
        batch_obs.append(obs)
        batch_actions.append(action)
        start = time.perf_counter()
        next_obs, *_ = envs.step(action.numpy())
        env_seconds += time.perf_counter() - start
    b_obs, b_actions = torch.cat(batch_obs), torch.cat(batch_actions)
    batch_size = len(b_obs)
    start = time.perf_counter()
    for _ in range(args.update_epochs):
        for minibatch in torch.randperm(batch_size).split(batch_size // args.num_minibatches):
            log_prob, entropy, value = agent.evaluate_actions(b_obs[minibatch], b_actions[minibatch])
            loss = -log_prob.mean() - args.ent_coef * entropy.mean() + args.vf_coef * 0.5 * (value**2).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
            optimizer.step()
    return env_seconds, inference_seconds, time.perf_counter() - start


def our_sps(algo, env_id, total_timesteps, flags):
    with tempfile.TemporaryDirectory() as cwd:
        subprocess.run([sys.executable, str(REPO / f"algorithms/{algo}.py"), "--env-id", env_id, "--total-timesteps",
                        str(total_timesteps), "--no-capture-video", "--eval-episodes", "1", *flags],
                       cwd=cwd, check=True, capture_output=True)
        (results,) = Path(cwd).glob("runs/*/results.json")
        return json.loads(results.read_text())["training"]["sps"]


def cleanrl_sps(script, env_id, total_timesteps, flags):
    flags = [word for flag in flags  # CleanRL spells `--no-anneal-lr` as `--anneal-lr False`
             for word in ([f"--{flag[5:]}", "False"] if flag.startswith("--no-") else [flag])]
    with tempfile.TemporaryDirectory() as cwd:
        output = subprocess.run([sys.executable, str(script), "--env-id", hub_utils.resolve_env_id(env_id, quiet=True),
                                 "--total-timesteps", str(total_timesteps), *flags],
                                cwd=cwd, check=True, capture_output=True, text=True).stdout
        return int(re.findall(r"SPS: (\d+)", output)[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["ppo", "dqn"], default="ppo", help="which script: algorithms/ALGO.py")
    parser.add_argument("--env-id", default="LunarLander-v2")
    parser.add_argument("--total-timesteps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each script")
    parser.add_argument("--cleanrl", type=Path, default=None, help="a copy of CleanRL's script to compare with")
    parser.add_argument("--ours-only", default="", metavar="FLAGS",
                        help="flags only our script has, in one quoted string (e.g. dqn.py's \"--hidden-sizes 120 84\")")
    parser.add_argument("flags", nargs="*", help="hyperparameter flags for both scripts (after --)")
    options = parser.parse_args()

    args = hub_utils.load_algorithm(f"{options.algo}.py").parse_args(["--env-id", options.env_id, *options.flags])
    raw = raw_throughput(options.env_id, args.num_envs if options.algo == "ppo" else None)
    ours, theirs = [], []
    for _ in range(options.repeats):
        ours.append(our_sps(options.algo, options.env_id, options.total_timesteps,
                            [*options.flags, *shlex.split(options.ours_only)]))
        if options.cleanrl:
            theirs.append(cleanrl_sps(options.cleanrl, options.env_id, options.total_timesteps, options.flags))

    print(f"# {options.algo}.py on {options.env_id}, {options.total_timesteps} steps, flags: "
          f"{' '.join(options.flags) or '(defaults)'}; ours only: {options.ours_only or '(none)'}")
    print("| measure | steps/s | ratio |\n| --- | --- | --- |")
    print(f"| raw environment, random actions | {raw:,.0f} | 1.00 |")
    print(f"| {options.algo}.py (median of {len(ours)}: {ours}) | {statistics.median(ours):,.0f} | "
          f"{statistics.median(ours) / raw:.2f} of raw |")
    if theirs:
        print(f"| CleanRL {options.algo}.py (median of {len(theirs)}: {theirs}) | {statistics.median(theirs):,.0f} | "
              f"ours / CleanRL = {statistics.median(ours) / statistics.median(theirs):.2f} |")
    if options.algo != "ppo":
        return
    env_s, inference_s, update_s = time_split(args)
    total = env_s + inference_s + update_s
    print(f"\n{args.num_envs} envs x {args.num_steps} steps, {args.num_minibatches} minibatches x "
          f"{args.update_epochs} epochs. One iteration ({args.num_envs * args.num_steps} steps): environment {env_s:.2f} s "
          f"({env_s / total:.0%}), policy inference {inference_s:.2f} s ({inference_s / total:.0%}), "
          f"update {update_s:.2f} s ({update_s / total:.0%})")


if __name__ == "__main__":
    main()
