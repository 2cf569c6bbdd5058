"""How often a trained policy passes a bar on the course's metric, mean - std of ten evaluation episodes
(benchmarks/HISTORY.md, "Pixelcopter on seeds 1-20"): ten episodes are one draw of a noisy number, so each
run folder's policy is re-evaluated on --episodes episodes (the first ten are its own evaluation, on the
same seeds) and the chance that ten of them pass is estimated two ways: the disjoint blocks of ten that
pass, and a bootstrap of ten episodes drawn from all of them.

    python benchmarks/experiments/pass_probability.py runs/Pixelcopter-PLE-v0__reinforce__* --bar 5
    python benchmarks/experiments/pass_probability.py --exponential 50 100 200 1000 --bar 5

--exponential draws the returns from an exponential distribution of each given mean instead: what a
policy whose risk of ending the episode is the same at every moment scores, however good it is.
"""

import argparse
import contextlib
import io
from pathlib import Path

import numpy as np

import hub_utils

TEN = 10  # the course's evaluation episodes


def bootstrap_pass(returns: np.ndarray, bar: float, draws: int, rng: np.random.Generator) -> float:
    """The share of ten-episode samples (with replacement) whose mean - std reaches the bar."""
    samples = rng.choice(returns, (draws, TEN))
    return float((samples.mean(1) - samples.std(1) >= bar).mean())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="*", type=Path, help="run folders of any script here")
    parser.add_argument("--bar", type=float, required=True, help="the course's bar on mean - std")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes a policy")
    parser.add_argument("--draws", type=int, default=200_000, help="bootstrap samples of ten episodes")
    parser.add_argument("--exponential", type=float, nargs="*", default=[], help="means to simulate")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for mean in args.exponential:
        chance = bootstrap_pass(rng.exponential(mean, 1_000_000), args.bar, args.draws, rng)
        print(f"exponential returns of mean {mean:g}: ten episodes pass {chance:.3f} of the time")
    print("| run | result, 10 episodes | mean +/- std, all | blocks of 10 that pass | bootstrap P(pass) |")
    print("|---|---|---|---|---|")
    for run in args.runs:
        with contextlib.redirect_stdout(io.StringIO()):  # enjoy's own summary line would split the table
            returns = np.array(hub_utils.enjoy(run, eval_episodes=args.episodes).returns)
        first = returns[:TEN].mean() - returns[:TEN].std()
        blocks = returns[: len(returns) // TEN * TEN].reshape(-1, TEN)
        passed = int((blocks.mean(1) - blocks.std(1) >= args.bar).sum())
        chance = bootstrap_pass(returns, args.bar, args.draws, rng)
        print(
            f"| {run.name} | {first:.2f} | {returns.mean():.2f} +/- {returns.std():.2f} | "
            f"{passed}/{len(blocks)} | {chance:.2f} |"
        )


if __name__ == "__main__":
    main()
