"""ConnectFour-v3: PettingZoo's classic ``connect_four_v3`` seen from one seat, as a gymnasium env.

The game is PettingZoo's (its rules, action masks, rewards and rendering): this module only seats a
fixed opponent in the other chair, so that a trained agent is evaluated, recorded and replayed like
every other gymnasium environment (``hub_utils.evaluate``, ``record_video``, ``enjoy``):

- observation: PettingZoo's, for the seated agent: ``{"observation": (6, 7, 2) int8 planes (its own
  pieces, the opponent's; row 0 is the top), "action_mask": (7,) int8, 1 where the column has room}``
- action: a column, 0-6. An illegal move raises (PettingZoo would end the game with -1): policies
  here mask them, and a test proves it.
- reward: PettingZoo's, +1 win, -1 loss, 0 draw, on the step that ends the game.
- ``opponent``: ``"random"`` (uniform over the legal columns) or ``"alphabeta-D"`` (``alphabeta``
  below, D plies), drawing its random choices from ``np_random``: a seed replays a game exactly.
- ``seat``: ``"first"``, ``"second"``, or ``"alternate"`` (first on even seeds, second on odd).

``BatchConnectFour`` plays many games at once in numpy for training (``tests/test_ppo_selfplay.py``
checks it move for move against PettingZoo), and ``alphabeta`` is the reproducible search player.
"""

import argparse

import gymnasium as gym
import numpy as np
from pettingzoo.classic.connect_four import connect_four

ROWS, COLUMNS = 6, 7
CENTER_FIRST = (3, 2, 4, 1, 5, 0, 6)  # move ordering: alpha-beta prunes more when good moves come first
WIN = 1_000  # a won position's score (plus the plies left: sooner wins score higher)
COLUMN_WEIGHTS = (1, 2, 3, 4, 3, 2, 1)  # the simple evaluation: pieces near the centre join more fours
# Bitboard: bit 7 c + r is column c, row r counted from the bottom (bit 7 c + 6 stays empty as a guard).
COLUMN_MASKS = [((1 << ROWS) - 1) << (7 * c) for c in range(COLUMNS)]


def _four(bits: int) -> bool:
    """Whether a bitboard holds four in a row: vertical, horizontal and both diagonals (shifts 1, 7, 6, 8)."""
    for shift in (1, 7, 6, 8):
        pairs = bits & (bits >> shift)
        if pairs & (pairs >> 2 * shift):
            return True
    return False


def _evaluate(own: int, other: int) -> int:
    return sum(
        w * ((own & m).bit_count() - (other & m).bit_count()) for w, m in zip(COLUMN_WEIGHTS, COLUMN_MASKS)
    )


def _negamax(own: int, other: int, heights: list, depth: int, alpha: int, beta: int) -> int:
    """The value of the position for the player to move (``own``), searched ``depth`` plies deep."""
    legal = [c for c in CENTER_FIRST if heights[c] < ROWS]
    if not legal:
        return 0  # a full board: a draw
    if depth == 0:  # the horizon
        return _evaluate(own, other)
    if any(_four(own | 1 << (7 * c + heights[c])) for c in legal):
        return WIN + depth  # a win in one: the best any move here can do
    for c in legal:
        heights[c] += 1
        value = -_negamax(other, own | 1 << (7 * c + heights[c] - 1), heights, depth - 1, -beta, -alpha)
        heights[c] -= 1
        alpha = max(alpha, value)
        if alpha >= beta:
            break
    return alpha


def alphabeta(board: np.ndarray, player: int, depth: int, rng: np.random.Generator) -> int:
    """The search player's move: negamax with alpha-beta pruning over ``depth`` plies (1: its own move
    only, so it takes a win in one; 2: also the reply, so it blocks a loss in one; ...), scoring a win
    +1000 (sooner is better) and a position at the horizon by the column weights 1 2 3 4 3 2 1 of its
    pieces minus the opponent's; equally good moves are chosen at random. ``board`` is PettingZoo's
    (6, 7): 0 empty, 1 and 2 the players' pieces, row 0 at the top; ``player`` (1 or 2) is to move."""
    own = other = 0
    heights = [0] * COLUMNS
    for row in range(ROWS):
        for c in range(COLUMNS):
            if board[ROWS - 1 - row, c]:
                bit = 1 << (7 * c + row)
                own, other = (own | bit, other) if board[ROWS - 1 - row, c] == player else (own, other | bit)
                heights[c] = row + 1
    values = {}
    for c in [c for c in CENTER_FIRST if heights[c] < ROWS]:  # every root move in full, for the ties
        heights[c] += 1
        values[c] = -_negamax(
            other, own | 1 << (7 * c + heights[c] - 1), heights, depth - 1, -10 * WIN, 10 * WIN
        )
        heights[c] -= 1
        if _four(own | 1 << (7 * c + heights[c])):
            values[c] = 2 * WIN  # this move wins now
    best = max(values.values())
    return int(rng.choice([c for c, value in values.items() if value == best]))


