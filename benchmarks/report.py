"""Tables and learning-curve plots from benchmark records (see jobs.py for what a record holds).

    python benchmarks/report.py --algo ppo      # rewrite benchmarks/results/ppo.md and its plots
    python benchmarks/report.py                 # every algorithm, and the summary results/README.md

run.py calls the same functions after each benchmark; this entry point only redraws them from
the records already on disk (benchmarks/runs/<algo>/**/record.json).
"""

import argparse
import json
import re
import statistics
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
RUNS = BENCHMARKS / "runs"  # records and run folders (not committed)
RESULTS = BENCHMARKS / "results"  # tables and plots (committed)
ALGORITHMS = BENCHMARKS.parent / "algorithms"

# The Deep RL Course's bars, on a run's result = mean - std over its evaluation episodes
# (../shared/reference.md). CartPole's is Unit 4's.
COURSE_BARS = {
    "LunarLander-v2": 200,
    "Taxi-v3": 4.5,
    "SpaceInvadersNoFrameskip-v4": 200,
    "CartPole-v1": 350,
    "Pixelcopter-PLE-v0": 5,
    "PandaReachDense-v3": -3.5,
}

# Published results to read ours against (CleanRL: mean of the last 100 training episodes;
# RL Zoo: evaluation; both from their benchmark pages, copied in ../shared/reference.md).
ANCHORS = {
    ("ppo", "LunarLander-v2"): "RL Zoo 242.12 +/- 31.82 (1M)",
    ("ppo", "CartPole-v1"): "CleanRL 490.04 +/- 6.12 (500k); RL Zoo 500 +/- 0 (100k)",
    ("ppo", "LunarLanderContinuous-v2"): "RL Zoo 270.86 +/- 32.07 (1M)",
    ("dqn", "CartPole-v1"): "CleanRL 488.69 +/- 16.11 (500k); RL Zoo 500 +/- 0 (50k)",
    ("dqn", "LunarLander-v2"): "RL Zoo 154.38 +/- 79.24 (100k)",
    ("a2c", "LunarLander-v2"): "RL Zoo 155.75 +/- 80.42 (200k, one run)",
    ("a2c", "CartPole-v1"): "RL Zoo 500 +/- 0 (500k)",
    ("dqn_atari", "SpaceInvadersNoFrameskip-v4"): "RL Zoo DQN 622.74 +/- 201.56 (10M)",
    ("ppo_atari", "BreakoutNoFrameskip-v4"): "CleanRL 414.66 +/- 28.09 (10M); RL Zoo 398.03 +/- 33.33 (10M)",
    ("q_learning", "Taxi-v3"): "optimal policy: 7.56 +/- 2.71, result 4.85",
}


def mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    spread = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} +/- {spread:.2f}"


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def steps_per_second(training: dict) -> float:
    """The script's own SPS, or (scripts that log none) its steps over its training time."""
    return training.get("sps") or training["env_steps"] / training["wall_time_s"]


def step_range(steps: list[int]) -> str:
    """Training steps of the runs: one number, or the range (episodic scripts stop after an episode)."""
    if not steps:
        return "-"
    return f"{min(steps):,}" if min(steps) == max(steps) else f"{min(steps):,}-{max(steps):,}"


