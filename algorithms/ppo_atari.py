"""Proximal Policy Optimization (PPO) from pixels, as in Unit 8 of the Hugging Face Deep RL Course.

Collect num_envs x num_steps transitions with the current policy, estimate advantages with GAE,
then take several epochs of minibatch gradient steps on the clipped surrogate objective

    L = E[ min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A) ] - c_v * L_value + c_e * entropy,
    ratio = pi(a|s) / pi_old(a|s)

The actor and the critic share the Nature CNN (Mnih et al., 2015), which reads the last 4
preprocessed frames scaled to [0, 1]; the defaults are CleanRL's ppo_atari.py (8 envs x 128 steps,
clip coefficient 0.1, 10M steps).

Rollouts come from ale-py's AtariVectorEnv, which steps the games on C++ threads and preprocesses
them there (the standard preprocessing): up to 30 no-op actions at reset, each action repeated for
4 frames with the max of the last two frames observed, FIRE pressed at reset in games that need it,
84x84 grayscale, the last 4 frames stacked. Training also treats every lost life as a termination
while the game goes on (episodic life, ale-py's `life_loss_info`; its `episodic_life` would restart
the whole game) and clips rewards to their sign. After a lost life, FIRE and action 2 are played for
the agent, as the classic FireResetEnv under EpisodicLifeEnv does (see FireAfterLostLife).
charts/episodic_return counts whole games with the real score; evaluation, the replay and `enjoy`
play whole games with the real score on the same C++ preprocessing, so they see exactly the frames
training saw. The game's own limit, 108,000 frames, is a truncation and bootstraps. Sticky actions
are the id's own: none for `...NoFrameskip-v4`, repeat_action_probability 0.25 for `ALE/...-v5`.

    python algorithms/ppo_atari.py --env-id BreakoutNoFrameskip-v4
    python algorithms/ppo_atari.py --env-id ALE/Pong-v5 --total-timesteps 2000000
"""

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

import hub_utils

FRAME_STACK = 4  # frames per observation
FRAME_SKIP = 4  # Atari frames per agent step
FRAME_SIZE = 84
NOOP_MAX = 30

