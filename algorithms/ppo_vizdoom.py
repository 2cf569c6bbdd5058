"""PPO from pixels on ViZDoom's health gathering supreme, the course's Doom unit (Unit 8 part 2).

On an acid floor that slowly kills it, the agent must pick up medkits to live. The game is Sample
Factory's `doom_health_gathering_supreme` (the leaderboard's dataset id; see DoomHealthGathering):
5 actions repeated for 4 tics, at most 2,100 tics, 0.01 reward per tic alive, and in training
Sample Factory's +1 per medkit. Evaluation, the replay and `enjoy` report what Sample Factory's
evaluation reports, the scenario's reward alone: 0.01 per tic survived, 21.0 at most, ~4 at random.

Observations are Sample Factory's 128x72 RGB screens; a frame stack (--frame-stack, 1 by default)
stands in for its GRU: CleanRL's minibatches of single steps and a CNN a CPU can train, for a mostly
reactive task. Rewards are divided by the running std of the discounted return. The games are
vizdoom engine processes stepped from a thread pool (vizdoom releases the GIL while they run).
--resume is deterministic, not exact: the games restart. Speed, differences: benchmarks/README.md.

    python algorithms/ppo_vizdoom.py --total-timesteps 1000000
"""

import argparse
import math
import os
import signal
import tempfile
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import int_in, nonnegative_float, nonnegative_int, positive_float, positive_int, unit_float

