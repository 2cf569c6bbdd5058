"""Pixelcopter-PLE-v0: PyGame Learning Environment's Pixelcopter as a gymnasium 1.x environment.

The Deep RL Course (Unit 4) trains on ``Pixelcopter-PLE-v0`` from gym-games (qlan3/gym-games),
a wrapper around PLE (ntasfi/PyGame-Learning-Environment); neither installs on today's Python and
gymnasium. This is a re-implementation of the same game with numpy, no pygame and no display:

- Screen 48x48 (PLE's default, which gym-games uses), one step = one frame at 30 fps
  (PLE's ``fps=30, force_fps=True``: every step advances the game by dt = 1000/30 ms).
- Actions, ``Discrete(2)`` in PLE's action-set order: 0 = thrust up (key W), 1 = do nothing.
- Observation, PLE's ``getGameState()`` in its order, as float32: player_y, player_vel,
  player_dist_to_ceil, player_dist_to_floor, next_gate_dist_to_player, next_gate_block_top,
  next_gate_block_bottom (pixels; y grows downwards).
- Dynamics (per step, W = H = 48): the walls and the gate scroll left by 0.0004 * W * dt = 0.64 px.
  The copter stays at x = int(0.35 W) and has momentum m: m += -0.875 * 0.0004 * W * dt (thrust)
  or +0.09 * 0.0004 * W * dt (gravity); m *= 0.99; y += m.
- The cave: columns int(0.1 W) = 4 px wide, each with a centre y = int(H/2 + H/8 * sin(f x + u)),
  f = 4.5/W + U(-0.01, 0.01) per batch of columns, u = U(0, 0.5) per column; the opening of a column
  at centre c is (c - H/4, c + H/4). Columns come in batches spanning 4W: one from x = 0 at reset,
  another from x = W whenever 13 or fewer remain (so the cave's shape can jump there, as in PLE).
- The gate: one block int(0.1 W) x int(0.2 H) = 4 x 9 px centred at x ~ U{W .. 1.5W - 1},
  y ~ U{H/4 .. 3H/4 - 1}. When it passes the copter (x <= copter x), a new one appears.
- Rewards (PLE's defaults: positive +1, tick 0, loss -5): +1 when a gate passes the copter,
  +1 for every cave column that scrolls off the left edge (one every 6.25 steps: most of the
  score), -5 on the step that ends the game.
- The game ends (``terminated``) when the copter overlaps the gate, when y - 0.05 H <= c - H/4 or
  y >= c + H/4 for a column it overlaps, or when y < H/8 or y > 7H/8.

Choices where PLE's rules could not be carried over exactly:

- Collisions use pygame's integer rectangles exactly as PLE gets them: a sprite's rectangle is its
  image size (floats truncated: the copter's 2.4 px is 2) placed at its truncated centre, corner =
  int(centre) - size // 2, and two rectangles collide when they overlap by at least a pixel.
- PLE's repository history has two gate placements; we follow the one its forks and master carry
  (centre y uniform in [H/4, 3H/4)); an older variant kept gates out of the middle band.
- ``player_dist_to_ceil/floor`` use the first (leftmost) cave column the copter overlaps, as PLE's
  ``spritecollide(...)[0]`` does with insertion-ordered sprite groups. ``next_gate_block_top`` is the
  gate's centre y and ``..._bottom`` centre + 9, exactly as PLE reports them (PLE's own quirk: the
  block really spans centre +/- 4.5).
- Randomness comes from gymnasium's ``np_random`` (``reset(seed=...)``), not PLE's RandomState(24),
  so a given seed lays out a different cave than PLE would.
- Episode length: gym-games registered no time limit. The course caps every training and
  evaluation episode at ``max_t = 10000`` steps, so ``envs/__init__.py`` registers
  ``max_episode_steps=10000``: the course's protocol everywhere, and evaluation always ends.
- Rendering: ``render_mode="rgb_array"`` draws the 48x48 screen with numpy, upscaled
  ``render_scale`` times (default 4: 192x192) for a watchable replay; walls are drawn where the
  collision rule puts them (PLE draws the lower wall 0.05 H lower than its rule).
"""

import gymnasium as gym
import numpy as np

THRUST, NOOP = 0, 1  # PLE's action set: [K_w, None]

