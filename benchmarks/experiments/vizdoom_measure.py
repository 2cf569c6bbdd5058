"""Measurements for algorithms/ppo_vizdoom.py that a training run does not print by itself.

    python benchmarks/experiments/vizdoom_measure.py env-sps [--num-envs 8] [--steps 16000]
        raw throughput, random actions, the same game and observation size (128x72 RGB, 4 tics a
        step) in three vector envs: the script's ThreadedDoomGames (one thread per CPU), gymnasium's
        AsyncVectorEnv (one worker process per game) and envpool's HealthGatheringSupreme-v1 set up
        with Sample Factory's cfg (skipped when envpool is not installed)
    python benchmarks/experiments/vizdoom_measure.py curve RUN_DIR [--bin 25000]
        a run's learning curve from its TensorBoard events: the course's episode reward (training
        episodes, stochastic policy) and the shaped training reward, per bin of agent steps

A training run's own split of wall time (env / inference / update) is in its results.json
("training": env_s, inference_s, update_s). Random play with the same evaluation as a trained
run: `python benchmarks/random_play.py --algo ppo_vizdoom --env-id doom_health_gathering_supreme`.
Results and dates: benchmarks/HISTORY.md, section "PPO on ViZDoom".
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import hub_utils

ppo_vizdoom = hub_utils.load_algorithm("ppo_vizdoom.py")

# Sample Factory's health_gathering_supreme.cfg, for envpool (its own copy of vizdoom's cfg has 3
# buttons, +1 a tic and -100 at death)
SAMPLE_FACTORY_CFG = """doom_scenario_path = health_gathering_supreme.wad
living_reward = 0.01
death_penalty = 0.0
screen_resolution = RES_160X120
screen_format = CRCGCB
render_hud = false
render_crosshair = false
render_weapon = false
render_decals = false
render_particles = false
window_visible = false
episode_timeout = 2100
available_buttons = { TURN_LEFT TURN_RIGHT MOVE_FORWARD MOVE_BACKWARD }
available_game_variables = { HEALTH }
mode = PLAYER
"""


def timed(envs, step, actions):
    """Steps/s of ``step(envs, actions)`` -> (rewards, dones) over the rows of ``actions``, and the
    episode rewards seen on the way."""
    returns, finished = np.zeros(actions.shape[1]), []
    start = time.perf_counter()
    for action in actions:
        reward, done = step(envs, action)
        returns += reward
        finished += list(returns[done])
        returns[done] = 0.0
    return actions.size / (time.perf_counter() - start), finished


def gymnasium_step(envs, action):
    _, reward, terminated, truncated, _ = envs.step(action)
    return reward, terminated | truncated


def env_sps(args):
    actions = np.random.default_rng(1).integers(5, size=(args.steps // args.num_envs, args.num_envs))
    rows = []

    games = ppo_vizdoom.ThreadedDoomGames(args.num_envs, frame_stack=1)
    games.reset(seed=1)
    rows.append((f"ThreadedDoomGames, {os.cpu_count()} threads", *timed(games, gymnasium_step, actions)))
    games.close()

    processes = gym.vector.AsyncVectorEnv(
        [ppo_vizdoom.DoomHealthGathering] * args.num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    processes.reset(seed=1)
    rows.append(
        (f"gymnasium AsyncVectorEnv, {args.num_envs} processes", *timed(processes, gymnasium_step, actions))
    )
    processes.close()

    try:
        import envpool
    except ImportError:
        envpool = None
    if envpool is not None:
        cfg = Path(tempfile.mkdtemp()) / "health_gathering_supreme.cfg"
        cfg.write_text(SAMPLE_FACTORY_CFG)
        os.chdir(cfg.parent)  # envpool's engines write _vizdoom.ini and _vizdoom/ where they start
        base = envpool.make_spec("HealthGatheringSupreme-v1").config.base_path
        wad = os.path.join(base, "vizdoom", "maps", "health_gathering_supreme.wad")
        buttons = np.vstack([np.zeros(4), np.eye(4)])  # action 0: nothing, 1-4: one button
        for threads in (1, os.cpu_count()):
            pool = envpool.make_gymnasium(
                "HealthGatheringSupreme-v1", num_envs=args.num_envs, num_threads=threads, seed=1,
                img_height=72, img_width=128, stack_num=1, frame_skip=4, cfg_path=str(cfg), wad_path=wad,
                reward_config={}, use_inter_area_resize=False,
            )  # fmt: skip
            pool.reset()
            step = lambda envs, action: gymnasium_step(envs, buttons[action])  # noqa: E731
            rows.append((f"envpool {envpool.__version__}, {threads} threads", *timed(pool, step, actions)))
            pool.close()

    print(f"{args.num_envs} games, random actions, 128x72 RGB, 4 tics a step ({actions.size} steps each):")
    for name, sps, returns in rows:
        mean = f"{np.mean(returns):.2f}" if returns else "-"
        print(f"  {name}: {sps:,.0f} steps/s; {len(returns)} episodes, mean episode reward {mean}")


def curve(args):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(args.run_dir), size_guidance={"scalars": 0}).Reload()
    course = events.Scalars("charts/episodic_return")
    shaped = {event.step: [] for event in course}
    for event in events.Scalars("charts/episodic_shaped_return"):
        shaped.setdefault(event.step, []).append(event.value)
    steps = np.array([event.step for event in course])
    values = np.array([event.value for event in course])
    shaped_values = np.array([event.value for event in events.Scalars("charts/episodic_shaped_return")])
    sps = events.Scalars("charts/SPS")[-1]
    print(f"{args.run_dir}: {steps.max()} steps logged, {len(values)} episodes, last SPS {sps.value:.0f}")
    print("| agent steps | episodes | course reward mean +/- std (min-max) | shaped reward mean |")
    print("| --- | --- | --- | --- |")
    for low in range(0, int(steps.max()) + 1, args.bin):
        inside = (steps > low) & (steps <= low + args.bin)
        if inside.any():
            chunk = values[inside]
            print(
                f"| {low:,}-{low + args.bin:,} | {inside.sum()} | {chunk.mean():.2f} +/- {chunk.std():.2f} "
                f"({chunk.min():.2f}-{chunk.max():.2f}) | {shaped_values[inside].mean():.2f} |"
            )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["env-sps", "curve"])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run folder (curve)")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16_000)
    parser.add_argument("--bin", type=int, default=25_000)
    args = parser.parse_args()
    {"env-sps": env_sps, "curve": curve}[args.what](args)


if __name__ == "__main__":
    main()
