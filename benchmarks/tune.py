"""Hyperparameter search over any algorithm script's flags: Ray Tune, Optuna, ASHA early stopping.

    python benchmarks/tune.py --algo ppo --env-id CartPole-v1 --total-timesteps 100000 --num-samples 20
    python benchmarks/tune.py --algo dqn --env-id CartPole-v1 --total-timesteps 50000 \\
        --param learning-rate=loguniform:1e-4:1e-3 --param train-frequency=choice:1:4:10 -- --double-dqn

Each trial runs the unchanged script (`python algorithms/<algo>.py --env-id E --seed S
--total-timesteps T <sampled flags> <flags after -->`) with one CPU. While it trains, the mean
return of its last 10 training episodes (read live from its TensorBoard log) is reported to Tune
against its environment steps, and ASHA stops the trials that trail the others at the same step
count (first decision after --grace-steps). Optuna's TPE proposes each new trial's flags from the
finished ones. Trials that reach the end are then scored like any run: by their evaluation result
(mean - std of the deterministic policy, results.json); the best one's flags are printed as a
ready-to-run command and saved in <out>/best.json with a table of all trials in <out>/trials.md.

--param NAME=KIND:ARGS, repeatable; KIND is loguniform:LOW:HIGH, uniform:LOW:HIGH,
randint:LOW:HIGH (HIGH excluded) or choice:A:B:... (numbers or words). Without --param, the
algorithm's default search space below is used. Locally Ray uses this machine's cores
(--num-cpus); --address runs the trials on an existing cluster (nodes need this repository at the
same path; with token authentication, set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN as for run.py).
Needs `pip install -r requirements-benchmarks.txt`.
"""

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

import jobs

BENCHMARKS = Path(__file__).resolve().parent

# Search spaces used when no --param is given: the flags that matter most, in ranges around the
# published settings (CleanRL, RL Zoo).
DEFAULT_SPACES = {
    "ppo": [
        "learning-rate=loguniform:1e-4:1e-3",
        "ent-coef=uniform:0:0.02",
        "gae-lambda=choice:0.9:0.95:0.98",
        "clip-coef=choice:0.1:0.2:0.3",
        "update-epochs=choice:4:8:10",
    ],
    "a2c": [
        "learning-rate=loguniform:1e-4:3e-3",
        "ent-coef=uniform:0:0.02",
        "gae-lambda=choice:0.9:0.95:1.0",
        "num-steps=choice:5:8:16",
    ],
    "dqn": [
        "learning-rate=loguniform:1e-4:1e-3",
        "exploration-fraction=uniform:0.05:0.5",
        "target-network-frequency=choice:250:500:1000",
        "train-frequency=choice:1:4:10",
    ],
    "reinforce": [
        "learning-rate=loguniform:1e-4:1e-2",
        "gamma=choice:0.95:0.99:0.999",
        "hidden-size=choice:16:32:64",
    ],
    "q_learning": [
        "learning-rate=uniform:0.1:1.0",
        "gamma=choice:0.9:0.95:0.99",
        "min-epsilon=uniform:0.01:0.3",
    ],
}
SMOOTHING_EPISODES = 10  # the reported metric: mean return of the last this many training episodes


