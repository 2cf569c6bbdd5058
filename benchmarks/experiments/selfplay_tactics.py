"""How a trained ppo_selfplay.py agent plays against the random player, move by move (benchmarks/HISTORY.md,
"PPO self-play"): its losses from each seat, and how often it takes a win in one and blocks a loss in one.

    python benchmarks/experiments/selfplay_tactics.py runs/ConnectFour-v3__ppo_selfplay__* --games 1000

Each run folder's agent is rebuilt by the copy of ppo_selfplay.py the run saved (so runs of changed
copies load too) and plays --games games from each seat, greedily as its evaluation does. At each of its
moves: "win available" when some column wins at once (taken if it plays one), else "block needed" when
the opponent would win at once in some column (blocked if it plays one).
"""

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np

from envs.connect_four import BatchConnectFour, reference_move


def winning_columns(board: BatchConnectFour, player: int) -> list[int]:
    """The columns where ``player`` completes a four at once, on a one-game board."""
    columns = []
    for column in np.flatnonzero(board.boards[0, 0] == 0):
        trial = BatchConnectFour(1)
        trial.boards[:], trial.to_move[:] = board.boards, player
        if trial.play(np.arange(1), np.array([column]))[0][0]:
            columns.append(int(column))
    return columns


def load_agent(run_dir: Path):
    """The greedy policy of a run folder, through the script copy the run saved."""
    spec = importlib.util.spec_from_file_location("saved_selfplay", run_dir / "ppo_selfplay.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script.load_policy(run_dir, argparse.Namespace(**json.loads((run_dir / "args.json").read_text())))


def play(policy, games: int, rng: np.random.Generator) -> dict:
    counts = dict(
        wins_available=0, wins_taken=0, blocks_needed=0, blocks_made=0, losses_first=0, losses_second=0
    )
    for game in range(2 * games):
        board, learner = BatchConnectFour(1), 1 + game % 2
        while True:
            mover = int(board.to_move[0])
            if mover == learner:
                observation, mask = board.observe(np.arange(1))
                move = policy({"observation": observation[0], "action_mask": mask[0].astype(np.int8)})
                if wins := winning_columns(board, mover):
                    counts["wins_available"] += 1
                    counts["wins_taken"] += move in wins
                elif blocks := winning_columns(board, 3 - mover):
                    counts["blocks_needed"] += 1
                    counts["blocks_made"] += move in blocks
            else:
                move = reference_move("random", board.boards[0], mover, rng)
            won, draw = board.play(np.arange(1), np.array([move]))
            if won[0] or draw[0]:
                if won[0] and mover != learner:
                    counts["losses_first" if learner == 1 else "losses_second"] += 1
                break
    return counts


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dirs", type=Path, nargs="+", help="run folders of ppo_selfplay.py")
    parser.add_argument("--games", type=int, default=1000, help="games from each seat")
    parser.add_argument("--seed", type=int, default=0, help="the random player's seed")
    args = parser.parse_args()
    for run_dir in args.run_dirs:
        c, n = play(load_agent(run_dir), args.games, np.random.default_rng(args.seed)), args.games
        print(
            f"{run_dir.name}: losses {c['losses_first']}/{n} first, {c['losses_second']}/{n} second;"
            f" wins in one taken {c['wins_taken']}/{c['wins_available']}, losses in one blocked"
            f" {c['blocks_made']}/{c['blocks_needed']}"
        )


if __name__ == "__main__":
    main()
