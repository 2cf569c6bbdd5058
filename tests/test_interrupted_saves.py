"""Issue #15, class 4: a kill in the middle of a checkpoint save (SIGKILL after the new file's bytes
are written, before they are committed), or a full disk, leaves the previous good checkpoint byte for
byte, and `--resume` then finishes the run from it. dqn_atari's replay frames and checkpoint.pt are
one unit: a kill between the two leaves the previous pair.

The fault is injected by this test's own wrapper script (FAULT=kill|full at the FAULT_AT-th fsync,
which every atomic write calls just before its rename); the algorithm files have no test hooks."""

import subprocess
import sys

import pytest
from conftest import REPO, cli_env, only_run_dir, run_cli

WRAPPER = """
import os, runpy, signal, sys
import training_run

start_run = training_run.start_run
def stop_at_once(*args, **kwargs):  # as if Ctrl-C came before the first step: the loop saves at once
    run = start_run(*args, **kwargs)
    run.stop_requested = True
    return run
training_run.start_run = stop_at_once

fault, at, calls, fsync = os.environ.get("FAULT"), int(os.environ.get("FAULT_AT", "1")), [], os.fsync
def faulty_fsync(descriptor):
    calls.append(descriptor)
    if fault == "kill" and len(calls) == at:
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "full" and len(calls) == at:
        raise OSError(28, "No space left on device")
    fsync(descriptor)
os.fsync = faulty_fsync
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

CASES = {
    "q_learning.py": ["--env-id", "FrozenLake-v1", "--total-episodes", "30", "--eval-episodes", "1"],
    "reinforce.py": ["--total-timesteps", "200", "--eval-episodes", "1"],
    "dqn.py": ["--total-timesteps", "300", "--learning-starts", "100", "--eval-episodes", "1"],
    "dqn_atari.py": [
        "--total-timesteps",
        "200",
        "--learning-starts",
        "100",
        "--buffer-size",
        "500",
        "--batch-size",
        "8",
        "--eval-episodes",
        "1",
    ],  # fmt: skip
}


def wrapped(tmp_path, flags, fault=None, at=1):
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    env = cli_env({"FAULT": fault or "", "FAULT_AT": str(at)})
    command = [sys.executable, str(wrapper), *flags]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("checkpoint")}


@pytest.mark.parametrize(
    "script, fault, at",
    [
        ("q_learning.py", "kill", 1),
        ("reinforce.py", "full", 1),
        ("dqn_atari.py", "kill", 2),  # new frames written, killed while checkpoint.pt is written
    ],
)
def test_a_fault_during_a_save_keeps_the_previous_checkpoint(tmp_path, script, fault, at):

    path = str(REPO / "algorithms" / script)
    first = wrapped(tmp_path, [path, *CASES[script]])
    assert first.returncode == 130, first.stderr  # a good checkpoint, saved at once
    run_dir = only_run_dir(tmp_path)
    good = snapshot(run_dir)
    assert good

    faulted = wrapped(tmp_path, [path, "--resume", str(run_dir.relative_to(tmp_path))], fault, at)
    if fault == "kill":
        assert faulted.returncode == -9, faulted.stderr
    else:
        assert faulted.returncode == 2 and "Traceback" not in faulted.stderr, faulted.stderr
        assert faulted.stderr.count("\n") == 1 and "No space left on device" in faulted.stderr
        assert "the previous one, if any, is kept" in faulted.stderr
    after = snapshot(run_dir)
    assert {name: after.get(name) for name in good} == good  # the previous checkpoint, byte for byte
    extra = set(after) - set(good)  # at most dqn_atari's new frames, which no checkpoint.pt names
    assert not extra or (script == "dqn_atari.py" and len(extra) == 1 and extra.pop().endswith(".npy"))

    resumed = run_cli([f"algorithms/{script}", "--resume", str(run_dir.relative_to(tmp_path))], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert not any(p.name.startswith("checkpoint") for p in run_dir.iterdir())
    assert not list(run_dir.glob(".*.tmp*"))  # the killed save's temporary file went with the resume
    assert (run_dir / "results.json").is_file()


def test_no_temporary_file_is_ever_taken_for_a_checkpoint(tmp_path):
    """A kill leaves a temporary file behind: it is hidden (a dot name), so neither --resume's check
    for a checkpoint nor the upload (which leaves out .*.tmp*) takes it for one."""
    script = str(REPO / "algorithms" / "reinforce.py")
    first = wrapped(tmp_path, [script, *CASES["reinforce.py"]], "kill", 3)  # fsyncs 1, 2: args.json, script
    assert first.returncode == -9
    run_dir = only_run_dir(tmp_path)
    assert not any(p.name.startswith("checkpoint") for p in run_dir.iterdir())
    leftovers = [p.name for p in run_dir.iterdir() if ".tmp" in p.suffixes]
    assert leftovers and all(name.startswith(".checkpoint.") and name.endswith(".pt") for name in leftovers)
    process = run_cli(["algorithms/reinforce.py", "--resume", str(run_dir.relative_to(tmp_path))], tmp_path)
    assert process.returncode == 2 and "no checkpoint there" in process.stderr