def number_or_word(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_param(spec: str):
    """'learning-rate=loguniform:1e-4:1e-3' -> ('learning-rate', tune.loguniform(1e-4, 1e-3))."""
    from ray import tune

    kinds = {"loguniform": tune.loguniform, "uniform": tune.uniform, "randint": tune.randint}
    name, _, distribution = spec.partition("=")
    kind, *values = distribution.split(":")
    if not name or kind not in (*kinds, "choice") or not values:
        raise ValueError(
            f"--param {spec!r}: expected NAME=KIND:ARGS with KIND one of "
            f"{', '.join([*kinds, 'choice'])}, e.g. learning-rate=loguniform:1e-4:1e-3"
        )
    if kind == "choice":
        return name, tune.choice([number_or_word(value) for value in values])
    if len(values) != 2:
        raise ValueError(f"--param {spec!r}: {kind} takes LOW:HIGH")
    low, high = (number_or_word(value) for value in values)
    return name, kinds[kind](low, high)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--algo", required=True, help=f"script name without .py ({', '.join(DEFAULT_SPACES)})"
    )
    parser.add_argument("--env-id", required=True, help="the environment to tune on")
    parser.add_argument("--total-timesteps", type=int, required=True, help="training steps of each trial")
    parser.add_argument(
        "--param",
        action="append",
        default=None,
        metavar="NAME=KIND:ARGS",
        help="a flag to search (repeatable); default: the algorithm's space in DEFAULT_SPACES",
    )
    parser.add_argument("--num-samples", type=int, default=16, help="trials in all")
    parser.add_argument(
        "--grace-steps",
        type=int,
        default=None,
        help="environment steps before ASHA may stop a trial (default: a quarter of the budget)",
    )
    parser.add_argument("--seed", type=int, default=1, help="every trial's --seed, and Optuna's sampler seed")
    parser.add_argument("--address", default=None, help="an existing Ray cluster (host:port); default: local")
    parser.add_argument("--num-cpus", type=int, default=None, help="local Ray's CPUs, i.e. trials at once")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where trials and best.json go (default: benchmarks/tune/<algo>-<env id>)",
    )
    parser.add_argument("script_flags", nargs="*", metavar="-- FLAGS", help="fixed flags for every trial")
    args = parser.parse_args(argv)
    jobs.check_algorithm(args.algo)
    if args.param is None and args.algo not in DEFAULT_SPACES:
        parser.error(f"no default search space for {args.algo}: give --param")
    for flag in ("total_timesteps", "num_samples"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1")
    try:
        args.space = dict(parse_param(spec) for spec in (args.param or DEFAULT_SPACES[args.algo]))
    except ValueError as error:
        parser.error(str(error))
    args.grace_steps = args.grace_steps or max(1, args.total_timesteps // 4)
    args.out = (args.out or BENCHMARKS / "tune" / f"{args.algo}-{args.env_id.replace('/', '-')}").resolve()
    return args


def trial_flags(config: dict, total_timesteps: int, fixed: list[str]) -> list[str]:
    flags = ["--total-timesteps", str(total_timesteps)]
    for name, value in config.items():
        flags += [f"--{name}", str(value)]
    return flags + fixed


def make_trainable(args):
    """The function Tune runs once per trial: the script as a subprocess, its curve reported live."""
    algo, env_id, seed, total, fixed, out = (
        args.algo,
        args.env_id,
        args.seed,
        args.total_timesteps,
        args.script_flags,
        args.out,
    )

    def trainable(config):
        from ray import tune

        def report_curve(curve):
            recent = [value for _, value in curve[-SMOOTHING_EPISODES:]]
            tune.report({"global_step": int(curve[-1][0]), "episodic_return": statistics.mean(recent)})

        workdir = out / "trials" / tune.get_context().get_trial_id()
        record = jobs.run_training(
            algo, env_id, seed, trial_flags(config, total, fixed), workdir, report_curve
        )
        (workdir / "record.json").write_text(json.dumps(record, indent=1))
        if record["status"] != "ok":
            raise RuntimeError(f"{record['command']} failed: {record['error']}")
        final = [value for _, value in record["curve"][-SMOOTHING_EPISODES:]] or [float("nan")]
        tune.report(
            {
                "global_step": total,
                "episodic_return": statistics.mean(final),
                "eval_result": record["results"]["result"],
                "eval_mean": record["results"]["mean_reward"],
            }
        )

    return trainable


def print_trial(trial) -> None:
    """One line per trial as it ends: its flags and how far it got (Tune's own table stays off)."""
    metrics = trial.last_result or {}
    outcome = (
        f"eval result {metrics['eval_result']:.2f}"
        if "eval_result" in metrics
        else f"stopped at step {metrics.get('global_step')}"
        if trial.status == "TERMINATED"
        else trial.status
    )
    flags = " ".join(
        f"--{name} {value:.4g}" if isinstance(value, float) else f"--{name} {value}"
        for name, value in trial.config.items()
    )
    print(
        f"trial {trial.trial_id}: last 10 episodes {metrics.get('episodic_return', float('nan')):.2f}, "
        f"{outcome}: {flags}",
        flush=True,
    )


def main(argv=None):
    args = parse_args(argv)
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    class PrintTrials(tune.Callback):
        def on_trial_complete(self, iteration, trials, trial, **info):
            print_trial(trial)

        def on_trial_error(self, iteration, trials, trial, **info):
            print_trial(trial)

    if args.address:
        ray.init(address=args.address, log_to_driver=False)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(jobs)
    tuner = tune.Tuner(
        tune.with_resources(make_trainable(args), {"cpu": 1}),
        param_space=args.space,
        tune_config=tune.TuneConfig(
            metric="episodic_return",
            mode="max",
            num_samples=args.num_samples,
            search_alg=OptunaSearch(seed=args.seed),
            scheduler=ASHAScheduler(
                time_attr="global_step",
                max_t=args.total_timesteps,
                grace_period=args.grace_steps,
                reduction_factor=3,
            ),
        ),
        run_config=tune.RunConfig(
            name="tune", storage_path=str(args.out), verbose=0, callbacks=[PrintTrials()]
        ),
    )
    grid = tuner.fit()
    ray.shutdown()

    trials = []
    for result in grid:
        metrics = result.metrics or {}
        trials.append(
            dict(
                config=result.config,
                error=str(result.error).splitlines()[0] if result.error else None,
                global_step=metrics.get("global_step"),
                episodic_return=metrics.get("episodic_return"),
                eval_result=metrics.get("eval_result"),
                eval_mean=metrics.get("eval_mean"),
            )
        )
    finished = [trial for trial in trials if trial["eval_result"] is not None]
    if not finished:
        sys.exit(f"error: no trial finished; see {args.out / 'trials'}/*/log.txt")
    best = max(finished, key=lambda trial: trial["eval_result"])
    command = [
        "python",
        *jobs.training_command(
            args.algo,
            args.env_id,
            args.seed,
            trial_flags(best["config"], args.total_timesteps, args.script_flags),
        ),
    ]
    best.update(
        command=shlex.join(command),
        invocation=shlex.join(
            ["python", "benchmarks/tune.py", *(argv if argv is not None else sys.argv[1:])]
        ),
    )
    (args.out / "best.json").write_text(json.dumps(best, indent=1))
    (args.out / "trials.md").write_text(trials_table(trials, best))
    print(trials_table(trials, best))
    print(f"\nbest (eval result {best['eval_result']:.2f}):\n{best['command']}")
    return 0


def trials_table(trials: list[dict], best: dict) -> str:
    names = sorted({name for trial in trials for name in trial["config"]})
    lines = [
        "| " + " | ".join([*names, "steps trained", "last 10 episodes", "eval result", ""]) + " |",
        "|" + "---|" * (len(names) + 4),
    ]
    for trial in sorted(trials, key=lambda t: -(t["eval_result"] if t["eval_result"] is not None else -1e18)):
        status = (
            "best"
            if trial is best
            else ("error" if trial["error"] else "stopped by ASHA" if trial["eval_result"] is None else "")
        )
        cells = [
            f"{trial['config'].get(name):.4g}"
            if isinstance(trial["config"].get(name), float)
            else str(trial["config"].get(name))
            for name in names
        ]
        cells += [
            str(trial["global_step"]),
            "-" if trial["episodic_return"] is None else f"{trial['episodic_return']:.2f}",
            "-" if trial["eval_result"] is None else f"{trial['eval_result']:.2f}",
            status,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
