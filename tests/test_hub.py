"""Publishing and loading through the real huggingface_hub client, against the local Hub stand-in."""

import pickle
import shutil
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import assert_one_line_error, cli_env, only_run_dir, run_cli
from huggingface_hub import HfApi, ModelCard
from test_q_learning import value_iteration

import hub_utils

REPO_ID = "alice/q-learning-FrozenLake-v1-4x4-no_slippery"
q_learning = hub_utils.load_algorithm("q_learning.py")


@pytest.fixture
def run_copy(frozenlake_run, tmp_path):
    """A private copy of the FrozenLake run folder under tmp_path/runs (push rewrites its card)."""
    _, run_dir, _ = frozenlake_run
    copy = tmp_path / "runs" / run_dir.name
    shutil.copytree(run_dir, copy)
    return copy


def folder_bytes(folder):
    """Every file under ``folder`` (relative path -> bytes), and every file's mode and time stamp."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mode, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def file_bytes(folder):
    return {name: data for name, (data, _, _) in folder_bytes(folder).items()}


def test_push_then_enjoy_round_trip(run_copy, tmp_path, hub_standin, hub_env):
    (run_copy / "checkpoint.npz").write_bytes(b"a leftover checkpoint stays local")
    pushed = run_cli(
        ["hub_utils.py", "push", f"runs/{run_copy.name}", "--repo-id", REPO_ID], tmp_path, hub_env()
    )
    assert pushed.returncode == 0, pushed.stderr
    assert f"pushed: {hub_standin.endpoint}/{REPO_ID}" in pushed.stdout

    local = file_bytes(run_copy)
    remote = hub_standin.files(REPO_ID)
    assert set(remote) == set(local) - {"checkpoint.npz"}
    assert {"hub_utils.py", "requirements.txt", "q_learning.py"} <= set(remote)  # replays on its own
    assert all(remote[name] == local[name] for name in remote)
    card = ModelCard(remote["README.md"].decode()).text
    assert f"python hub_utils.py enjoy --repo-id {REPO_ID}" in card
    assert f"hf download {REPO_ID} --local-dir" in card and "someone else's code" in card

    hub_standin.requests.clear()
    fresh = tmp_path / "elsewhere"
    enjoyed = run_cli(["hub_utils.py", "enjoy", "--repo-id", REPO_ID], fresh, hub_env(token=None))
    assert enjoyed.returncode == 0, enjoyed.stderr
    assert "mean_reward 1.00 +/- 0.00 over 100 episodes (result 1.00)" in enjoyed.stdout
    (video,) = (fresh / "runs" / "enjoy").glob("alice__*.mp4")
    assert len(list(iio.imiter(video))) == 7
    downloaded = {path.rsplit("/", 1)[-1] for method, path in hub_standin.requests if "/resolve/" in path}
    assert downloaded == {"args.json", "results.json", "qtable.npz"}  # never the script, never code


def test_upload_model_flag_derives_the_repository_from_the_user(tmp_path, hub_standin, hub_env):
    flags = ["--env-id", "FrozenLake-v1", "--total-episodes", "300", "--eval-episodes", "2", "--upload-model"]
    for extra, cwd in ((["--hf-entity", "alice"], tmp_path / "entity"), ([], tmp_path / "whoami")):
        process = run_cli(["algorithms/q_learning.py", *flags, *extra], cwd, hub_env())
        assert process.returncode == 0, process.stderr
        assert set(hub_standin.files(REPO_ID)) >= {"qtable.npz", "README.md", "replay.mp4"}
        assert f"pushed: {hub_standin.endpoint}/{REPO_ID}" in process.stdout


@pytest.mark.parametrize(
    "token, repo_id, reason",
    [
        (None, REPO_ID, "not logged in (run `hf auth login` or set HF_TOKEN)"),
        ("hf_stolen_token", REPO_ID, "rejected the token (401)"),
        ("hf_alice_token", "bob/q-learning-FrozenLake-v1", "permission denied (403)"),
    ],
)
def test_push_failures_say_why_in_one_line_and_leave_the_folder_byte_for_byte(
    run_copy, tmp_path, hub_env, token, repo_id, reason
):
    before = folder_bytes(run_copy)
    process = run_cli(
        ["hub_utils.py", "push", f"runs/{run_copy.name}", "--repo-id", repo_id], tmp_path, hub_env(token)
    )
    assert_one_line_error(process, reason, code=1)
    assert folder_bytes(run_copy) == before  # the card included: it is rendered for the upload only


def test_a_card_edited_by_hand_is_pushed_as_it_is_and_kept(run_copy, tmp_path, hub_standin, hub_env):
    card = run_copy / "README.md"
    card.write_text(
        card.read_text().replace("## Evaluation", "My notes: trained on a train.\n\n## Evaluation")
    )
    edited = folder_bytes(run_copy)
    failed = run_cli(
        ["hub_utils.py", "push", f"runs/{run_copy.name}", "--repo-id", REPO_ID], tmp_path, hub_env(None)
    )
    assert_one_line_error(failed, "not logged in", code=1)
    assert folder_bytes(run_copy) == edited

    pushed = run_cli(
        ["hub_utils.py", "push", f"runs/{run_copy.name}", "--repo-id", REPO_ID], tmp_path, hub_env()
    )
    assert pushed.returncode == 0, pushed.stderr
    assert "README.md was edited by hand: uploaded as it is" in pushed.stdout
    assert folder_bytes(run_copy) == edited
    assert hub_standin.files(REPO_ID)["README.md"] == card.read_bytes()


def test_a_malformed_repo_id_is_one_line_and_nothing_is_written(run_copy, tmp_path, hub_env):
    before = folder_bytes(run_copy)
    for repo_id in ("alice", "alice/bad name", "alice/x/y", "../alice/x"):
        process = run_cli(
            ["hub_utils.py", "push", f"runs/{run_copy.name}", "--repo-id", repo_id], tmp_path, hub_env()
        )
        assert_one_line_error(process, f"--repo-id {repo_id!r} is not a repository id")
    assert folder_bytes(run_copy) == before


def test_push_to_an_unreachable_hub_says_so(run_copy, tmp_path):
    env = {
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "HF_TOKEN": "hf_alice_token",
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_XET": "1",
    }  # port 9 (discard): nothing listens there
    process = run_cli(["hub_utils.py", "push", f"runs/{run_copy.name}", "--repo-id", REPO_ID], tmp_path, env)
    assert_one_line_error(process, "the Hub is unreachable", code=1)


def test_failed_upload_after_training_keeps_the_model_and_says_how_to_retry(tmp_path, hub_env):
    process = run_cli(
        [
            "algorithms/q_learning.py",
            "--env-id",
            "FrozenLake-v1",
            "--total-episodes",
            "300",
            "--eval-episodes",
            "2",
            "--upload-model",
            "--repo-id",
            REPO_ID,
        ],
        tmp_path,
        hub_env(None),
    )
    assert_one_line_error(
        process,
        "not logged in",
        "push it later with `python hub_utils.py push runs/",
        f"--repo-id {REPO_ID}`",
        code=1,
    )
    run_dir = only_run_dir(tmp_path)
    assert {"qtable.npz", "results.json", "README.md"} <= {path.name for path in run_dir.iterdir()}


def course_model(env_id, qtable, eval_seed):
    """A model dict in the format of the course's Unit 2 notebook (saved there as q-learning.pkl)."""
    return {
        "env_id": env_id,
        "max_steps": 99,
        "n_training_episodes": 25000,
        "n_eval_episodes": len(eval_seed),
        "eval_seed": eval_seed,
        "learning_rate": 0.7,
        "gamma": 0.95,
        "max_epsilon": 1.0,
        "min_epsilon": 0.05,
        "decay_rate": 0.005,
        "qtable": qtable,
    }


