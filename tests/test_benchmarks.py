"""benchmarks/: the tables and aggregates on fixed records, the committed pages rebuilt from the
committed records alone, the runner on a local Ray instance (tiny runs, a failing one, skipping
finished ones, importing a run folder), the tuner on a Ray cluster, random play."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, cli_env

import hub_utils

sys.path.insert(0, str(REPO / "benchmarks"))
import jobs
import report
import run

TINY_PPO = [
    "--total-timesteps",
    "512",
    "--num-envs",
    "2",
    "--num-steps",
    "64",
    "--eval-episodes",
    "2",
    "--no-capture-video",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NO_RAY_TELEMETRY = {"RAY_USAGE_STATS_ENABLED": "0"}  # CI has no network beyond package registries


def fake_record(env_id, seed, result=None, mean=None, error=None, steps=1000, wall=60.0, sps=500, **fields):
    """A record as jobs.run_training returns it; ``result`` None makes a failed run."""
    record = dict(
        algo="ppo",
        env_id=env_id,
        seed=seed,
        flags=[],
        command=f"python algorithms/ppo.py --seed {seed}",
        code="c0de00000001",
        date="2026-11-21 10:00:00 UTC",
        run_dir=None,
    )
    if result is None:
        failed = dict(status="failed", returncode=1, wall_s=3.0, results=None, curve=[])
        return record | failed | dict(error=f"Traceback\n{error}") | fields
    results = dict(
        result=result,
        mean_reward=mean,
        std_reward=mean - result,
        training=dict(env_steps=steps, wall_time_s=wall, sps=sps),
    )
    curve = [[step, result * step / steps] for step in range(100, steps + 1, 100)]
    finished = dict(status="ok", returncode=0, wall_s=wall, results=results, curve=curve, error=None)
    return record | finished | fields


def table_row(table, env_id):
    """The cells of env_id's row in the summary table (the first table of a report)."""
    summary = table.split("## Every run")[0]
    [row] = [line for line in summary.splitlines() if line.startswith(f"| {env_id} |")]
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_table_counts_the_course_bar_per_seed_and_keeps_failures(tmp_path):
    records = [
        fake_record("LunarLander-v2", 1, result=210.0, mean=250.0, wall=300.0, sps=3000),
        fake_record("LunarLander-v2", 2, result=150.0, mean=200.0, wall=500.0, sps=1000),
        fake_record("LunarLander-v2", 3, error="RuntimeError: boom"),
        fake_record("Acrobot-v1", 1, result=-90.0, mean=-80.0),
    ]
    table = report.markdown_table("ppo", records)
    row = table_row(table, "LunarLander-v2")
    assert row[:3] == ["LunarLander-v2", "1,000", "2"]
    assert row[3].startswith("180.00 [150.00, 210.00]")  # IQM of two runs: their mean; CI from resamples
    assert row[5:] == [
        "225.00 +/- 25.00",
        "1/2 (>= 200)",
        "-",  # no earlier code to compare with
        "6.7 min",
        "2,000",
        "1",
        "RL Zoo 242.12 +/- 31.82 (1M)",
    ]
    assert table_row(table, "Acrobot-v1")[5:7] == ["-80.00 +/- 0.00", "-"]  # no course bar there

    path = report.write_report("ppo", records, tmp_path)
    text = path.read_text()
    assert "| LunarLander-v2 | 3 | yes | `c0de00000001` | FAILED (exit 1) | RuntimeError: boom |" in text
    assert report.write_report("ppo", records, tmp_path).read_text() == text  # deterministic
    for env_id in ("LunarLander-v2", "Acrobot-v1"):
        assert f"]({report.plot_name('ppo', env_id)})" in text
        assert (tmp_path / report.plot_name("ppo", env_id)).read_bytes().startswith(PNG_SIGNATURE)

    # The summary page: every algorithm's rows, from the records in the records folder.
    records_dir = tmp_path / "records"
    for record in records:
        report.write_record(report.record_path(records_dir, record), record)
    assert sorted(p.relative_to(records_dir).as_posix() for p in records_dir.glob("**/*.json"))[:1] == [
        "ppo/Acrobot-v1/c0de00000001/seed-1.json"
    ]
    # Folders kept there by hand are no algorithm's: another code's archived records, a tool's output.
    archived = records_dir / "ppo-before" / "LunarLander-v2" / "c0de" / "seed-1.json"
    archived.parent.mkdir(parents=True)
    archived.write_text(json.dumps(records[0]))
    (records_dir / "vizdoom" / "logs").mkdir(parents=True)
    assert report.algorithms_with_records(records_dir) == ["ppo"]
    summary = report.write_summary(records_dir, tmp_path).read_text()
    assert "[ppo-before]" not in summary and "[vizdoom]" not in summary
    assert "| [ppo](ppo.md) | LunarLander-v2 | 1,000 | 2 | 180.00 [150.00, 210.00] |" in summary
    assert "| [ppo](ppo.md) | Acrobot-v1 |" in summary
    assert "| 1, 8 part 1 | `python algorithms/ppo.py` | >= 200 | 1/2 | 6.7 min | 180.00 [" in summary
    assert (tmp_path / report.UNITS_PLOT).read_bytes().startswith(PNG_SIGNATURE)