# CleanRL's ppo_atari.py hyperparameters serve every game; per-game overrides go here.
ENV_DEFAULTS = {}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Per-environment defaults: " + ("; ".join(f"{k}: {v}" for k, v in ENV_DEFAULTS.items()) or "none"))
    parser.add_argument("--env-id", default="BreakoutNoFrameskip-v4",
                        help="an Atari game: `<Game>NoFrameskip-v4` or `ALE/<Game>-v5` (ale-py ships the ROMs)")
    parser.add_argument("--seed", type=int, default=1, help="seed of torch and of the environments")
    parser.add_argument("--torch-deterministic", action=argparse.BooleanOptionalAction, default=True,
                        help="torch.backends.cudnn.deterministic")
    parser.add_argument("--cuda", action=argparse.BooleanOptionalAction, default=True, help="use CUDA if present")
    parser.add_argument("--total-timesteps", type=int, default=10_000_000,
                        help="agent steps to train for, over all envs (each is 4 Atari frames)")
    parser.add_argument("--learning-rate", type=float, default=2.5e-4, help="Adam step size")
    parser.add_argument("--anneal-lr", action=argparse.BooleanOptionalAction, default=True,
                        help="decay the learning rate linearly to 0")
    parser.add_argument("--num-envs", type=int, default=8, help="parallel games in the C++ vector env")
    parser.add_argument("--env-threads", type=int, default=0,
                        help="C++ threads stepping the games (0: ale-py's choice, one per env up to the CPU count)")
    parser.add_argument("--num-steps", type=int, default=128, help="steps per environment per rollout")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount factor")
    parser.add_argument("--gae-lambda", type=float, default=0.95, help="lambda of GAE")
    parser.add_argument("--num-minibatches", type=int, default=4, help="minibatches per epoch")
    parser.add_argument("--update-epochs", type=int, default=4, help="epochs over each rollout")
    parser.add_argument("--norm-adv", action=argparse.BooleanOptionalAction, default=True,
                        help="normalize advantages per minibatch")
    parser.add_argument("--clip-coef", type=float, default=0.1, help="surrogate clipping epsilon")
    parser.add_argument("--clip-vloss", action=argparse.BooleanOptionalAction, default=True,
                        help="clip the value loss like the policy")
    parser.add_argument("--ent-coef", type=float, default=0.01, help="entropy bonus coefficient")
    parser.add_argument("--vf-coef", type=float, default=0.5, help="value loss coefficient")
    parser.add_argument("--max-grad-norm", type=float, default=0.5, help="global gradient norm clip")
    parser.add_argument("--target-kl", type=float, default=None, help="stop the epochs early above this KL")
    hub_utils.add_run_args(parser, exp_name="ppo_atari")

    env_name = parser.parse_known_args(argv)[0].env_id.split("-v")[0]
    parser.set_defaults(**ENV_DEFAULTS.get(env_name, {}))
    args = hub_utils.apply_resume(parser.parse_args(argv))
    for flag in ("total_timesteps", "num_envs", "num_steps", "num_minibatches", "update_epochs", "eval_episodes"):
        if getattr(args, flag) < 1:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.env_threads < 0:
        raise hub_utils.UserError(f"--env-threads must be >= 0 (0: ale-py's choice), got {args.env_threads}")
    if args.learning_rate <= 0:
        raise hub_utils.UserError(f"--learning-rate must be > 0, got {args.learning_rate}")
    for flag in ("gamma", "gae_lambda"):
        if not 0 <= getattr(args, flag) <= 1:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be in [0, 1], got {getattr(args, flag)}")
    if args.clip_coef <= 0:
        raise hub_utils.UserError(f"--clip-coef must be > 0, got {args.clip_coef}")
    batch_size = args.num_envs * args.num_steps
    if batch_size % args.num_minibatches:
        raise hub_utils.UserError(f"--num-minibatches {args.num_minibatches} does not divide the batch of "
                                  f"--num-envs x --num-steps = {batch_size} transitions")
    if args.total_timesteps < batch_size:
        raise hub_utils.UserError(f"--total-timesteps {args.total_timesteps} is less than one rollout "
                                  f"(--num-envs x --num-steps = {batch_size})")
    return args


# ------------------------------------------------------------------------------------------------
# Environments: ale-py's C++ vector env, for training and (one game) for evaluation
# ------------------------------------------------------------------------------------------------
def ale_settings(env_id):
    """The AtariVectorEnv settings of a gymnasium Atari id: its ROM name and the id's own sticky
    actions, action set and time limit. Raises UserError for ids that are not ALE games."""
    spec = gym.spec(hub_utils.resolve_env_id(env_id, quiet=True))
    if not str(spec.entry_point).startswith("ale_py"):
        raise hub_utils.UserError(f"ppo_atari.py needs an Atari game such as BreakoutNoFrameskip-v4 or "
                                  f"ALE/Breakout-v5; {env_id} is not one (vector observations: use ppo.py)")
    kwargs = spec.kwargs
    if kwargs.get("obs_type", "rgb") != "rgb":
        raise hub_utils.UserError(f"ppo_atari.py learns from pixels; {env_id} has obs_type={kwargs['obs_type']}")
    from ale_py import roms

    if roms.get_rom_path(kwargs["game"]) is None:
        raise hub_utils.UserError(f"{env_id}: ale-py's C++ vector env has no ROM '{kwargs['game']}'")
    return dict(game=kwargs["game"], repeat_action_probability=kwargs.get("repeat_action_probability", 0.0),
                full_action_space=kwargs.get("full_action_space", False),
                max_num_frames_per_episode=kwargs.get("max_num_frames_per_episode") or 108_000)


