"""Proximal Policy Optimization (PPO) from pixels, as in Unit 8 of the Hugging Face Deep RL Course.

Collect num_envs x num_steps transitions with the current policy, estimate advantages with GAE,
then take several epochs of minibatch gradient steps on the clipped surrogate objective

    L = E[ min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A) ] - c_v * L_value + c_e * entropy,
    ratio = pi(a|s) / pi_old(a|s)

The actor and the critic share the Nature CNN over the last 4 frames; the hyperparameters are
CleanRL's (8 envs x 128 steps, clip 0.1, 10M steps). Training ends the agent's episode at every
lost life, clips rewards to their sign, and plays FIRE then action 2 after a lost life (see
FireAfterLostLife); logged returns, evaluation, the replay and `enjoy` count whole games with the
real score, on the same frames (ale-py's C++ AtariVectorEnv, see make_vector_env).

    python algorithms/ppo_atari.py --env-id BreakoutNoFrameskip-v4
"""

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from ale_py import Action, roms
from ale_py.vector_env import AtariVectorEnv
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import nonnegative_float, nonnegative_int, positive_float, positive_int, unit_float

FRAME_STACK, FRAME_SKIP, FRAME_SIZE, NOOP_MAX = 4, 4, 84, 30  # frames per observation, per agent step


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="ppo_atari")
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="BreakoutNoFrameskip-v4", help="GameNoFrameskip-v4, ALE/Game-v5")
    add("--seed", type=nonnegative_int, default=1, help="seed of torch and of the environments")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=10_000_000, help="agent steps (4 frames each)")
    add("--learning-rate", type=positive_float, default=2.5e-4, help="Adam step size")
    add("--anneal-lr", action=BOOL, default=True, help="decay the learning rate to 0")
    add("--num-envs", type=positive_int, default=8, help="parallel games in the C++ vector env")
    add("--env-threads", type=nonnegative_int, default=0, help="C++ threads (0: one per env, <= CPUs)")
    add("--num-steps", type=positive_int, default=128, help="steps per environment per rollout")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--gae-lambda", type=unit_float, default=0.95, help="lambda of GAE")
    add("--num-minibatches", type=positive_int, default=4, help="minibatches per epoch")
    add("--update-epochs", type=positive_int, default=4, help="epochs over each rollout")
    add("--norm-adv", action=BOOL, default=True, help="normalize advantages per minibatch")
    add("--clip-coef", type=positive_float, default=0.1, help="surrogate clipping epsilon")
    add("--clip-vloss", action=BOOL, default=True, help="clip the value loss like the policy")
    add("--ent-coef", type=nonnegative_float, default=0.01, help="entropy bonus coefficient")
    add("--vf-coef", type=nonnegative_float, default=0.5, help="value loss coefficient")
    add("--max-grad-norm", type=positive_float, default=0.5, help="global gradient norm clip")
    add("--target-kl", type=positive_float, default=None, help="stop the epochs early above this KL")
    args = parser.parse(argv)
    batch_size = args.num_envs * args.num_steps
    frames = f"--num-envs {args.num_envs} x --num-steps {args.num_steps}: the rollout's frames"
    training_run.check_memory(batch_size * FRAME_STACK * FRAME_SIZE**2, frames)
    rollout = f"one rollout (--num-envs x --num-steps = {batch_size} steps)"
    if batch_size % args.num_minibatches:
        raise UserError(f"--num-minibatches {args.num_minibatches} does not divide {rollout}")
    if args.total_timesteps < batch_size:
        raise UserError(f"--total-timesteps {args.total_timesteps} is less than {rollout}")
    return args


# ---- Environments: ale-py's C++ vector env -------------------------------------------------------
def make_vector_env(env_id, num_envs, training=True, env_threads=0, **overrides):
    """num_envs games preprocessed on C++ threads (up to 30 no-ops at reset, 4 frames per action with
    the max of the last two, FIRE at reset, 84x84 grayscale, 4 frames stacked), raw rewards, the
    id's own sticky actions and time limit (a truncation). training=True: a lost life is a
    termination and SAME_STEP autoreset (last observation in info["final_obs"]); else whole games."""
    autoreset = gym.vector.AutoresetMode.SAME_STEP if training else gym.vector.AutoresetMode.NEXT_STEP
    settings = dict(ale_settings(env_id), num_threads=env_threads, frameskip=FRAME_SKIP, maxpool=True)
    settings.update(noop_max=NOOP_MAX, use_fire_reset=True, img_height=FRAME_SIZE, img_width=FRAME_SIZE)
    settings.update(grayscale=True, stack_num=FRAME_STACK, reward_clipping=False, episodic_life=False)
    settings.update(life_loss_info=training, autoreset_mode=autoreset, **overrides)
    return FireAfterLostLife(AtariVectorEnv(num_envs=num_envs, **settings), life_loss_info=training)


