"""Measurements for algorithms/ppo_atari.py that a training run does not print by itself.

    python benchmarks/ppo_atari_measure.py random-sps [--num-envs 8] [--env-threads 1] [--steps 20000]
        raw throughput of the same AtariVectorEnv as training (random actions, no network)
    python benchmarks/ppo_atari_measure.py random-score [--env-id BreakoutNoFrameskip-v4] [--episodes 10]
        random play's score with the same evaluation as a trained run (whole games, real score,
        the evaluation seeds of --seed 1)

A training run's own split of wall time (env / inference / update) is in its results.json
("training": env_s, inference_s, update_s). Results and dates: benchmarks/README.md, section
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


def random_score(args):
    env = ppo_atari.make_env(argparse.Namespace(env_id=args.env_id))
    rng = np.random.default_rng(args.seed)
    evaluation = hub_utils.evaluate(
        lambda obs: int(rng.integers(env.action_space.n)), env, hub_utils.eval_seeds(args.seed, args.episodes)
    )
    print(
        f"{args.env_id}: random play {evaluation.mean:.2f} +/- {evaluation.std:.2f} over {args.episodes} "
        f"whole games (result {evaluation.result:.2f}; lengths {evaluation.lengths})"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["random-sps", "random-score"])
    parser.add_argument("--env-id", default="BreakoutNoFrameskip-v4")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--env-threads", type=int, default=1, help="0: ale-py's choice")
    parser.add_argument("--steps", type=int, default=20_000, help="agent steps over all envs")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    {"random-sps": random_sps, "random-score": random_score}[args.what](args)


if __name__ == "__main__":
    main()
