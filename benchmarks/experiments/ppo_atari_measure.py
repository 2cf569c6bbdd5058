"""Measurements for algorithms/ppo_atari.py that a training run does not print by itself.

    python benchmarks/experiments/ppo_atari_measure.py random-sps [--num-envs 8] [--env-threads 1] \\
        [--steps 20000]
        raw throughput of the same AtariVectorEnv as training (random actions, no network)

Random play's score with the same evaluation as a trained run:
`python benchmarks/random_play.py --algo ppo_atari --env-id BreakoutNoFrameskip-v4`.

A training run's own split of wall time (env / inference / update) is in its results.json
("training": env_s, inference_s, update_s). Results and dates: benchmarks/HISTORY.md, section
"PPO on Atari".
"""

import argparse
import time

import numpy as np

import hub_utils

ppo_atari = hub_utils.load_algorithm("ppo_atari.py")


def random_sps(args):
    envs = ppo_atari.make_vector_env(args.env_id, args.num_envs, training=True, env_threads=args.env_threads)
    envs.reset(seed=1)
    rng = np.random.default_rng(1)
    n_actions = envs.single_action_space.n
    actions = rng.integers(n_actions, size=(args.steps // args.num_envs, args.num_envs))
    start = time.perf_counter()
    for action in actions:
        envs.step(action)
    seconds = time.perf_counter() - start
    envs.close()
    steps = actions.size
    print(
        f"{args.env_id}: {args.num_envs} envs, env_threads {args.env_threads}: {steps} agent steps in "
        f"{seconds:.1f} s = {steps / seconds:.0f} steps/s ({4 * steps / seconds:.0f} frames/s), "
        "random actions"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["random-sps"])
    parser.add_argument("--env-id", default="BreakoutNoFrameskip-v4")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--env-threads", type=int, default=1, help="0: ale-py's choice")
    parser.add_argument("--steps", type=int, default=20_000, help="agent steps over all envs")
    args = parser.parse_args()
    random_sps(args)


if __name__ == "__main__":
    main()
