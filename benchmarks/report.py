"""Tables and plots from the committed benchmark records, and nothing else.

    python benchmarks/report.py                 # every algorithm's page, the summary and the units plot
    python benchmarks/report.py --algo ppo      # only benchmarks/results/ppo.md (and its plots)

A record is one run (jobs.py says what it holds): benchmarks/records/<algo>/<env id>/<code>/seed-<S>.json,
where <code> is the digest of the code that ran (or, for runs imported from pages whose records
were lost, a label naming the import). A fresh clone rebuilds every page from them unchanged
(tests/test_benchmarks.py checks it). run.py calls the same functions after each benchmark.

Which runs a row counts: for each env id and seed, its newest record (by date); older records of
the same env and seed stay, listed as earlier code, and the newest earlier code's runs are what a
changed default is compared with (probability of improvement). Aggregates follow rliable (Agarwal
et al., 2021) on each run's result (mean - std of its evaluation episodes, the course's number):
IQM (the mean of the middle 50% of runs, a 25% trimmed mean) and mean, each with a 95% percentile
bootstrap confidence interval over runs (50,000 resamples, seeded: the output is deterministic).
"""

import argparse
import json
import os
import re
import statistics
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
RECORDS = BENCHMARKS / "records"  # one JSON file per run (committed)
RUNS = BENCHMARKS / "runs"  # run folders and logs (not committed)
RESULTS = BENCHMARKS / "results"  # tables and plots (committed)
ALGORITHMS = BENCHMARKS.parent / "algorithms"
UNITS_PLOT = "course-units.png"

# The Deep RL Course's bars, on a run's result = mean - std over its evaluation episodes
# (../shared/reference.md). CartPole's is Unit 4's.
COURSE_BARS = {
    "LunarLander-v2": 200,
    "Taxi-v3": 4.5,
    "SpaceInvadersNoFrameskip-v4": 200,
    "CartPole-v1": 350,
    "Pixelcopter-PLE-v0": 5,
    "PandaReachDense-v3": -3.5,
    "doom_health_gathering_supreme": 5,
    # Unit 5 (curiosity) has no bar in the course: this project's (README.md, "The course's units"): at
    # least 9 of the 10 evaluation episodes reach the goal, the successes in about 30 steps or fewer.
    "MiniGrid-MultiRoom-N4-S5-v1": 0.4,
}

# Unit 7 (self-play) has no bar in the course either; this project's (README.md, set before the final
# runs) is on the published agent's games, not on its result: at least 99% wins against the random
# player and more wins than losses against a 3-ply alpha-beta, each over 100 games from each seat.
SELFPLAY_BAR = ">= 99% wins vs random, W > L vs alphabeta-3"


def selfplay_passes(record: dict) -> bool:
    """Whether a ppo_selfplay.py run met SELFPLAY_BAR, from its W/D/L counts per opponent and seat."""
    training = record["results"]["training"]

    def totals(opponent: str) -> np.ndarray:
        seats = [training[f"evaluation vs {opponent}, {seat} seat (W/D/L)"] for seat in ("first", "second")]
        return sum(np.array([int(n) for n in games.split("/")]) for games in seats)

    wins, draws, losses = totals("random")
    ab3_wins, _, ab3_losses = totals("alphabeta-3")
    return bool(wins >= 0.99 * (wins + draws + losses) and ab3_wins > ab3_losses)


# The course's units and the (algorithm, env id) that each one's default command trains.
COURSE_UNITS = [
    ("1, 8 part 1", "ppo", "LunarLander-v2"),
    ("2", "q_learning", "Taxi-v3"),
    ("2", "q_learning", "FrozenLake-v1"),
    ("3", "dqn_atari", "SpaceInvadersNoFrameskip-v4"),
    ("4", "reinforce", "CartPole-v1"),
    ("4", "reinforce", "Pixelcopter-PLE-v0"),
    ("5", "ppo_rnd", "MiniGrid-MultiRoom-N4-S5-v1"),
    ("6", "a2c", "PandaReachDense-v3"),
    ("7", "ppo_selfplay", "ConnectFour-v3"),  # the course's game is SoccerTwos (Unity): SELFPLAY_BAR
    ("8 part 2", "ppo_vizdoom", "doom_health_gathering_supreme"),
]

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