PLAYER_COLOR = np.array([255, 255, 255], dtype=np.uint8)
WALL_COLOR = np.array([120, 240, 80], dtype=np.uint8)  # PLE's green for the cave and the gates


class PixelcopterEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None, width=48, height=48, render_scale=4):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.render_mode, self.render_scale = render_mode, render_scale
        self.width, self.height = width, height
        dt = 1000.0 / self.metadata["render_fps"]  # ms per step, PLE's force_fps tick
        speed = 0.0004 * width  # px per ms
        self.scroll = speed * dt
        self.thrust, self.gravity, self.drag = -0.875 * speed * dt, 0.09 * speed * dt, 0.99
        self.player_x, self.player_size = int(width * 0.35), (int(width * 0.05), int(height * 0.05))
        self.player_left = self.player_x - self.player_size[0] // 2  # the copter never moves sideways
        self.player_height = height * 0.05  # the ceiling rule uses the unrounded height
        self.column_width = int(width * 0.1)
        self.gap_half = height * 0.25
        self.gate_size = (int(width * 0.1), int(height * 0.2))
        self.rewards = dict(positive=1.0, tick=0.0, loss=-5.0)  # PLE's defaults

        self.action_space = gym.spaces.Discrete(2)
        # Bounds that hold on every step, the last one included: |momentum| stays below its fixed
        # points, and the copter is alive in [H/8, 7H/8] one step before any observation.
        vel_low, vel_high = (
            self.thrust * self.drag / (1 - self.drag),
            self.gravity * self.drag / (1 - self.drag),
        )
        y_low, y_high = height * 0.125 + vel_low, height * 0.875 + vel_high
        centre_low, centre_high = int(height / 2 - height * 0.125), int(height / 2 + height * 0.125)
        gate_low, gate_high = int(height * 0.25), int(height * 0.75) - 1
        low = [
            y_low,
            vel_low,
            y_low - (centre_high - self.gap_half),
            centre_low + self.gap_half - y_high,
            0.0,
            gate_low,
            gate_low + self.gate_size[1],
        ]
        high = [
            y_high,
            vel_high,
            y_high - (centre_low - self.gap_half),
            centre_high + self.gap_half - y_low,
            int(width * 1.5) - self.player_x,
            gate_high,
            gate_high + self.gate_size[1],
        ]
        self.observation_space = gym.spaces.Box(
            np.array(low, dtype=np.float32), np.array(high, dtype=np.float32)
        )

    # ---------------------------------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.player_y, self.momentum = self.height / 2, 0.0
        self.gates = []  # [x, y] centres; two at most, while a passed gate is still on screen
        self._add_gate()
        self.columns_x, self.columns_y = np.empty(0), np.empty(0)
        self._add_columns(0, self.width * 4)
        self.cave_centre = self._centres_under_copter()[0]
        return self._observation(), {}

    def _add_gate(self):
        x = int(self.np_random.integers(self.width, int(self.width * 1.5)))
        y = int(self.np_random.integers(int(self.height * 0.25), int(self.height * 0.75)))
        self.gates.append([float(x), float(y)])

    def _add_columns(self, start, end):
        """Lays cave columns every ``column_width`` px from ``start`` to ``end`` along a noisy sine."""
        x = np.arange(
            start + self.column_width // 2, end + self.column_width // 2, self.column_width, dtype=float
        )
        frequency = 4.5 / self.width + self.np_random.uniform(-0.01, 0.01)
        phase = self.np_random.uniform(0.0, 0.5, size=len(x))
        # int() truncates towards zero, as PLE's int(H/2 + jitter) does (all centres are positive)
        y = np.trunc(self.height / 2 + self.height * 0.125 * np.sin(frequency * x + phase))
        self.columns_x = np.concatenate([self.columns_x, x])
        self.columns_y = np.concatenate([self.columns_y, y])

    def _centres_under_copter(self):
        """Centres of the cave columns whose rectangle overlaps the copter's (one or two), in the
        order they were laid, as PLE's ``spritecollide`` returns them. A column's rectangle spans
        the whole screen height, so only the x ranges matter."""
        left = np.trunc(self.columns_x) - self.column_width // 2
        overlap = (left < self.player_left + self.player_size[0]) & (
            left + self.column_width > self.player_left
        )
        return self.columns_y[overlap]

    def _hits_copter(self, x, y, size):
        """Whether a rectangle of ``size`` centred at (x, y) overlaps the copter's, as pygame's
        ``colliderect`` decides with PLE's integer rectangles."""
        left, top = int(x) - size[0] // 2, int(y) - size[1] // 2
        player_top = int(self.player_y) - self.player_size[1] // 2
        return (
            left < self.player_left + self.player_size[0]
            and left + size[0] > self.player_left
            and top < player_top + self.player_size[1]
            and top + size[1] > player_top
        )

    def _observation(self):
        # The nearest gate ahead. There always is one: a gate that reaches the copter brings the next.
        gate_x, gate_y = min(gate for gate in self.gates if gate[0] > self.player_x)
        centre = self.cave_centre  # PLE measures the ceiling and floor at the first column it overlaps
        return np.array(
            [
                self.player_y,
                self.momentum,
                self.player_y - (centre - self.gap_half),  # player_dist_to_ceil
                (centre + self.gap_half) - self.player_y,  # player_dist_to_floor
                gate_x - self.player_x,  # next_gate_dist_to_player
                gate_y,  # next_gate_block_top (PLE reports the centre)
                gate_y + self.gate_size[1],  # next_gate_block_bottom
            ],
            dtype=np.float32,
        )

    # ---------------------------------------------------------------------------------------------
    def step(self, action):
        if action not in (THRUST, NOOP):
            raise ValueError(f"invalid action {action!r}: 0 (thrust) or 1 (do nothing)")
        reward, crashes = self.rewards["tick"], 0

        # Move: the copter vertically, the gates and the cave to the left.
        self.momentum = (self.momentum + (self.thrust if action == THRUST else self.gravity)) * self.drag
        self.player_y += self.momentum
        for gate in self.gates:
            gate[0] -= self.scroll
        self.columns_x -= self.scroll

        # Collisions: the gate, then the ceiling and floor of every column the copter overlaps.
        crashes += sum(self._hits_copter(x, y, self.gate_size) for x, y in self.gates)
        centres = self._centres_under_copter()
        self.cave_centre = centres[0]  # the columns removed or added further down are off-screen
        for centre in centres:
            crashes += self.player_y - self.player_height <= centre - self.gap_half
            crashes += self.player_y >= centre + self.gap_half

        # Scoring: a gate that reaches the copter, and every column that leaves the screen.
        for gate in list(self.gates):
            if gate[0] <= self.player_x and len(self.gates) == 1:
                reward += self.rewards["positive"]
                self._add_gate()
            if gate[0] <= -self.gate_size[0]:
                self.gates.remove(gate)
        gone = self.columns_x <= -self.column_width
        if gone.any():
            reward += self.rewards["positive"] * int(gone.sum())
            self.columns_x, self.columns_y = self.columns_x[~gone], self.columns_y[~gone]

        crashes += self.player_y < self.height * 0.125 or self.player_y > self.height * 0.875
        if len(self.columns_x) <= 10 + 3:
            self._add_columns(self.width, self.width * 5)
        terminated = crashes > 0
        if terminated:
            reward += self.rewards["loss"]
        return self._observation(), reward, terminated, False, {}

    # ---------------------------------------------------------------------------------------------
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        frame = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        rows = np.arange(self.height)[:, None]
        for x, centre in zip(self.columns_x, self.columns_y):
            left = int(x) - self.column_width // 2
            if left + self.column_width > 0 and left < self.width:
                wall = (rows < centre - self.gap_half) | (rows >= centre + self.gap_half)
                frame[:, max(left, 0) : left + self.column_width][wall[:, 0]] = WALL_COLOR
        for x, y in self.gates:
            self._fill(frame, x, y, self.gate_size, WALL_COLOR)
        self._fill(frame, self.player_x, self.player_y, self.player_size, PLAYER_COLOR)
        return np.repeat(np.repeat(frame, self.render_scale, axis=0), self.render_scale, axis=1)

    def _fill(self, frame, x, y, size, color):
        """Paints a sprite's rectangle, placed as pygame places it (see ``_hits_copter``)."""
        left, top = int(x) - size[0] // 2, int(y) - size[1] // 2
        frame[max(top, 0) : max(top + size[1], 0), max(left, 0) : max(left + size[0], 0)] = color