def test_new_code_keeps_the_old_records_and_is_compared_with_them(tmp_path):
    """A re-run with new code gets its own record beside the old one; the row counts the newest run of
    each seed and gives the probability of improvement over the earlier code's runs."""
    old = [
        fake_record("LunarLander-v2", s, result=r, mean=r + 10)
        for s, r in [(1, 100.0), (2, 150.0), (3, 210.0)]
    ]
    new = [
        fake_record(
            "LunarLander-v2", s, result=r, mean=r + 10, code="c0de00000002", date="2026-12-01 10:00:00 UTC"
        )
        for s, r in [(1, 220.0), (2, 150.0)]
    ]
    records_dir = tmp_path / "records"
    for record in old + new:
        report.write_record(report.record_path(records_dir, record), record)
    records = report.load_records("ppo", records_dir)
    assert len(records) == 5  # nothing replaced
    counted = report.current(records)
    assert [(r["seed"], r["code"]) for r in counted] == [
        (1, "c0de00000002"),
        (2, "c0de00000002"),
        (3, "c0de00000001"),
    ]
    assert [r["seed"] for r in report.earlier(records, "LunarLander-v2")] == [1, 2]
    row = table_row(report.markdown_table("ppo", records), "LunarLander-v2")
    assert row[2] == "3" and row[6] == "2/3 (>= 200)"
    # new {220, 150} against old {100, 150}: 220 beats both, 150 beats 100 and ties 150 -> 3.5 / 4
    assert row[7].startswith("0.88 [") and row[7].endswith("over 2 runs of 2026-11-21")
    text = report.write_report("ppo", records, tmp_path).read_text()
    assert text.count("| earlier code |") == 2 and text.count("| LunarLander-v2 | 1 |") == 2


def test_an_ablation_keeps_records_and_a_row_of_its_own_beside_the_default(tmp_path):
    """ppo_rnd.py's --int-coef 0 (plain PPO) runs the same script, env, seeds and code as the default:
    its records sit beside the default's, neither replaces the other, and each has its row and plot."""
    env = "MiniGrid-MultiRoom-N4-S5-v1"
    rnd = [fake_record(env, s, result=0.7, mean=0.8, algo="ppo_rnd") for s in (1, 2)]
    for record in rnd:
        record["intrinsic_curve"] = [[100, 0.5], [200, 0.1], [300, 0.05]]
    ablation = [
        fake_record(
            env, s, result=0.0, mean=0.0, algo="ppo_rnd", flags=["--int-coef", "0"], date="2026-12-07"
        )
        for s in (1, 2)
    ]
    records_dir = tmp_path / "records"
    for record in rnd + ablation:
        report.write_record(report.record_path(records_dir, record), record)
    assert report.record_path(records_dir, ablation[0]).name == "seed-1_int-coef_0.json"
    records = report.load_records("ppo_rnd", records_dir)
    assert len(report.current(records)) == 4 and report.earlier(records, env) == []
    table = report.markdown_table("ppo_rnd", records)
    assert table_row(table, env)[2] == table_row(table, f"{env} --int-coef 0")[2] == "2"
    text = report.write_report("ppo_rnd", records, tmp_path).read_text()
    for name in (f"ppo_rnd-{env}.png", f"ppo_rnd-{env}_--int-coef_0.png"):
        assert f"({name})" in text and (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    "random_games, alphabeta_games, passes",
    [
        (("100/0/0", "99/0/1"), ("60/0/40", "50/0/50"), True),  # 199 of 200 wins, 110 wins to 90 losses
        (("100/0/0", "98/0/2"), ("60/0/40", "50/0/50"), True),  # 198 of 200: exactly 99%
        (("99/0/1", "98/0/2"), ("100/0/0", "100/0/0"), False),  # 197 of 200
        (("100/0/0", "100/0/0"), ("50/0/50", "50/0/50"), False),  # as many losses as wins
    ],
)
def test_the_selfplay_bar_counts_both_seats(random_games, alphabeta_games, passes):
    training = {}
    for opponent, games in (("random", random_games), ("alphabeta-3", alphabeta_games)):
        for seat, counts in zip(("first", "second"), games):
            training[f"evaluation vs {opponent}, {seat} seat (W/D/L)"] = counts
    assert report.selfplay_passes({"results": {"training": training}}) is passes