BOOTSTRAP_REPS = 50_000  # rliable's default
BOOTSTRAP_SEED = 0


# ---- records ---------------------------------------------------------------------------------


# Flags that make a run a variant of its script with a row of its own beside the default command's (an
# ablation): ppo_rnd.py's --int-coef 0 is plain PPO on the same task.
VARIANT_FLAGS = {"ppo_rnd": ("--int-coef",)}


def variant(record: dict) -> list[str]:
    """The variant flags the record's run was given, with their values (["--int-coef", "0"]), or []."""
    flags, names = record.get("flags") or [], VARIANT_FLAGS.get(record["algo"], ())
    return [word for i, flag in enumerate(flags[:-1]) if flag in names for word in (flag, flags[i + 1])]


def row(record: dict) -> str:
    """The row a record counts in: its env id, then its variant flags if any."""
    return " ".join([record["env_id"], *variant(record)])


def version(record: dict) -> str:
    """The folder a record is kept in: its code digest, or the label of the import that made it."""
    return record.get("code") or record.get("version") or "code-unknown"


def record_path(records_dir: Path, record: dict) -> Path:
    env = record["env_id"].replace("/", "-")
    suffix = "".join(f"_{word.lstrip('-')}" for word in variant(record))  # seed-1_int-coef_0.json
    return records_dir / record["algo"] / env / version(record) / f"seed-{record['seed']}{suffix}.json"


def write_record(path: Path, record: dict) -> None:
    """Atomically: an interrupted write leaves the previous record or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(temporary, path)


def load_records(algo: str, records_dir: Path = RECORDS) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((records_dir / algo).glob("*/*/seed-*.json"))]


def algorithms_with_records(records_dir: Path = RECORDS) -> list[str]:
    """The folders of records_dir named after a script in algorithms/ and holding records."""
    folders = sorted(path for path in records_dir.glob("*") if path.is_dir())
    return [
        path.name
        for path in folders
        if (ALGORITHMS / f"{path.name}.py").is_file() and load_records(path.name, records_dir)
    ]


def current(records: list[dict]) -> list[dict]:
    """The newest record of each (row, seed): the runs a row counts."""
    newest: dict[tuple, dict] = {}
    for record in sorted(records, key=lambda r: r["date"]):
        newest[(row(record), record["seed"])] = record
    return sorted(newest.values(), key=lambda r: (r["env_id"], r["seed"]))


def earlier(records: list[dict], env_id: str) -> list[dict]:
    """The finished runs of the row env_id's newest earlier code: the records the current runs replaced
    that share the newest date among them, by code version."""
    kept = {id(record) for record in current(records)}
    older = [r for r in records if row(r) == env_id and id(r) not in kept and r["status"] == "ok"]
    if not older:
        return []
    latest = max(older, key=lambda r: r["date"])
    return sorted((r for r in older if version(r) == version(latest)), key=lambda r: r["seed"])


def rows_by_env(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for record in sorted(records, key=lambda r: (row(r), r["seed"])):
        groups.setdefault(row(record), []).append(record)
    return groups


def finished(records: list[dict]) -> list[dict]:
    return [r for r in records if r["status"] == "ok"]


# ---- statistics (rliable's definitions, with numpy) -------------------------------------------


def iqm(scores) -> float:
    """Interquartile mean: the mean of the middle 50% of runs (scipy.stats.trim_mean(x, 0.25))."""
    values = np.sort(np.asarray(scores, dtype=float))
    cut = int(0.25 * len(values))
    return float(values[cut : len(values) - cut].mean())


def _iqm_rows(samples: np.ndarray) -> np.ndarray:
    cut = int(0.25 * samples.shape[1])
    return np.sort(samples, axis=1)[:, cut : samples.shape[1] - cut].mean(axis=1)


def bootstrap_ci(scores, statistic: str = "iqm", reps: int = BOOTSTRAP_REPS) -> tuple[float, float]:
    """95% percentile bootstrap interval of the IQM or mean over runs. For one task rliable's
    stratified bootstrap is a plain bootstrap: resample the runs with replacement."""
    values = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples = values[rng.integers(0, len(values), size=(reps, len(values)))]
    stats = _iqm_rows(samples) if statistic == "iqm" else samples.mean(axis=1)
    low, high = np.percentile(stats, [2.5, 97.5])
    return float(low), float(high)


def _poi_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + 0.5 P(X = Y) over all pairs of runs, for each row of x and y."""
    greater = (x[:, :, None] > y[:, None, :]).mean(axis=(1, 2))
    equal = (x[:, :, None] == y[:, None, :]).mean(axis=(1, 2))
    return greater + 0.5 * equal


