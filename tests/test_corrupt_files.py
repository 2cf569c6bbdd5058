"""Issue #15, class 3: a corrupt or foreign run folder, checkpoint, args.json, results.json, course
pickle, a malformed --repo-id, a --video that is a folder, a runs/ that cannot be written: each is
one line naming the file and what is wrong, exit code 2, and the folder is left byte for byte as it
was (no new TensorBoard events file)."""

import json
import pickle

import pytest
import torch
from conftest import REPO, assert_one_line_error, run_cli

import hub_utils
import training_run


def snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def fake_run(tmp_path, script, flags=(), checkpoint=b"not a checkpoint at all"):
    """runs/fake: what an interrupted run of ``script`` leaves (args.json, the script, a checkpoint)."""
    args = vars(hub_utils.load_algorithm(script).parse_args(list(flags)))
    run_dir = tmp_path / "runs" / "fake"
    run_dir.mkdir(parents=True)
    saved = {key: value for key, value in args.items() if key not in hub_utils.RUN_ONLY_FLAGS}
    (run_dir / "args.json").write_text(json.dumps(saved, default=str))
    (run_dir / script).write_bytes((REPO / "algorithms" / script).read_bytes())
    name = "checkpoint.npz" if script == "q_learning.py" else "checkpoint.pt"
    (run_dir / name).write_bytes(checkpoint)
    return run_dir


def reinforce_checkpoint(path, hidden_size=64):
    """A real reinforce.py checkpoint (CartPole: 4 observations, 2 actions)."""
    reinforce = hub_utils.load_algorithm("reinforce.py")
    policy = reinforce.Policy(4, 2, hidden_size, 1)
    optimizer = torch.optim.Adam(policy.parameters())
    training_run.save_checkpoint(
        path, policy=policy.state_dict(), optimizer=optimizer.state_dict(), global_step=10, episodes=1,
        updates=1, torch_rng=torch.get_rng_state(), env_rng={},
    )  # fmt: skip
    return path.read_bytes()


def resume_fails(tmp_path, script, run_dir, *fragments):
    before = snapshot(run_dir)
    process = run_cli([f"algorithms/{script}", "--resume", "runs/fake"], tmp_path)
    assert_one_line_error(process, *fragments)
    assert snapshot(run_dir) == before  # nothing added (no events file), nothing changed
    assert [path.name for path in (tmp_path / "runs").iterdir()] == ["fake"]


def test_garbage_checkpoint(tmp_path):
    run_dir = fake_run(tmp_path, "reinforce.py")
    resume_fails(tmp_path, "reinforce.py", run_dir, "checkpoint runs/fake/checkpoint.pt", "not a checkpoint")


def test_truncated_checkpoint(tmp_path):
    run_dir = fake_run(tmp_path, "reinforce.py")
    whole = reinforce_checkpoint(run_dir / "checkpoint.pt")
    (run_dir / "checkpoint.pt").write_bytes(whole[: len(whole) // 2])
    resume_fails(tmp_path, "reinforce.py", run_dir, "runs/fake/checkpoint.pt", "truncated")


def test_checkpoint_of_another_kind(tmp_path):
    run_dir = fake_run(tmp_path, "dqn.py")
    torch.save({"agent": {}, "iteration": 3}, run_dir / "checkpoint.pt")
    resume_fails(tmp_path, "dqn.py", run_dir, "runs/fake/checkpoint.pt lacks", "global_step")


def test_garbage_q_table_checkpoint(tmp_path):
    run_dir = fake_run(tmp_path, "q_learning.py")
    resume_fails(tmp_path, "q_learning.py", run_dir, "runs/fake/checkpoint.npz", "not a checkpoint")


def test_dqn_atari_checkpoint_without_its_frames(tmp_path):
    dqn_atari = hub_utils.load_algorithm("dqn_atari.py")
    flags = ["--buffer-size", "1000", "--batch-size", "8", "--learning-starts", "100"]
    run_dir = fake_run(tmp_path, "dqn_atari.py", flags)
    q_network, memory = dqn_atari.QNetwork(6), dqn_atari.ReplayBuffer(1000)
    training_run.save_checkpoint(
        run_dir / "checkpoint.pt", q_network=q_network.state_dict(), target_network=q_network.state_dict(),
        optimizer=torch.optim.Adam(q_network.parameters()).state_dict(), replay_buffer=memory.state_dict(),
        global_step=0, games=0, gradient_steps=0, rng={}, frames="checkpoint_frames.1.npy",
        best_network=q_network.state_dict(), best=dict(result=0.0, step=0),
    )  # fmt: skip
    resume_fails(tmp_path, "dqn_atari.py", run_dir, "runs/fake/checkpoint_frames.1.npy", "unreadable")


def test_another_scripts_run_folder(tmp_path):
    run_dir = fake_run(tmp_path, "ppo.py", ["--env-id", "CartPole-v1"])
    resume_fails(tmp_path, "dqn.py", run_dir, "--resume runs/fake", "a run of ppo.py")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b'{"env_id": "Taxi-v3", ', "not readable JSON"),
        (b"[1, 2, 3]", "holds a JSON list, not an object"),
        (b"\xff\xfe garbage", "not readable JSON"),
        (b'{"env_id": "Taxi-v3"}', "args.json lacks"),
    ],
)
def test_corrupt_args_json(tmp_path, content, fragment):
    run_dir = fake_run(tmp_path, "q_learning.py")
    (run_dir / "args.json").write_bytes(content)
    q_learning = hub_utils.load_algorithm("q_learning.py")
    with pytest.raises(hub_utils.UserError, match=fragment):
        q_learning.parse_args(["--resume", str(run_dir)])