def make_env(args, render_mode=None):
    """Whole games with the real score, for evaluation and `enjoy`; refuses ids that are not Atari games."""
    return AtariGame(args.env_id, render_mode=render_mode)


# ---- The agent and GAE ---------------------------------------------------------------------------
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
            layer_init(nn.Conv2d(FRAME_STACK, 32, 8, stride=4)),
            nn.ReLU(),
            layer_init(nn.Conv2d(32, 64, 4, stride=2)),
            nn.ReLU(),
            layer_init(nn.Conv2d(64, 64, 3, stride=1)),
            nn.ReLU(),
            nn.Flatten(),
            layer_init(nn.Linear(64 * 7 * 7, 512)),
            nn.ReLU(),
        )
        self.actor = layer_init(nn.Linear(512, n_actions), std=0.01)  # near-uniform initial policy
        self.critic = layer_init(nn.Linear(512, 1), std=1.0)

    def features(self, obs):
        return self.network(obs.float() / 255.0)  # uint8 frames scaled to [0, 1]

    def get_value(self, obs):
        return self.critic(self.features(obs)).squeeze(-1)

    def sample_action(self, obs):  # for rollouts: a ~ pi(.|s), log pi(a|s), V(s)
        hidden = self.features(obs)
        log_pi = self.actor(hidden).log_softmax(-1)
        action = torch.multinomial(log_pi.exp(), 1)
        return action.squeeze(-1), log_pi.gather(-1, action).squeeze(-1), self.critic(hidden).squeeze(-1)

    def evaluate_actions(self, obs, action):  # for updates: log pi(a|s) of stored actions, H(pi(.|s)), V(s)
        hidden = self.features(obs)
        log_pi = self.actor(hidden).log_softmax(-1)
        log_prob = log_pi.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1)
        return log_prob, entropy, self.critic(hidden).squeeze(-1)

    @torch.inference_mode()
    def act(self, obs):  # the deterministic action evaluated and published: the mode of the policy
        return self.actor(self.features(obs)).argmax(-1)


# ppo.py's compute_gae, word for word. Here a lost life also ends an episode (episodic life).
def compute_gae(rewards, values, episode_continues, truncation_values, gamma, gae_lambda):
    """Generalized Advantage Estimation over a rollout of shape (steps, envs).

    delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)
    A_t     = delta_t + gamma * lambda * A_{t+1}   (the sum restarts where an episode ended)

    ``values`` has one more row than ``rewards``: V after the rollout. Where an episode ended at step t
    (``episode_continues[t] == 0``), V(s_{t+1}) is 0 if it terminated and ``truncation_values[t]`` if
    it was truncated (a time limit still bootstraps). Returns the advantages and value targets A + V."""
    next_values = values[1:] * episode_continues + truncation_values
    values = values[:-1]
    deltas = rewards + gamma * next_values - values  # every step's delta at once; the sum is sequential
    advantages = torch.zeros_like(rewards)
    next_advantage = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        next_advantage = deltas[t] + gamma * gae_lambda * episode_continues[t] * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


def minibatches_of_decisions(forced, num_minibatches, device="cpu"):
    """One epoch's mb_inds: the agent's own decisions (flat index step * num_envs + env; ``forced``
    marks the others), shuffled, in num_minibatches of equal size +/- 1 (CleanRL's if none is forced)."""
    decisions = torch.from_numpy(np.flatnonzero(~forced.reshape(-1))).to(device)
    b_inds = decisions[torch.randperm(len(decisions), device=device)]
    return b_inds.tensor_split(num_minibatches)


