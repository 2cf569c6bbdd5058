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
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import cv2
import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

import hub_utils

ENV_ID = "doom_health_gathering_supreme"  # Sample Factory's name, the leaderboard's dataset id
FRAME_SKIP, EPISODE_TICS = 4, 2100  # tics per agent step; the scenario's episode_timeout
OBS_W, OBS_H = 128, 72  # Sample Factory's --res_w, --res_h (from a 160x120 screen)
LIVING_REWARD = 0.01  # per tic alive (Sample Factory's health_gathering_supreme.cfg)
BUTTONS = ("TURN_LEFT", "TURN_RIGHT", "MOVE_FORWARD", "MOVE_BACKWARD")  # action 0 presses none

# The flags beyond hub_utils.add_run_args: (flag, default, help); True/False make --x/--no-x switches.
FLAGS = [
    ("--env-id", ENV_ID, f"only {ENV_ID} (Sample Factory's definition)"),
    ("--seed", 1, "seed of torch and of the games"),
    ("--torch-deterministic", True, "torch.backends.cudnn.deterministic"),
    ("--cuda", True, "use CUDA if present"),
    ("--total-timesteps", 1_000_000, "agent steps over all games (4 tics each: 1M = the course's 4M)"),
    ("--learning-rate", 2.5e-4, "Adam step size"),
    ("--anneal-lr", True, "decay the learning rate linearly to 0"),
    ("--num-envs", 8, "games played in parallel"),
    ("--env-threads", 0, "threads stepping the games (0: one per CPU)"),
    ("--num-steps", 128, "steps per game per rollout"),
    ("--frame-stack", 1, "last frames in an observation"),
    ("--gamma", 0.99, "discount factor"),
    ("--gae-lambda", 0.95, "lambda of GAE"),
    ("--num-minibatches", 16, "minibatches per epoch (64 transitions each)"),
    ("--update-epochs", 2, "epochs over each rollout"),
    ("--norm-adv", True, "normalize advantages per minibatch"),
    ("--norm-returns", True, "divide rewards by the running std of the discounted return, clip to +-10"),
    ("--clip-coef", 0.1, "surrogate clipping epsilon"),
    ("--clip-vloss", True, "clip the value loss like the policy"),
    ("--ent-coef", 0.01, "entropy bonus coefficient"),
    ("--vf-coef", 0.5, "value loss coefficient"),
    ("--max-grad-norm", 0.5, "global gradient norm clip"),
    ("--target-kl", 0.0, "stop the epochs early above this KL (0: never)"),
]
AT_LEAST_1, FINITE = (1, math.inf, ">= 1"), (0, math.inf, "a finite number >= 0")
RANGES = {  # flag: (low, high, what is accepted); NaN and inf fail every one
    **dict.fromkeys(("total_timesteps", "num_envs", "num_steps", "num_minibatches"), AT_LEAST_1),
    **dict.fromkeys(("update_epochs", "eval_episodes"), AT_LEAST_1),
    "frame_stack": (1, 16, "in [1, 16]"),
    "env_threads": (0, 256, "in [0, 256] (0: one per CPU)"),
    **dict.fromkeys(("gamma", "gae_lambda"), (0, 1, "in [0, 1]")),
    **dict.fromkeys(("learning_rate", "clip_coef"), (1e-300, math.inf, "a finite number > 0")),
    **dict.fromkeys(("ent_coef", "vf_coef", "max_grad_norm", "target_kl"), FINITE),
}


def parse_args(argv=None):
    parser = hub_utils.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flag, default, text in FLAGS:
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=text)
    hub_utils.add_run_args(parser, exp_name="ppo_vizdoom")
    args = hub_utils.apply_resume(parser.parse_args(argv), parser, argv)
    for flag, (low, high, accepted) in RANGES.items():
        if not (low <= (value := getattr(args, flag)) <= high and math.isfinite(value)):
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be {accepted}, got {value}")
    batch_size = args.num_envs * args.num_steps
    batch = f"the batch, --num-envs x --num-steps = {batch_size} transitions"
    if batch_size % args.num_minibatches:
        raise hub_utils.UserError(f"--num-minibatches {args.num_minibatches} does not divide {batch}")
    if (steps := args.total_timesteps) < batch_size:
        raise hub_utils.UserError(f"--total-timesteps {steps} is less than one rollout: {batch}")
    return args


