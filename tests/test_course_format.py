"""The Deep RL Course's own formats, as the course's code writes them: Unit 2's q-learning.pkl
(read by `enjoy --trust-pickle`) and the model-card metadata of Units 2, 4 and 8 (ours must carry
every field the course's push_to_hub writes for the same unit)."""

import json
import pickle

import gymnasium as gym
import numpy as np
import pytest
import yaml
from conftest import assert_one_line_error, run_cli
from huggingface_hub import ModelCard
from huggingface_hub.repocard import metadata_eval_result
from test_q_learning import value_iteration

import hub_utils

q_learning = hub_utils.load_algorithm("q_learning.py")


# ------------------------------------------------------------------------------------------------
# Unit 2: the course's q-learning.pkl, written and evaluated the way the course's notebook does
# ------------------------------------------------------------------------------------------------
def course_pickle(folder, env, qtable, eval_seed, n_eval_episodes):
    """q-learning.pkl as Unit 2's push_to_hub writes it for ``env`` (its Step 3, word for word:
    map_name from the env's spec, and ``slippery: False`` only for non-slippery ice)."""
    model = {
        "env_id": env.spec.id,
        "max_steps": 99,
        "n_training_episodes": 10000,
        "n_eval_episodes": n_eval_episodes,
        "eval_seed": eval_seed,
        "learning_rate": 0.7,
        "gamma": 0.95,
        "max_epsilon": 1.0,
        "min_epsilon": 0.05,
        "decay_rate": 0.0005,
        "qtable": qtable,
    }
    if env.spec.kwargs.get("map_name"):
        model["map_name"] = env.spec.kwargs.get("map_name")
        if env.spec.kwargs.get("is_slippery", "") == False:  # noqa: E712 (the course's test)
            model["slippery"] = False
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "q-learning.pkl", "wb") as file:
        pickle.dump(model, file)
    return model


def course_evaluate_agent(env, max_steps, n_eval_episodes, Q, seed):
    """Unit 2's evaluate_agent, as the notebook has it (tqdm left out)."""
    episode_rewards = []
    for episode in range(n_eval_episodes):
        if seed:
            state, info = env.reset(seed=seed[episode])
        else:
            state, info = env.reset()
        total_rewards_ep = 0
        for _step in range(max_steps):
            action = np.argmax(Q[state][:])
            new_state, reward, terminated, truncated, info = env.step(action)
            total_rewards_ep += reward
            if terminated or truncated:
                break
            state = new_state
        episode_rewards.append(total_rewards_ep)
    return np.mean(episode_rewards), np.std(episode_rewards)


def frozen_lake(map_name, is_slippery):
    """The environment as the course makes it: FrozenLake-v1 with the map and slipperiness given,
    or left to gymnasium's default (slippery) when ``is_slippery`` is None."""
    kwargs = {} if is_slippery is None else {"is_slippery": is_slippery}
    return gym.make("FrozenLake-v1", map_name=map_name, **kwargs)


@pytest.fixture(scope="module")
def walk_the_dry_path():
    """Q* of the non-slippery lakes: a perfect walker on dry ice, a poor one on slippery ice."""
    return {name: value_iteration(frozen_lake(name, False), gamma=0.95) for name in ("4x4", "8x8")}


@pytest.mark.parametrize("map_name", ["4x4", "8x8"])
@pytest.mark.parametrize("is_slippery", [False, True, None])
def test_course_frozenlake_pickle_replays_on_the_ice_it_was_trained_on(
    tmp_path, walk_the_dry_path, map_name, is_slippery
):
    env = frozen_lake(map_name, is_slippery)
    seeds = list(range(500, 600))  # the course allows an eval_seed list; with one, results are exact
    model = course_pickle(tmp_path / "repo", env, walk_the_dry_path[map_name], seeds, 100)
    assert ("slippery" in model) == (is_slippery is False)  # the course writes the key only then

    evaluation = hub_utils.enjoy(tmp_path / "repo", trust_pickle=True)

    mean, std = course_evaluate_agent(env, 99, 100, model["qtable"], seeds)
    assert evaluation.seeds == seeds
    assert (evaluation.mean, evaluation.std) == pytest.approx((mean, std))
    if is_slippery is False:
        assert evaluation.mean == 1.0
    else:  # the dry-ice path on slippery ice mostly falls in (the course measured 0.04 on 4x4)
        assert evaluation.mean < 0.5


def test_course_frozenlake_pickle_without_seeds_plays_n_eval_episodes_on_slippery_ice(
    tmp_path, walk_the_dry_path
):
    """What the course notebook itself writes for FrozenLake: eval_seed = [] (unseeded episodes)."""
    env = frozen_lake("4x4", None)
    course_pickle(tmp_path / "repo", env, walk_the_dry_path["4x4"], [], 100)
    evaluation = hub_utils.enjoy(tmp_path / "repo", trust_pickle=True)
    assert len(evaluation.returns) == 100
    assert evaluation.mean < 0.5  # not 1.00 +/- 0.00: the lake is slippery, as the model says


