"""Issue #15, class 8: nothing comes before or after the error line: no ALE banner when an Atari game
loads, and a state-dict size mismatch (on --resume or enjoy) is one line, not torch's five."""

import json

from conftest import assert_one_line_error, run_cli
from safetensors.torch import save_file
from test_corrupt_files import fake_run, reinforce_checkpoint, snapshot

import hub_utils


def test_no_ale_banner_before_the_error(tmp_path):
    process = run_cli(["algorithms/ppo.py", "--env-id", "BreakoutNoFrameskip-v4"], tmp_path)
    assert_one_line_error(process, "ppo.py needs a flat Box observation space", "ppo_atari.py")
    assert process.stdout == "" and process.stderr.count("\n") == 1, process.stdout + process.stderr


def test_no_ale_banner_before_a_resume_error(tmp_path):
    fake_run(
        tmp_path, "dqn_atari.py", ["--buffer-size", "1000", "--batch-size", "8", "--learning-starts", "100"]
    )
    process = run_cli(["algorithms/dqn_atari.py", "--resume", "runs/fake"], tmp_path)
    assert_one_line_error(process, "runs/fake/checkpoint.pt", "not a checkpoint")
    assert "A.L.E" not in process.stdout + process.stderr and process.stderr.count("\n") == 1


def test_a_checkpoint_of_another_size_is_one_line_on_resume(tmp_path):
    run_dir = fake_run(tmp_path, "reinforce.py")  # --hidden-size 64
    reinforce_checkpoint(run_dir / "checkpoint.pt", hidden_size=32)
    before = snapshot(run_dir)
    process = run_cli(["algorithms/reinforce.py", "--resume", "runs/fake"], tmp_path)
    assert_one_line_error(
        process, "runs/fake/checkpoint.pt: its policy does not fit this run", "size mismatch"
    )
    assert process.stderr.count("\n") == 1 and snapshot(run_dir) == before


def test_weights_of_another_size_are_one_line_on_enjoy(tmp_path):
    reinforce = hub_utils.load_algorithm("reinforce.py")
    args = vars(reinforce.parse_args(["--hidden-size", "64"]))
    folder = tmp_path / "model"
    folder.mkdir()
    saved = {key: value for key, value in args.items() if key not in hub_utils.RUN_ONLY_FLAGS}
    (folder / "args.json").write_text(json.dumps(saved, default=str))
    results = dict(
        script="reinforce.py", algo_title="REINFORCE", env_id="CartPole-v1", eval_seeds=[1], video_fps=50
    )
    (folder / "results.json").write_text(json.dumps(results))
    save_file(reinforce.Policy(4, 2, 32, 1).state_dict(), folder / "model.safetensors")
    process = run_cli(["hub_utils.py", "enjoy", "--path", "model", "--no-video"], tmp_path)
    assert_one_line_error(process, "cannot load the model in model", "size mismatch")
    assert process.stderr.count("\n") == 1, process.stderr