def test_course_pickle_needs_trust_and_then_loads_with_its_seeds(tmp_path, hub_standin, hub_env):
    args = q_learning.parse_args(["--env-id", "Taxi-v3"])
    optimal = value_iteration(q_learning.make_env(args), gamma=0.95)
    folder = tmp_path / "course-repo"
    folder.mkdir()
    with open(folder / "q-learning.pkl", "wb") as file:
        pickle.dump(course_model("Taxi-v3", optimal, q_learning.TAXI_EVAL_SEEDS), file)
    api = HfApi(endpoint=hub_standin.endpoint, token="hf_alice_token")
    api.create_repo("alice/q-Taxi-v3")
    api.upload_folder(folder_path=folder, repo_id="alice/q-Taxi-v3")

    refused = run_cli(
        ["hub_utils.py", "enjoy", "--repo-id", "alice/q-Taxi-v3", "--no-video"], tmp_path / "a", hub_env(None)
    )
    assert_one_line_error(refused, "alice/q-Taxi-v3 holds a course-format q-learning.pkl", "--trust-pickle")
    assert not any(path.endswith(".pkl") for _, path in hub_standin.requests if "/resolve/" in path)

    trusted = run_cli(
        ["hub_utils.py", "enjoy", "--repo-id", "alice/q-Taxi-v3", "--trust-pickle"],
        tmp_path / "b",
        hub_env(None),
    )
    assert trusted.returncode == 0, trusted.stderr
    assert "mean_reward 7.56 +/- 2.71 over 100 episodes (result 4.85)" in trusted.stdout