def probability_of_improvement(new, old) -> float:
    """rliable's probability of improvement of new over old on one task: the chance that a run of
    new scores higher than a run of old (ties count half), over every pair of runs."""
    return float(_poi_rows(np.asarray([new], float), np.asarray([old], float))[0])


def probability_of_improvement_ci(new, old, reps: int = BOOTSTRAP_REPS) -> tuple[float, float]:
    """95% percentile bootstrap interval, resampling the runs of each side independently."""
    x, y = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    xs = x[rng.integers(0, len(x), size=(reps, len(x)))]
    ys = y[rng.integers(0, len(y), size=(reps, len(y)))]
    low, high = np.percentile(_poi_rows(xs, ys), [2.5, 97.5])
    return float(low), float(high)


def with_interval(value: float, interval: tuple[float, float]) -> str:
    return f"{value:.2f} [{interval[0]:.2f}, {interval[1]:.2f}]"


# ---- tables ------------------------------------------------------------------------------------


def mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    spread = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} +/- {spread:.2f}"


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def training(record: dict) -> dict:
    return (record.get("results") or {}).get("training") or {}


def steps_per_second(training: dict) -> float | None:
    """The script's own SPS, or (scripts that log none) its steps over its training time."""
    if training.get("sps"):
        return training["sps"]
    if training.get("env_steps") and training.get("wall_time_s"):
        return training["env_steps"] / training["wall_time_s"]
    return None


def step_range(steps: list[int]) -> str:
    """Training steps of the runs: one number, or the range (episodic scripts stop after an episode)."""
    if not steps:
        return "-"
    return f"{min(steps):,}" if min(steps) == max(steps) else f"{min(steps):,}-{max(steps):,}"


def results_of(records: list[dict]) -> list[float]:
    return [r["results"]["result"] for r in finished(records)]


def time_per_run(records: list[dict]) -> str:
    walls = [training(r)["wall_time_s"] for r in finished(records) if training(r).get("wall_time_s")]
    return duration(statistics.mean(walls)) if walls else "-"


def bar_passes(env_id: str, records: list[dict]) -> str:
    bar, done = COURSE_BARS.get(env_id.split()[0]), finished(records)  # a variant's row: the same bar
    if bar is None:
        return "-"
    return f"{sum(result >= bar for result in results_of(done))}/{len(done)} (>= {bar:g})"


def iqm_cell(records: list[dict]) -> str:
    scores = results_of(records)
    return with_interval(iqm(scores), bootstrap_ci(scores, "iqm")) if scores else "-"


def improvement_cell(records: list[dict], env_id: str) -> str:
    """P(improvement) of the current runs over the newest earlier code's runs of the same env."""
    old = earlier(records, env_id)
    if not old:
        return "-"
    # the current runs of other code than the earlier runs' (a seed not re-run keeps the earlier code)
    new = results_of([r for r in current(records) if row(r) == env_id and version(r) != version(old[0])])
    if not new:
        return "-"
    old_scores = results_of(old)
    poi = probability_of_improvement(new, old_scores)
    interval = probability_of_improvement_ci(new, old_scores)
    return f"{with_interval(poi, interval)} over {len(old)} runs of {old[0]['date'][:10]}"


