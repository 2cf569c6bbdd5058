"""algorithms/ppo_selfplay.py and envs/connect_four.py: the course's ELO, masked moves, the snapshot pool,
the search player, the training engine against PettingZoo's rules, and whole runs (folder, resume)."""

import json

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
import pytest
import torch
from conftest import (
    assert_enjoy_reproduces,
    assert_model_card_reproduces,
    assert_one_line_error,
    interrupt_and_check,
    only_run_dir,
    resume_to_the_end,
    run_cli,
)
from pettingzoo.classic.connect_four import connect_four
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import hub_utils
from envs.connect_four import BatchConnectFour, alphabeta

selfplay = hub_utils.load_algorithm("ppo_selfplay.py")
TINY = [
    "--num-envs",
    "16",
    "--num-steps",
    "16",
    "--save-steps",
    "512",
    "--swap-steps",
    "128",
    "--window",
    "2",
]
TINY += ["--hidden-size", "32", "--elo-games", "4", "--reference-opponents", "random", "alphabeta-2"]
TINY += ["--eval-episodes", "4"]


def test_elo_update_reproduces_the_courses_worked_example():
    """The course: K = 16, A 2600 against B 2300, E_A = 0.849; A wins: 2602 / 2298; B wins: 2586 / 2314."""
    assert selfplay.expected_score(2600, 2300) == pytest.approx(0.849, abs=5e-4)
    assert [round(r) for r in selfplay.elo_update(2600, 2300, 1.0, 16)] == [2602, 2298]
    assert [round(r) for r in selfplay.elo_update(2600, 2300, 0.0, 16)] == [2586, 2314]
    assert selfplay.elo_update(1200, 1200, 0.5, 16) == (1200, 1200)  # a draw between equals changes nothing


def random_positions(count, seed=0):
    """Positions of random games (each player to move's planes and legal columns), full columns included."""
    rng, board = np.random.default_rng(seed), BatchConnectFour(count)
    for _ in range(rng.integers(0, 30)):
        _, legal = board.observe(np.arange(count))
        won, draw = board.play(np.arange(count), (rng.random((count, 7)) * legal).argmax(1))
        board.reset(np.flatnonzero(won | draw))
    obs, legal = board.observe(np.arange(count))
    return torch.from_numpy(obs), torch.from_numpy(legal)


def test_a_masked_column_is_never_chosen_even_by_a_network_that_prefers_it():
    torch.manual_seed(0)
    agent = selfplay.Agent(32)
    obs, legal = random_positions(512)
    legal[:, 3] = False  # column 3 full everywhere, and the network's favourite by far
    legal[~legal.any(1), 0] = True
    favourite = torch.zeros(1, 1, 6, 7)
    favourite[..., 3] = 50.0  # whatever the board, the network scores column 3 far above the others
    agent.actor.register_forward_hook(lambda module, inputs, output: output + favourite)
    with torch.no_grad():
        for action in (agent.get_action(obs, legal), agent.get_greedy_action(obs, legal)):
            assert legal[torch.arange(512), action].all()
        action, log_prob, entropy, _ = agent.get_action_and_value(obs, legal)
    assert legal[torch.arange(512), action].all() and torch.isfinite(log_prob).all()
    assert torch.isfinite(entropy).all() and (entropy >= 0).all()
    log_pi = agent.logits(agent.features(obs), legal).log_softmax(-1)
    assert (log_pi.exp()[~legal] == 0).all()  # probability exactly 0: the masked column is never sampled


def test_the_pool_keeps_the_last_window_snapshots_and_samples_the_latest_at_the_configured_ratio():
    pool, agent = selfplay.SnapshotPool(window=3), selfplay.Agent(8)
    assert pool.sample(0.0, np.random.default_rng(0)) == "latest"  # an empty pool: the current self
    for index in range(1, 6):
        pool.add(f"snapshot-{index}", agent.state_dict())
        assert len(pool.snapshots) == min(index, 3)
    assert list(pool.snapshots) == ["snapshot-3", "snapshot-4", "snapshot-5"]
    rng, draws = np.random.default_rng(1), 20_000
    for ratio in (0.0, 0.3, 0.8):
        names = [pool.sample(ratio, rng) for _ in range(draws)]
        latest = names.count("latest") / draws
        assert abs(latest - ratio) < 4 * np.sqrt(ratio * (1 - ratio) / draws) + 1e-9  # 4 standard errors
        others = [names.count(name) for name in pool.snapshots]
        expected = draws * (1 - ratio) / 3
        assert all(abs(count - expected) < 4 * np.sqrt(expected) for count in others)  # uniform over the pool