def test_local_course_pickle_is_refused_without_trust(tmp_path):
    with open(tmp_path / "q-learning.pkl", "wb") as file:
        pickle.dump(course_model("FrozenLake-v1", np.zeros((16, 4)), []), file)
    process = run_cli(["hub_utils.py", "enjoy", "--path", str(tmp_path)], tmp_path)
    assert_one_line_error(process, "q-learning.pkl", "--trust-pickle")


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda run: (run / "qtable.npz").write_bytes(b"not a zip archive"), "cannot load the model"),
        (lambda run: (run / "qtable.npz").unlink(), "cannot load the model"),
        (lambda run: (run / "results.json").write_text("{"), "results.json is not readable JSON"),
        (lambda run: (run / "args.json").unlink(), "not a model folder of this project (no args.json)"),
    ],
)
def test_enjoy_reports_a_missing_or_corrupt_model_in_one_line(run_copy, tmp_path, damage, message):
    damage(run_copy)
    process = run_cli(["hub_utils.py", "enjoy", "--path", f"runs/{run_copy.name}", "--no-video"], tmp_path)
    assert_one_line_error(process, message)


def test_enjoy_a_missing_repository(tmp_path, hub_env):
    process = run_cli(["hub_utils.py", "enjoy", "--repo-id", "alice/nothing"], tmp_path, hub_env())
    assert_one_line_error(process, "cannot download alice/nothing", "404", code=1)


def test_enjoy_a_local_run_uses_its_own_evaluation_seeds(run_copy, tmp_path):
    process = run_cli(
        [
            "hub_utils.py",
            "enjoy",
            "--path",
            f"runs/{run_copy.name}",
            "--eval-episodes",
            "3",
            "--video",
            "replay-check.mp4",
        ],
        tmp_path,
    )
    assert process.returncode == 0, process.stderr
    assert "mean_reward 1.00 +/- 0.00 over 3 episodes" in process.stdout
    assert (tmp_path / "replay-check.mp4").stat().st_size > 0


def test_a_run_folder_replays_with_its_own_copy_of_hub_utils_and_script(run_copy):
    """The folder's hub_utils.py, with no algorithms/ beside it, loads the script in the folder (this
    environment's packages; tests/test_standalone_replay.py does it in a fresh one)."""
    script = run_copy / "q_learning.py"
    script.write_text(
        script.read_text().replace(
            "\ndef parse_args", '\nprint("the copy in the folder")\n\n\ndef parse_args', 1
        )
    )
    process = subprocess.run(
        [sys.executable, "hub_utils.py", "enjoy", "--path", ".", "--no-video"],
        cwd=run_copy,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr
    assert "the copy in the folder" in process.stdout
    assert "mean_reward 1.00 +/- 0.00 over 100 episodes (result 1.00)" in process.stdout