ENV_ID = "doom_health_gathering_supreme"  # Sample Factory's name, the leaderboard's dataset id
FRAME_SKIP, EPISODE_TICS = 4, 2100  # tics per agent step; the scenario's episode_timeout
OBS_W, OBS_H = 128, 72  # Sample Factory's --res_w, --res_h (from a 160x120 screen)
LIVING_REWARD = 0.01  # per tic alive (Sample Factory's health_gathering_supreme.cfg)
BUTTONS = ("TURN_LEFT", "TURN_RIGHT", "MOVE_FORWARD", "MOVE_BACKWARD")  # action 0 presses none


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="ppo_vizdoom")
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default=ENV_ID, help=f"only {ENV_ID} (Sample Factory's definition)")
    add("--seed", type=nonnegative_int, default=1, help="seed of torch and of the games")
    add("--torch-deterministic", action=BOOL, default=True, help="torch.backends.cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=10**6, help="agent steps of 4 tics (1M: course's 4M)")
    add("--learning-rate", type=positive_float, default=2.5e-4, help="Adam step size")
    add("--anneal-lr", action=BOOL, default=True, help="decay the learning rate linearly to 0")
    add("--num-envs", type=positive_int, default=8, help="games played in parallel")
    add("--env-threads", type=int_in(0, 256), default=0, help="threads stepping the games (0: one per CPU)")
    add("--num-steps", type=positive_int, default=128, help="steps per game per rollout")
    add("--frame-stack", type=int_in(1, 16), default=1, help="last frames in an observation")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--gae-lambda", type=unit_float, default=0.95, help="lambda of GAE")
    add("--num-minibatches", type=positive_int, default=16, help="minibatches per epoch (of 64 transitions)")
    add("--update-epochs", type=positive_int, default=2, help="epochs over each rollout")
    add("--norm-adv", action=BOOL, default=True, help="normalize advantages per minibatch")
    add("--norm-returns", action=BOOL, default=True, help="rewards / std of discounted returns, clip to +-10")
    add("--clip-coef", type=positive_float, default=0.1, help="surrogate clipping epsilon")
    add("--clip-vloss", action=BOOL, default=True, help="clip the value loss like the policy")
    add("--ent-coef", type=nonnegative_float, default=0.01, help="entropy bonus coefficient")
    add("--vf-coef", type=nonnegative_float, default=0.5, help="value loss coefficient")
    add("--max-grad-norm", type=nonnegative_float, default=0.5, help="global gradient norm clip")
    add("--target-kl", type=nonnegative_float, default=0.0, help="stop epochs early above this KL (0: never)")
    args = parser.parse(argv)
    batch_size = args.num_envs * args.num_steps
    batch = f"the batch, --num-envs x --num-steps = {batch_size} transitions"
    if batch_size % args.num_minibatches:
        raise UserError(f"--num-minibatches {args.num_minibatches} does not divide {batch}")
    if (steps := args.total_timesteps) < batch_size:
        raise UserError(f"--total-timesteps {steps} is less than one rollout: {batch}")
    return args


def main():
    args = parse_args()
    make_env(args).close()  # checks the id and vizdoom before anything is written
    batch_size = args.num_envs * args.num_steps
    minibatch_size, num_iterations = batch_size // args.num_minibatches, args.total_timesteps // batch_size
    torch.manual_seed(args.seed)  # drives initialization, action sampling and minibatch shuffling
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # the other cores step the games
    agent = Agent(args.frame_stack).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    normalizer = ReturnNormalizer(args.num_envs, args.gamma)
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys, into = "normalizer counters rng".split(), dict(agent=agent, optimizer=optimizer)
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, into)
    run = training_run.start_run(args, __file__)
    envs = ThreadedDoomGames(args.num_envs, args.frame_stack, args.env_threads)

    # Rollout storage: uint8 observations (scaled inside the network); rewards and ends on the host.
    shape, obs_shape = (args.num_steps, args.num_envs), (3 * args.frame_stack, OBS_H, OBS_W)
    obs = torch.zeros(shape + obs_shape, dtype=torch.uint8, device=device)
    actions = torch.zeros(shape, dtype=torch.long, device=device)
    log_probs, truncation_values = torch.zeros(shape, device=device), torch.zeros(shape, device=device)
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)
    rewards, episode_continues = np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32)

    start_iteration, global_step, episodes = 1, 0, 0
    if run.resumed:  # the games restart; everything else continues where it stopped
        start_iteration, global_step, episodes = checkpoint["counters"]
        vars(normalizer).update(checkpoint["normalizer"])
        torch.set_rng_state(checkpoint["rng"])
    next_obs = envs.reset(seed=args.seed + (start_iteration - 1) * args.num_envs)  # resumed: new seeds
    episode_return, shaped_return, episode_length = (np.zeros(args.num_envs) for _ in range(3))
    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    timers = dict(env_s=0.0, inference_s=0.0, update_s=0.0)  # where the wall time goes
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM (the games play on): checkpoint between iterations
            run.checkpoint_and_exit(  # (then, at exit, the games close)
                agent=agent.state_dict(),
                optimizer=optimizer.state_dict(),
                normalizer=vars(normalizer),
                counters=[iteration, global_step, episodes],
                rng=torch.get_rng_state(),
            )
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            for group in optimizer.param_groups:
                group["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Collect a rollout with the current policy.
        truncation_values.zero_()
        for step in range(args.num_steps):
            tick = time.perf_counter()
            with torch.inference_mode():
                obs[step] = torch.from_numpy(next_obs).to(device)
                actions[step], log_probs[step], _, values[step] = agent.get_action_and_value(obs[step])
                env_action = actions[step].cpu().numpy()
            tock = time.perf_counter()
            next_obs, reward, terminated, truncated, infos = envs.step(env_action)
            timers["env_s"] += time.perf_counter() - tock
            timers["inference_s"] += tock - tick
            global_step += args.num_envs
            done = terminated | truncated
            # Training reward: the scenario's plus Sample Factory's medkit bonus, then normalized.
            shaped = reward + np.array([info["health_bonus"] for info in infos])
            rewards[step] = normalizer(shaped, done) if args.norm_returns else shaped
            episode_continues[step] = ~done
            if truncated.any():  # bootstrap the time limit from V(last observation)
                final_obs = np.stack([infos[i]["final_obs"] for i in np.flatnonzero(truncated)])
                with torch.inference_mode():
                    last_values = agent.get_value(torch.from_numpy(final_obs).to(device))
                truncation_values[step, torch.from_numpy(truncated).to(device)] = last_values
            episode_return += reward
            shaped_return += shaped
            episode_length += 1
            for i in np.flatnonzero(done):  # the logged return is the course's
                episodes, recent_return = episodes + 1, float(episode_return[i])
                run.writer.add_scalar("charts/episodic_return", episode_return[i], global_step)
                run.writer.add_scalar("charts/episodic_shaped_return", shaped_return[i], global_step)
                run.writer.add_scalar("charts/episodic_length", episode_length[i], global_step)
                episode_return[i], shaped_return[i], episode_length[i] = 0.0, 0.0, 0
        tick = time.perf_counter()
        with torch.inference_mode():
            values[-1] = agent.get_value(torch.from_numpy(next_obs).to(device))

        # 2. Advantages and value targets with GAE (bootstrapping truncated episodes).
        b_rewards, b_continues = (torch.from_numpy(x).to(device) for x in (rewards, episode_continues))
        advantages, returns = compute_gae(
            b_rewards, values, b_continues, truncation_values, args.gamma, args.gae_lambda
        )

        # 3. Optimize the clipped surrogate for several epochs of shuffled minibatches.
        b_obs, b_actions, b_log_probs = obs.flatten(0, 1), actions.reshape(-1), log_probs.reshape(-1)
        b_advantages, b_returns, b_values = advantages.flatten(), returns.flatten(), values[:-1].flatten()
        clipfracs = []
        for _ in range(args.update_epochs):
            b_inds = torch.randperm(batch_size, device=device)
            for mb_inds in b_inds.split(minibatch_size):  # CleanRL's b_inds[start:end] slices
                mb_obs, mb_actions = b_obs[mb_inds], b_actions[mb_inds]
                _, new_log_prob, entropy, new_value = agent.get_action_and_value(mb_obs, mb_actions)
                log_ratio = new_log_prob - b_log_probs[mb_inds]
                ratio = log_ratio.exp()
                with torch.no_grad():  # how far the policy moved: KL (k1, Schulman's k3), clipped share
                    old_approx_kl, approx_kl = (-log_ratio).mean(), ((ratio - 1) - log_ratio).mean()
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
            if args.target_kl and approx_kl > args.target_kl:  # CleanRL: the last minibatch's KL
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
    training = dict(env_steps=global_step, tics=global_step * FRAME_SKIP, episodes=episodes)
    training.update(sps=round((global_step - start_step) / max(training_seconds, 1e-9)), device=device.type)
    training.update({k: round(v, 1) for k, v in timers.items()}, wall_time_s=round(training_seconds, 1))

    # Save the weights, then evaluate the deterministic policy (the scenario's reward: the leaderboard's).
    agent = agent.cpu().eval()
    training_run.save_weights(agent.state_dict(), run.dir / "model.safetensors")
    fps = DoomHealthGathering.metadata["render_fps"]  # real time: 35 tics a second, one frame per 4
    card = dict(algo="ppo", algo_title="PPO", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, agent.act, make_env, training=training, dataset_id=ENV_ID, **card)


def layer_init(layer, std=math.sqrt(2), bias_const=0.0):
    """Orthogonal weights, constant bias: the initialization PPO implementations rely on."""
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Sample Factory's convnet_simple at a quarter width, for a CPU, shared by the actor and the critic."""

    def __init__(self, frame_stack=1, n_actions=1 + len(BUTTONS)):
        super().__init__()
        self.network = nn.Sequential(
            layer_init(nn.Conv2d(3 * frame_stack, 16, 8, stride=4)),  # -> 16 x 17x31
            nn.ReLU(),
            layer_init(nn.Conv2d(16, 32, 4, stride=2)),  # -> 32 x 7x14
            nn.ReLU(),
            layer_init(nn.Conv2d(32, 32, 3, stride=2)),  # -> 32 x 3x6
            nn.ReLU(),
            nn.Flatten(),
            layer_init(nn.Linear(32 * 3 * 6, 256)),
            nn.ReLU(),
        )
        self.actor = layer_init(nn.Linear(256, n_actions), std=0.01)  # near-uniform initial policy
        self.critic = layer_init(nn.Linear(256, 1), std=1.0)

    def features(self, obs):
        return self.network(obs.float() / 255.0)  # uint8 frames scaled to [0, 1]

    def get_value(self, obs):
        return self.critic(self.features(obs)).squeeze(-1)

    def get_action_and_value(self, obs, action=None):  # a ~ pi(.|s) or the given a; log pi(a|s), H, V(s)
        hidden = self.features(obs)
        distribution = torch.distributions.Categorical(logits=self.actor(hidden))
        action = distribution.sample() if action is None else action
        return action, distribution.log_prob(action), distribution.entropy(), self.critic(hidden).squeeze(-1)

    @torch.inference_mode()
    def act(self, obs):  # one observation -> the deterministic action evaluated and published: pi's mode
        return int(self.actor(self.features(torch.as_tensor(np.asarray(obs))[None])).argmax(-1)[0])


class ReturnNormalizer:
    """Divides rewards by the std of all discounted returns so far (gymnasium's NormalizeReward, batched)."""

    def __init__(self, num_envs, gamma):
        self.gamma, self.returns = gamma, torch.zeros(num_envs, dtype=torch.float64)
        self.count, self.sum, self.sum_of_squares = 0, 0.0, 0.0

    def __call__(self, rewards, done):
        self.returns = self.returns * self.gamma + torch.from_numpy(rewards)
        self.count, self.sum = self.count + len(rewards), self.sum + self.returns.sum().item()
        self.sum_of_squares += (self.returns**2).sum().item()
        self.returns[torch.from_numpy(done)] = 0.0
        variance = max(self.sum_of_squares / self.count - (self.sum / self.count) ** 2, 0.0)
        return np.clip(rewards / math.sqrt(variance + 1e-8), -10, 10)  # clipped as CleanRL does


# ppo.py's compute_gae, word for word. Here a death terminates, the 2,100 tics truncate.
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


def load_policy(run_dir, args):
    agent = Agent(args.frame_stack)  # for `hub_utils.py enjoy`: weights from safetensors, never a pickle
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return agent.eval().act


class DoomHealthGathering(gym.Env):
    """One game as Sample Factory's health_gathering_supreme.cfg sets it up (vizdoom's own: 3 buttons,
    +1 a tic, -100 at death). ``reward``: the scenario's, the leaderboard's; ``info["health_bonus"]``:
    Sample Factory's shaping, 1 when health went up since the previous step, never on an episode's
    first or last step. A death terminates; the 2,100 tics, counted here to keep the last screen, truncate."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 35 / FRAME_SKIP}  # Doom: 35 tics a second

    def __init__(self, frame_stack=1, render_mode=None, episode_tics=EPISODE_TICS):
        try:
            import vizdoom as vzd
        except ImportError as error:
            install = "pip install -r requirements-vizdoom.txt"
            raise UserError(f"{ENV_ID} needs vizdoom ({error}): {install}") from None
        config_path = Path(tempfile.gettempdir()) / f"vizdoom-{os.getpid()}.ini"  # not ./_vizdoom.ini
        wad = os.path.join(vzd.scenarios_path, "health_gathering_supreme.wad")
        resolution, rgb = vzd.ScreenResolution.RES_160X120, vzd.ScreenFormat.RGB24
        settings = dict(doom_scenario_path=wad, living_reward=LIVING_REWARD, death_penalty=0.0)
        hidden = dict(render_hud=False, render_crosshair=False, render_weapon=False, render_decals=False)
        settings.update(screen_resolution=resolution, screen_format=rgb, **hidden, render_particles=False)
        settings.update(render_screen_flashes=True)  # vizdoom's default, kept by Sample Factory
        settings.update(available_buttons=[getattr(vzd.Button, name) for name in BUTTONS])
        settings.update(available_game_variables=[vzd.GameVariable.HEALTH], episode_timeout=0)
        settings.update(window_visible=False, sound_enabled=False, doom_config_path=str(config_path))
        game = vzd.DoomGame()
        for name, value in settings.items():
            getattr(game, f"set_{name}")(value)
        engine_made_a_folder = not os.path.exists("_vizdoom")
        # The engine, a child process, starts with Ctrl-C and SIGTERM ignored (kept across fork and exec):
        # sent to the process group (a terminal, `timeout`), they would end it before the checkpoint is saved.
        handlers = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            game.init()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        if engine_made_a_folder and os.path.isdir("_vizdoom") and not os.listdir("_vizdoom"):
            os.rmdir("_vizdoom")  # the engine's empty ./_vizdoom/: not left in the user's folder
        self._closer = weakref.finalize(self, self.close_game, game, config_path)  # close(), or at exit
        self.game, self.frame_stack, self.episode_tics = game, frame_stack, episode_tics
        self.buttons = [[0] * len(BUTTONS)] + np.eye(len(BUTTONS), dtype=int).tolist()
        self.observation_space = gym.spaces.Box(0, 255, (3 * frame_stack, OBS_H, OBS_W), dtype=np.uint8)
        self.action_space = gym.spaces.Discrete(1 + len(BUTTONS))
        self.render_mode, self.frames, self.screen, self.tics, self.health = render_mode, None, None, 0, None

    def _look(self):  # adds the current screen to the frame stack; returns the health
        state = self.game.get_state()
        self.screen = state.screen_buffer  # (120, 160, 3) RGB
        frame = cv2.resize(self.screen, (OBS_W, OBS_H), interpolation=cv2.INTER_NEAREST)
        self.frames.append(frame.transpose(2, 0, 1))
        return state.game_variables[0]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.game.set_seed(int(self.np_random.integers(2**31)))  # each episode's seed from the env's rng
        self.game.new_episode()
        self.frames, self.tics, self.health = deque(maxlen=self.frame_stack), 0, None
        self._look()
        self.frames.extend([self.frames[0]] * (self.frame_stack - 1))
        return np.concatenate(self.frames), {}

    def step(self, action):
        reward = self.game.make_action(self.buttons[int(action)], FRAME_SKIP)
        self.tics += FRAME_SKIP
        terminated = self.game.is_episode_finished()  # dead: the acid floor or poison took its health
        truncated, bonus = not terminated and self.tics >= self.episode_tics, 0.0
        if not terminated:
            health = self._look()
            bonus = float(not truncated and self.health is not None and health > self.health)
            self.health = health
        return np.concatenate(self.frames), reward, terminated, truncated, {"health_bonus": bonus}

    def render(self):
        return self.screen.repeat(2, axis=0).repeat(2, axis=1)  # 320x240 for the replay

    def close(self):  # (else at exit: after a second Ctrl-C, an error)
        self._closer()

    @staticmethod
    def close_game(game, config_path):
        game.close()
        config_path.unlink(missing_ok=True)  # the settings file the engine wrote as it exited


class ThreadedDoomGames:
    """num_envs games stepped from a thread pool, with SAME_STEP autoreset: the step that ends an
    episode returns the next episode's first observation, and the last one in info["final_obs"]."""

    def __init__(self, num_envs, frame_stack, threads=0):
        self.envs = [DoomHealthGathering(frame_stack) for _ in range(num_envs)]
        self.pool = ThreadPoolExecutor(threads or os.cpu_count() or 1)

    def reset(self, seed):  # game i from seed + i
        return np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(self.envs)])

    def _step(self, env, action):
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            info["final_obs"] = obs
            obs, _ = env.reset()
        return obs, reward, terminated, truncated, info

    def step(self, actions):
        obs, rewards, terminated, truncated, infos = zip(*self.pool.map(self._step, self.envs, actions))
        return np.stack(obs), np.array(rewards), np.array(terminated), np.array(truncated), infos

    def close(self):
        self.pool.shutdown()
        for env in self.envs:
            env.close()


def make_env(args, render_mode=None):
    """The evaluation game (the scenario's reward), also `enjoy`'s; refuses other ids before any write."""
    if args.env_id != ENV_ID:
        resolve_env_id(args.env_id, quiet=True)  # an unknown id: one line with close matches
        other = f"{args.env_id} (vizdoom's own ids score another reward; other games: ppo_atari.py)"
        raise UserError(f"ppo_vizdoom.py plays {ENV_ID} (Sample Factory's), not {other}")
    return DoomHealthGathering(getattr(args, "frame_stack", 1), render_mode=render_mode)


if ENV_ID not in gym.registry:  # hub_utils knows the id (run folder, card) like any gymnasium id
    gym.register(ENV_ID, entry_point=lambda **kwargs: DoomHealthGathering(**kwargs))

if __name__ == "__main__":
    training_run.run_script(main)