def pettingzoo_board(moves):
    game = connect_four.env()
    game.reset()
    for move in moves:
        game.step(move)
    return np.array(game.unwrapped.board).reshape(6, 7)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_the_search_player_takes_a_win_in_one_and_blocks_a_loss_in_one(depth):
    rng = np.random.default_rng(0)
    # player 1 has three in the bottom row (columns 0-2); player 2 stacked on column 6 and column 5
    board = pettingzoo_board([0, 6, 1, 6, 2, 5])
    for _ in range(5):
        assert alphabeta(board, 1, depth, rng) == 3  # to move: completes the four
    board = pettingzoo_board([0, 6, 1, 6, 2])
    for _ in range(5):
        assert alphabeta(board, 2, depth, rng) == 3  # to move: blocks the four


def test_the_training_engine_follows_pettingzoos_rules_move_for_move():
    """500 random games played both in BatchConnectFour and in PettingZoo's environment: the same planes,
    the same legal columns, the same winner or draw, on every move."""
    rng, count = np.random.default_rng(0), 500
    batch, games = BatchConnectFour(count), [connect_four.env() for _ in range(count)]
    for game in games:
        game.reset()
    running, finished = np.arange(count), 0
    while len(running):
        obs, legal = batch.observe(running)
        for i, index in enumerate(running):
            expected = games[index].observe(games[index].agent_selection)
            assert (obs[i] == expected["observation"]).all() and (legal[i] == expected["action_mask"]).all()
        moves = (rng.random((len(running), 7)) * legal).argmax(1)
        won, draw = batch.play(running, moves)
        for i, index in enumerate(running):
            mover = games[index].agent_selection
            games[index].step(int(moves[i]))
            assert games[index].terminations[mover] == (won[i] or draw[i])
            assert games[index].rewards[mover] == (1 if won[i] else 0)
        finished += (won | draw).sum()
        running = running[~(won | draw)]
    assert finished == count
    with pytest.raises(ValueError, match="illegal"):
        full = BatchConnectFour(1)
        for _ in range(7):
            full.play(np.array([0]), np.array([0]))


def test_connect_four_env_seats_the_agent_and_refuses_an_illegal_move():
    env = gym.make(hub_utils.resolve_env_id("ConnectFour-v3"), opponent="alphabeta-1")
    observation, info = env.reset(seed=2)  # even seed: the agent moves first, on an empty board
    assert info["seat"] == "first" and observation["observation"].sum() == 0
    observation, info = env.reset(seed=3)  # odd seed: the opponent has opened
    assert info["seat"] == "second" and observation["observation"][..., 1].sum() == 1
    assert observation["observation"][..., 0].sum() == 0 and observation["action_mask"].all()
    env.unwrapped.game.unwrapped.board[0] = 2  # column 0 full to the top
    assert not env.unwrapped.game.observe("player_1")["action_mask"][0]
    with pytest.raises(ValueError, match="illegal"):
        env.step(0)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("selfplay")
    process = run_cli(["algorithms/ppo_selfplay.py", "--total-timesteps", "2048", *TINY], cwd)
    assert process.returncode == 0, process.stderr
    return cwd, only_run_dir(cwd)


def test_a_smoke_run_writes_a_complete_run_folder(smoke_run):
    cwd, run_dir = smoke_run
    names = {path.name for path in run_dir.iterdir()}
    assert {
        "args.json",
        "results.json",
        "model.safetensors",
        "README.md",
        "replay.mp4",
        "requirements.txt",
    } <= names
    assert {
        "ppo_selfplay.py",
        "hub_utils.py",
        "training_run.py",
        "envs",
    } <= names and "checkpoint.pt" not in names
    assert (run_dir / "envs" / "connect_four.py").is_file()
    assert "pettingzoo==" in (run_dir / "requirements.txt").read_text()
    results = json.loads((run_dir / "results.json").read_text())
    assert (
        results["dataset_id"] == results["env_id"] == "ConnectFour-v3"
        and len(results["episode_returns"]) == 4
    )
    assert set(results["episode_returns"]) <= {-1.0, 0.0, 1.0}
    training = results["training"]
    for opponent in ("random", "alphabeta-2"):
        for seat in ("first", "second"):
            wins, draws, losses = map(
                int, training[f"evaluation vs {opponent}, {seat} seat (W/D/L)"].split("/")
            )
            assert wins + draws + losses == 4
    assert (
        "learner" in training["elo"]
        and "snapshot-4" in training["elo"]
        and "snapshot-2" not in training["elo"]
    )
    card = (run_dir / "README.md").read_text()
    assert "evaluation vs random, first seat (W/D/L)" in card and "training elo" in card
    scalars = set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])
    assert {"elo/learner", "elo/random", "elo/alphabeta-2", "charts/SPS", "losses/policy_loss"} <= scalars
    assert {"selfplay/win_rate_vs_random", "selfplay/loss_rate_vs_alphabeta-2"} <= scalars
    frames = np.stack(
        list(iio.imiter(run_dir / "replay.mp4"))
    )  # a whole game: reset + every move of the agent
    assert frames.shape[0] == results["episode_lengths"][0] + 1 and frames.shape[1:] == (688, 792, 3)
    assert_model_card_reproduces(run_dir, selfplay)
    assert_enjoy_reproduces(run_dir.relative_to(cwd), cwd)