SUMMARY_HEADER = (
    "| env | steps | runs | result IQM [95% CI] | result mean [95% CI] | eval mean across runs "
    "| course bar (result >=) | P(improvement) over earlier code | training time per run | SPS | failed "
    "| published |"
)


def markdown_table(algo: str, records: list[dict]) -> str:
    """One row per environment, over the newest run of each seed: the result's IQM and mean with
    their 95% bootstrap intervals, the spread of the evaluation means, the course bar's pass count,
    the probability of improvement over earlier code, cost, and the published anchor."""
    lines = [SUMMARY_HEADER, "|---" * SUMMARY_HEADER.count(" | ") + "|---|"]
    for env_id, group in rows_by_env(current(records)).items():
        done = finished(group)
        scores = results_of(done)
        steps = [training(r).get("env_steps") or training(r).get("learner_moves") for r in done]  # self-play
        steps = [step for step in steps if step]
        means = [r["results"]["mean_reward"] for r in done if r["results"].get("mean_reward") is not None]
        sps = [s for s in (steps_per_second(training(r)) for r in done) if s]
        cells = [
            f"| {env_id}",
            step_range(steps),
            str(len(done)),
            iqm_cell(done),
            with_interval(statistics.mean(scores), bootstrap_ci(scores, "mean")) if scores else "-",
            mean_std(means),
            bar_passes(env_id, done),
            improvement_cell(records, env_id),
            time_per_run(done),
            f"{statistics.mean(sps):,.0f}" if sps else "-",
            str(len(group) - len(done)),
            ANCHORS.get((algo, env_id), "-") + " |",
        ]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def code_label(record: dict) -> str:
    return f"`{record['code']}`" if record.get("code") else version(record)


