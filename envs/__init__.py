"""Gymnasium environments the course needs that no maintained package ships.

Importing this package registers them with gymnasium (``hub_utils.resolve_env_id`` does so on
demand, so scripts find them by id).
"""

import gymnasium

# gym-games registered Pixelcopter-PLE-v0 with no time limit; the course caps every training and
# evaluation episode at max_t = 10000 steps, and so do we (envs/pixelcopter.py explains).
if "Pixelcopter-PLE-v0" not in gymnasium.registry:
    gymnasium.register(
        id="Pixelcopter-PLE-v0", entry_point="envs.pixelcopter:PixelcopterEnv", max_episode_steps=10_000
    )

# PettingZoo's connect_four_v3 from one seat against a fixed opponent (envs/connect_four.py): the id keeps
# PettingZoo's version. Games end within 42 moves, so no time limit is needed.
if "ConnectFour-v3" not in gymnasium.registry:
    gymnasium.register(id="ConnectFour-v3", entry_point="envs.connect_four:ConnectFourEnv")