def test_enjoy_replays_the_published_agent_against_a_chosen_opponent(smoke_run):
    cwd, run_dir = smoke_run
    saved = hub_utils.saved_hyperparameters(selfplay, run_dir / "args.json")
    changed = hub_utils.saved_hyperparameters(selfplay, run_dir / "args.json", {"eval_opponent": "random"})
    assert saved.eval_opponent == "alphabeta-3" and changed.eval_opponent == "random"
    enjoy = ["hub_utils.py", "enjoy", "--path", str(run_dir.relative_to(cwd)), "--no-video"]
    played = run_cli([*enjoy, "--set", "eval_opponent=random"], cwd)
    assert played.returncode == 0 and "over 4 episodes" in played.stdout, played.stderr
    for change, fragment in [
        ("eval_opponent=alphabeta-9", "must be random or alphabeta-D"),  # checked by the script's own flag
        ("opponent=random", "--set opponent: not a hyperparameter"),
        ("eval_opponent", "write KEY=VALUE"),
    ]:
        refused = run_cli([*enjoy, "--set", change], cwd)
        assert (
            refused.returncode == 2 and fragment in refused.stderr and len(refused.stderr.splitlines()) == 1
        )


def test_interrupt_and_resume_finish_exactly_as_the_uninterrupted_run(tmp_path):
    """The pool, the ELO table, the opponent and the games in progress are part of the checkpoint."""
    flags = ["algorithms/ppo_selfplay.py", "--total-timesteps", "12288", "--no-capture-video", *TINY]
    reference = run_cli(flags, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    run_dir = interrupt_and_check(flags, tmp_path / "interrupted")
    resume_to_the_end("algorithms/ppo_selfplay.py", run_dir, tmp_path / "interrupted")
    expected_dir = only_run_dir(tmp_path / "reference")
    weights, expected = (load_file(folder / "model.safetensors") for folder in (run_dir, expected_dir))
    assert all(torch.equal(weights[name], expected[name]) for name in expected)
    trained, expected = (
        json.loads((d / "results.json").read_text())["training"] for d in (run_dir, expected_dir)
    )
    timings = ("wall_time_s", "sps", "play_s", "update_s", "rated_games_s", "evaluation s")
    assert {k: v for k, v in trained.items() if k not in timings} == {
        k: v for k, v in expected.items() if k not in timings
    }


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--env-id", "CartPole-v1"], ["ConnectFour-v3", "CartPole-v1"]),
        (
            ["--eval-opponent", "alphabeta-x"],
            ["--eval-opponent must be random or alphabeta-D", "alphabeta-x"],
        ),
        (
            ["--play-against-latest-model-ratio", "1.5"],
            ["--play-against-latest-model-ratio must be in [0, 1]"],
        ),
        (["--num-minibatches", "3"], ["--num-minibatches 3 does not divide"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, flags, fragments):
    process = run_cli(["algorithms/ppo_selfplay.py", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert not (tmp_path / "runs").exists()


def test_a_columns_logit_is_read_at_the_cell_where_a_piece_dropped_there_would_land():
    obs, legal = random_positions(256)
    agent = selfplay.Agent(8)
    cell_scores = torch.arange(42.0).view(1, 1, 6, 7)  # the score of row r, column c: 7 r + c
    agent.actor.register_forward_hook(lambda module, inputs, output: cell_scores.expand_as(output))
    with torch.no_grad():
        logits = agent.logits(agent.features(obs), legal)
    occupied = obs.sum(-1)  # (games, 6, 7): 1 where a piece is; row 0 is the top
    for game, column in np.ndindex(256, 7):
        empty = np.flatnonzero(occupied[game, :, column] == 0)
        if legal[game, column]:
            # pieces stack from the bottom: the empty cells are the top ones, the landing cell the lowest
            assert list(empty) == list(range(len(empty)))
            assert logits[game, column] == 7 * empty[-1] + column
        else:
            assert len(empty) == 0 and logits[game, column] == -1e8