def seed_table(records: list[dict]) -> str:
    """Every run, the earlier code's too: its result, score, cost and the command that made it."""
    counted = {id(record) for record in current(records)}
    lines = [
        "| env | seed | counted | code | result | eval mean +/- std | training time | SPS | date | command |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for env_id, group in rows_by_env(records).items():
        for r in sorted(group, key=lambda r: (r["seed"], r["date"])):
            if r["status"] == "ok":
                res, train = r["results"], training(r)
                mean = res.get("mean_reward")
                score = f"{mean:.2f} +/- {res['std_reward']:.2f}" if mean is not None else "-"
                sps = steps_per_second(train)
                wall = train.get("wall_time_s")
                cells = [
                    f"{res['result']:.2f}",
                    score,
                    duration(wall) if wall else "-",
                    f"{sps:,.0f}" if sps else "-",
                ]
            else:
                error = (r.get("error") or "").splitlines()[-1:] or [""]
                cells = [f"FAILED (exit {r['returncode']})", error[0].replace("|", "/")[:80], "-", "-"]
            state = "yes" if id(r) in counted else "earlier code"
            lines.append(
                " | ".join(
                    [
                        f"| {env_id}",
                        str(r["seed"]),
                        state,
                        code_label(r),
                        *cells,
                        r["date"],
                        f"`{r['command']}` |",
                    ]
                )
            )
    return "\n".join(lines)


def sources(records: list[dict]) -> list[str]:
    """One line per way the records were made: what made them, and the benchmark commands."""
    lines = []
    for source in sorted({r.get("source") or "benchmarks/run.py" for r in records}):
        group = [r for r in records if (r.get("source") or "benchmarks/run.py") == source]
        launched = sorted({r["launched_by"] for r in group if r.get("launched_by")})
        line = f"- {len(group)} run{'s' * (len(group) != 1)}: {source}"
        if launched:
            line += "; started by " + ", ".join(f"`{command}`" for command in launched)
        lines.append(line)
    notes = sorted({r["note"] for r in records if r.get("note")})
    return lines + (["", "Notes on imported runs:", ""] + [f"- {note}" for note in notes] if notes else [])


# ---- plots -------------------------------------------------------------------------------------


def trailing_mean(values, window: int):
    """values[i] -> mean of values[i - window + 1 .. i] (fewer at the start)."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless
    matplotlib.rcParams["svg.hashsalt"] = "report"  # no random ids in what it writes
    import matplotlib.pyplot as plt

    return plt


def has_curve(record: dict) -> bool:
    return record["status"] == "ok" and len(record.get("curve") or []) > 1


def mean_band(axes, curves: list[np.ndarray], label: str) -> None:
    """The mean across seeds and its min-max band, each seed's curve averaged over its last 10 points
    and put on a common step grid."""
    grid = np.linspace(0, min(curve[-1, 0] for curve in curves), 200)
    smoothed = [np.interp(grid, curve[:, 0], trailing_mean(curve[:, 1], 10)) for curve in curves]
    axes.plot(grid, np.mean(smoothed, axis=0), label=f"{label}mean of {len(curves)} seeds")
    axes.fill_between(
        grid, np.min(smoothed, axis=0), np.max(smoothed, axis=0), alpha=0.25, label="min-max across seeds"
    )


def plot_curves(algo: str, env_id: str, records: list[dict], path: Path) -> None:
    """Episodic training return against environment steps (mean across seeds, min-max band); beside
    it, where the records hold one (ppo_rnd.py), the intrinsic reward before its scaling."""
    plt = pyplot()
    curves = [np.array(r["curve"], dtype=float) for r in records if has_curve(r)]
    intrinsic = [np.array(r.get("intrinsic_curve") or [[0, 0]], dtype=float) for r in records if has_curve(r)]
    intrinsic = [curve for curve in intrinsic if len(curve) > 1 and curve[:, 1].max() > 0]  # not an ablation
    figure, panels = plt.subplots(1, 1 + bool(intrinsic), figsize=(6 + 5 * bool(intrinsic), 4), squeeze=False)
    axes = panels[0, 0]
    if curves:
        mean_band(axes, curves, "")
    if env_id.split()[0] in COURSE_BARS:
        axes.axhline(
            COURSE_BARS[env_id.split()[0]], color="gray", linestyle="--", linewidth=1, label="course bar"
        )
    axes.set(title=f"{algo}.py on {env_id}", xlabel="environment steps", ylabel="episodic return (training)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="lower right")
    if intrinsic:
        mean_band(panels[0, 1], intrinsic, "")
        panels[0, 1].set(title="intrinsic reward (charts/intrinsic_reward)", xlabel="environment steps")
        panels[0, 1].set(ylabel="mean raw intrinsic reward per rollout", yscale="log")
    figure.tight_layout()
    figure.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(figure)


def plot_elo(algo: str, env_id: str, records: list[dict], path: Path) -> None:
    """Self-play runs: the learner's ELO rating against its training steps, one line per seed."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for record in records:
        if record["status"] == "ok" and record.get("elo_curve"):
            curve = np.array(record["elo_curve"], dtype=float)
            axes.plot(curve[:, 0], curve[:, 1], linewidth=1, label=f"seed {record['seed']}")
    axes.set(title=f"{algo}.py on {env_id}: ELO", xlabel="learner steps", ylabel="learner's ELO rating")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(figure)


def outcome_table(records: list[dict]) -> list[str]:
    """Self-play runs: each seed's final games against every reference player (the keys of its results'
    training record that end in "(W/D/L)") and its final ELO table."""
    done = [r for r in finished(records) if any(key.endswith("(W/D/L)") for key in training(r))]
    if not done:
        return []
    keys = [key for key in training(done[0]) if key.endswith("(W/D/L)")]
    lines = ["| seed | " + " | ".join(key.removeprefix("evaluation ") for key in keys) + " | final ELO |"]
    lines.append("|---" * (len(keys) + 2) + "|")
    for r in done:
        ratings = [
            item for item in training(r).get("elo", "-").split(", ") if not item.startswith("snapshot-")
        ]
        cells = [str(training(r).get(key, "-")) for key in keys] + [", ".join(ratings)]
        lines.append(f"| {r['seed']} | " + " | ".join(cells) + " |")
    heading = (
        "Final games (wins/draws/losses), and the ELO ratings at the end of training (snapshots' left out):"
    )
    return [heading, "", *lines, ""]


def plot_name(algo: str, env_id: str) -> str:
    return f"{algo}-{env_id.replace('/', '-').replace(' ', '_')}.png"


def normalized(score: float, bar: float) -> float:
    """A result in units of the course bar: 1 is the bar, 0 a result of 0 (score / bar); for a
    negative bar (PandaReachDense's -3.5), 1 + (score - bar) / |bar|, so higher is still better."""
    return 1 + (score - bar) / abs(bar)


def plot_units(records_dir: Path, path: Path) -> None:
    """Every course unit with a bar on one axis: each run's result over the bar (dots), the IQM
    and its 95% interval (bar and whiskers); right of the line at 1 passes."""
    plt = pyplot()
    rows = []
    for unit, algo, env_id in COURSE_UNITS:
        scores = results_of([r for r in current(load_records(algo, records_dir)) if row(r) == env_id])
        if env_id in COURSE_BARS and scores:
            rows.append(
                (f"Unit {unit}: {algo}.py\n{env_id}", [normalized(s, COURSE_BARS[env_id]) for s in scores])
            )
    figure, axes = plt.subplots(figsize=(7.5, 0.65 * len(rows) + 1.4))
    for y, (_, scores) in enumerate(reversed(rows)):
        low, high = bootstrap_ci(scores, "iqm")
        middle = iqm(scores)
        axes.barh(
            y, middle, height=0.55, color="#9ecae1", edgecolor="#3182bd", label="IQM" if y == 0 else None
        )
        axes.errorbar(
            middle, y, xerr=[[middle - low], [high - middle]], color="black", capsize=4,
            label="95% CI" if y == 0 else None,
        )  # fmt: skip
        spread = np.full(len(scores), y) + np.linspace(-0.15, 0.15, len(scores))
        axes.scatter(scores, spread, s=12, color="#08519c", zorder=3, label="one run" if y == 0 else None)
    axes.axvline(1.0, color="#d62728", linestyle="--", linewidth=1.2, label="course bar")
    axes.axvline(0.0, color="gray", linewidth=0.8)
    axes.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)], fontsize=8)
    axes.set_xlabel("result (mean - std of the evaluation episodes) in units of the course bar")
    axes.set_title("Course units: every counted run against its bar (right of 1 passes)", fontsize=10)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(figure)