class FireAfterLostLife(gym.vector.VectorWrapper):
    """The classic FireResetEnv under EpisodicLifeEnv (baselines, SB3, CleanRL): in a game whose
    action 1 is FIRE, with at least 3 actions (FireResetEnv's own rule), a lost life that does not
    end the game is followed by FIRE, then action 2, whatever the agent chose. Breakout serves the
    ball only after FIRE; the C++ env presses it only at reset, so without this a greedy policy
    that never picks FIRE waits after a lost life until the time limit.

    FireResetEnv takes these steps inside the reset that EpisodicLifeEnv makes of a lost life,
    unseen by the agent. AtariVectorEnv.step takes one action for every game (ale-py 0.12.1 refuses
    fewer, and reset_mask only restarts whole games), so one game cannot take a step alone: the
    two steps replace that game's next two actions instead, and info["forced_action"] marks them.
    Training leaves them out of the update (they are the environment's steps, not the agent's
    decisions); evaluation plays them in the same way, so both see the same frames. A game over
    needs nothing: the C++ reset has pressed FIRE already."""

    def __init__(self, env, life_loss_info):
        super().__init__(env)
        from ale_py import Action

        action_set = env.unwrapped.ale.get_action_set()
        needs_fire = len(action_set) >= 3 and action_set[1] == Action.FIRE
        self.serve = np.array([1, 2] if needs_fire else [], dtype=np.int64)  # FireResetEnv: step(1), step(2)
        self.life_loss_info = life_loss_info
        self.pending = np.zeros(env.num_envs, dtype=np.int64)  # forced steps each game has still to take
        self.lives = None

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.pending[(options or {}).get("reset_mask", slice(None))] = 0
        self.lives = np.array(info["lives"])
        return obs, info

    def step(self, actions):
        forced = self.pending > 0
        actions = np.array(actions, dtype=np.int64)  # a copy: the caller's array keeps the agent's actions
        actions[forced] = self.serve[len(self.serve) - self.pending[forced]]
        self.pending[forced] -= 1
        obs, reward, terminated, truncated, info = self.env.step(actions)
        lost_life = info["lives"] < self.lives  # (a game over restarted at once, SAME_STEP, shows full lives)
        game_over = terminated | truncated
        if self.life_loss_info:  # there a termination with fewer lives is a lost life, the game going on
            game_over &= ~(terminated & lost_life)
        self.pending[lost_life & ~game_over] = len(self.serve)
        self.pending[game_over] = 0
        self.lives = np.array(info["lives"])
        info["forced_action"] = forced
        return obs, reward, terminated, truncated, info


def make_vector_env(env_id, num_envs, training=True, env_threads=0, **overrides):
    """num_envs games on ale-py's C++ threads, preprocessed there, with raw (unclipped) rewards,
    FIRE pressed after a lost life (FireAfterLostLife).

    training=True: a lost life is a termination while the game goes on (life_loss_info), and
    SAME_STEP autoreset: the step that ends a game returns the next game's first observation, with
    the last one in info["final_obs"], so every step is a real transition. training=False: whole
    games (for evaluation), NEXT_STEP autoreset. ``overrides`` go to AtariVectorEnv (the tests
    shorten the time limit with max_num_frames_per_episode)."""
    from ale_py.vector_env import AtariVectorEnv

    settings = dict(
        ale_settings(env_id), num_threads=env_threads, frameskip=FRAME_SKIP, maxpool=True, noop_max=NOOP_MAX,
        use_fire_reset=True, img_height=FRAME_SIZE, img_width=FRAME_SIZE, grayscale=True, stack_num=FRAME_STACK,
        reward_clipping=False, episodic_life=False, life_loss_info=training,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP if training else gym.vector.AutoresetMode.NEXT_STEP)
    return FireAfterLostLife(AtariVectorEnv(num_envs=num_envs, **dict(settings, **overrides)), life_loss_info=training)