def rows_by_env(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for record in sorted(records, key=lambda r: (r["env_id"], r["seed"])):
        groups.setdefault(record["env_id"], []).append(record)
    return groups


def markdown_table(algo: str, records: list[dict]) -> str:
    """One row per environment: the spread across seeds of each seed's evaluation mean, the
    course bar's pass count on each seed's result (mean - std), cost, and the published anchor."""
    lines = [
        "| env | steps | seeds | eval mean across seeds | course bar (result >=) | wall time per run "
        "| SPS | failed | published |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for env_id, group in rows_by_env(records).items():
        done = [r for r in group if r["status"] == "ok"]
        failed = len(group) - len(done)
        steps = [r["results"]["training"]["env_steps"] for r in done]
        bar = COURSE_BARS.get(env_id)
        passed = sum(r["results"]["result"] >= bar for r in done) if bar is not None else None
        bar_text = f"{passed}/{len(done)} (>= {bar:g})" if bar is not None else "-"
        walls = [r["results"]["training"]["wall_time_s"] for r in done]
        sps = [steps_per_second(r["results"]["training"]) for r in done]
        lines.append(
            " | ".join(
                [
                    f"| {env_id}",
                    step_range(steps),
                    str(len(done)),
                    mean_std([r["results"]["mean_reward"] for r in done]),
                    bar_text,
                    duration(statistics.mean(walls)) if walls else "-",
                    f"{statistics.mean(sps):,.0f}" if sps else "-",
                    str(failed),
                    ANCHORS.get((algo, env_id), "-") + " |",
                ]
            )
        )
    return "\n".join(lines)


def seed_table(records: list[dict]) -> str:
    """Every run: its result, score, cost and the command that made it (failed runs included)."""
    lines = [
        "| env | seed | result | eval mean +/- std | wall time | SPS | date | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for env_id, group in rows_by_env(records).items():
        for r in group:
            if r["status"] == "ok":
                res, training = r["results"], r["results"]["training"]
                cells = [
                    f"{res['result']:.2f}",
                    f"{res['mean_reward']:.2f} +/- {res['std_reward']:.2f}",
                    duration(training["wall_time_s"]),
                    f"{steps_per_second(training):,.0f}",
                ]
            else:
                error = (r.get("error") or "").splitlines()[-1:] or [""]
                cells = [f"FAILED (exit {r['returncode']})", error[0].replace("|", "/")[:80], "-", "-"]
            date = r["date"] + (" (imported)" if r.get("imported") else "")
            lines.append(" | ".join([f"| {env_id}", str(r["seed"]), *cells, date, f"`{r['command']}` |"]))
    return "\n".join(lines)


def trailing_mean(values, window: int):
    """values[i] -> mean of values[i - window + 1 .. i] (fewer at the start)."""
    import numpy as np

    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


def plot_curves(algo: str, env_id: str, records: list[dict], path: Path) -> None:
    """Episodic training return against environment steps: the mean across seeds and its
    min-max band, each seed's curve averaged over its last 10 points and put on a common step grid."""
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt
    import numpy as np

    curves = [
        np.array(r["curve"], dtype=float) for r in records if r["status"] == "ok" and len(r["curve"]) > 1
    ]
    figure, axes = plt.subplots(figsize=(6, 4))
    if curves:
        grid = np.linspace(0, min(curve[-1, 0] for curve in curves), 200)
        smoothed = [np.interp(grid, curve[:, 0], trailing_mean(curve[:, 1], 10)) for curve in curves]
        axes.plot(grid, np.mean(smoothed, axis=0), label=f"mean of {len(curves)} seeds")
        axes.fill_between(
            grid, np.min(smoothed, axis=0), np.max(smoothed, axis=0), alpha=0.25, label="min-max across seeds"
        )
    if env_id in COURSE_BARS:
        axes.axhline(COURSE_BARS[env_id], color="gray", linestyle="--", linewidth=1, label="course bar")
    axes.set(title=f"{algo}.py on {env_id}", xlabel="environment steps", ylabel="episodic return (training)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def plot_name(algo: str, env_id: str) -> str:
    return f"{algo}-{env_id.replace('/', '-')}.png"


def write_report(algo: str, records: list[dict], results_dir: Path = RESULTS, invocation: str = "") -> Path:
    """Writes results/<algo>.md (summary table, every run, plots) and one PNG per environment."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{algo}.md"
    sections = [f"# {algo}.py benchmark", ""]
    if invocation:
        sections += [
            f"Last written by `{invocation}`; each run's own command and date are under "
            '"Every run" (imported: a run made by hand earlier, added with --import-runs).',
            "",
        ]
    elif path.is_file():  # redrawn by report.py: keep the line naming the last benchmark command
        sections += [line for line in path.read_text().splitlines() if line.startswith("Last written by")][:1]
        sections += [""] if len(sections) > 2 else []
    sections += [
        "Eval mean: the deterministic policy's mean return over each run's evaluation episodes, "
        "averaged over seeds (+/- the spread across seeds). Course bar: runs whose result (mean - std) "
        "passes. Wall time and SPS are each run's training alone, with other runs sharing the machine's "
        "cores.",
        "",
        markdown_table(algo, records),
        "",
        "## Every run",
        "",
        seed_table(records),
        "",
    ]
    for env_id, group in rows_by_env(records).items():
        if not any(r["status"] == "ok" for r in group):
            continue
        plot_curves(algo, env_id, group, results_dir / plot_name(algo, env_id))
        sections += [f"![{algo} on {env_id}]({plot_name(algo, env_id)})", ""]
    path.write_text("\n".join(sections))
    return path


def write_summary(runs_dir: Path = RUNS, results_dir: Path = RESULTS) -> Path:
    """results/README.md: every algorithm's summary rows in one table, linking to its page."""
    header, rule, *_ = markdown_table("", []).splitlines()
    lines = [
        "# Benchmark summary",
        "",
        "Each algorithm's page lists every run with its command and date, and the learning curves.",
        "",
        "| algorithm " + header,
        "|---" + rule,
    ]
    path = results_dir / "README.md"
    kept = {}  # rows of (algorithm, env) pairs with no records here (not committed): kept as they were
    for line in path.read_text().splitlines() if path.is_file() else []:
        if match := re.match(r"\| \[(\w+)\]\(\1\.md\) ", line):
            kept.setdefault(match.group(1), []).append(line)
    for algo in sorted(set(algorithms_with_records(runs_dir)) | set(kept)):
        records = load_records(algo, runs_dir)
        measured = {record["env_id"] for record in records}
        rows = [f"| [{algo}]({algo}.md) " + row for row in markdown_table(algo, records).splitlines()[2:]]
        older = [line for line in kept.get(algo, []) if line.split(" | ")[1] not in measured]
        lines += sorted(rows + older, key=lambda line: line.split(" | ")[1]) if records else older
    results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def algorithms_with_records(runs_dir: Path) -> list[str]:
    """The folders of runs_dir named after a script in algorithms/ and holding records: anything else
    kept there by hand (an archived older code's runs, another tool's output) is no algorithm's result."""
    folders = sorted(path for path in runs_dir.glob("*") if path.is_dir())
    return [
        path.name
        for path in folders
        if (ALGORITHMS / f"{path.name}.py").is_file() and load_records(path.name, runs_dir)
    ]


def load_records(algo: str, runs_dir: Path = RUNS) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((runs_dir / algo).glob("**/record.json"))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--algo", default=None, help="script name without .py, e.g. ppo (default: every one)")
    parser.add_argument("--runs-dir", type=Path, default=RUNS, help="where run.py keeps records")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where tables and plots go")
    args = parser.parse_args()
    algos = [args.algo] if args.algo else algorithms_with_records(args.runs_dir)
    for algo in algos:
        records = load_records(algo, args.runs_dir)
        if not records:
            raise SystemExit(f"error: no records under {args.runs_dir / algo}; run benchmarks/run.py first")
        print(write_report(algo, records, args.results_dir))
    print(write_summary(args.runs_dir, args.results_dir))


if __name__ == "__main__":
    main()