# ---- pages -------------------------------------------------------------------------------------

INTRO = (
    "Every number here is computed by `python benchmarks/report.py` from the committed records in "
    "[../records/](../records/README.md), one JSON file per run; nothing else feeds it. A row counts "
    "the newest run of each seed; runs of earlier code stay below, marked. Result: mean - std of a "
    "run's evaluation episodes, the course's number. IQM: the mean of the middle 50% of runs (25% "
    "trimmed mean); intervals are 95% percentile bootstrap intervals over runs (rliable's, 50,000 "
    "seeded resamples). Eval mean: the mean evaluation return, averaged over runs (+/- the spread "
    "across runs). Course bar: runs whose result passes. P(improvement): the chance that a current "
    "run's result beats a run of the newest earlier code (ties count half), with its interval. "
    "Training time and SPS are each run's training alone, with other runs often sharing the machine's "
    "two cores."
)


def write_report(algo: str, records: list[dict], results_dir: Path = RESULTS) -> Path:
    """Writes results/<algo>.md (summary table, every run, where the records come from, learning
    curves) and one PNG per environment whose records hold a curve."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{algo}.md"
    sections = [
        f"# {algo}.py benchmark",
        "",
        INTRO,
        "",
        markdown_table(algo, records),
        "",
        "## Every run",
        "",
    ]
    sections += [seed_table(records), "", "## Where the records come from", "", *sources(records), ""]
    sections += ["## Learning curves", ""]
    for env_id, group in rows_by_env(current(records)).items():
        if any(has_curve(r) for r in group):
            plot_curves(algo, env_id, group, results_dir / plot_name(algo, env_id))
            sections += [f"![{algo} on {env_id}]({plot_name(algo, env_id)})", ""]
            if any(r.get("elo_curve") for r in group):
                elo_plot = plot_name(algo, env_id).replace(".png", "-elo.png")
                plot_elo(algo, env_id, group, results_dir / elo_plot)
                sections += [f"![{algo} on {env_id}: ELO]({elo_plot})", ""]
            sections += outcome_table(group)
        else:
            sections += [
                f"{env_id}: no learning curve in these runs' records (imported: lost with the machine).",
                "",
            ]
    path.write_text("\n".join(sections))
    return path


def unit_command(group: list[dict]) -> str:
    """The runs' command without its --seed: the command a user types for this unit."""
    commands = {re.sub(r" --seed \d+", "", r["command"]) for r in group}
    return f"`{sorted(commands)[0]}`" + (" (and others: see the page)" if len(commands) > 1 else "")


