"""Proximal Policy Optimization (PPO), as in Units 1 and 8 of the Hugging Face Deep RL Course.

Collect num_envs x num_steps transitions with the current policy, estimate advantages with GAE,
then take several epochs of minibatch gradient steps on the clipped surrogate objective

    L = E[ min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A) ] - c_v * L_value + c_e * entropy,
    ratio = pi(a|s) / pi_old(a|s)

Discrete actions use a categorical policy; Box actions a Gaussian with a state-independent
log-std. The networks are defined once, in Agent, and trained by one torch.optim optimizer: edit
either and the rollouts, the update, the evaluation and the published model all follow. On a CPU
the rollout acts through a numpy mirror of Agent.actor, checked against it after every update
(--no-fast-rollout), and envpool's twin of LunarLander steps the training envs where installed
(--no-envpool); evaluation is always gymnasium's. Per-environment defaults: ENV_DEFAULTS below.

    python algorithms/ppo.py --env-id LunarLander-v2 --total-timesteps 1000000
"""

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file

import fast_paths  # acting fast on a CPU: the actor's numpy mirror, envpool's twin of the environment
import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import nonnegative_float, nonnegative_int, positive_float, positive_int, unit_float

# Tuned per environment; any flag overrides them. RL_ZOO: RL Zoo's LunarLander settings with SB3's loss
# (constant lr; unclipped value loss, vf_coef 1.0 on our 0.5 * squared error: CleanRL's value clipping at
# 0.2 slows a critic of returns in the hundreds), observations and rewards normalized. Minibatches of 64:
# fewer, larger ones reach the bar sooner but leave about one run in six crashing now and then at 1M steps
# (benchmarks/README.md).
RL_ZOO = dict(num_envs=16, num_steps=1024, num_minibatches=256, update_epochs=4, total_timesteps=1_000_000)
RL_ZOO.update(gamma=0.999, gae_lambda=0.98, ent_coef=0.01, learning_rate=3e-4, anneal_lr=False, vf_coef=1.0)
RL_ZOO.update(clip_vloss=False, normalize_observation=True, normalize_reward=True)
ENV_DEFAULTS = {
    "LunarLander": RL_ZOO,
    "LunarLanderContinuous": RL_ZOO,
    "CartPole": dict(num_envs=4, num_steps=128, num_minibatches=4, update_epochs=4, total_timesteps=500_000),
}


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="ppo", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="LunarLander-v2", help="a gymnasium id with Box observations")
    add("--seed", type=nonnegative_int, default=1, help="seed of torch and of the environments")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=500_000, help="environment steps to train for")
    add("--learning-rate", type=positive_float, default=2.5e-4, help="the optimizer's step size")
    add("--anneal-lr", action=BOOL, default=True, help="decay the lr linearly to 0")
    add("--num-envs", type=positive_int, default=4, help="parallel environments")
    add("--num-steps", type=positive_int, default=128, help="steps per environment per rollout")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--gae-lambda", type=unit_float, default=0.95, help="lambda of GAE")
    add("--num-minibatches", type=positive_int, default=4, help="minibatches per epoch")
    add("--update-epochs", type=positive_int, default=4, help="epochs over each rollout")
    add("--norm-adv", action=BOOL, default=True, help="normalize advantages per minibatch")
    add("--clip-coef", type=positive_float, default=0.2, help="surrogate clipping epsilon")
    add("--clip-vloss", action=BOOL, default=True, help="clip the value loss like the policy")
    add("--ent-coef", type=nonnegative_float, default=0.0, help="entropy bonus coefficient")
    add("--vf-coef", type=nonnegative_float, default=0.5, help="value loss coefficient")
    add("--max-grad-norm", type=positive_float, default=0.5, help="global gradient norm clip")
    add("--target-kl", type=positive_float, default=None, help="stop the epochs early above this KL")
    add("--normalize-observation", action=BOOL, default=False, help="running mean/std of observations")
    add("--normalize-reward", action=BOOL, default=False, help="scale rewards by a return's std")
    add("--hidden-size", type=positive_int, default=64, help="units of each hidden layer")
    add("--fast-rollout", action=BOOL, default=True, help="on a CPU, act via a numpy mirror")
    add("--envpool", action=BOOL, default=True, help="train on envpool's twin, if installed")
    args = parser.parse(argv)
    weights = 2 * args.hidden_size * (args.hidden_size + 2)  # at least: actor and critic, 2 layers each
    training_run.check_memory(weights * training_run.BYTES_PER_PARAMETER, f"--hidden-size {args.hidden_size}")
    rollout = f"one rollout (--num-envs x --num-steps = {args.num_envs * args.num_steps} transitions)"
    if args.num_envs * args.num_steps % args.num_minibatches:
        raise UserError(f"--num-minibatches {args.num_minibatches} does not divide {rollout}")
    if args.total_timesteps < args.num_envs * args.num_steps:
        raise UserError(f"--total-timesteps {args.total_timesteps} is less than {rollout}")
    return args