def test_aggregates_follow_rliable():
    from scipy import stats

    scores = [1.0, 9.0, 3.0, 7.0, 5.0, 100.0, -50.0, 4.0, 6.0, 2.0]
    assert report.iqm(scores) == pytest.approx(stats.trim_mean(scores, 0.25))
    assert report.iqm([1.0, 2.0, 3.0, 4.0, 1000.0]) == pytest.approx(3.0)  # the middle three of five
    low, high = report.bootstrap_ci(scores, "iqm")
    assert low < report.iqm(scores) < high
    assert report.bootstrap_ci(scores, "iqm") == (low, high)  # seeded: the same interval every time
    mean_low, mean_high = report.bootstrap_ci(scores, "mean")
    assert mean_high - mean_low > high - low  # the outliers widen the mean's interval, not the IQM's
    assert report.bootstrap_ci([5.0, 5.0, 5.0], "mean") == (5.0, 5.0)
    assert report.probability_of_improvement([3.0, 4.0], [1.0, 3.0]) == pytest.approx(3.5 / 4)
    new, old = [5.0, 1.0, 3.0, 3.0, 9.0], [3.0, 2.0, 7.0]  # rliable: Mann-Whitney's U over the pairs
    u = stats.mannwhitneyu(new, old, alternative="greater").statistic
    assert report.probability_of_improvement(new, old) == pytest.approx(u / (len(new) * len(old)))
    assert report.probability_of_improvement([1.0], [2.0]) == 0.0
    low, high = report.probability_of_improvement_ci([3.0, 4.0, 5.0], [1.0, 2.0, 3.5])
    assert 0.0 <= low <= report.probability_of_improvement([3.0, 4.0, 5.0], [1.0, 2.0, 3.5]) <= high <= 1.0
    assert report.normalized(400.0, 200) == 2.0 and report.normalized(-3.5, -3.5) == 1.0
    assert report.normalized(-0.5, -3.5) > report.normalized(-3.0, -3.5) > 1.0  # higher is still better