class AtariGame(gym.Env):
    """One whole game on the same C++ preprocessing as training (a one-env AtariVectorEnv, FIRE
    after a lost life included): for evaluation, the replay and `enjoy`. With render_mode="rgb_array",
    a second one-env vector env plays the same game in colour at full size (same seed, same actions)
    to supply render()."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60 / FRAME_SKIP}

    def __init__(self, env_id, render_mode=None, **overrides):
        self.envs = make_vector_env(env_id, 1, training=False, env_threads=1, **overrides)
        self.observation_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        self.render_mode = render_mode
        self.screen_envs = None
        if render_mode == "rgb_array":
            self.screen_envs = make_vector_env(env_id, 1, training=False, env_threads=1, grayscale=False,
                                               img_height=210, img_width=160, stack_num=1, **overrides)
        self.screen = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.envs.reset(seed=seed)
        if self.screen_envs is not None:
            self.screen = self.screen_envs.reset(seed=seed)[0][0, -1]
        return obs[0], {key: value[0] for key, value in info.items()}

    def step(self, action):
        obs, reward, terminated, truncated, info = self.envs.step(np.array([action], dtype=np.int64))
        if self.screen_envs is not None:
            self.screen = self.screen_envs.step(np.array([action], dtype=np.int64))[0][0, -1]
        return (obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]),
                {key: value[0] for key, value in info.items()})

    def render(self):
        return self.screen

    def close(self):
        self.envs.close()
        if self.screen_envs is not None:
            self.screen_envs.close()


def make_env(args, render_mode=None):
    """The evaluation environment (whole games, real score), also used by `hub_utils.py enjoy`.
    Refuses ids that are not Atari games, before anything is written."""
    return AtariGame(args.env_id, render_mode=render_mode)


class GameStatistics:
    """Whole-game statistics under episodic life: a termination is a lost life unless the game is
    over. A lost life shows as fewer lives than the step before; at a game over (or a truncation)
    the env has already reset (SAME_STEP), so ``lives`` is the new game's full count. Scores add
    the raw, unclipped rewards."""

    def __init__(self, num_envs):
        self.returns, self.lengths = np.zeros(num_envs), np.zeros(num_envs, dtype=np.int64)
        self.lives = None

    def start(self, lives):
        self.returns[:], self.lengths[:], self.lives = 0.0, 0, np.array(lives)

    def update(self, raw_reward, terminated, truncated, lives):
        """Adds one step; returns (env indices, scores, lengths) of the games that ended in it."""
        self.returns += raw_reward
        self.lengths += 1
        life_lost = lives < self.lives
        game_over = (terminated | truncated) & ~(terminated & life_lost)
        self.lives = np.array(lives)
        finished = np.flatnonzero(game_over)
        scores, lengths = self.returns[finished].copy(), self.lengths[finished].copy()
        self.returns[finished], self.lengths[finished] = 0.0, 0
        return finished, scores, lengths


# ------------------------------------------------------------------------------------------------
# The agent and GAE
# ------------------------------------------------------------------------------------------------
def layer_init(layer, std=math.sqrt(2), bias_const=0.0):
    """Orthogonal weights, constant bias: the initialization PPO implementations rely on."""
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """The Nature CNN shared by a categorical actor and a critic: 4 x 84x84 frames / 255 -> 512 features."""

    def __init__(self, n_actions):
        super().__init__()
        self.network = nn.Sequential(
            layer_init(nn.Conv2d(FRAME_STACK, 32, 8, stride=4)), nn.ReLU(),
            layer_init(nn.Conv2d(32, 64, 4, stride=2)), nn.ReLU(),
            layer_init(nn.Conv2d(64, 64, 3, stride=1)), nn.ReLU(),
            nn.Flatten(),
            layer_init(nn.Linear(64 * 7 * 7, 512)), nn.ReLU())
        self.actor = layer_init(nn.Linear(512, n_actions), std=0.01)  # near-uniform initial policy
        self.critic = layer_init(nn.Linear(512, 1), std=1.0)

    def features(self, obs):
        return self.network(obs.float() / 255.0)  # uint8 frames scaled to [0, 1]

    def get_value(self, obs):
        return self.critic(self.features(obs)).squeeze(-1)

    def sample_action(self, obs):
        """For rollouts: a ~ pi(.|s), with log pi(a|s) and V(s)."""
        hidden = self.features(obs)
        log_pi = self.actor(hidden).log_softmax(-1)
        action = torch.multinomial(log_pi.exp(), 1)
        return action.squeeze(-1), log_pi.gather(-1, action).squeeze(-1), self.critic(hidden).squeeze(-1)

    def evaluate_actions(self, obs, action):
        """For updates: log pi(a|s) of the stored actions under the current policy, H(pi(.|s)), V(s)."""
        hidden = self.features(obs)
        log_pi = self.actor(hidden).log_softmax(-1)
        log_prob = log_pi.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1)
        return log_prob, entropy, self.critic(hidden).squeeze(-1)

    def act(self, obs):
        """The deterministic action evaluated and published: the mode of the policy."""
        return self.actor(self.features(obs)).argmax(-1)


def compute_gae(rewards, values, episode_continues, truncation_values, gamma, gae_lambda):
    """Generalized Advantage Estimation over a rollout of shape (steps, envs).

    delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)
    A_t     = delta_t + gamma * lambda * A_{t+1}   (the sum restarts where an episode ended)

    ``values`` has one more row than ``rewards``: V of the observation after the rollout. Where an
    episode ended at step t (``episode_continues[t] == 0``: a lost life, a game over or a time
    limit), V(s_{t+1}) is 0 if it terminated and ``truncation_values[t]``, V of its final
    observation, if it was truncated. Returns the advantages and value targets A + V.
    """
    next_values = values[1:] * episode_continues + truncation_values
    values = values[:-1]
    advantages = torch.zeros_like(rewards)
    next_advantage = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_values[t] - values[t]
        next_advantage = delta + gamma * gae_lambda * episode_continues[t] * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


def minibatches_of_decisions(forced, num_minibatches, device="cpu"):
    """One epoch's minibatches: the flat rollout indices (step * num_envs + env) of the agent's own
    decisions, shuffled and split into num_minibatches of equal size +/- 1. ``forced`` (steps, envs)
    marks the steps FireAfterLostLife took instead of the agent; without any, this is CleanRL's
    randperm(batch_size).split(minibatch_size)."""
    decisions = torch.from_numpy(np.flatnonzero(~forced.reshape(-1))).to(device)
    return decisions[torch.randperm(len(decisions), device=device)].tensor_split(num_minibatches)


def deterministic_policy(agent, device="cpu"):
    """obs -> action: what evaluation, the replay and `enjoy` run."""
    @torch.inference_mode()
    def policy(observation):
        return int(agent.act(torch.as_tensor(np.asarray(observation), device=device).unsqueeze(0))[0])
    return policy


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: rebuilds the Agent and loads model.safetensors (no pickle)."""
    env = make_env(args)
    agent = Agent(env.action_space.n)
    env.close()
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return deterministic_policy(agent.eval())