def main():
    args = parse_args()
    make_env(args).close()  # checks the id and vizdoom before anything is written
    run = hub_utils.start_run(args, __file__)
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = args.total_timesteps // batch_size
    torch.manual_seed(args.seed)  # drives initialization, action sampling and minibatch shuffling
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # the other cores step the games
    envs = ThreadedDoomGames(args.num_envs, args.frame_stack, args.env_threads)
    agent = Agent(args.frame_stack).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    normalizer = ReturnNormalizer(args.num_envs, args.gamma)

    # Rollout storage: uint8 observations (scaled inside the network); rewards and ends on the host.
    shape, obs_shape = (args.num_steps, args.num_envs), (3 * args.frame_stack, OBS_H, OBS_W)
    obs = torch.zeros(shape + obs_shape, dtype=torch.uint8, device=device)
    actions = torch.zeros(shape, dtype=torch.long, device=device)
    log_probs, truncation_values = torch.zeros(shape, device=device), torch.zeros(shape, device=device)
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)
    rewards, episode_continues = np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32)

    start_iteration, global_step, episodes = 1, 0, 0
    checkpoint_path = run.dir / "checkpoint.pt"
    if run.resumed:  # the games restart; everything else continues where it stopped
        checkpoint = torch.load(checkpoint_path, weights_only=True, map_location=device)
        agent.load_state_dict(checkpoint["agent"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        vars(normalizer).update(checkpoint["normalizer"])
        start_iteration, global_step, episodes = checkpoint["counters"]
        torch.set_rng_state(checkpoint["rng"])
    next_obs = envs.reset(seed=args.seed + (start_iteration - 1) * args.num_envs)  # resumed: new seeds
    episode_return, shaped_return, episode_length = (np.zeros(args.num_envs) for _ in range(3))
    progress = hub_utils.Progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    timers = dict(env_s=0.0, inference_s=0.0, update_s=0.0)  # where the wall time goes
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between iterations, never half-written
            state = dict(agent=agent.state_dict(), optimizer=optimizer.state_dict())
            state.update(rng=torch.get_rng_state(), normalizer=vars(normalizer))
            state["counters"] = [iteration, global_step, episodes]
            hub_utils.save_checkpoint(checkpoint_path, **state)
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
        step_rewards, continues = (torch.from_numpy(a).to(device) for a in (rewards, episode_continues))
        gae = compute_gae(step_rewards, values, continues, truncation_values, args.gamma, args.gae_lambda)
        advantages, returns = gae

        # 3. Optimize the clipped surrogate for several epochs of shuffled minibatches.
        b_obs, b_actions = obs.reshape((-1,) + obs_shape), actions.reshape(-1)
        b_logprobs, b_advantages = log_probs.reshape(-1), advantages.reshape(-1)
        b_returns, b_values = returns.reshape(-1), values[:-1].reshape(-1)
        clipfracs = []
        for _ in range(args.update_epochs):
            b_inds = torch.randperm(batch_size, device=device)
            for mb_inds in b_inds.split(minibatch_size):  # CleanRL's b_inds[start:end] slices
                mb_obs, mb_actions = b_obs[mb_inds], b_actions[mb_inds]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(mb_obs, mb_actions)
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                with torch.no_grad():  # how far the policy moved: KL estimates (k1, k3), clipped share
                    old_approx_kl, approx_kl = (-logratio).mean(), ((ratio - 1) - logratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > args.clip_coef).float().mean())
                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                # Policy loss: -min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)
                clipped_ratio = ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                policy_loss = torch.max(-mb_advantages * ratio, -mb_advantages * clipped_ratio).mean()
                # Value loss: squared error to the GAE return, optionally clipped around the old value
                mb_returns, mb_values = b_returns[mb_inds], b_values[mb_inds]
                value_loss = (newvalue - mb_returns) ** 2
                if args.clip_vloss:
                    clipped_value = mb_values + (newvalue - mb_values).clamp(-args.clip_coef, args.clip_coef)
                    value_loss = torch.max(value_loss, (clipped_value - mb_returns) ** 2)
                value_loss, entropy_loss = 0.5 * value_loss.mean(), entropy.mean()
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
    progress.close()
    envs.close()
    training_seconds = time.time() - start_time
    # Save the weights (safetensors: loading never runs code); evaluate the deterministic policy on
    # whole episodes with the scenario's reward, the one the leaderboard scores.
    agent = agent.cpu().eval()
    save_file(agent.state_dict(), run.dir / "model.safetensors")
    checkpoint_path.unlink(missing_ok=True)
    policy, seeds = agent.act, hub_utils.eval_seeds(args.seed, args.eval_episodes)
    evaluation = hub_utils.evaluate(policy, make_env(args), seeds)
    fps = DoomHealthGathering.metadata["render_fps"]  # real time: 35 tics a second, one frame per 4
    if args.capture_video:
        video_env = make_env(args, render_mode="rgb_array")
        hub_utils.record_video(policy, video_env, run.dir / "replay.mp4", fps=fps, seed=seeds[0])
    training = dict(env_steps=global_step, tics=global_step * FRAME_SKIP, episodes=episodes)
    training.update(sps=round((global_step - start_step) / max(training_seconds, 1e-9)), device=device.type)
    training.update({k: round(v, 1) for k, v in timers.items()}, wall_time_s=round(training_seconds, 1))
    card = dict(algo="ppo", algo_title="PPO", model_file="model.safetensors", video_fps=fps)
    card.update(evaluation=evaluation, training=training, dataset_id=ENV_ID)
    results = hub_utils.write_results(run, args, **card)
    run.close()
    hub_utils.upload_if_requested(run, args, results)


def layer_init(layer, std=math.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Sample Factory's convnet_simple at a quarter width, for a CPU, shared by the actor and the critic."""

    def __init__(self, frame_stack=1, n_actions=1 + len(BUTTONS)):
        super().__init__()
        self.network = nn.Sequential(
            layer_init(nn.Conv2d(3 * frame_stack, 16, 8, stride=4)), nn.ReLU(),  # -> 16 x 17x31
            layer_init(nn.Conv2d(16, 32, 4, stride=2)), nn.ReLU(),  # -> 32 x 7x14
            layer_init(nn.Conv2d(32, 32, 3, stride=2)), nn.ReLU(),  # -> 32 x 3x6
            nn.Flatten(), layer_init(nn.Linear(32 * 3 * 6, 256)), nn.ReLU(),
        )  # fmt: skip
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


def compute_gae(rewards, values, episode_continues, truncation_values, gamma, gae_lambda):
    """GAE over (steps, envs): delta_t = r_t + gamma V(s_t+1) - V(s_t), A_t = delta_t + gamma lambda A_t+1.
    ``values`` has one more row, V after the rollout. Where an episode ended at step t, V(s_t+1) is 0
    after a death, ``truncation_values[t]`` (V of its last screen) after the time limit. Returns A, A + V."""
    next_values = values[1:] * episode_continues + truncation_values
    deltas = rewards + gamma * next_values - values[:-1]
    advantages, next_advantage = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        next_advantage = deltas[t] + gamma * gae_lambda * episode_continues[t] * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values[:-1]


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
            raise hub_utils.UserError(f"{ENV_ID} needs vizdoom ({error}): {install}") from None
        settings = dict(
            doom_scenario_path=os.path.join(vzd.scenarios_path, "health_gathering_supreme.wad"),
            living_reward=LIVING_REWARD, death_penalty=0.0,
            screen_resolution=vzd.ScreenResolution.RES_160X120, screen_format=vzd.ScreenFormat.RGB24,
            render_hud=False, render_crosshair=False, render_weapon=False, render_decals=False,
            render_particles=False, render_screen_flashes=True,  # vizdoom's default, kept by Sample Factory
            available_buttons=[getattr(vzd.Button, name) for name in BUTTONS],
            available_game_variables=[vzd.GameVariable.HEALTH],
            episode_timeout=0, window_visible=False, sound_enabled=False,
            doom_config_path=os.path.join(tempfile.gettempdir(), f"vizdoom-{os.getpid()}.ini"),
        )  # fmt: skip
        game = vzd.DoomGame()
        for name, value in settings.items():
            getattr(game, f"set_{name}")(value)
        engine_made_a_folder = not os.path.exists("_vizdoom")
        game.init()
        if engine_made_a_folder and os.path.isdir("_vizdoom") and not os.listdir("_vizdoom"):
            os.rmdir("_vizdoom")  # the engine's empty ./_vizdoom/: not left in the user's folder
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

    def close(self):
        self.game.close()


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
        hub_utils.resolve_env_id(args.env_id, quiet=True)  # an unknown id: one line with close matches
        other = f"{args.env_id} (vizdoom's own ids score another reward; other games: ppo_atari.py)"
        raise hub_utils.UserError(f"ppo_vizdoom.py plays {ENV_ID} (Sample Factory's), not {other}")
    return DoomHealthGathering(getattr(args, "frame_stack", 1), render_mode=render_mode)


if ENV_ID not in gym.registry:  # hub_utils knows the id (run folder, card) like any gymnasium id
    gym.register(ENV_ID, entry_point=lambda **kwargs: DoomHealthGathering(**kwargs))

if __name__ == "__main__":
    hub_utils.run_script(main)