def test_corrupt_args_json_from_the_command_line(tmp_path):
    run_dir = fake_run(tmp_path, "q_learning.py")
    (run_dir / "args.json").write_text('{"gamma": 0.9')
    resume_fails(tmp_path, "q_learning.py", run_dir, "runs/fake/args.json is not readable JSON")


def model_folder(tmp_path, results):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "args.json").write_text(json.dumps({"env_id": "CartPole-v1", "seed": 1}))
    (folder / "results.json").write_text(json.dumps(results))
    return folder


@pytest.mark.parametrize(
    "command, fragments",
    [
        (["enjoy", "--path", "model", "--no-video"], ["model/results.json lacks eval_seeds"]),
        (["enjoy", "--repo-id", "not a repo id"], ["--repo-id 'not a repo id' is not a repository id"]),
        (["enjoy", "--repo-id", "a/b/c"], ["--repo-id 'a/b/c'"]),
        (["push", "model", "--repo-id", "user/../x"], ["--repo-id 'user/../x'"]),
        (["enjoy", "--path", "model", "--video", "model"], ["--video model is a folder"]),
    ],
)
def test_hub_utils_commands(tmp_path, command, fragments):
    folder = model_folder(tmp_path, dict(script="reinforce.py", algo_title="REINFORCE", env_id="CartPole-v1"))
    before = snapshot(folder)
    process = run_cli(["hub_utils.py", *command], tmp_path)
    assert_one_line_error(process, *fragments)
    assert snapshot(folder) == before and not (tmp_path / "runs").exists()


def test_truncated_course_pickle(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    whole = pickle.dumps(dict(env_id="Taxi-v3", qtable=[[0.0] * 6] * 500, max_steps=99))
    (folder / "q-learning.pkl").write_bytes(whole[: len(whole) // 2])
    process = run_cli(["hub_utils.py", "enjoy", "--path", "course", "--trust-pickle", "--no-video"], tmp_path)
    assert_one_line_error(process, "course/q-learning.pkl is not a readable pickle")


def test_a_runs_folder_that_cannot_be_written(tmp_path):
    (tmp_path / "runs").write_text("a file where the runs folder should be")
    process = run_cli(["algorithms/q_learning.py", "--total-episodes", "5"], tmp_path)
    assert_one_line_error(process, "cannot write the run folder runs/")
    assert (tmp_path / "runs").read_text() == "a file where the runs folder should be"


@pytest.mark.parametrize("script", ["ppo.py", "a2c.py"])
def test_garbage_or_foreign_checkpoint_of_the_vector_env_scripts(tmp_path, script):
    flags = ["--env-id", "CartPole-v1"]
    run_dir = fake_run(tmp_path / "garbage", script, flags)
    resume_fails(
        tmp_path / "garbage", script, run_dir, "checkpoint runs/fake/checkpoint.pt", "not a checkpoint"
    )
    run_dir = fake_run(tmp_path / "foreign", script, flags)
    reinforce_checkpoint(run_dir / "checkpoint.pt")  # a valid checkpoint, of another script
    resume_fails(tmp_path / "foreign", script, run_dir, "checkpoint runs/fake/checkpoint.pt", "lacks")


SCRIPT_FLAGS = {  # every script, on an environment that needs no optional package
    "q_learning.py": [],
    "reinforce.py": [],
    "dqn.py": [],
    "dqn_atari.py": [],
    "a2c.py": ["--env-id", "CartPole-v1"],
    "ppo.py": ["--env-id", "CartPole-v1"],
    "ppo_atari.py": [],
    "ppo_vizdoom.py": [],
    "ppo_rnd.py": [],
    "ppo_selfplay.py": [],
}


@pytest.mark.parametrize("script", sorted(SCRIPT_FLAGS))
def test_enjoy_names_a_missing_or_wrong_typed_hyperparameter(tmp_path, script):
    args = vars(hub_utils.load_algorithm(script).parse_args(SCRIPT_FLAGS[script]))
    saved = {key: value for key, value in args.items() if key not in hub_utils.RUN_ONLY_FLAGS}
    numbers = [key for key, value in saved.items() if type(value) in (int, float) and key != "seed"]
    results = dict(script=script, eval_seeds=[1], algo_title="x", env_id=saved["env_id"], video_fps=30)
    cases = [
        (
            {key: value for key, value in saved.items() if key != numbers[0]},
            [f"args.json lacks {numbers[0]}"],
        ),
        ({**saved, numbers[-1]: "many"}, ["args.json", "--" + numbers[-1].replace("_", "-"), "'many'"]),
        ({**saved, "seed": -1}, ["args.json: --seed must be >= 0, got -1"]),
    ]
    for case, (hyperparameters, fragments) in enumerate(cases):
        folder = tmp_path / f"model{case}"
        folder.mkdir()
        (folder / "args.json").write_text(json.dumps(hyperparameters, default=str))
        (folder / "results.json").write_text(json.dumps(results))
        before = snapshot(folder)
        process = run_cli(["hub_utils.py", "enjoy", "--path", folder.name, "--no-video"], tmp_path)
        assert_one_line_error(process, *fragments)
        assert snapshot(folder) == before


def test_push_refuses_a_corrupt_args_json_before_any_upload(tmp_path, hub_env, hub_standin):
    folder = model_folder(tmp_path, dict(script="reinforce.py", algo_title="REINFORCE", env_id="CartPole-v1"))
    (folder / "args.json").write_text('{"env_id": "CartPole-v1", "se')
    before = snapshot(folder)
    process = run_cli(["hub_utils.py", "push", "model", "--repo-id", "alice/x"], tmp_path, hub_env())
    assert_one_line_error(process, "model/args.json is not readable JSON")
    assert snapshot(folder) == before and "alice/x" not in hub_standin._repos
