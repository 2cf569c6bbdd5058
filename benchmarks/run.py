"""Run an algorithm script over env ids x seeds on Ray, collect every run, write the tables and plots.

    python benchmarks/run.py --algo ppo --env-ids CartPole-v1 LunarLander-v2 --seeds 1 2 3 4 5
    python benchmarks/run.py --algo dqn --env-ids CartPole-v1 --seeds 1 2 -- --total-timesteps 100000
    python benchmarks/run.py --algo ppo --env-ids LunarLander-v2 --address 10.0.0.1:6379   # a Ray cluster

Each (env id, seed) is one Ray task that runs the unchanged script as a subprocess
(`python algorithms/<algo>.py --env-id E --seed S <flags after -->`) with one CPU and one torch
thread. Locally Ray starts on this machine's cores (--num-cpus); with --address the same tasks go
to an existing cluster, whose nodes need this repository at the same path and its requirements
(a cluster with token authentication, `ray start`'s default, also needs RAY_AUTH_MODE=token and
its RAY_AUTH_TOKEN in the environment).

Every run leaves its record, committed with the tables it feeds:
benchmarks/records/<algo>/<env id>/<code digest>/seed-<S>.json (what it scored, its learning curve,
its command, args, code digests, date, machine and wall time, or why it failed; the code digest
covers the script and every first-party module it imports). The script's run folder and log stay
under benchmarks/runs/ (not committed). Re-running the same command skips runs finished with the
same command and the same code, and re-runs failed ones; a run of new code gets a record of its own
beside the old one, so both stay. Then benchmarks/results/<algo>.md and its plots, and the summary
of every algorithm, benchmarks/results/README.md, are rewritten from the committed records
(report.py). The exit status is 1 if any run failed (the failure is in the tables, not dropped).

--import-runs adds finished run folders made earlier by hand (e.g. runs/LunarLander-v2__ppo__1__...)
as records, with the command that made them (from their args.json) and the digest of the code
copies the folder holds, so their results sit in the same tables.
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import jobs
import report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--algo", required=True, help=f"script name without .py ({', '.join(jobs.known_algorithms())})"
    )
    parser.add_argument("--env-ids", nargs="+", default=[], help="gymnasium ids to train on")
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5], help="one run per seed and env id"
    )
    parser.add_argument("--address", default=None, help="an existing Ray cluster (host:port); default: local")
    parser.add_argument(
        "--num-cpus",
        type=int,
        default=None,
        help="local Ray's CPUs, i.e. runs at once (default: this machine's cores)",
    )
    parser.add_argument(
        "--runs-dir", type=Path, default=report.RUNS, help="run folders and logs (not committed)"
    )
    parser.add_argument(
        "--records-dir", type=Path, default=report.RECORDS, help="where the records go (committed)"
    )
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS, help="tables and plots")
    parser.add_argument(
        "--import-runs",
        nargs="+",
        type=Path,
        default=[],
        metavar="RUN_DIR",
        help="finished run folders of this algo to add as records",
    )
    parser.add_argument(
        "script_flags", nargs="*", metavar="-- FLAGS", help="flags for every run of the script"
    )
    args = parser.parse_args(argv)
    jobs.check_algorithm(args.algo)
    if not args.env_ids and not args.import_runs:
        parser.error("give --env-ids to run, or --import-runs, or both")
    return args


def job_dir(runs_dir: Path, algo: str, env_id: str, seed: int, code: str, flags: list[str]) -> Path:
    """Where a run's folder and log go (not committed); a variant's (an ablation's) beside the default's."""
    suffix = report.record_path(
        Path(), dict(algo=algo, env_id=env_id, seed=seed, code=code, flags=flags)
    ).stem
    return runs_dir / algo / env_id.replace("/", "-") / code / suffix


def is_finished(record_path: Path, command: str, code: str) -> bool:
    if not record_path.is_file():
        return False
    record = json.loads(record_path.read_text())
    return record["status"] == "ok" and record["command"] == command and record.get("code") == code


def import_runs(args, invocation: str) -> None:
    for run_dir in args.import_runs:
        if not (run_dir / "results.json").is_file():
            sys.exit(f"error: --import-runs {run_dir}: no results.json there (not a finished run folder)")
        record = jobs.record_from_run_dir(run_dir.resolve())
        if record["algo"] != args.algo:
            sys.exit(f"error: --import-runs {run_dir} is a {record['algo']} run, not {args.algo}")
        record["imported"], record["launched_by"] = True, invocation
        target = report.record_path(args.records_dir, record)
        report.write_record(target, record)
        print(f"imported {run_dir} as {target}")


def main(argv=None):
    args = parse_args(argv)
    args.runs_dir, args.records_dir = args.runs_dir.resolve(), args.records_dir.resolve()
    invocation = shlex.join(["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])
    import_runs(args, invocation)

    todo, code = [], jobs.code_version(args.algo)
    for env_id in args.env_ids:
        for seed in args.seeds:
            command = shlex.join(
                ["python", *jobs.training_command(args.algo, env_id, seed, args.script_flags)]
            )
            record_path = report.record_path(
                args.records_dir,
                dict(algo=args.algo, env_id=env_id, seed=seed, code=code, flags=args.script_flags),
            )
            if is_finished(record_path, command, code):
                print(f"skip {env_id} seed {seed}: finished earlier with the same code ({record_path})")
            else:
                todo.append(
                    (env_id, seed, job_dir(args.runs_dir, args.algo, env_id, seed, code, args.script_flags))
                )

    if todo:
        import ray

        if args.address:
            ray.init(address=args.address, log_to_driver=False)
        else:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
        ray.cloudpickle.register_pickle_by_value(jobs)  # workers need not find benchmarks/ on their path
        # One CPU per run: the scripts use one torch thread and step their envs in-process.
        train = ray.remote(num_cpus=1, max_retries=0)(jobs.run_training)
        started = time.time()
        pending = {
            train.remote(args.algo, env_id, seed, args.script_flags, workdir): workdir
            for env_id, seed, workdir in todo
        }
        print(f"{len(pending)} runs on Ray ({ray.cluster_resources().get('CPU', 0):g} CPUs)", flush=True)
        while pending:
            [finished], _ = ray.wait(list(pending))
            pending.pop(finished)
            record = dict(ray.get(finished), launched_by=invocation)
            report.write_record(report.record_path(args.records_dir, record), record)
            last_error_line = "".join((record["error"] or "").splitlines()[-1:])
            score = (
                f"result {record['results']['result']:.2f}"
                if record["status"] == "ok"
                else f"FAILED (exit {record['returncode']}): {last_error_line}"
            )
            print(
                f"[{time.time() - started:7.0f} s] {record['env_id']} seed {record['seed']}: {score}"
                f" ({len(pending)} left)",
                flush=True,
            )  # live in a log file too
        ray.shutdown()

    records = report.load_records(args.algo, args.records_dir)
    path = report.write_report(args.algo, records, args.results_dir)
    report.write_summary(args.records_dir, args.results_dir)
    print(f"\n{report.markdown_table(args.algo, records)}\n\nwrote {path}")
    return 1 if any(record["status"] != "ok" for record in report.current(records)) else 0


if __name__ == "__main__":
    sys.exit(main())