def test_curves_are_read_from_tensorboard_and_averaged_into_bins(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for episode in range(1000):
        writer.add_scalar(jobs.CURVE_TAG, float(episode), episode * 10)
    writer.close()
    curve = jobs.read_curve(tmp_path)
    assert curve[:2] == [[0, 0.0], [10, 1.0]] and len(curve) == 1000
    binned = jobs.downsample(curve, points=4)  # 250 episodes per bin: mean of 0..249 is 124.5
    assert binned == [[2490, 124.5], [4990, 374.5], [7490, 624.5], [9990, 874.5]]
    assert jobs.downsample(curve[:3], points=4) == curve[:3]


def test_a_curve_reader_follows_a_run_while_it_writes(tmp_path):
    """What the tuner reports to ASHA: the episodes logged so far, read again as the run goes on."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    read = jobs.curve_reader(tmp_path)
    assert read() == []
    writer.add_scalar(jobs.CURVE_TAG, -5.0, 100)
    writer.flush()
    assert read() == [[100, -5.0]]
    writer.add_scalar(jobs.CURVE_TAG, 7.0, 200)
    writer.add_scalar("charts/SPS", 1000.0, 200)  # other scalars are not the curve
    writer.close()
    assert read() == [[100, -5.0], [200, 7.0]]


def run_benchmark(args, cwd):
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), *args],
        cwd=cwd,
        env=cli_env(NO_RAY_TELEMETRY),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_runner_on_local_ray_reports_failures_skips_finished_runs_and_imports(tmp_path):
    records_dir = tmp_path / "records"
    dirs = ["--runs-dir", str(tmp_path / "runs"), "--records-dir", str(records_dir)]
    dirs += ["--results-dir", str(tmp_path / "results")]
    command = [
        "--algo",
        "ppo",
        "--env-ids",
        "CartPole-v1",
        "NoSuchEnv-v0",
        "--seeds",
        "1",
        "2",
        "--num-cpus",
        "2",
        *dirs,
        "--",
        *TINY_PPO,
    ]
    first = run_benchmark(command, tmp_path)
    assert first.returncode == 1, first.stderr  # a failed run fails the benchmark, after the tables
    records = report.load_records("ppo", records_dir)
    assert sorted((r["env_id"], r["seed"], r["status"]) for r in records) == [
        ("CartPole-v1", 1, "ok"),
        ("CartPole-v1", 2, "ok"),
        ("NoSuchEnv-v0", 1, "failed"),
        ("NoSuchEnv-v0", 2, "failed"),
    ]
    for record in records:
        if record["status"] == "ok":  # the record is what the script itself wrote
            run_dir = Path(record["run_dir"])
            assert record["results"] == json.loads((run_dir / "results.json").read_text())
            assert record["results"]["training"]["env_steps"] == 512 and record["curve"]
            assert record["command"] == (
                f"python algorithms/ppo.py --env-id CartPole-v1 --seed {record['seed']} " + " ".join(TINY_PPO)
            )
        else:
            assert "unknown environment id 'NoSuchEnv-v0'" in record["error"]
        # What a record keeps: the code it ran (the shared modules too), the machine, the benchmark command.
        assert record["code"] == jobs.code_version("ppo") and "hub_utils.py" in record["code_files"]
        assert record["code_files"]["algorithms/ppo.py"] == jobs.code_files("ppo")["algorithms/ppo.py"]
        assert record["machine"]["cores"] == os.cpu_count() and record["launched_by"].startswith(
            "python benchmarks/run.py --algo ppo --env-ids CartPole-v1 NoSuchEnv-v0"
        )
        assert report.record_path(records_dir, record).is_file()
    assert not (records_dir / "ppo" / "CartPole-v1" / record["code"] / "seed-1" / "runs").exists()
    table = (tmp_path / "results" / "ppo.md").read_text()
    assert table_row(table, "CartPole-v1")[1:3] == ["512", "2"]
    assert table_row(table, "NoSuchEnv-v0")[2] == "0" and table_row(table, "NoSuchEnv-v0")[10] == "2"
    assert (tmp_path / "results" / "ppo-CartPole-v1.png").read_bytes().startswith(PNG_SIGNATURE)

    finished = records_dir / "ppo" / "CartPole-v1" / jobs.code_version("ppo") / "seed-1.json"
    before = finished.stat().st_mtime_ns
    again = run_benchmark(command[:4] + ["--seeds", "1", *dirs, "--", *TINY_PPO], tmp_path)
    assert again.returncode == 1  # the failed runs are still in the tables
    assert "skip CartPole-v1 seed 1: finished earlier" in again.stdout and "on Ray" not in again.stdout
    assert finished.stat().st_mtime_ns == before
    record = json.loads(finished.read_text())
    assert record["code"] == jobs.code_version("ppo")  # the script or a shared module changed: not finished
    finished.write_text(json.dumps(dict(record, code="0123456789ab")))
    assert not run.is_finished(finished, record["command"], jobs.code_version("ppo"))
    assert run.is_finished(finished, record["command"], "0123456789ab")
    finished.write_text(json.dumps(record))

    # An earlier hand-made run folder joins the tables with the command that made it.
    hand_made = tmp_path / "hand" / "CartPole-v1__ppo__7__1"
    shutil.copytree(Path(json.loads(finished.read_text())["run_dir"]), hand_made)
    args_json = json.loads((hand_made / "args.json").read_text())
    (hand_made / "args.json").write_text(json.dumps(dict(args_json, seed=7)))
    imported = run_benchmark(["--algo", "ppo", "--import-runs", str(hand_made), *dirs], tmp_path)
    assert "imported" in imported.stdout
    # Its code digests come from the copies of the code the run folder holds: here, today's code.
    [path] = (records_dir / "ppo" / "CartPole-v1").glob("*/seed-7.json")
    record = json.loads(path.read_text())
    assert path.parent.name == record["code"] and record["code_files"]
    for name, digest in record["code_files"].items():
        assert digest == jobs.code_files("ppo")[name], name
    assert record["imported"] and record["status"] == "ok" and record["curve"]
    assert record["command"].startswith("python algorithms/ppo.py --env-id CartPole-v1 --seed 7 ")
    assert "--num-envs 2" in record["command"] and "--no-capture-video" in record["command"]
    assert table_row((tmp_path / "results" / "ppo.md").read_text(), "CartPole-v1")[2] == "3"


def test_runner_rejects_unknown_algorithms(tmp_path):
    result = run_benchmark(["--algo", "sac", "--env-ids", "CartPole-v1"], tmp_path)
    assert result.returncode != 0 and "unknown --algo 'sac' (known: a2c, dqn" in result.stderr


@pytest.fixture
def ray_cluster():
    """An existing Ray cluster for --address, with token authentication as `ray start` sets up:
    a process that started a one-node cluster and holds it until the test ends. (`ray stop`
    would also stop every other Ray instance on the machine.)"""
    env = cli_env({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16), **NO_RAY_TELEMETRY})
    head = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, ray; context = ray.init(num_cpus=2, include_dashboard=False); "
            "print(context.address_info['gcs_address'], flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    address = head.stdout.readline().strip()
    assert address, "the Ray head did not start"
    yield address, env
    head.stdin.close()  # the holder exits, and its cluster with it
    head.wait(timeout=60)


def test_tuner_searches_on_a_ray_cluster_and_prints_a_runnable_best_command(tmp_path, ray_cluster):
    address, env = ray_cluster
    out = tmp_path / "tune"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "tune.py"),
            "--algo",
            "ppo",
            "--env-id",
            "CartPole-v1",
            "--total-timesteps",
            "1024",
            "--num-samples",
            "2",
            "--address",
            address,
            "--out",
            str(out),
            "--param",
            "learning-rate=loguniform:1e-4:1e-3",
            "--param",
            "update-epochs=choice:2:4",
            "--",
            *TINY_PPO[2:],
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    best = json.loads((out / "best.json").read_text())
    assert 1e-4 <= best["config"]["learning-rate"] <= 1e-3 and best["config"]["update-epochs"] in (2, 4)
    assert best["command"] in result.stdout
    assert result.stdout.count("trial ") == 2 and "last 10 episodes" in result.stdout  # a line per trial
    trials = [line for line in (out / "trials.md").read_text().splitlines()[2:] if line.startswith("|")]
    assert len(trials) == 2 and sum("best" in line for line in trials) == 1

    # The printed command is the script's own command line, with the sampled flags.
    from hub_utils import load_algorithm

    args = load_algorithm("ppo.py").parse_args(best["command"].split()[2:])
    assert args.learning_rate == best["config"]["learning-rate"]
    assert args.update_epochs == best["config"]["update-epochs"]
    assert args.total_timesteps == 1024 and args.env_id == "CartPole-v1"

    # It trains: the best trial's own record holds the evaluation result it was ranked by.
    records = [json.loads(path.read_text()) for path in (out / "trials").glob("*/record.json")]
    assert best["eval_result"] in [r["results"]["result"] for r in records if r["status"] == "ok"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("learning-rate", "expected NAME=KIND:ARGS"),
        ("learning-rate=normal:0:1", "KIND one of loguniform, uniform, randint, choice"),
        ("learning-rate=uniform:1e-4", "uniform takes LOW:HIGH"),
    ],
)
def test_tuner_rejects_malformed_search_parameters(tmp_path, spec, message):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "tune.py"),
            "--algo",
            "ppo",
            "--env-id",
            "CartPole-v1",
            "--total-timesteps",
            "1000",
            "--param",
            spec,
        ],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr


def test_speed_split_follows_the_scripts_own_numbered_steps(tmp_path, monkeypatch):
    """speed.py profiles a script by sampling, attributing time to the numbered steps its comments
    name (no function of the script replaced): the shares cover the loop and include the env."""
    import speed

    steps, loop_start, loop_end = speed.story_steps(REPO / "algorithms" / "dqn.py")
    assert [label.split(".")[0] for _, label in steps] == ["1", "2", "3", "4"]
    assert loop_start < steps[0][0] < steps[-1][0] < loop_end
    monkeypatch.chdir(tmp_path)
    split = speed.time_split("dqn", "CartPole-v1", ["--learning-starts", "500"], min_steps=3000)
    assert sum(split.values()) == pytest.approx(1.0)
    assert any(part.endswith("/ environment") for part in split)
    assert any(part.startswith("3. learn") for part in split)


def test_the_readmes_results_table_is_the_committed_benchmark_summary():
    """README.md's course-units table is copied from benchmarks/results/README.md (written by report.py
    from the committed records): every row as written, IQM interval included, and nothing else. So
    every run the README counts is a committed record."""

    def unit_rows(text):
        return [
            line for line in text.splitlines() if line.startswith("| ") and line.rstrip().endswith(".md) |")
        ]

    summary = unit_rows((report.RESULTS / "README.md").read_text().split("## Every algorithm")[0])
    readme = unit_rows((REPO / "README.md").read_text().replace("](benchmarks/results/", "]("))
    assert summary and readme == summary
    assert all(re.search(r"\| -?\d+\.\d\d \[-?\d+\.\d\d, -?\d+\.\d\d\] \|", row) for row in readme)


def test_report_rebuilds_the_committed_pages_from_the_committed_records_alone(tmp_path):
    """A fresh clone: report.py, the committed records and the algorithm names, nothing else (no
    benchmarks/runs/, no earlier pages). `python benchmarks/report.py` writes every committed results
    page byte for byte and the same set of plots, and every record sits where its code puts it."""
    clone = tmp_path / "clone"
    shutil.copytree(REPO / "benchmarks" / "records", clone / "benchmarks" / "records")
    shutil.copy(REPO / "benchmarks" / "report.py", clone / "benchmarks" / "report.py")
    (clone / "algorithms").mkdir()
    for script in (REPO / "algorithms").glob("*.py"):
        (clone / "algorithms" / script.name).touch()
    process = subprocess.run(
        [sys.executable, "benchmarks/report.py"], cwd=clone, capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr
    committed, rebuilt = REPO / "benchmarks" / "results", clone / "benchmarks" / "results"
    pages = sorted(path.name for path in committed.glob("*.md") if not path.name.startswith("tune-"))
    assert pages == sorted(path.name for path in rebuilt.glob("*.md"))
    for name in pages:
        assert (rebuilt / name).read_text() == (committed / name).read_text(), f"{name} differs"
    assert sorted(p.name for p in rebuilt.glob("*.png")) == sorted(p.name for p in committed.glob("*.png"))

    for path in (REPO / "benchmarks" / "records").glob("*/*/*/seed-*.json"):
        record = json.loads(path.read_text())
        assert report.record_path(REPO / "benchmarks" / "records", record) == path
        assert record["status"] == "ok" or record["error"], path


def test_random_play_uses_each_scripts_own_evaluation(capsys):
    """One random-play baseline for every script: its own evaluation env, seeds and flags; seeded."""
    import random_play

    taxi = random_play.random_play("q_learning", "Taxi-v3", episodes=3)
    assert taxi.seeds == hub_utils.load_algorithm("q_learning.py").TAXI_EVAL_SEEDS[:3]  # the course's seeds
    cartpole = random_play.random_play("reinforce", "CartPole-v1", seed=2, episodes=4)
    assert cartpole.seeds == hub_utils.eval_seeds(2, 4) and 4 <= cartpole.mean < 100  # random play falls fast
    assert random_play.random_play("reinforce", "CartPole-v1", seed=2, episodes=4).returns == cartpole.returns
    frozen = random_play.random_play("q_learning", "FrozenLake-v1", episodes=2, flags=["--map-name", "8x8"])
    assert frozen.mean <= 1.0

    assert random_play.main(["--algo", "reinforce", "--env-id", "CartPole-v1", "--episodes", "2"]) == 0
    assert "reinforce.py's evaluation of CartPole-v1, uniformly random actions:" in capsys.readouterr().out
    assert random_play.main(["--algo", "dqn", "--env-id", "Taxi-v3"]) == 2  # dqn.py cannot play it
    connect_four = random_play.random_play("ppo_selfplay", "ConnectFour-v3", episodes=6)  # moves masked
    assert len(connect_four.returns) == 6 and set(connect_four.returns) <= {-1.0, 0.0, 1.0}
    assert "dqn.py needs a 1-D Box observation space" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="unknown --algo 'sac'"):
        random_play.main(["--algo", "sac", "--env-id", "CartPole-v1"])