def make_env(args, render_mode=None):
    """One environment, as the vector env runs it: used for evaluation and `hub_utils.py enjoy`."""
    env = gym.make(resolve_env_id(args.env_id, quiet=True), render_mode=render_mode)
    observations, actions = env.observation_space, env.action_space
    if not (isinstance(observations, gym.spaces.Box) and len(observations.shape) == 1):
        raise UserError(
            f"ppo.py needs a flat Box observation space (images: ppo_atari.py); {args.env_id}: {observations}"
        )
    if not isinstance(actions, (gym.spaces.Discrete, gym.spaces.Box)):
        raise UserError(f"ppo.py supports Discrete and Box action spaces; {args.env_id} has {actions}")
    return env


def make_vector_env(env_id, num_envs, use_envpool):
    """num_envs copies of the environment, stepped in this process, with episode statistics. SAME_STEP
    autoreset: the step that ends an episode returns the next episode's first observation and the
    last one in info["final_obs"], so every step is a real transition and time limits can bootstrap.
    With use_envpool, envpool's C++ twin of the environment steps them (fast_paths.ENVPOOL_TWINS)."""
    if use_envpool:
        envs = fast_paths.EnvpoolVectorEnv(env_id, num_envs)
    else:
        make = lambda: training_run.EpisodeRecorder(gym.make(env_id))  # noqa: E731 (records for an exact --resume)
        envs = gym.vector.SyncVectorEnv([make] * num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    return gym.wrappers.vector.RecordEpisodeStatistics(envs)


class RunningMeanStd(nn.Module):
    """Running mean and variance (parallel algorithm of Chan et al.); buffers, so saved with the model."""

    def __init__(self, shape=()):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch):
        batch = torch.as_tensor(batch, dtype=torch.float64)
        batch_mean, batch_var, batch_count = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta, total = batch_mean - self.mean, self.count + batch_count
        self.mean += delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.var.copy_(m2 / total)
        self.count.fill_(total)