def reference_move(name: str, board: np.ndarray, player: int, rng: np.random.Generator) -> int:
    """A reference opponent's move: ``"random"`` or ``"alphabeta-D"``."""
    if name == "random":
        return int(rng.choice(np.flatnonzero(board[0] == 0)))
    return alphabeta(board, player, int(name.split("-")[1]), rng)


def check_opponent(name: str) -> str:
    """``name`` if it names a reference opponent, else an error saying what is accepted (argparse's kind:
    scripts use this as a flag's ``type=``)."""
    depth = name.removeprefix("alphabeta-")
    if name != "random" and not (depth.isdigit() and 1 <= int(depth) <= 8):
        raise argparse.ArgumentTypeError(f"must be random or alphabeta-D with D in 1..8, got {name}")
    return name


class ConnectFourEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(self, opponent="random", seat="alternate", render_mode=None):
        self.opponent, self.seat = check_opponent(opponent), seat
        if seat not in ("first", "second", "alternate"):
            raise ValueError(f"seat must be first, second or alternate, got {seat}")
        self.render_mode = render_mode
        self.game = connect_four.env(render_mode=render_mode, screen_scaling=8)  # 792 x 688: even, for H.264
        self.observation_space = gym.spaces.Dict(
            {
                "observation": gym.spaces.Box(0, 1, (ROWS, COLUMNS, 2), np.int8),
                "action_mask": gym.spaces.Box(0, 1, (COLUMNS,), np.int8),
            }
        )
        self.action_space = gym.spaces.Discrete(COLUMNS)

    def _opponent_moves(self):
        board = np.array(self.game.unwrapped.board).reshape(ROWS, COLUMNS)
        player = 2 if self.agent == "player_0" else 1
        self.game.step(reference_move(self.opponent, board, player, self.np_random))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.game.reset(seed=seed)
        first = self.seat == "first" or (self.seat == "alternate" and (seed or 0) % 2 == 0)
        self.agent = "player_0" if first else "player_1"
        if not first:
            self._opponent_moves()
        return self.game.observe(self.agent), {"seat": "first" if first else "second"}

    def step(self, action):
        if not self.game.observe(self.agent)["action_mask"][action]:
            raise ValueError(f"column {action} is full: an illegal move (policies mask them)")
        self.game.step(int(action))
        if not self.game.terminations[self.agent]:
            self._opponent_moves()
        done = self.game.terminations[self.agent]
        return self.game.observe(self.agent), float(self.game.rewards[self.agent]), done, False, {}

    def render(self):
        return self.game.render()

    def close(self):
        self.game.close()


class BatchConnectFour:
    """``n`` games of PettingZoo's Connect Four rules at once, in numpy, for training: the boards are
    PettingZoo's (0 empty, 1 first player, 2 second; row 0 at the top). ``observe`` gives the player to
    move PettingZoo's planes (own, other) and action mask; ``play`` drops one piece in each game."""

    def __init__(self, n: int):
        self.boards = np.zeros((n, ROWS, COLUMNS), np.int8)
        self.to_move = np.ones(n, np.int8)  # 1 or 2: whose turn it is

    def reset(self, games: np.ndarray) -> None:
        self.boards[games], self.to_move[games] = 0, 1

    def observe(self, games: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the player to move in each of ``games``: PettingZoo's planes (own, other) and legal columns."""
        boards = self.boards[games]
        own = boards == self.to_move[games, None, None]
        other = (boards != 0) & ~own
        return np.stack([own, other], axis=-1).astype(np.float32), boards[:, 0] == 0

    def play(self, games: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drops the mover's piece in ``columns[i]`` of game ``games[i]`` (it must be legal) and passes
        the turn. Returns, per game, whether the mover won and whether the board is full without a winner."""
        if not (self.boards[games, 0, columns] == 0).all():
            raise ValueError("an illegal move: the column is full")
        row = ROWS - 1 - (self.boards[games, :, columns] != 0).sum(1)  # the lowest empty row
        self.boards[games, row, columns] = self.to_move[games]
        mine = self.boards[games] == self.to_move[games, None, None]
        won = (
            (mine[:, :, :-3] & mine[:, :, 1:-2] & mine[:, :, 2:-1] & mine[:, :, 3:]).any((1, 2))
            | (mine[:, :-3] & mine[:, 1:-2] & mine[:, 2:-1] & mine[:, 3:]).any((1, 2))
            | (mine[:, :-3, :-3] & mine[:, 1:-2, 1:-2] & mine[:, 2:-1, 2:-1] & mine[:, 3:, 3:]).any((1, 2))
            | (mine[:, 3:, :-3] & mine[:, 2:-1, 1:-2] & mine[:, 1:-2, 2:-1] & mine[:, :-3, 3:]).any((1, 2))
        )
        draw = ~won & (self.boards[games, 0] != 0).all(1)
        self.to_move[games] = 3 - self.to_move[games]
        return won, draw