def test_course_taxi_pickle_scores_what_the_course_scores(tmp_path):
    args = q_learning.parse_args(["--env-id", "Taxi-v3"])
    env = gym.make(hub_utils.resolve_env_id("Taxi-v3"))  # Taxi-v3 is retired: the course's env now
    qtable = value_iteration(env, gamma=0.95)
    model = course_pickle(tmp_path / "repo", env, qtable, q_learning.TAXI_EVAL_SEEDS, 100)
    assert "map_name" not in model and "slippery" not in model
    mean, std = course_evaluate_agent(env, 99, 100, qtable, q_learning.TAXI_EVAL_SEEDS)
    process = run_cli(
        ["hub_utils.py", "enjoy", "--path", str(tmp_path / "repo"), "--trust-pickle", "--no-video"], tmp_path
    )
    assert process.returncode == 0, process.stderr
    assert f"mean_reward {mean:.2f} +/- {std:.2f} over 100 episodes" in process.stdout
    assert f"{mean:.2f} +/- {std:.2f}" == "7.56 +/- 2.71" and args.eval_episodes == 100


def test_course_pickle_episodes_are_capped_by_max_steps_like_the_course(tmp_path):
    """max_steps 5 on an 8x8 lake: no episode reaches the goal, as in the course's loop."""
    env = frozen_lake("8x8", False)
    model = course_pickle(tmp_path / "repo", env, value_iteration(env, gamma=0.95), [0, 1], 2)
    model["max_steps"] = 5
    with open(tmp_path / "repo" / "q-learning.pkl", "wb") as file:
        pickle.dump(model, file)
    evaluation = hub_utils.enjoy(tmp_path / "repo", trust_pickle=True)
    assert evaluation.lengths == [5, 5] and evaluation.mean == 0.0


def test_a_pickle_that_is_not_a_course_model_is_one_line(tmp_path):
    (tmp_path / "repo").mkdir()
    with open(tmp_path / "repo" / "q-learning.pkl", "wb") as file:
        pickle.dump({"env_id": "FrozenLake-v1"}, file)  # no qtable
    process = run_cli(["hub_utils.py", "enjoy", "--path", "repo", "--trust-pickle", "--no-video"], tmp_path)
    assert_one_line_error(process, "q-learning.pkl is not a course Q-learning model", "qtable")


# ------------------------------------------------------------------------------------------------
# Model cards: every field the course's push_to_hub writes for the same unit
# ------------------------------------------------------------------------------------------------
COURSE_TAGS = {  # the tags of the course notebooks' push_to_hub, per algorithm (Units 2, 4, 8)
    "q-learning": ["q-learning", "reinforcement-learning", "custom-implementation"],
    "reinforce": ["reinforce", "reinforcement-learning", "custom-implementation", "deep-rl-class"],
    "ppo": [
        "ppo",
        "deep-reinforcement-learning",
        "reinforcement-learning",
        "custom-implementation",
        "deep-rl-course",
    ],
}


def run_folder(tmp_path, algo, dataset_id, mean, std):
    """A finished run folder as write_results leaves it (results.json, args.json), card not yet written."""
    folder = tmp_path / f"{algo}-{dataset_id}"
    folder.mkdir()
    env_id = dataset_id.split("-4x4")[0]
    results = dict(
        algo=algo,
        algo_title=algo.upper(),
        script=f"{algo.replace('-', '_')}.py",
        env_id=env_id,
        env_id_used=env_id,
        dataset_id=dataset_id,
        mean_reward=mean,
        std_reward=std,
        result=mean - std,
        eval_episodes=10,
        model_file="model.safetensors",
        gymnasium_version=gym.__version__,
        training={},
    )
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "args.json").write_text(json.dumps({"env_id": env_id, "seed": 1}))
    return folder


@pytest.mark.parametrize(
    "algo, dataset_id",
    [
        ("q-learning", "Taxi-v3"),
        ("q-learning", "FrozenLake-v1-4x4-no_slippery"),
        ("reinforce", "CartPole-v1"),
        ("reinforce", "Pixelcopter-PLE-v0"),
        ("ppo", "LunarLander-v2"),
    ],
)
def test_card_metadata_carries_every_field_the_course_writes(tmp_path, algo, dataset_id):
    folder = run_folder(tmp_path, algo, dataset_id, 7.5625, 2.7123)
    repo_name = "my-agent"
    ours = yaml.safe_load(hub_utils.render_model_card(folder, f"alice/{repo_name}").split("---")[1])
    course = metadata_eval_result(  # as the notebooks call it
        model_pretty_name=repo_name,
        task_pretty_name="reinforcement-learning",
        task_id="reinforcement-learning",
        metrics_pretty_name="mean_reward",
        metrics_id="mean_reward",
        metrics_value="7.56 +/- 2.71",
        dataset_pretty_name=dataset_id,
        dataset_id=dataset_id,
    )
    assert set([dataset_id, *COURSE_TAGS[algo]]) <= set(ours["tags"])
    if algo != "ppo":  # Unit 8 names every model "PPO"; Units 2 and 4 the repository
        assert ours["model-index"][0]["name"] == course["model-index"][0]["name"]
    assert ours["model-index"][0]["results"] == course["model-index"][0]["results"]
    assert course["model-index"][0]["results"][0]["metrics"][0]["verified"] is False


def test_card_tags_say_nothing_about_stable_baselines3(tmp_path):
    """The course's certification counts Units 1, 3 and 6 by the stable-baselines3 tag: we do not
    write it, our models are not trained with it (README: the certification table)."""
    for algo in ("ppo", "dqn", "a2c"):
        folder = run_folder(tmp_path, algo, "LunarLander-v2" if algo != "dqn" else "CartPole-v1", 1.0, 0.0)
        tags = ModelCard(hub_utils.render_model_card(folder)).data.tags
        assert not {tag for tag in tags if "stable-baselines" in tag or tag == "sb3"}
