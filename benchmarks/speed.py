"""Training speed of an algorithm script against the raw speed of its environment, and against
CleanRL's script of the same algorithm at identical hyperparameters when a copy of it is given.

    python benchmarks/speed.py --env-id LunarLander-v2 --total-timesteps 200000 -- \\
        --num-envs 16 --num-steps 1024 --num-minibatches 256
    python benchmarks/speed.py --cleanrl path/to/cleanrl/ppo.py --repeats 3 -- --num-envs 4
    python benchmarks/speed.py --algo dqn --env-id CartPole-v1 --total-timesteps 60000 \\
        --cleanrl path/to/cleanrl/dqn.py --ours-only "--hidden-sizes 120 84" -- --learning-rate 2.5e-4 ...

It also prints the training wall time as a multiple of the time the bare environment takes for as
many random-action steps (gymnasium's single-process vector env of --num-envs copies), measured in
the same sitting: the time-to-the-course-bar issue's ratio, comparable across machines.

Flags after `--` go to both scripts unchanged. Runs alternate (ours, CleanRL, ours, ...) so that
both see the same machine state; the table reports medians. Ours is run with --no-capture-video
and one evaluation episode, and its SPS is read from results.json (training only); CleanRL's is
the last `SPS:` line it prints. Then the script's training loop is profiled by sampling (see
time_split): the share of CPU time in each of its numbered steps, and in the environment.
"""

import argparse
import ast
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


def raw_throughput(env_id, num_envs, steps=20_000):
    """Steps per second of the bare environment with random actions: gymnasium's single-process vector
    env of num_envs copies (what ppo.py steps), or one env (num_envs None, as dqn.py steps it)."""
    env_id = hub_utils.resolve_env_id(env_id, quiet=True)
    if num_envs is None:
        envs, num_envs = gym.wrappers.Autoreset(gym.make(env_id)), 1
    else:
        envs = gym.vector.SyncVectorEnv(
            [lambda: gym.make(env_id)] * num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
        )
    envs.reset(seed=0)
    envs.action_space.seed(0)
    actions = [envs.action_space.sample() for _ in range(steps // num_envs)]
    start = time.perf_counter()
    for action in actions:
        envs.step(action)
    return len(actions) * num_envs / (time.perf_counter() - start)


def story_steps(script_path):
    """The numbered steps of a script's training loop, from its own comments ("# 1. Collect ..."):
    [(first line, label)], and the loop's last line. Nothing else about the script is assumed."""
    source = script_path.read_text()
    markers = [
        (number, match.group(1).strip())
        for number, line in enumerate(source.splitlines(), start=1)
        if (match := re.match(r"\s*# (\d+\. .*)", line))
    ]
    loops = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.For, ast.While)) and node.lineno < markers[0][0] <= node.end_lineno
    ]
    loop = min(loops, key=lambda node: node.end_lineno - node.lineno)  # the innermost loop holding step 1
    labels = [re.split(r"[,;:(]| with ", label)[0].strip(" .") for _, label in markers]
    return [(number, label) for (number, _), label in zip(markers, labels)], loop.lineno, loop.end_lineno