def main():
    args = parse_args()
    probe_env = make_env(args)  # checks the id before anything is written
    n_actions = probe_env.action_space.n
    probe_env.close()
    run = hub_utils.start_run(args, __file__)
    batch_size = args.num_envs * args.num_steps
    num_iterations = args.total_timesteps // batch_size

    torch.manual_seed(args.seed)  # drives initialization, action sampling and minibatch shuffling
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # the machine's other cores are for the game threads and other work

    envs = make_vector_env(run.env_id, args.num_envs, training=True, env_threads=args.env_threads)
    agent = Agent(n_actions).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # Rollout storage. Observations stay uint8 (4x smaller; scaled inside the network). Per step,
    # the only host-device copies are the observation in and the action out; rewards and episode
    # ends are gathered on the host and copied once per rollout.
    obs = torch.zeros((args.num_steps, args.num_envs, FRAME_STACK, FRAME_SIZE, FRAME_SIZE), dtype=torch.uint8,
                      device=device)
    actions = torch.zeros((args.num_steps, args.num_envs), dtype=torch.long, device=device)
    log_probs = torch.zeros((args.num_steps, args.num_envs), device=device)
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)
    truncation_values = torch.zeros((args.num_steps, args.num_envs), device=device)
    rewards = np.zeros((args.num_steps, args.num_envs), dtype=np.float32)
    episode_continues = np.zeros((args.num_steps, args.num_envs), dtype=np.float32)
    forced = np.zeros((args.num_steps, args.num_envs), dtype=bool)  # FIRE after a lost life: not the agent's

    start_iteration, global_step, games = 1, 0, 0
    checkpoint_path = run.dir / "checkpoint.pt"
    if run.resumed:  # the games restart; everything else continues where it stopped
        checkpoint = torch.load(checkpoint_path, weights_only=True, map_location=device)
        agent.load_state_dict(checkpoint["agent"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        start_iteration, global_step, games = checkpoint["iteration"], checkpoint["global_step"], checkpoint["games"]
        torch.set_rng_state(checkpoint["torch_rng"])
    # env i starts from seed + i (CleanRL's convention); a resumed run reseeds from where it stopped
    next_obs, infos = envs.reset(seed=args.seed + (start_iteration - 1) * args.num_envs)
    statistics = GameStatistics(args.num_envs)
    statistics.start(infos["lives"])

    progress = hub_utils.Progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    timers = dict(env_s=0.0, inference_s=0.0, update_s=0.0)  # where the wall time goes
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between iterations
            torch.save(dict(agent=agent.state_dict(), optimizer=optimizer.state_dict(), iteration=iteration,
                            global_step=global_step, games=games, torch_rng=torch.get_rng_state()), checkpoint_path)
            progress.close()
            envs.close()
            run.exit_interrupted()
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Collect a rollout with the current policy.
        truncation_values.zero_()
        for step in range(args.num_steps):
            tick = time.perf_counter()
            with torch.inference_mode():
                obs[step] = torch.from_numpy(next_obs).to(device, non_blocking=True)
                action, log_probs[step], values[step] = agent.sample_action(obs[step])
                actions[step] = action
                env_action = action.cpu().numpy()
            tock = time.perf_counter()
            next_obs, raw_reward, terminated, truncated, infos = envs.step(env_action)
            timers["env_s"] += time.perf_counter() - tock
            timers["inference_s"] += tock - tick
            global_step += args.num_envs
            done = terminated | truncated
            truncated = truncated & ~terminated  # a step that is both ends for good: no bootstrap

            rewards[step] = np.sign(raw_reward)  # training's rewards are clipped to {-1, 0, 1}
            episode_continues[step] = ~done  # a lost life ends the agent's episode (episodic life)
            forced[step] = infos["forced_action"]  # the env replaced the agent's action (FireAfterLostLife)
            if truncated.any():  # bootstrap a time limit from V(final observation)
                with torch.inference_mode():
                    final_obs = torch.from_numpy(infos["final_obs"][truncated]).to(device)
                    truncation_values[step, torch.from_numpy(truncated).to(device)] = agent.get_value(final_obs)
            for env_index, score, length in zip(*statistics.update(raw_reward, terminated, truncated,
                                                                   infos["lives"])):
                games += 1
                recent_return = float(score)
                run.writer.add_scalar("charts/episodic_return", score, global_step)  # a whole game, real score
                run.writer.add_scalar("charts/episodic_length", length, global_step)
        tick = time.perf_counter()
        with torch.inference_mode():
            values[-1] = agent.get_value(torch.from_numpy(next_obs).to(device))

        # 2. Advantages and value targets with GAE (bootstrapping truncated episodes).
        advantages, returns = compute_gae(torch.from_numpy(rewards).to(device), values,
                                          torch.from_numpy(episode_continues).to(device), truncation_values,
                                          args.gamma, args.gae_lambda)

        # 3. Optimize the clipped surrogate for several epochs of shuffled minibatches of the agent's own
        # decisions. The FIRE steps after a lost life are left out: in the classic wrappers they are part
        # of the reset, never seen by the learner (GAE stops at the lost life before them, so no kept
        # step's advantage depends on them; like FireResetEnv's, their rewards are not learned from).
        b_obs = obs.reshape((-1, FRAME_STACK, FRAME_SIZE, FRAME_SIZE))
        b_actions, b_log_probs, b_advantages = actions.reshape(-1), log_probs.reshape(-1), advantages.reshape(-1)
        b_returns, b_values = returns.reshape(-1), values[:-1].reshape(-1)
        clip_fractions = []
        for _ in range(args.update_epochs):
            for minibatch in minibatches_of_decisions(forced, args.num_minibatches, device):
                new_log_prob, entropy, new_value = agent.evaluate_actions(b_obs[minibatch], b_actions[minibatch])
                log_ratio = new_log_prob - b_log_probs[minibatch]
                ratio = log_ratio.exp()
                with torch.no_grad():  # how far the policy moved: KL estimates (k1, Schulman's k3), clipped share
                    old_approx_kl = (-log_ratio).mean()
                    approx_kl = ((ratio - 1) - log_ratio).mean()
                    clip_fractions.append(((ratio - 1.0).abs() > args.clip_coef).float().mean())
                mb_advantages = b_advantages[minibatch]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

                # Policy loss: -min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)
                policy_loss = torch.max(-mb_advantages * ratio,
                                        -mb_advantages * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                # Value loss: squared error to the GAE return, optionally clipped around the old value
                mb_returns, mb_values = b_returns[minibatch], b_values[minibatch]
                if args.clip_vloss:
                    clipped_value = mb_values + (new_value - mb_values).clamp(-args.clip_coef, args.clip_coef)
                    value_loss = 0.5 * torch.max((new_value - mb_returns) ** 2,
                                                 (clipped_value - mb_returns) ** 2).mean()
                else:
                    value_loss = 0.5 * ((new_value - mb_returns) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = policy_loss - args.ent_coef * entropy_loss + args.vf_coef * value_loss

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
            if args.target_kl is not None and approx_kl > args.target_kl:  # CleanRL: last minibatch's KL
                break

        explained_variance = 1 - (b_returns - b_values).var() / b_returns.var()
        losses = {"losses/value_loss": value_loss, "losses/policy_loss": policy_loss,
                  "losses/entropy": entropy_loss, "losses/old_approx_kl": old_approx_kl,
                  "losses/approx_kl": approx_kl, "losses/clipfrac": torch.stack(clip_fractions).mean(),
                  "losses/explained_variance": explained_variance}
        values_on_host = torch.stack([value.detach() for value in losses.values()]).tolist()  # one copy per update
        scalars = [("charts/learning_rate", optimizer.param_groups[0]["lr"]), *zip(losses, values_on_host)]
        timers["update_s"] += time.perf_counter() - tick
        sps = (global_step - start_step) / (time.time() - start_time)
        for name, value in scalars + [("charts/SPS", sps)]:
            run.writer.add_scalar(name, value, global_step)
        progress.update(batch_size, sps=sps, ret=recent_return)
    progress.close()
    envs.close()
    training_seconds = time.time() - start_time

    # Save the weights (safetensors: loading them never runs code), then evaluate the deterministic
    # policy on whole games with the real score.
    agent = agent.cpu().eval()
    save_file(agent.state_dict(), run.dir / "model.safetensors")
    checkpoint_path.unlink(missing_ok=True)
    policy = deterministic_policy(agent)
    seeds = hub_utils.eval_seeds(args.seed, args.eval_episodes)
    evaluation = hub_utils.evaluate(policy, make_env(args), seeds)
    fps = AtariGame.metadata["render_fps"]  # real time: the Atari draws 60 frames a second, the agent sees every 4th
    if args.capture_video:
        hub_utils.record_video(policy, make_env(args, render_mode="rgb_array"), run.dir / "replay.mp4",
                               fps=fps, seed=seeds[0])
    results = hub_utils.write_results(
        run, args, algo="ppo", algo_title="PPO", evaluation=evaluation, model_file="model.safetensors",
        video_fps=fps,
        training=dict(env_steps=global_step, frames=global_step * FRAME_SKIP, games=games,
                      wall_time_s=round(training_seconds, 1),
                      sps=round((global_step - start_step) / max(training_seconds, 1e-9)),
                      **{key: round(value, 1) for key, value in timers.items()}, device=device.type))
    run.close()
    hub_utils.upload_if_requested(run, args, results)


if __name__ == "__main__":
    hub_utils.run_script(main)
