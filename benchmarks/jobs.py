"""What the benchmark runner (run.py) and the tuner (tune.py) share: run one algorithm script to
the end in a folder of its own, and read back what it wrote -- results.json and the learning
curve in its TensorBoard log -- as one JSON-able record.

A record is the unit the tables and plots are made of, one small JSON file per run, committed
under benchmarks/records/<algo>/<env id>/<code digest>/seed-<S>.json (benchmarks/README.md):

    {"schema": 2, "algo", "env_id", "seed", "flags", "command": the command as typed,
     "args": the run's args.json, "code": code_version(algo), "code_files": {path: digest},
     "machine": machine(), "status": "ok" | "failed", "returncode", "date", "wall_s": the whole
     command's wall time, "results": results.json (or None), "curve": [[step, return], ...],
     "intrinsic_curve", "elo_curve": [[step, value], ...] (EXTRA_CURVES, only where the run logs
     them: ppo_rnd.py, ppo_selfplay.py), "error": the end of the log
     when failed, "source": who made the record, "launched_by": the benchmark command that started
     the run, "run_dir": where its run folder was}

Records imported from pages whose run folders are lost have "source" saying so, and null for
every field the pages did not state (benchmarks/records/README.md).
"""

import ast
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALGORITHMS = REPO / "algorithms"
CURVE_TAG = "charts/episodic_return"  # every script logs each finished episode's return under it
# Curves some scripts log beside the returns, kept in their records under these keys where logged:
# ppo_rnd.py's raw intrinsic reward (one point per rollout), ppo_selfplay.py's learner's ELO rating.
EXTRA_CURVES = {"intrinsic_curve": "charts/intrinsic_reward", "elo_curve": "elo/learner"}
CURVE_POINTS = 300  # a stored curve is averaged into at most this many points


def known_algorithms() -> list[str]:
    return sorted(path.stem for path in ALGORITHMS.glob("*.py"))


def check_algorithm(algo: str) -> None:
    """Exits with a one-line message unless algorithms/<algo>.py exists."""
    if algo not in known_algorithms():
        sys.exit(f"error: unknown --algo {algo!r} (known: {', '.join(known_algorithms())})")


def training_command(algo: str, env_id: str, seed: int, flags: list[str]) -> list[str]:
    """The script's command line, relative to the repository root, as the tables print it."""
    return [f"algorithms/{algo}.py", "--env-id", env_id, "--seed", str(seed), *flags]


def curve_reader(run_dir: Path, tag: str = CURVE_TAG) -> Callable[[], list[list[float]]]:
    """A function that returns the run's [[global_step, episodic_return], ...] (or another ``tag``'s
    values) so far, from its TensorBoard event files; each call reads only what was written since."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})  # 0: keep every point

    def read() -> list[list[float]]:
        events.Reload()
        if tag not in events.Tags()["scalars"]:
            return []
        return [[event.step, event.value] for event in events.Scalars(tag)]

    return read


def read_curve(run_dir: Path, tag: str = CURVE_TAG) -> list[list[float]]:
    return curve_reader(run_dir, tag)()


def extra_curves(run_dir: Path | None) -> dict:
    """{key: [[step, value], ...]} for each of EXTRA_CURVES the run logs (none for most scripts)."""
    curves = {key: read_curve(run_dir, tag) if run_dir else [] for key, tag in EXTRA_CURVES.items()}
    return {key: downsample(curve) for key, curve in curves.items() if curve}


def downsample(curve: list[list[float]], points: int = CURVE_POINTS) -> list[list[float]]:
    """Averages consecutive episodes into at most ``points`` bins: [last step of bin, mean return]."""
    if len(curve) <= points:
        return curve
    bins = [curve[len(curve) * i // points : len(curve) * (i + 1) // points] for i in range(points)]
    return [[chunk[-1][0], sum(value for _, value in chunk) / len(chunk)] for chunk in bins]


def first_party_files(script: Path, root: Path = REPO) -> list[Path]:
    """The script and every first-party module it imports, directly or through another one: the
    modules and packages at ``root`` (hub_utils.py, training_run.py, fast_paths.py,
    envs/), whatever their names."""
    found, todo = set(), [script]
    while todo:
        path = todo.pop()
        if path in found or not path.is_file():
            continue
        found.add(path)
        tree = ast.parse(path.read_text())
        names = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        for name in {name.split(".")[0] for name in names}:
            if (root / f"{name}.py").is_file():
                todo.append(root / f"{name}.py")
            elif (root / name / "__init__.py").is_file():
                todo += sorted((root / name).glob("**/*.py"))
    return sorted(found)


def file_digests(files: list[Path], root: Path) -> dict[str, str]:
    """{path relative to root: the first 12 hex digits of its SHA-256}."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in files
    }


def combined_digest(digests: dict[str, str]) -> str:
    """One digest for a set of files, from their names and digests: equal code, equal digest."""
    return hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()[:12]


def code_files(algo: str) -> dict[str, str]:
    return file_digests(first_party_files(ALGORITHMS / f"{algo}.py"), REPO)