UNITS_HEADER = (
    "| unit | command (seeds 1, 2, ...) | course bar | passes | training time per run "
    "| result IQM [95% CI] | runs |"
)


def units_table(records_dir: Path = RECORDS) -> str:
    """The course's units: each one's command, bar, passes, time per run and IQM (README.md shows it)."""
    lines = [UNITS_HEADER, "|---" * UNITS_HEADER.count(" | ") + "|---|"]
    for unit, algo, env_id in COURSE_UNITS:
        group = finished([r for r in current(load_records(algo, records_dir)) if row(r) == env_id])
        if not group:
            continue
        bar = COURSE_BARS.get(env_id)
        passes = f"{sum(s >= bar for s in results_of(group))}/{len(group)}" if bar is not None else "-"
        bar_cell = f">= {bar:g}" if bar is not None else "- (none)"
        if algo == "ppo_selfplay":
            passes, bar_cell = f"{sum(map(selfplay_passes, group))}/{len(group)}", SELFPLAY_BAR
        cells = [
            f"| {unit}",
            unit_command(group),
            bar_cell,
            passes,
            time_per_run(group),
            iqm_cell(group),
            f"[{algo}]({algo}.md) |",
        ]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def write_summary(records_dir: Path = RECORDS, results_dir: Path = RESULTS) -> Path:
    """results/README.md: the course units' table and plot, then every algorithm's summary rows."""
    results_dir.mkdir(parents=True, exist_ok=True)
    plot_units(records_dir, results_dir / UNITS_PLOT)
    header, rule = SUMMARY_HEADER, "|---" * SUMMARY_HEADER.count(" | ") + "|---|"
    lines = [
        "# Benchmark summary",
        "",
        INTRO,
        "",
        "## The course's units",
        "",
        "Each unit's default command on this project's 2-core CPU (no GPU); dqn_atari runs the CPU budget "
        "(100k steps).",
        "",
        units_table(records_dir),
        "",
        f"![Every course unit's runs against its bar]({UNITS_PLOT})",
        "",
        "## Every algorithm and environment",
        "",
        "Each algorithm's page lists every run with its command, code and date, and the learning curves.",
        "",
        "| algorithm " + header,
        "|---" + rule,
    ]
    for algo in algorithms_with_records(records_dir):
        table = markdown_table(algo, load_records(algo, records_dir)).splitlines()[2:]
        lines += [f"| [{algo}]({algo}.md) " + row for row in table]
    path = results_dir / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--algo", default=None, help="script name without .py, e.g. ppo (default: every one)")
    parser.add_argument("--records-dir", type=Path, default=RECORDS, help="the committed run records")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where tables and plots go")
    args = parser.parse_args()
    algos = [args.algo] if args.algo else algorithms_with_records(args.records_dir)
    for algo in algos:
        records = load_records(algo, args.records_dir)
        if not records:
            raise SystemExit(
                f"error: no records under {args.records_dir / algo}; run benchmarks/run.py first"
            )
        print(write_report(algo, records, args.results_dir))
    print(write_summary(args.records_dir, args.results_dir))


if __name__ == "__main__":
    main()