def layer_init(layer, std=math.sqrt(2), bias_const=0.0):
    """Orthogonal weights, constant bias: the initialization PPO implementations rely on."""
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Separate actor and critic MLPs; observation statistics (if any) travel with the weights."""

    def __init__(self, observation_space, action_space, hidden_size=64, normalize_observation=False):
        super().__init__()
        obs_size = observation_space.shape[0]
        self.continuous = isinstance(action_space, gym.spaces.Box)
        action_size = action_space.shape[0] if self.continuous else action_space.n
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_size, hidden_size)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden_size, hidden_size)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden_size, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_size, hidden_size)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden_size, hidden_size)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden_size, action_size), std=0.01),  # near-uniform initial policy
        )
        if self.continuous:
            self.actor_logstd = nn.Parameter(torch.zeros(1, action_size))  # state-independent log-std
        self.obs_rms = RunningMeanStd(observation_space.shape) if normalize_observation else None

    def normalize(self, obs):
        """(obs - mean) / std, clipped to [-10, 10], with the running statistics; identity if off."""
        obs = torch.as_tensor(obs, dtype=torch.float32)
        if self.obs_rms is None:
            return obs
        return ((obs - self.obs_rms.mean) / torch.sqrt(self.obs_rms.var + 1e-8)).clamp(-10, 10).float()

    def get_value(self, obs):
        return self.critic(obs).squeeze(-1)

    def get_action(self, obs):
        """a ~ pi(.|s), from the actor alone: all a rollout step needs (see step 2 of the loop)."""
        if self.continuous:
            mean = self.actor(obs)
            return mean + self.actor_logstd.exp() * torch.randn_like(mean)
        return torch.multinomial(self.actor(obs).softmax(-1), 1).squeeze(-1)

    # The distributions' maths is written out rather than through torch.distributions, whose
    # bookkeeping costs more than these small networks on a CPU (tests check it against them).
    def get_action_and_value(self, obs, action=None):
        """a ~ pi(.|s) (or the given action), log pi(a|s), the entropy H(pi(.|s)) and V(s)."""
        if action is None:
            action = self.get_action(obs)
        if self.continuous:  # independent dimensions: log-probs and entropies add up
            mean = self.actor(obs)
            log_std = self.actor_logstd.expand_as(mean)
            log_prob = -0.5 * ((action - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
            entropy = log_std + 0.5 + 0.5 * math.log(2 * math.pi)
            log_prob, entropy = log_prob.sum(-1), entropy.sum(-1)
        else:
            log_pi = self.actor(obs).log_softmax(-1)
            log_prob = log_pi.gather(-1, action.unsqueeze(-1)).squeeze(-1)
            entropy = -(log_pi.exp() * log_pi).sum(-1)
        return action, log_prob, entropy, self.get_value(obs)

    def get_deterministic_action(self, obs):
        """The mode of pi(.|s): the action evaluated and published."""
        return self.actor(obs) if self.continuous else self.actor(obs).argmax(-1)


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


def deterministic_policy(agent, action_space):
    """obs -> action with the agent's frozen statistics: what evaluation, the replay and `enjoy` run."""

    @torch.inference_mode()
    def policy(observation):
        action = agent.get_deterministic_action(agent.normalize(observation[None]))[0].cpu().numpy()
        return np.clip(action, action_space.low, action_space.high) if agent.continuous else int(action)

    return policy


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: rebuilds the Agent and loads model.safetensors (no pickle)."""
    env = make_env(args)
    agent = Agent(env.observation_space, env.action_space, args.hidden_size, args.normalize_observation)
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return deterministic_policy(agent.eval(), env.action_space)


def main():
    args = parse_args()
    probe_env = make_env(args)  # checks the spaces before anything is written
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = args.total_timesteps // batch_size

    torch.manual_seed(args.seed)  # initialization, minibatch shuffling, actions without the fast rollout
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # tiny matrices: extra threads only wait on each other (and on the envs)

    observation_space, action_space = probe_env.observation_space, probe_env.action_space
    continuous = isinstance(action_space, gym.spaces.Box)
    agent = Agent(observation_space, action_space, args.hidden_size, args.normalize_observation).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    return_rms = RunningMeanStd()  # for reward scaling: std of the discounted return
    sample_rng = np.random.default_rng(args.seed)  # the fast rollout's action sampling
    fast_sample = None  # on a CPU, the rollout's actor runs as a numpy mirror of it, checked against it
    if args.fast_rollout and device.type == "cpu":  # (before anything is written: it may refuse an edit)
        probe = np.random.default_rng(0).normal(0.0, 3.0, (256, *observation_space.shape)).astype(np.float32)
        log_std = agent.actor_logstd if continuous else None
        fast_sample = fast_paths.PolicySampler(agent.actor, log_std, probe, sample_rng, "--no-fast-rollout")
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys = "iteration global_step torch_rng sample_rng discounted_return running_episodes".split()
        into = dict(agent=agent, optimizer=optimizer, return_rms=return_rms)
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, into)
    run = training_run.start_run(args, __file__)
    use_envpool = args.envpool and fast_paths.envpool_available(run.env_id)
    envs = make_vector_env(run.env_id, args.num_envs, use_envpool)
    discounted_return = np.zeros(args.num_envs)

    # Rollout storage, (steps, envs) per quantity. values has one extra row: V after the last step.
    steps_envs = (args.num_steps, args.num_envs)
    obs = torch.zeros(steps_envs + observation_space.shape, device=device)
    action_dtype = torch.float32 if continuous else torch.long
    actions = torch.zeros(steps_envs + action_space.shape, dtype=action_dtype, device=device)
    rewards, episode_continues, truncation_values = (torch.zeros(steps_envs, device=device) for _ in range(3))
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)
    raw_obs = np.zeros(steps_envs + observation_space.shape, dtype=np.float32)  # for the statistics
    discounted_returns = np.zeros(steps_envs)  # for reward scaling

    start_iteration, global_step = 1, 0
    next_obs, _ = envs.reset(seed=args.seed)  # env i starts from seed + i (CleanRL's convention)
    if run.resumed:  # continue exactly where the interrupted run stopped, its episodes replayed
        start_iteration, global_step = checkpoint["iteration"], checkpoint["global_step"]
        torch.set_rng_state(checkpoint["torch_rng"].cpu())
        sample_rng.bit_generator.state = checkpoint["sample_rng"]
        discounted_return = checkpoint["discounted_return"].numpy()
        next_obs = training_run.replay_running_episodes(envs, checkpoint["running_episodes"])

    def observe(observation):  # normalized, on the device (where the observation statistics live)
        return agent.normalize(torch.as_tensor(observation, device=device))

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between iterations, then exit
            run.checkpoint_and_exit(
                agent=agent.state_dict(),
                optimizer=optimizer.state_dict(),
                return_rms=return_rms.state_dict(),
                iteration=iteration,
                global_step=global_step,
                torch_rng=torch.get_rng_state(),
                sample_rng=sample_rng.bit_generator.state,
                discounted_return=torch.from_numpy(discounted_return),
                running_episodes=training_run.running_episodes(envs),
            )
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            for group in optimizer.param_groups:
                group["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Collect a rollout with the current policy.
        truncation_values.zero_()
        for step in range(args.num_steps):
            raw_obs[step], obs[step] = next_obs, observe(next_obs)
            if fast_sample:  # a ~ pi(.|s) through the actor's numpy mirror (on a CPU)
                action = fast_sample(obs[step].numpy())
            else:
                with torch.no_grad():
                    action = agent.get_action(obs[step]).cpu().numpy()
            actions[step] = torch.as_tensor(action, device=device)
            next_obs, reward, terminated, truncated, infos = envs.step(
                np.clip(action, action_space.low, action_space.high) if continuous else action
            )
            global_step += args.num_envs
            done = terminated | truncated
            # TimeLimit also truncates an episode whose last step terminates it: that step is final
            truncated = truncated & ~terminated

            discounted_returns[step] = discounted_return = discounted_return * args.gamma + reward
            discounted_return[done] = 0.0  # the return for reward scaling restarts with each episode
            rewards[step] = torch.as_tensor(reward, device=device)
            episode_continues[step] = torch.as_tensor(~done, device=device)
            if truncated.any():  # bootstrap a time limit from V(final observation)
                with torch.no_grad():
                    final_values = agent.get_value(observe(np.stack(infos["final_obs"][truncated])))
                truncation_values[step, torch.as_tensor(truncated, device=device)] = final_values
            if "episode" in infos:
                for i in np.flatnonzero(infos["_episode"]):
                    run.writer.add_scalar("charts/episodic_return", infos["episode"]["r"][i], global_step)
                    run.writer.add_scalar("charts/episodic_length", infos["episode"]["l"][i], global_step)
                    recent_return = float(infos["episode"]["r"][i])

        # 2. log pi_old(a|s) and V(s) of the whole rollout in one pass: the policy that acted is still
        #    the agent's (it changes only in step 4), so this equals computing them step by step.
        b_obs, b_actions = obs.flatten(0, 1), actions.flatten(0, 1)
        with torch.no_grad():
            _, b_log_probs, _, b_values = agent.get_action_and_value(b_obs, b_actions)
            values[:-1] = b_values.view(steps_envs)
            values[-1] = agent.get_value(observe(next_obs))
        # The normalizations take in the rollout at once (Chan's update gives the statistics step-by-step
        # updates would), so the policy, its observation statistics included, stayed fixed while acting.
        if args.normalize_reward:  # r / std(discounted return), clipped
            return_rms.update(discounted_returns.reshape(-1))
            rewards.div_(torch.sqrt(return_rms.var + 1e-8).float()).clamp_(-10, 10)
        if agent.obs_rms is not None:
            agent.obs_rms.update(raw_obs.reshape(-1, *observation_space.shape))

        # 3. Advantages and value targets with GAE (bootstrapping truncated episodes).
        advantages, returns = compute_gae(
            rewards, values, episode_continues, truncation_values, args.gamma, args.gae_lambda
        )
        b_advantages, b_returns = advantages.flatten(), returns.flatten()

        # 4. Optimize the clipped surrogate for several epochs of shuffled minibatches.
        for epoch in range(1, args.update_epochs + 1):
            b_inds = torch.randperm(batch_size, device=device)
            for start in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[start : start + minibatch_size]
                _, new_log_prob, entropy, new_value = agent.get_action_and_value(
                    b_obs[mb_inds], b_actions[mb_inds]
                )
                ratio = (new_log_prob - b_log_probs[mb_inds]).exp()
                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:  # A <- (A - mean) / std within the minibatch
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

                # Policy loss: -min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)
                policy_loss = -torch.min(
                    ratio * mb_advantages, ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef) * mb_advantages
                ).mean()
                # Value loss: squared error to the GAE return, optionally clipped around the old value
                mb_returns, mb_values = b_returns[mb_inds], b_values[mb_inds]
                if args.clip_vloss:
                    clipped_value = mb_values + (new_value - mb_values).clamp(-args.clip_coef, args.clip_coef)
                    squared_errors = torch.max(
                        (new_value - mb_returns) ** 2, (clipped_value - mb_returns) ** 2
                    )
                    value_loss = 0.5 * squared_errors.mean()
                else:
                    value_loss = 0.5 * ((new_value - mb_returns) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = policy_loss - args.ent_coef * entropy_loss + args.vf_coef * value_loss

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

            # How far the policy moved over the whole batch: KL estimates (k1, and Schulman's k3) and
            # the share of ratios outside the clip range. Above --target-kl, stop early; without it,
            # only the last epoch's values are logged, so only they are computed.
            if args.target_kl is None and epoch < args.update_epochs:
                continue
            with torch.no_grad():
                _, new_log_probs, _, _ = agent.get_action_and_value(b_obs, b_actions)
                log_ratio = new_log_probs - b_log_probs
                old_approx_kl = (-log_ratio).mean()
                approx_kl = (log_ratio.exp() - 1 - log_ratio).mean()
                clip_fraction = ((log_ratio.exp() - 1).abs() > args.clip_coef).float().mean()
            if args.target_kl is not None and approx_kl > args.target_kl:
                break

        if fast_sample:  # the fast rollout proves itself again on the updated weights
            fast_sample.check()
        explained_variance = 1 - (b_returns - b_values).var() / b_returns.var()
        sps = (global_step - start_step) / (time.time() - start_time)
        run.writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        run.writer.add_scalar("charts/SPS", sps, global_step)
        run.writer.add_scalar("losses/value_loss", value_loss.item(), global_step)
        run.writer.add_scalar("losses/policy_loss", policy_loss.item(), global_step)
        run.writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
        run.writer.add_scalar("losses/old_approx_kl", old_approx_kl.item(), global_step)
        run.writer.add_scalar("losses/approx_kl", approx_kl.item(), global_step)
        run.writer.add_scalar("losses/clipfrac", clip_fraction.item(), global_step)
        run.writer.add_scalar("losses/explained_variance", explained_variance.item(), global_step)
        progress.update(batch_size, sps=sps, ret=recent_return)
    envs.close()
    training_seconds = time.time() - start_time
    sps = round((global_step - start_step) / training_seconds)
    engine = "envpool" if use_envpool else "gymnasium"
    training = dict(env_steps=global_step, wall_time_s=round(training_seconds, 1), sps=sps, env_engine=engine)

    # Save the weights, then evaluate the deterministic policy on seeds of its own and publish.
    agent = agent.cpu().eval()
    training_run.save_weights(agent.state_dict(), run.dir / "model.safetensors")
    policy, fps = deterministic_policy(agent, action_space), probe_env.metadata.get("render_fps", 30)
    card = dict(algo="ppo", algo_title="PPO", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, policy, make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