def code_version(algo: str) -> str:
    """A digest of the code a run of algo executes (its script and the shared modules it imports):
    runs with the same command but different code are different runs, and both records are kept."""
    return combined_digest(code_files(algo))


def run_dir_code_files(run_dir: Path) -> dict[str, str] | None:
    """The code digests of a run folder's own copies (every run folder holds its script and the
    first-party modules it imports), named as in the repository; None if the copies are missing."""
    results = json.loads((run_dir / "results.json").read_text())
    script = run_dir / Path(results.get("script", "")).name
    if not script.is_file() or script == run_dir:
        return None
    files = first_party_files(script, root=run_dir)
    digests = file_digests(files, run_dir)
    return {
        (f"algorithms/{name}" if name == script.name else name): digest for name, digest in digests.items()
    }


def machine() -> dict:
    """What ran it: CPU model and cores, GPU if torch sees one, OS and Python."""
    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return dict(
        cpu=cpu, cores=os.cpu_count(), gpu=gpu, os=platform.platform(), python=platform.python_version()
    )


def find_run_dir(workdir: Path) -> Path | None:
    """The run folder a script made under workdir/runs/ (the newest, if several)."""
    runs = sorted((workdir / "runs").glob("*/args.json"), key=lambda path: path.stat().st_mtime)
    return runs[-1].parent if runs else None


def record_from_run_dir(run_dir: Path) -> dict:
    """A record of a finished run folder made by any means (used to import earlier runs)."""
    results = json.loads((run_dir / "results.json").read_text())
    args = json.loads((run_dir / "args.json").read_text())
    flags = []
    for key, value in args.items():
        if key in ("env_id", "seed") or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            flags += [flag, *map(str, value if isinstance(value, list) else [value])]
    algo = Path(results["script"]).stem
    files = run_dir_code_files(run_dir)
    return dict(
        schema=2,
        algo=algo,
        env_id=args["env_id"],
        seed=args["seed"],
        flags=flags,
        command=shlex.join(["python", *training_command(algo, args["env_id"], args["seed"], flags)]),
        args=args,
        code=combined_digest(files) if files else None,
        code_files=files,
        machine=None,  # not recorded in a run folder
        status="ok",
        returncode=0,
        date=results["date"],
        wall_s=None,  # the whole command's time is not in a run folder
        results=results,
        curve=downsample(read_curve(run_dir)),
        **extra_curves(run_dir),
        error=None,
        source=f"imported from the run folder {run_dir.name} (benchmarks/run.py --import-runs)",
        launched_by=None,
        run_dir=str(run_dir),
    )


def run_training(
    algo: str,
    env_id: str,
    seed: int,
    flags: list[str],
    workdir: Path,
    on_curve: Callable[[list[list[float]]], None] | None = None,
    poll_s: float = 2.0,
) -> dict:
    """Runs algorithms/<algo>.py in ``workdir`` (its run folder lands in workdir/runs/) and
    returns its record. While it runs, ``on_curve`` (if given) is called with the learning curve
    every time new episodes appear: the tuner reports them to its early-stopping scheduler. If
    ``on_curve`` raises (the scheduler stopped the trial), the script is killed."""
    workdir.mkdir(parents=True, exist_ok=True)
    command, files = training_command(algo, env_id, seed, flags), code_files(algo)
    code = combined_digest(files)  # the code as the run starts
    environment = dict(os.environ, OMP_NUM_THREADS="1", WANDB_MODE=os.environ.get("WANDB_MODE", "offline"))
    started, date = time.time(), time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    log_path = workdir / "log.txt"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(REPO / command[0]), *command[1:]],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            episodes_seen, read = 0, None
            while process.poll() is None:
                if on_curve is None:
                    process.wait()
                    break
                time.sleep(poll_s)
                if read is None and (run_dir := find_run_dir(workdir)) is not None:
                    read = curve_reader(run_dir)
                curve = read() if read is not None else []
                if len(curve) > episodes_seen:
                    episodes_seen = len(curve)
                    on_curve(curve)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    run_dir = find_run_dir(workdir)
    results_path = run_dir / "results.json" if run_dir else None
    ok = process.returncode == 0 and results_path is not None and results_path.is_file()
    args_path = run_dir / "args.json" if run_dir else None
    return dict(
        schema=2,
        algo=algo,
        env_id=env_id,
        seed=seed,
        flags=flags,
        command=shlex.join(["python", *command]),
        args=json.loads(args_path.read_text()) if args_path and args_path.is_file() else None,
        code=code,
        code_files=files,
        machine=machine(),
        status="ok" if ok else "failed",
        returncode=process.returncode,
        date=date,
        wall_s=round(time.time() - started, 1),
        results=json.loads(results_path.read_text()) if ok else None,
        curve=downsample(read_curve(run_dir)) if run_dir else [],
        **extra_curves(run_dir),
        error=None if ok else "\n".join(log_path.read_text().splitlines()[-5:]),
        source="benchmarks/run.py",
        launched_by=None,  # run.py sets it
        run_dir=str(run_dir) if run_dir else None,
    )