def deterministic_policy(agent, device="cpu"):  # obs -> action: what evaluation, the replay and enjoy run
    return lambda obs: int(agent.act(torch.as_tensor(np.asarray(obs), device=device)[None])[0])


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: rebuilds the Agent and loads model.safetensors (no pickle)."""
    with make_env(args) as env:
        agent = Agent(env.action_space.n)
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return deterministic_policy(agent.eval())


def main():
    args = parse_args()
    with make_env(args) as probe_env:  # checks the id before anything is written
        n_actions = probe_env.action_space.n
    batch_size = args.num_envs * args.num_steps
    num_iterations = args.total_timesteps // batch_size

    torch.manual_seed(args.seed)  # drives initialization, action sampling and minibatch shuffling
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # the machine's other cores are for the game threads and other work

    agent = Agent(n_actions).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys, into = "iteration global_step games torch_rng".split(), dict(agent=agent, optimizer=optimizer)
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, into)
    run = training_run.start_run(args, __file__)
    envs = make_vector_env(run.env_id, args.num_envs, training=True, env_threads=args.env_threads)

    # Rollout storage: uint8 frames on the device; rewards and episode ends on the host, copied once
    shape = (args.num_steps, args.num_envs)
    obs = torch.zeros(shape + (FRAME_STACK, FRAME_SIZE, FRAME_SIZE), dtype=torch.uint8, device=device)
    actions = torch.zeros(shape, dtype=torch.long, device=device)
    log_probs, truncation_values = torch.zeros(shape, device=device), torch.zeros(shape, device=device)
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)
    rewards, episode_continues = np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32)
    forced = np.zeros(shape, dtype=bool)  # FIRE after a lost life: the env's steps, not the agent's

    start_iteration, global_step, games = 1, 0, 0
    if run.resumed:  # the games restart; everything else continues where it stopped
        start_iteration, global_step, games = (checkpoint[k] for k in ("iteration", "global_step", "games"))
        torch.set_rng_state(checkpoint["torch_rng"])
    # env i starts from seed + i (CleanRL's convention); a resumed run reseeds from where it stopped
    next_obs, _ = envs.reset(seed=args.seed + (start_iteration - 1) * args.num_envs)

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    timers = dict(env_s=0.0, inference_s=0.0, update_s=0.0)  # where the wall time goes
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between iterations, then exit
            envs.close()
            run.checkpoint_and_exit(
                agent=agent.state_dict(),
                optimizer=optimizer.state_dict(),
                iteration=iteration,
                global_step=global_step,
                games=games,
                torch_rng=torch.get_rng_state(),
            )
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            for group in optimizer.param_groups:
                group["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Collect a rollout with the current policy.
        truncation_values.zero_()
        for step in range(args.num_steps):
            tick = time.perf_counter()
            with torch.inference_mode():
                obs[step] = torch.from_numpy(next_obs).to(device, non_blocking=True)
                action, log_probs[step], values[step] = agent.sample_action(obs[step])
                actions[step], env_action = action, action.cpu().numpy()
            tock = time.perf_counter()
            next_obs, raw_reward, terminated, truncated, infos = envs.step(env_action)
            timers["env_s"] += time.perf_counter() - tock
            timers["inference_s"] += tock - tick
            global_step += args.num_envs
            rewards[step] = np.sign(raw_reward)  # training's rewards are clipped to {-1, 0, 1}
            episode_continues[step] = ~(terminated | truncated)  # a lost life ends the agent's episode too
            truncated = truncated & ~terminated  # a step that is both ends for good: no bootstrap
            forced[step] = infos["forced_action"]  # the env replaced the agent's action (FireAfterLostLife)
            if truncated.any():  # bootstrap a time limit from V(final observation)
                with torch.inference_mode():
                    final_values = agent.get_value(torch.from_numpy(infos["final_obs"][truncated]).to(device))
                    truncation_values[step, torch.from_numpy(truncated).to(device)] = final_values
            for env in np.flatnonzero(infos["game_over"]):  # whole games, with the real score
                games, recent_return = games + 1, float(infos["game_score"][env])
                run.writer.add_scalar("charts/episodic_return", infos["game_score"][env], global_step)
                run.writer.add_scalar("charts/episodic_length", infos["game_length"][env], global_step)
        tick = time.perf_counter()
        with torch.inference_mode():
            values[-1] = agent.get_value(torch.from_numpy(next_obs).to(device))

        # 2. Advantages and value targets with GAE (bootstrapping truncated episodes).
        b_rewards, b_continues = (torch.from_numpy(x).to(device) for x in (rewards, episode_continues))
        advantages, returns = compute_gae(
            b_rewards, values, b_continues, truncation_values, args.gamma, args.gae_lambda
        )

        # 3. Optimize the clipped surrogate for several epochs of shuffled minibatches of the agent's own
        # decisions: FIRE after a lost life is part of the reset in the classic wrappers (GAE stops before it)
        b_obs, b_actions, b_log_probs = obs.flatten(0, 1), actions.reshape(-1), log_probs.reshape(-1)
        b_advantages, b_returns, b_values = advantages.flatten(), returns.flatten(), values[:-1].flatten()
        clipfracs = []
        for _ in range(args.update_epochs):
            for mb_inds in minibatches_of_decisions(forced, args.num_minibatches, device):
                new_log_prob, entropy, new_value = agent.evaluate_actions(b_obs[mb_inds], b_actions[mb_inds])
                log_ratio = new_log_prob - b_log_probs[mb_inds]
                ratio = log_ratio.exp()
                with torch.no_grad():  # how far the policy moved: KL (k1, Schulman's k3), clipped share
                    old_approx_kl = (-log_ratio).mean()
                    approx_kl = ((ratio - 1) - log_ratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > args.clip_coef).float().mean())
                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

                # Policy loss: -min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)
                clipped_ratio = ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                policy_loss = torch.max(-mb_advantages * ratio, -mb_advantages * clipped_ratio).mean()
                # Value loss: squared error to the GAE return, optionally clipped around the old value
                mb_returns, mb_values = b_returns[mb_inds], b_values[mb_inds]
                if args.clip_vloss:
                    clipped_value = mb_values + (new_value - mb_values).clamp(-args.clip_coef, args.clip_coef)
                    squared_errors = (new_value - mb_returns) ** 2, (clipped_value - mb_returns) ** 2
                    value_loss = 0.5 * torch.max(*squared_errors).mean()
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

        stats = dict(value_loss=value_loss, policy_loss=policy_loss, entropy=entropy_loss)
        stats.update(approx_kl=approx_kl, old_approx_kl=old_approx_kl, clipfrac=torch.stack(clipfracs).mean())
        stats.update(explained_variance=1 - (b_returns - b_values).var() / b_returns.var())
        on_host = torch.stack([value.detach() for value in stats.values()]).tolist()  # one copy per update
        timers["update_s"] += time.perf_counter() - tick
        sps = (global_step - start_step) / (time.time() - start_time)
        for name, value in zip(stats, on_host):
            run.writer.add_scalar(f"losses/{name}", value, global_step)
        run.writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        run.writer.add_scalar("charts/SPS", sps, global_step)
        progress.update(batch_size, sps=sps, ret=recent_return)
    envs.close()
    training_seconds = time.time() - start_time
    training = dict(env_steps=global_step, frames=global_step * FRAME_SKIP, games=games, device=device.type)
    training.update(sps=round((global_step - start_step) / max(training_seconds, 1e-9)))
    training.update({k: round(v, 1) for k, v in timers.items()}, wall_time_s=round(training_seconds, 1))

    # Save the weights, then evaluate the deterministic policy on seeds of its own and publish.
    agent = agent.cpu().eval()
    training_run.save_weights(agent.state_dict(), run.dir / "model.safetensors")
    fps = AtariGame.metadata["render_fps"]  # real time: the Atari draws 60 frames a second, the agent 15
    card = dict(algo="ppo", algo_title="PPO", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, deterministic_policy(agent), make_env, training=training, **card)


# ---- Atari machinery: the id's settings, FIRE after a lost life, one evaluation game, whole games --
def ale_settings(env_id):
    """The AtariVectorEnv settings of a gymnasium Atari id: its ROM and the id's own sticky actions,
    action set and time limit. Raises UserError for ids that are not ALE games."""
    spec = gym.spec(resolve_env_id(env_id, quiet=True))
    if not str(spec.entry_point).startswith("ale_py"):
        example = "an Atari game such as BreakoutNoFrameskip-v4 or ALE/Breakout-v5"
        raise UserError(f"ppo_atari.py needs {example}; {env_id} is not one (vectors: use ppo.py)")
    kwargs = spec.kwargs
    if (obs_type := kwargs.get("obs_type", "rgb")) != "rgb":
        raise UserError(f"ppo_atari.py learns from pixels; {env_id} has obs_type={obs_type}")
    if roms.get_rom_path(kwargs["game"]) is None:
        raise UserError(f"{env_id}: ale-py's C++ vector env has no ROM '{kwargs['game']}'")
    settings = dict(game=kwargs["game"], full_action_space=kwargs.get("full_action_space", False))
    settings.update(repeat_action_probability=kwargs.get("repeat_action_probability", 0.0))
    return dict(settings, max_num_frames_per_episode=kwargs.get("max_num_frames_per_episode") or 108_000)


class FireAfterLostLife(gym.vector.VectorWrapper):
    """The classic FireResetEnv under EpisodicLifeEnv: where action 1 is FIRE (and there are 3 or more),
    a lost life that does not end the game is followed by FIRE, then action 2, in place of the game's
    next two actions (Breakout serves only after FIRE); info["forced_action"] marks these steps, left
    out of the update. info["game_over"] marks the end of whole games (a termination is a lost life
    unless the game is over); info["game_score"], info["game_length"]: raw score and length so far."""

    def __init__(self, env, life_loss_info):
        super().__init__(env)
        action_set = env.unwrapped.ale.get_action_set()
        needs_fire = len(action_set) >= 3 and action_set[1] == Action.FIRE
        self.serve = np.array([1, 2] if needs_fire else [], dtype=np.int64)  # FireResetEnv: step(1), step(2)
        self.pending = np.zeros(env.num_envs, dtype=np.int64)  # forced steps each game has still to take
        self.scores, self.lengths = np.zeros(env.num_envs), np.zeros(env.num_envs, dtype=np.int64)
        self.life_loss_info, self.lives = life_loss_info, None

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        games = (options or {}).get("reset_mask", slice(None))  # the games that restart
        self.pending[games], self.scores[games], self.lengths[games] = 0, 0.0, 0
        self.lives = np.array(info["lives"])
        return obs, info

    def step(self, actions):
        forced = self.pending > 0
        actions = np.array(actions, dtype=np.int64)  # a copy: the caller's array keeps the agent's actions
        actions[forced] = self.serve[len(self.serve) - self.pending[forced]]
        self.pending[forced] -= 1
        obs, reward, terminated, truncated, info = self.env.step(actions)
        self.scores, self.lengths = self.scores + reward, self.lengths + 1
        lost_life = info["lives"] < self.lives  # (a game over restarted at once, SAME_STEP, shows full lives)
        game_over = terminated | truncated
        if self.life_loss_info:  # there a termination with fewer lives is a lost life, the game going on
            game_over &= ~(terminated & lost_life)
        self.pending[lost_life & ~game_over] = len(self.serve)
        self.pending[game_over] = 0
        self.lives = np.array(info["lives"])
        info["forced_action"], info["game_over"] = forced, game_over
        info["game_score"], info["game_length"] = self.scores.copy(), self.lengths.copy()
        self.scores[game_over], self.lengths[game_over] = 0.0, 0
        return obs, reward, terminated, truncated, info


class AtariGame(gym.Env):
    """One whole game on the training's preprocessing, for evaluation, the replay and `enjoy`; for
    render(), a second one plays the same game in colour at full size (same seed, same actions)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60 / FRAME_SKIP}

    def __init__(self, env_id, render_mode=None, **overrides):
        self.envs = make_vector_env(env_id, 1, training=False, env_threads=1, **overrides)
        self.observation_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        self.render_mode, self.screen_envs, self.screen = render_mode, None, None
        if render_mode == "rgb_array":
            screen = dict(grayscale=False, img_height=210, img_width=160, stack_num=1)
            self.screen_envs = make_vector_env(env_id, 1, False, 1, **screen, **overrides)

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
        info = {key: value[0] for key, value in info.items()}
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), info

    def render(self):
        return self.screen

    def close(self):
        self.envs.close()
        if self.screen_envs is not None:
            self.screen_envs.close()


if __name__ == "__main__":
    training_run.run_script(main)
