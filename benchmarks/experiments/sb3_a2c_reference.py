"""RL Zoo's A2C on LunarLander, run here: stable-baselines3's A2C with the Zoo's hyperparameters,
evaluated exactly like algorithms/a2c.py (deterministic policy, the evaluation seeds of each --seed).

    pip install stable-baselines3==2.9.2        # not a dependency of this repository
    python benchmarks/experiments/sb3_a2c_reference.py --seeds 1 2 3 4 5 --eval-episodes 10 100

The Zoo publishes one run of this configuration (155.75 +/- 80.42 at 200k steps); this script gives
its spread across seeds on the same environment, budget and evaluation as a2c.py's defaults.
Results and dates: benchmarks/README.md, "Experiments"; the full tables: benchmarks/HISTORY.md, "A2C".
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch

import hub_utils
import training_run

# rl-baselines3-zoo, hyperparams/a2c.yml, LunarLander-v2 (the rest are SB3's A2C defaults: RMSprop
# alpha 0.99 eps 1e-5, n-step returns (gae_lambda 1), vf_coef 0.5, max_grad_norm 0.5, two 64-unit tanh MLPs)
ZOO_A2C_LUNARLANDER = dict(
    n_envs=8, n_timesteps=200_000, gamma=0.995, n_steps=5, learning_rate=0.00083, ent_coef=1e-5
)


def train_and_evaluate(seed, eval_episodes, env_id):
    try:
        from stable_baselines3 import A2C
        from stable_baselines3.common.env_util import make_vec_env
    except ImportError as error:
        raise hub_utils.UserError(
            "this benchmark needs stable-baselines3: pip install stable-baselines3==2.9.2"
        ) from error
    settings = ZOO_A2C_LUNARLANDER
    model = A2C(
        "MlpPolicy",
        make_vec_env(env_id, n_envs=settings["n_envs"], seed=seed),
        gamma=settings["gamma"],
        n_steps=settings["n_steps"],
        ent_coef=settings["ent_coef"],
        seed=seed,
        device="cpu",
        learning_rate=lambda progress_remaining: progress_remaining * settings["learning_rate"],
    )  # "lin_"
    start = time.time()
    model.learn(total_timesteps=settings["n_timesteps"])
    record = {"seed": seed, "training_seconds": round(time.time() - start, 1)}

    def policy(observation):
        return int(model.predict(observation, deterministic=True)[0])

    for episodes in eval_episodes:
        evaluation = hub_utils.evaluate(policy, gym.make(env_id), hub_utils.eval_seeds(seed, episodes))
        record[f"eval_{episodes}"] = dict(
            mean_reward=round(evaluation.mean, 2),
            std_reward=round(evaluation.std, 2),
            result=round(evaluation.result, 2),
            at_time_limit=sum(length >= 1000 for length in evaluation.lengths),
        )
    return record


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument(
        "--eval-episodes",
        type=int,
        nargs="+",
        default=[10, 100],
        help="evaluate on the first N evaluation seeds, for each N given",
    )
    parser.add_argument(
        "--env-id", default="LunarLander-v2", help="resolved as the algorithm scripts do (v2 -> v3)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    env_id = hub_utils.resolve_env_id(args.env_id)
    records = []
    for seed in args.seeds:
        records.append(train_and_evaluate(seed, args.eval_episodes, env_id))
        print(json.dumps(records[-1]), flush=True)
    for episodes in args.eval_episodes:
        means = [record[f"eval_{episodes}"]["mean_reward"] for record in records]
        print(f"{episodes} evaluation episodes: mean_reward per seed {means}, mean {np.mean(means):.2f}")


if __name__ == "__main__":
    training_run.run_script(main)