def time_split(algo, env_id, flags, min_steps=40_000, interval=0.0005):
    """Where a script's training loop spends its CPU time, by sampling: main() runs in-process while
    a profiling timer interrupts it every `interval` seconds of CPU time; each sample is attributed
    to the numbered step of the loop that main() is executing (its current line) and, within it,
    to the environment when gymnasium's code is on the stack. No function of the script is replaced,
    so renaming one changes nothing here. Returns {part: share of the loop's samples}."""
    module = hub_utils.load_algorithm(f"{algo}.py")
    script_path = Path(module.__file__).resolve()
    steps, loop_start, loop_end = story_steps(script_path)
    gymnasium_dir = str(Path(gym.__file__).parent)
    counts = {}

    def sample(signum, frame):
        stack, main_line = [], None
        while frame is not None:
            stack.append(frame.f_code.co_filename)
            if frame.f_code.co_name == "main" and frame.f_code.co_filename == str(script_path):
                main_line = frame.f_lineno
            frame = frame.f_back
        if main_line is None or not loop_start <= main_line <= loop_end:
            return
        label = "loop bookkeeping"
        for first_line, step_label in steps:
            if main_line >= first_line:
                label = step_label
        in_env = any(filename.startswith(gymnasium_dir) for filename in stack)
        part = f"{label} / environment" if in_env else label
        counts[part] = counts.get(part, 0) + 1

    argv = [f"{algo}.py", "--env-id", env_id, "--total-timesteps", str(min_steps), "--no-capture-video"]
    argv += ["--eval-episodes", "1", *flags]
    signal_handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(sys, "argv", argv))
        stack.enter_context(contextlib.chdir(stack.enter_context(tempfile.TemporaryDirectory())))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        signal.signal(signal.SIGPROF, sample)
        signal.setitimer(signal.ITIMER_PROF, interval, interval)
        try:
            module.main()
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0, 0)
    for signum, handler in signal_handlers.items():  # main() installed its own
        signal.signal(signum, handler)
    total = sum(counts.values())
    return {part: count / total for part, count in sorted(counts.items())}


def our_training(algo, env_id, total_timesteps, flags):
    """results.json's "training" of one run of our script: sps, wall_time_s (the training loop alone)."""
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
        return json.loads(results.read_text())["training"]


def cleanrl_sps(script, env_id, total_timesteps, flags):
    """CleanRL's own last `SPS:` line; its tyro flags spell booleans as ours do (--x / --no-x)."""
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
        "--algo", choices=["ppo", "dqn", "ppo_rnd"], default="ppo", help="which script: algorithms/ALGO.py"
    )
    parser.add_argument("--env-id", default="LunarLander-v2")
    parser.add_argument("--total-timesteps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each script")
    parser.add_argument(
        "--bare-steps",
        type=int,
        default=None,
        help="random steps of the bare env (default: --total-timesteps)",
    )
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
    num_envs = args.num_envs if options.algo in ("ppo", "ppo_rnd") else None
    bare_steps = options.bare_steps or options.total_timesteps
    raw = raw_throughput(options.env_id, num_envs, bare_steps)
    ours, walls, theirs = [], [], []
    for _ in range(options.repeats):
        training = our_training(
            options.algo,
            options.env_id,
            options.total_timesteps,
            [*options.flags, *shlex.split(options.ours_only)],
        )
        ours.append(training["sps"])
        walls.append(training["wall_time_s"])
        if options.cleanrl:
            theirs.append(
                cleanrl_sps(options.cleanrl, options.env_id, options.total_timesteps, options.flags)
            )

    print(
        f"# {options.algo}.py on {options.env_id}, {options.total_timesteps} steps, flags: "
        f"{' '.join(options.flags) or '(defaults)'}; ours only: {options.ours_only or '(none)'}"
    )
    print("| measure | steps/s | ratio |\n| --- | --- | --- |")
    print(f"| raw environment, random actions ({bare_steps:,} steps) | {raw:,.0f} | 1.00 |")
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
    bare_seconds = options.total_timesteps / raw
    print(
        f"\nTraining wall time for {options.total_timesteps:,} steps (median of {walls} s): "
        f"{statistics.median(walls):.1f} s; the bare environment ({num_envs or 1} copies, one process, "
        f"random actions) takes {bare_seconds:.1f} s for as many steps: "
        f"**{statistics.median(walls) / bare_seconds:.2f}x** the bare environment's time"
    )
    split = time_split(options.algo, options.env_id, [*options.flags, *shlex.split(options.ours_only)])
    print(
        f"\nShare of {options.algo}.py's training loop (sampled CPU time), by the loop's numbered steps: "
        + ", ".join(f"{part} {share:.0%}" for part, share in split.items())
    )


if __name__ == "__main__":
    main()
