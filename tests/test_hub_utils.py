"""hub_utils on its own: evaluation maths and seeding, env ids, video, model card helpers."""

import argparse
import json
import shlex
import signal
import sys

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
import pytest
from conftest import REPO

import hub_utils
import training_run


class SeedEchoEnv(gym.Env):
    """One-step episodes whose reward is the reset seed modulo 7 plus the action taken."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(3)

    def __init__(self):
        self.reset_seeds = []

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.reset_seeds.append(seed)
        self.bonus = seed % 7
        return 0, {}

    def step(self, action):
        return 0, float(self.bonus + action), True, False, {}


def test_evaluate_plays_one_seeded_episode_per_seed_and_scores_like_the_course():
    env = SeedEchoEnv()
    seeds = [3, 10, 15, 22]  # rewards 3, 3, 1, 1 plus the action (2)
    evaluation = hub_utils.evaluate(lambda observation: 2, env, seeds)
    assert env.reset_seeds == seeds
    assert evaluation.returns == [5.0, 5.0, 3.0, 3.0]
    assert evaluation.lengths == [1, 1, 1, 1]
    assert evaluation.mean == pytest.approx(4.0)
    assert evaluation.std == pytest.approx(1.0)  # population std (ddof=0), as the course
    assert evaluation.result == pytest.approx(3.0)


def test_evaluate_stops_on_truncation():
    env = gym.make("CartPole-v1", max_episode_steps=7)
    evaluation = hub_utils.evaluate(lambda observation: 0 if observation[2] > 0 else 1, env, [0, 1])
    assert evaluation.lengths == [7, 7]


def test_eval_seeds_are_distinct_and_disjoint_from_training_seeds():
    for train_seed in (0, 1, 7):
        seeds = hub_utils.eval_seeds(train_seed, 100)
        assert len(set(seeds)) == 100
        assert not set(seeds) & set(range(train_seed, train_seed + 1024))
    assert hub_utils.eval_seeds(1, 10) != hub_utils.eval_seeds(2, 10)


@pytest.mark.parametrize(
    "requested, used",
    [("LunarLander-v2", "LunarLander-v3"), ("Taxi-v3", "Taxi-v4"), ("CartPole-v1", "CartPole-v1")],
)
def test_resolve_env_id_maps_retired_versions_with_a_notice(requested, used, capsys):
    assert hub_utils.resolve_env_id(requested) == used
    notice = capsys.readouterr().out
    if requested == used:
        assert notice == ""
    else:
        assert notice.count("\n") == 1 and requested in notice and used in notice


@pytest.mark.parametrize("requested, suggestion", [("CartPol-v1", "CartPole-v1"), ("Taxi-v9", "Taxi-v4")])
def test_resolve_env_id_rejects_unknown_ids_with_close_matches(requested, suggestion):
    with pytest.raises(hub_utils.UserError, match=suggestion):
        hub_utils.resolve_env_id(requested)


def test_record_video_writes_every_frame_of_one_episode(tmp_path):
    env = gym.make("FrozenLake-v1", is_slippery=False, render_mode="rgb_array")
    path = tmp_path / "replay.mp4"
    right, down = 2, 1
    plan = iter([right, right, down, down, down, right])  # the shortest path to the goal
    frames = hub_utils.record_video(lambda observation: next(plan), env, path, fps=4, seed=0)
    decoded = np.stack(list(iio.imiter(path)))
    assert frames == 7 and decoded.shape == (7, 256, 256, 3)
    assert iio.immeta(path)["fps"] == pytest.approx(4)


def test_record_video_always_ends(tmp_path):
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    frames = hub_utils.record_video(
        lambda observation: 0, env, tmp_path / "v.mp4", fps=50, seed=0, max_steps=5
    )
    assert frames == 6  # the reset frame and 5 steps (pushing left falls only after about 9)


def test_reproduce_command_spells_every_hyperparameter():
    command = hub_utils.reproduce_command(
        "ppo.py",
        {
            "env_id": "CartPole-v1",
            "learning_rate": 0.00025,
            "cuda": False,
            "anneal_lr": True,
            "target_kl": None,
            "hidden_sizes": [120, 84],
            "exp_name": "my run",
        },
    )
    flags = shlex.split(command.replace("\\\n", " "))
    assert flags == [
        "python",
        "algorithms/ppo.py",
        "--env-id",
        "CartPole-v1",
        "--learning-rate",
        "0.00025",
        "--no-cuda",
        "--anneal-lr",
        "--hidden-sizes",
        "120",
        "84",
        "--exp-name",
        "my run",
    ]


def test_run_flags_are_never_saved_as_hyperparameters():
    parser = argparse.ArgumentParser()
    training_run.add_run_args(parser, exp_name="x")
    saved = {action.dest for action in parser._actions} - set(hub_utils.RUN_ONLY_FLAGS)
    assert saved == {"help", "exp_name", "capture_video", "eval_episodes"}


def test_load_algorithm_only_imports_files_from_algorithms_folder():
    assert hub_utils.load_algorithm("q_learning.py").TAXI_EVAL_SEEDS[:3] == [16, 54, 165]
    for bad in ("../hub_utils.py", "q_learning", "nope.py"):
        with pytest.raises(hub_utils.UserError, match="unknown algorithm script"):
            hub_utils.load_algorithm(bad)


def test_namespaced_env_ids_make_valid_repository_names():
    assert hub_utils.default_repo_id("dqn", "ALE/Pong-v5", "me") == "me/dqn-ALE-Pong-v5"
    assert hub_utils.default_repo_id("ppo", "LunarLander-v2", "me") == "me/ppo-LunarLander-v2"


def test_atomic_write_leaves_the_previous_file_when_a_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    hub_utils.atomic_write_text(path, "previous")

    def disk_full(descriptor):
        raise OSError("No space left on device")

    monkeypatch.setattr(hub_utils.os, "fsync", disk_full)
    with pytest.raises(hub_utils.UserError, match=f"could not save {path} .*No space left.*previous one"):
        hub_utils.atomic_write_text(path, "new")
    assert path.read_text() == "previous"
    assert [item.name for item in tmp_path.iterdir()] == ["results.json"]  # no temporary file left
    monkeypatch.undo()
    hub_utils.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o644


def test_a_card_counts_as_edited_by_hand_once_anything_in_it_changed(frozenlake_run):
    _, run_dir, _ = frozenlake_run
    card = (run_dir / "README.md").read_text()
    assert not hub_utils.card_edited_by_hand(card)
    assert hub_utils.card_edited_by_hand(card.replace("## Evaluation", "## Evaluation (mine)"))
    assert hub_utils.card_edited_by_hand(card.replace("deep-rl-course", "deep-rl-curse"))
    assert hub_utils.card_edited_by_hand(card.rsplit("\n\n", 1)[0])  # signature removed
    assert hub_utils.card_edited_by_hand("# A card someone wrote\n")


def pins(requirements):
    return dict(line.split("==") for line in requirements.splitlines() if not line.startswith("#"))


def test_replay_requirements_pin_what_the_script_and_its_environment_need(monkeypatch):
    import importlib.metadata

    import torch

    monkeypatch.delitem(sys.modules, "Box2D", raising=False)  # as in a Taxi run: never imported
    tabular = pins(hub_utils.replay_requirements(REPO / "algorithms/q_learning.py", "Taxi-v4"))
    assert tabular["gymnasium"] == gym.__version__ and tabular["numpy"] == np.__version__
    assert tabular["pygame-ce"] == importlib.metadata.version("pygame-ce")  # Taxi renders with pygame
    assert {"safetensors", "imageio", "imageio-ffmpeg", "huggingface_hub"} <= set(tabular)
    assert not {"torch", "ale-py", "panda-gym", "box2d"} & set(tabular)
    monkeypatch.undo()  # Box2D as it was (this worker's earlier tests may have imported it)

    gym.make("LunarLander-v3").close()  # imports Box2D, as a LunarLander run does
    lander = hub_utils.replay_requirements(REPO / "algorithms/ppo.py", "LunarLander-v3")
    assert pins(lander)["torch"] == torch.__version__.split("+")[0]  # "+cpu" would not match PyPI
    assert pins(lander)["box2d"] == importlib.metadata.version("box2d")
    assert "--index-url https://download.pytorch.org/whl/cpu" in lander

    atari_id = hub_utils.resolve_env_id("ALE/SpaceInvaders-v5")  # registers ale-py's games
    atari = pins(hub_utils.replay_requirements(REPO / "algorithms/dqn_atari.py", atari_id))
    assert atari["ale-py"] == importlib.metadata.version("ale-py") and "pygame-ce" not in atari


def test_the_repository_leaves_out_checkpoints_caches_and_interrupted_writes(tmp_path):
    for name in (
        "README.md",
        "envs/pixelcopter.py",
        "checkpoint.pt",
        ".replay.42.tmp.mp4",
        ".args.json.x1.tmp",
    ):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "envs" / "__pycache__").mkdir()
    (tmp_path / "envs" / "__pycache__" / "pixelcopter.pyc").write_text("x")
    files = [name for name, _ in hub_utils._folder_files(tmp_path)]
    assert files == ["README.md", "envs/pixelcopter.py"]


def test_a_run_folder_carries_every_module_of_the_project_its_script_imports():
    modules = {path.name for path in hub_utils.first_party_modules(REPO / "algorithms/ppo.py")}
    assert modules == {"hub_utils.py", "training_run.py", "fast_paths.py"}
    modules = {path.name for path in hub_utils.first_party_modules(REPO / "algorithms/q_learning.py")}
    assert modules == {"hub_utils.py", "training_run.py"}
    # imports run one way: the scripts -> training_run, fast_paths -> hub_utils
    assert not {"training_run", "fast_paths"} & hub_utils.imported_names(REPO / "hub_utils.py")
    assert "training_run" not in hub_utils.imported_names(REPO / "fast_paths.py")
    assert "fast_paths" not in hub_utils.imported_names(REPO / "training_run.py")
    requirements = pins(hub_utils.replay_requirements(REPO / "algorithms/ppo.py", "CartPole-v1"))
    assert not {"training-run", "fast-paths", "envpool", "wandb", "tqdm"} & set(requirements)


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (lambda saved: saved.pop("learning_rate"), ["args.json lacks learning_rate"]),
        (lambda saved: saved.update(gamma=1.5), ["args.json: --gamma must be in [0, 1], got 1.5"]),
        (
            lambda saved: saved.update(num_envs="four"),
            ["args.json", "--num-envs", "invalid int value: 'four'"],
        ),
        (lambda saved: saved.update(num_envs=2.5), ["args.json", "--num-envs", "invalid int value: '2.5'"]),
        (lambda saved: saved.update(num_minibatches=3), ["args.json", "--num-minibatches 3 does not divide"]),
    ],
)
def test_saved_hyperparameters_are_read_back_through_the_scripts_flags(tmp_path, edit, fragments):
    module = hub_utils.load_algorithm("ppo.py")
    args = module.parse_args(["--env-id", "CartPole-v1", "--seed", "4", "--target-kl", "0.02"])
    saved = {key: value for key, value in vars(args).items() if key not in hub_utils.RUN_ONLY_FLAGS}
    saved["target_kl"] = None  # a flag left unset in the run stays unset
    (tmp_path / "args.json").write_text(json.dumps(saved))
    read = hub_utils.saved_hyperparameters(module, tmp_path / "args.json")
    assert {key: value for key, value in vars(read).items() if key in saved} == saved
    edit(saved)
    (tmp_path / "args.json").write_text(json.dumps(saved))
    with pytest.raises(hub_utils.UserError) as error:
        hub_utils.saved_hyperparameters(module, tmp_path / "args.json")
    assert all(fragment in str(error.value) for fragment in fragments), error.value
    assert "\n" not in str(error.value)


def test_a_stop_signal_during_the_save_waits_for_the_checkpoint(tmp_path, capsys):
    run = training_run.Run(tmp_path, "CartPole-v1", "ppo.py", writer=None, resumed=False)
    run.handle_stop_signal(signal.SIGINT, None)
    assert run.stop_requested
    run.saving = True
    run.handle_stop_signal(signal.SIGINT, None)  # no KeyboardInterrupt: the save goes on
    assert "being written" in capsys.readouterr().out
    run.saving = False
    with pytest.raises(KeyboardInterrupt):  # before the save began, a second Ctrl-C quits at once
        run.handle_stop_signal(signal.SIGTERM, None)


def test_progress_lines_read_as_plain_digits(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    progress = training_run.Progress(2_000_000, "steps")
    progress.update(1_000_000, sps=17_730.4, ret=-123.456)
    assert capsys.readouterr().out == "1,000,000/2,000,000 steps (50%) | sps 17,730 | ret -123.5\n"
