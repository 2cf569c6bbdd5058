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
stepping, policy inference, the rest of the rollout and the update is measured by running the
script's main() in-process with those parts timed.
"""

import argparse
import contextlib
import io
import json
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import gymnasium as gym

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


def time_split(env_id, flags, min_steps=40_000):
    """Seconds per iteration that ppo.py's own training loop spends stepping the environments, in
    policy inference (NumpyAgent: normalization, sampling, values), in the rest of the rollout
    (storage, bookkeeping, logging) and in the update (from GAE to the end of the iteration). main()
    runs in-process with those calls timed; the first iteration (setup, warm-up) is left out, the
    next ones, 3 or more to cover min_steps steps, are averaged."""
    args = ppo.parse_args(["--env-id", env_id, *flags])
    batch_size = args.num_envs * args.num_steps
    iterations = max(3, -(-min_steps // batch_size))
    seconds = {"environment": 0.0, "inference": 0.0}
    marks = []  # (clock, seconds so far) where each update starts (compute_gae) and ends (progress.update)
    timing = set()  # the parts being timed now: a call inside another (sample_action's value) counts once

    def timed(function, part):
        def wrapper(*args, **kwargs):
            if part in timing:
                return function(*args, **kwargs)
            timing.add(part)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[part] += time.perf_counter() - start
                timing.discard(part)

        return wrapper

    def marked(function):
        def wrapper(*args, **kwargs):
            marks.append((time.perf_counter(), dict(seconds)))
            return function(*args, **kwargs)

        return wrapper

    def make_vector_env(*args, **kwargs):
        envs = original_make_vector_env(*args, **kwargs)
        envs.step = timed(envs.step, "environment")
        return envs

    original_make_vector_env = ppo.make_vector_env
    argv = [
        "ppo.py",
        "--env-id",
        env_id,
        "--total-timesteps",
        str((iterations + 1) * batch_size),
        "--no-capture-video",
        "--eval-episodes",
        "1",
        *flags,
    ]
    patches = [
        (ppo, "make_vector_env", make_vector_env),
        (ppo, "compute_gae", marked(ppo.compute_gae)),
        (hub_utils.Progress, "update", marked(hub_utils.Progress.update)),
        (sys, "argv", argv),
    ]
    patches += [
        (ppo.NumpyAgent, name, timed(getattr(ppo.NumpyAgent, name), "inference"))
        for name in ("normalize", "sample_action", "value")
    ]
    signal_handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    with contextlib.ExitStack() as stack:
        for owner, name, replacement in patches:
            stack.enter_context(mock.patch.object(owner, name, replacement))
        stack.enter_context(contextlib.chdir(stack.enter_context(tempfile.TemporaryDirectory())))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        ppo.main()
    for signum, handler in signal_handlers.items():  # main() installed its own
        signal.signal(signum, handler)
    (start, at_start), (end, at_end) = marks[1], marks[-1]  # the end of the first iteration, of the last
    update = sum(
        update_end - update_start for (update_start, _), (update_end, _) in zip(marks[2::2], marks[3::2])
    )
    environment, inference = (at_end[part] - at_start[part] for part in ("environment", "inference"))
    split = {
        "environment": environment,
        "inference": inference,
        "rest of the rollout": end - start - update - environment - inference,
        "update": update,
    }
    return {part: value / iterations for part, value in split.items()}


def our_sps(algo, env_id, total_timesteps, flags):
    with tempfile.TemporaryDirectory() as cwd:
        subprocess.run(
            [
                sys.executable,
                str(REPO / f"algorithms/{algo}.py"),
                "--env-id",
                env_id,
                "--total-timesteps",
                str(total_timesteps),
                "--no-capture-video",
                "--eval-episodes",
                "1",
                *flags,
            ],
            cwd=cwd,
            check=True,
            capture_output=True,
        )
        (results,) = Path(cwd).glob("runs/*/results.json")
        return json.loads(results.read_text())["training"]["sps"]


def cleanrl_sps(script, env_id, total_timesteps, flags):
    flags = [
        word
        for flag in flags  # CleanRL spells `--no-anneal-lr` as `--anneal-lr False`
        for word in ([f"--{flag[5:]}", "False"] if flag.startswith("--no-") else [flag])
    ]
    with tempfile.TemporaryDirectory() as cwd:
        output = subprocess.run(
            [
                sys.executable,
                str(script),
                "--env-id",
                hub_utils.resolve_env_id(env_id, quiet=True),
                "--total-timesteps",
                str(total_timesteps),
                *flags,
            ],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return int(re.findall(r"SPS: (\d+)", output)[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--algo", choices=["ppo", "dqn"], default="ppo", help="which script: algorithms/ALGO.py"
    )
    parser.add_argument("--env-id", default="LunarLander-v2")
    parser.add_argument("--total-timesteps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each script")
    parser.add_argument(
        "--cleanrl", type=Path, default=None, help="a copy of CleanRL's script to compare with"
    )
    parser.add_argument(
        "--ours-only",
        default="",
        metavar="FLAGS",
        help='flags only our script has, in one quoted string (e.g. dqn.py\'s "--hidden-sizes 120 84")',
    )
    parser.add_argument("flags", nargs="*", help="hyperparameter flags for both scripts (after --)")
    options = parser.parse_args()

    args = hub_utils.load_algorithm(f"{options.algo}.py").parse_args(
        ["--env-id", options.env_id, *options.flags]
    )
    raw = raw_throughput(options.env_id, args.num_envs if options.algo == "ppo" else None)
    ours, theirs = [], []
    for _ in range(options.repeats):
        ours.append(
            our_sps(
                options.algo,
                options.env_id,
                options.total_timesteps,
                [*options.flags, *shlex.split(options.ours_only)],
            )
        )
        if options.cleanrl:
            theirs.append(
                cleanrl_sps(options.cleanrl, options.env_id, options.total_timesteps, options.flags)
            )

    print(
        f"# {options.algo}.py on {options.env_id}, {options.total_timesteps} steps, flags: "
        f"{' '.join(options.flags) or '(defaults)'}; ours only: {options.ours_only or '(none)'}"
    )
    print("| measure | steps/s | ratio |\n| --- | --- | --- |")
    print(f"| raw environment, random actions | {raw:,.0f} | 1.00 |")
    print(
        f"| {options.algo}.py (median of {len(ours)}: {ours}) | {statistics.median(ours):,.0f} | "
        f"{statistics.median(ours) / raw:.2f} of raw |"
    )
    if theirs:
        print(
            f"| CleanRL {options.algo}.py (median of {len(theirs)}: {theirs}) | "
            f"{statistics.median(theirs):,.0f} | "
            f"ours / CleanRL = {statistics.median(ours) / statistics.median(theirs):.2f} |"
        )
    if options.algo != "ppo":
        return
    split = time_split(options.env_id, options.flags)
    total = sum(split.values())
    print(
        f"\n{args.num_envs} envs x {args.num_steps} steps, {args.num_minibatches} minibatches x "
        f"{args.update_epochs} epochs. One iteration ({args.num_envs * args.num_steps} steps) of ppo.py's "
        "training "
        f"loop, {total * 1000:.0f} ms: "
        + ", ".join(f"{part} {value * 1000:.1f} ms ({value / total:.0%})" for part, value in split.items())
    )


if __name__ == "__main__":
    main()
