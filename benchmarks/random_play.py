"""Random play: what a uniformly random policy scores with the same evaluation as a trained run of
any algorithm script, the baseline a trained policy must beat.

    python benchmarks/random_play.py --algo dqn_atari --env-id SpaceInvadersNoFrameskip-v4
    python benchmarks/random_play.py --algo ppo_atari --env-id BreakoutNoFrameskip-v4 --episodes 50
    python benchmarks/random_play.py --algo ppo_vizdoom --env-id doom_health_gathering_supreme
    python benchmarks/random_play.py --algo q_learning --env-id FrozenLake-v1 -- --is-slippery

The evaluation environment is the script's own: its make_env, built from its own parse_args with
the env id and the flags after `--` (so whole Atari games with the real score, the ViZDoom
scenario's reward, Taxi's fixed evaluation seeds, FrozenLake's map). The episodes use the
evaluation seeds a trained run with --seed uses, and the actions are drawn uniformly from the
action space by a generator seeded with --seed: the same command prints the same numbers.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import hub_utils

ALGORITHMS = Path(__file__).resolve().parents[1] / "algorithms"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--algo", required=True, help="script name without .py, e.g. dqn_atari")
    parser.add_argument("--env-id", required=True, help="the env id, as the script takes it")
    parser.add_argument("--episodes", type=int, default=None, help="default: the script's --eval-episodes")
    parser.add_argument("--seed", type=int, default=1, help="the run seed whose evaluation seeds are used")
    parser.add_argument("script_flags", nargs="*", metavar="-- FLAGS", help="more flags for the script")
    args = parser.parse_args(argv)
    if args.episodes is not None and args.episodes < 1:
        parser.error(f"--episodes {args.episodes}: needs at least 1")
    return args


def random_play(algo: str, env_id: str, seed: int = 1, episodes: int | None = None, flags=()):
    """Plays the script's evaluation with uniformly random actions; returns hub_utils' EvalResult."""
    module = hub_utils.load_algorithm(f"{algo}.py")
    script_args = ["--env-id", env_id, "--seed", str(seed), *flags]
    if episodes is not None:
        script_args += ["--eval-episodes", str(episodes)]
    args = module.parse_args(script_args)
    if hasattr(module, "evaluation_seeds"):  # q_learning.py: Taxi's fixed seeds
        seeds = module.evaluation_seeds(args)
    else:
        seeds = hub_utils.eval_seeds(args.seed, args.eval_episodes)
    env = module.make_env(args)
    env.action_space.seed(seed)

    def random_action(observation):  # among the legal actions where the observation names them
        legal = observation.get("action_mask") if isinstance(observation, dict) else None
        return env.action_space.sample(mask=None if legal is None else legal.astype(np.int8))

    return hub_utils.evaluate(random_action, env, seeds)


def main(argv=None) -> int:
    args = parse_args(argv)
    known = sorted(path.stem for path in ALGORITHMS.glob("*.py"))
    if args.algo not in known:
        sys.exit(f"error: unknown --algo {args.algo!r} (known: {', '.join(known)})")
    try:
        evaluation = random_play(args.algo, args.env_id, args.seed, args.episodes, args.script_flags)
    except hub_utils.UserError as error:  # an env the script cannot play: its own one-line message
        print(f"error: {error}", file=sys.stderr)
        return 2
    lengths = f"{min(evaluation.lengths)}-{max(evaluation.lengths)}"
    print(
        f"{args.algo}.py's evaluation of {args.env_id}, uniformly random actions: "
        f"{evaluation.mean:.2f} +/- {evaluation.std:.2f} over {len(evaluation.returns)} episodes "
        f"(result {evaluation.result:.2f}; episode lengths {lengths})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
