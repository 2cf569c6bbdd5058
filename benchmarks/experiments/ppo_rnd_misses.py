"""How often a trained ppo_rnd.py policy reaches the goal on many new layouts, greedily (as its
evaluation plays) and sampling its actions, and how its misses end (benchmarks/README.md, Unit 5).

    python benchmarks/experiments/ppo_rnd_misses.py benchmarks/runs/ppo_rnd/*/*/seed-*/runs/*__ppo_rnd__*

Each run folder's agent plays --layouts episodes (reset seeds --first, --first + 1, ...) of its env
both ways; a miss is printed with the last actions it repeated (0 left, 1 right, 2 forward, 3 pickup,
4 drop, 5 toggle, 6 done).
"""

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

import hub_utils


def play(agent, env, seed, greedy):
    observation, _ = env.reset(seed=seed)
    actions, total, done, memory = [], 0.0, False, torch.zeros(1, agent.memory.hidden_size)
    while not done:
        with torch.inference_mode():
            memory = agent.remember(agent.normalize(observation[None, None]), memory, torch.zeros(1, 1))[-1]
            action = (
                agent.actor(memory).argmax(-1)
                if greedy
                else agent.actor(memory).softmax(-1).multinomial(1)[0]
            )
        actions.append(int(action[0]))
        observation, reward, terminated, truncated, _ = env.step(actions[-1])
        total, done = total + float(reward), terminated or truncated
    return total > 0, actions


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--layouts", type=int, default=200)
    parser.add_argument("--first", type=int, default=1000)
    options = parser.parse_args()
    module = hub_utils.load_algorithm("ppo_rnd.py")
    torch.manual_seed(0)
    for run_dir in options.run_dirs:
        args = argparse.Namespace(**json.loads((run_dir / "args.json").read_text()))
        env = module.make_env(args)
        agent = module.Agent(env.observation_space, env.action_space, args.hidden_size)
        agent.load_state_dict(load_file(run_dir / "model.safetensors"))
        for greedy in (True, False):
            seeds = range(options.first, options.first + options.layouts)
            misses = [
                (seed, actions[-8:])
                for seed in seeds
                for hit, actions in [play(agent, env, seed, greedy)]
                if not hit
            ]
            share = 1 - len(misses) / options.layouts
            way = "greedy" if greedy else "sampled"
            print(f"{run_dir.name} seed {args.seed} {way}: goal in {share:.1%} of {options.layouts} layouts")
            print(f"  misses (reset seed, last actions): {misses}")


if __name__ == "__main__":
    main()
