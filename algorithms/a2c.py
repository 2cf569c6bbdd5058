"""Advantage Actor-Critic (A2C), as in Unit 6 of the Hugging Face Deep RL Course.

An actor pi_theta(a|s) picks the actions, a critic V_w(s) judges them. Synchronous A2C repeats:

    1. run num_envs environments for num_steps steps each with a_t ~ pi_theta(.|s_t)
    2. n-step return of every step, bootstrapped by the critic where the rollout stops
       (k = the steps left in the rollout, 1 to num_steps):
           R_t = r_t + gamma * r_{t+1} + ... + gamma^(k-1) * r_{t+k-1} + gamma^k * V_w(s_{t+k})
       and the advantage A_t = R_t - V_w(s_t)   (how much better a_t did than expected)
    3. one gradient step on the whole rollout:
           loss = -mean(log pi_theta(a_t|s_t) * A_t)          actor: more of what beat the critic
                  + vf_coef * mean((R_t - V_w(s_t))^2)         critic: regress on the returns
                  - ent_coef * mean(H(pi_theta(.|s_t)))        entropy bonus: keep exploring

An episode that terminates inside the rollout stops its return there (no bootstrap); one that is
truncated by a time limit bootstraps from V_w of its final observation. --gae-lambda below 1 turns
the n-step returns into GAE(lambda) (lambda = 1 is exactly the n-step return above).

Discrete actions use a categorical policy, Box actions a Gaussian with a state-independent log-std.
Dict observations (panda-gym's goal-conditioned tasks) are flattened by concatenating their entries
in sorted key order (PandaReach: achieved_goal, desired_goal, observation). For robotics the course
normalizes observations and rewards with running mean/std (SB3's VecNormalize): here the
observation statistics are buffers of the model, saved in model.safetensors and frozen at
evaluation and in `hub_utils.py enjoy`. The evaluated policy is deterministic (argmax / Gaussian
mean). RMSprop as A2C was published (SB3's settings), or --optimizer adam.

    python algorithms/a2c.py --env-id PandaReachDense-v3     (pip install -r requirements-robotics.txt)
    python algorithms/a2c.py --env-id CartPole-v1
    python algorithms/a2c.py --env-id LunarLander-v2
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

# Per-environment defaults; any flag overrides them. CartPole and LunarLander are RL Zoo's A2C
# settings (hyperparams/a2c.yml: LunarLander lr lin_0.00083, i.e. decayed linearly to 0). PandaReach
# is the course's Unit 6 set-up (SB3 A2C, 4 envs, VecNormalize of observations and rewards) with a
# budget that passes the bar on a laptop core in minutes instead of the course's 1M steps.
ENV_DEFAULTS = {
    "CartPole": dict(num_envs=8, total_timesteps=500_000, ent_coef=0.0),
    "LunarLander": dict(num_envs=8, num_steps=5, gamma=0.995, learning_rate=8.3e-4, anneal_lr=True,
                        ent_coef=1e-5, total_timesteps=200_000),
    "PandaReachDense": dict(num_envs=4, normalize_observation=True, normalize_reward=True,
                            total_timesteps=100_000),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Per-environment defaults: " + "; ".join(f"{k}: {v}" for k, v in ENV_DEFAULTS.items()))
    parser.add_argument("--env-id", default="PandaReachDense-v3",
                        help="a gymnasium id with a 1-D Box or a Dict-of-Box observation space and Discrete "
                             "or Box actions (panda-gym ids need requirements-robotics.txt)")
    parser.add_argument("--seed", type=int, default=1, help="seed of torch and of the environments")
    parser.add_argument("--torch-deterministic", action=argparse.BooleanOptionalAction, default=True,
                        help="torch.backends.cudnn.deterministic")
    parser.add_argument("--cuda", action=argparse.BooleanOptionalAction, default=True, help="use CUDA if present")
    parser.add_argument("--total-timesteps", type=int, default=500_000, help="environment steps to train for")
    parser.add_argument("--optimizer", choices=("rmsprop", "adam"), default="rmsprop",
                        help="RMSprop (alpha 0.99, as A2C was published and SB3 runs it) or Adam")
    parser.add_argument("--learning-rate", type=float, default=7e-4, help="optimizer step size")
    parser.add_argument("--optimizer-eps", type=float, default=1e-5, help="epsilon of RMSprop or Adam")
    parser.add_argument("--anneal-lr", action=argparse.BooleanOptionalAction, default=False,
                        help="decay the learning rate linearly to 0")
    parser.add_argument("--num-envs", type=int, default=4, help="parallel environments")
    parser.add_argument("--num-steps", type=int, default=5, help="steps per environment per update: the n of n-step")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount factor")
    parser.add_argument("--gae-lambda", type=float, default=1.0,
                        help="lambda of GAE; 1.0 gives A2C's n-step returns")
    parser.add_argument("--norm-adv", action=argparse.BooleanOptionalAction, default=False,
                        help="standardize the advantages of each rollout")
    parser.add_argument("--ent-coef", type=float, default=0.0, help="entropy bonus coefficient")
    parser.add_argument("--vf-coef", type=float, default=0.5, help="value loss coefficient (loss: mean squared error)")
    parser.add_argument("--max-grad-norm", type=float, default=0.5, help="global gradient norm clip")
    parser.add_argument("--normalize-observation", action=argparse.BooleanOptionalAction, default=False,
                        help="running mean/std observation normalization, clipped to +-10 (saved with the model)")
    parser.add_argument("--normalize-reward", action=argparse.BooleanOptionalAction, default=False,
                        help="scale rewards by the running std of the discounted return, clipped to +-10")
    parser.add_argument("--hidden-size", type=int, default=64, help="units of each hidden layer")
    hub_utils.add_run_args(parser, exp_name="a2c")

    env_name = parser.parse_known_args(argv)[0].env_id.split("-v")[0]
    parser.set_defaults(**ENV_DEFAULTS.get(env_name, {}))
    args = hub_utils.apply_resume(parser.parse_args(argv))
    for flag in ("total_timesteps", "num_envs", "num_steps", "eval_episodes", "hidden_size"):
        if getattr(args, flag) < 1:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    for flag in ("gamma", "gae_lambda"):
        if not 0.0 <= getattr(args, flag) <= 1.0:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be in [0, 1], got {getattr(args, flag)}")
    for flag in ("learning_rate", "optimizer_eps", "max_grad_norm"):
        if not getattr(args, flag) > 0:
            raise hub_utils.UserError(f"--{flag.replace('_', '-')} must be > 0, got {getattr(args, flag)}")
    batch_size = args.num_envs * args.num_steps
    if args.total_timesteps < batch_size:
        raise hub_utils.UserError(f"--total-timesteps {args.total_timesteps} is less than one rollout "
                                  f"(--num-envs x --num-steps = {batch_size})")
    return args


class FlattenDictObservation(gym.ObservationWrapper):
    """A Dict of 1-D Boxes as one 1-D Box: the entries concatenated in sorted key order.

    The order is fixed by the keys' names, not by how the environment built its Dict, so a saved
    model reads its inputs the same way on any machine. PandaReach-v3:
    [achieved_goal (3), desired_goal (3), observation (6)].
    """

    def __init__(self, env):
        super().__init__(env)
        self.keys = sorted(env.observation_space.spaces)
        boxes = [env.observation_space[key] for key in self.keys]
        self.observation_space = gym.spaces.Box(
            np.concatenate([box.low.ravel() for box in boxes]).astype(np.float32),
            np.concatenate([box.high.ravel() for box in boxes]).astype(np.float32), dtype=np.float32)

    def observation(self, observation):
        return np.concatenate([np.asarray(observation[key], dtype=np.float32).ravel() for key in self.keys])


def with_flat_observations(env):
    """Flattens a Dict-of-Box observation space (see FlattenDictObservation); other envs pass as they are."""
    space = env.observation_space
    if isinstance(space, gym.spaces.Dict) and all(isinstance(s, gym.spaces.Box) for s in space.spaces.values()):
        return FlattenDictObservation(env)
    return env


def make_env(args, render_mode=None):
    """One environment, as the vector env runs it: used for evaluation and `hub_utils.py enjoy`."""
    # render_mode only when asked for: panda-gym refuses render_mode=None (its own default renders headless)
    env = gym.make(hub_utils.resolve_env_id(args.env_id, quiet=True), **({"render_mode": render_mode} if render_mode else {}))
    env = with_flat_observations(env)
    if not (isinstance(env.observation_space, gym.spaces.Box) and len(env.observation_space.shape) == 1):
        raise hub_utils.UserError(f"a2c.py needs a 1-D Box or a Dict of Box observation space; {args.env_id} has "
                                  f"{env.observation_space}")
    if not isinstance(env.action_space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise hub_utils.UserError(f"a2c.py supports Discrete and Box action spaces; {args.env_id} has "
                                  f"{env.action_space}")
    return env


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
        self.var.copy_((self.var * self.count + batch_var * batch_count
                        + delta**2 * self.count * batch_count / total) / total)
        self.count.fill_(total)


def layer_init(layer, std=math.sqrt(2), bias_const=0.0):
    """Orthogonal weights, constant bias (SB3's and OpenAI Baselines' A2C initialization)."""
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

        def mlp(out_size, out_std):
            return nn.Sequential(layer_init(nn.Linear(obs_size, hidden_size)), nn.Tanh(),
                                 layer_init(nn.Linear(hidden_size, hidden_size)), nn.Tanh(),
                                 layer_init(nn.Linear(hidden_size, out_size), std=out_std))

        self.critic = mlp(1, out_std=1.0)
        self.actor = mlp(action_size, out_std=0.01)  # near-uniform initial policy
        if self.continuous:
            self.actor_logstd = nn.Parameter(torch.zeros(1, action_size))  # state-independent log-std
        self.obs_rms = RunningMeanStd(observation_space.shape) if normalize_observation else None

    def normalize(self, obs):
        """(obs - mean) / std, clipped to [-10, 10], with the running statistics; identity if off."""
        if self.obs_rms is None:
            return obs
        return ((obs - self.obs_rms.mean) / torch.sqrt(self.obs_rms.var + 1e-8)).clamp(-10, 10).float()

    def get_value(self, obs):
        return self.critic(obs).squeeze(-1)

    # The policy's maths is written out rather than through torch.distributions, whose bookkeeping
    # costs more than these small networks on a CPU.
    def sample_action(self, obs):
        """For rollouts: a ~ pi(.|s) and V(s)."""
        if self.continuous:  # Gaussian: a = mean + std * noise
            mean = self.actor(obs)
            action = mean + self.actor_logstd.exp() * torch.randn_like(mean)
        else:  # categorical over the actor's logits
            action = torch.multinomial(self.actor(obs).softmax(-1), 1).squeeze(-1)
        return action, self.get_value(obs)

    def evaluate_actions(self, obs, action):
        """For the update: log pi(a|s) of the rollout's actions, H(pi(.|s)) and V(s), with gradients."""
        if self.continuous:  # independent dimensions: log-probs and entropies add up
            mean, log_std = self.actor(obs), self.actor_logstd.expand(obs.shape[0], -1)
            log_prob = (-0.5 * ((action - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
            entropy = (log_std + 0.5 + 0.5 * math.log(2 * math.pi)).sum(-1)
        else:
            log_pi = self.actor(obs).log_softmax(-1)
            log_prob = log_pi.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
            entropy = -(log_pi.exp() * log_pi).sum(-1)
        return log_prob, entropy, self.get_value(obs)

    def act(self, obs):
        """The deterministic action evaluated and published: the mode of the policy."""
        return self.actor(obs) if self.continuous else self.actor(obs).argmax(-1)


def compute_advantages(rewards, values, episode_continues, truncation_values, gamma, gae_lambda=1.0):
    """Advantages and returns over a rollout of shape (steps, envs).

    With lambda = 1 (A2C's default) the return is the n-step return, computed backwards:
        R_t = r_t + gamma * R_{t+1},   R_n = V(s_n)  (the critic's value after the rollout)
        A_t = R_t - V(s_t)
    written as GAE: delta_t = r_t + gamma * V(s_{t+1}) - V(s_t), A_t = delta_t + gamma * lambda * A_{t+1},
    which for lambda = 1 telescopes to exactly R_t - V(s_t).

    ``values`` has one more row than ``rewards``: V of the observation after the rollout. Where an
    episode ended at step t (``episode_continues[t] == 0``), V(s_{t+1}) is 0 if it terminated and
    ``truncation_values[t]``, V of its final observation, if it was truncated: a time limit is not
    the end of the task, so it still bootstraps. Returns the advantages A and the returns A + V.
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


def make_vector_env(env_id, num_envs):
    """num_envs copies of the environment (Dict observations flattened), stepped in this process.

    SAME_STEP autoreset: the step that ends an episode returns the next episode's first
    observation, with the last one in info["final_obs"]. So every step is a real transition (none
    goes from a terminal observation to a reset one), and truncated episodes can bootstrap.
    """
    envs = gym.vector.SyncVectorEnv([lambda: with_flat_observations(gym.make(env_id)) for _ in range(num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    return gym.wrappers.vector.RecordEpisodeStatistics(envs)


def build_agent(args, env):
    return Agent(env.observation_space, env.action_space, args.hidden_size, args.normalize_observation)


def build_optimizer(args, agent):
    """RMSprop with SB3's A2C settings (alpha 0.99, eps 1e-5), or Adam."""
    if args.optimizer == "adam":
        return torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=args.optimizer_eps)
    return torch.optim.RMSprop(agent.parameters(), lr=args.learning_rate, alpha=0.99, eps=args.optimizer_eps)


def deterministic_policy(agent, action_space):
    """obs -> action with frozen statistics: what evaluation, the replay and `enjoy` run."""
    def policy(observation):
        with torch.inference_mode():
            obs = agent.normalize(torch.as_tensor(observation, dtype=torch.float32).unsqueeze(0))
            action = agent.act(obs)[0].cpu().numpy()
        return np.clip(action, action_space.low, action_space.high) if agent.continuous else int(action)
    return policy


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: rebuilds the Agent and loads model.safetensors (no pickle)."""
    env = make_env(args)
    agent = build_agent(args, env)
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return deterministic_policy(agent.eval(), env.action_space)


LOG_EVERY = 100  # updates between loss logs (A2C updates every few steps; SB3 logs every 100 too)


def main():
    args = parse_args()
    probe_env = make_env(args)  # checks the spaces before anything is written
    run = hub_utils.start_run(args, __file__)
    batch_size = args.num_envs * args.num_steps
    num_iterations = args.total_timesteps // batch_size

    torch.manual_seed(args.seed)  # drives initialization and action sampling
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # tiny matrices: extra threads only wait on each other (and on the envs)

    envs = make_vector_env(run.env_id, args.num_envs)
    continuous = isinstance(probe_env.action_space, gym.spaces.Box)
    if continuous:
        action_low, action_high = probe_env.action_space.low, probe_env.action_space.high

    agent = build_agent(args, probe_env).to(device)
    optimizer = build_optimizer(args, agent)
    return_rms = RunningMeanStd()  # for reward scaling: std of the discounted return
    discounted_return = np.zeros(args.num_envs)

    # Rollout storage. values has one extra row: V of the observation after the last step.
    obs = torch.zeros((args.num_steps, args.num_envs) + probe_env.observation_space.shape, device=device)
    actions = torch.zeros((args.num_steps, args.num_envs) + probe_env.action_space.shape, device=device)
    rewards = torch.zeros((args.num_steps, args.num_envs), device=device)
    episode_continues = torch.zeros((args.num_steps, args.num_envs), device=device)
    truncation_values = torch.zeros((args.num_steps, args.num_envs), device=device)
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)

    start_iteration, global_step = 1, 0
    checkpoint_path = run.dir / "checkpoint.pt"
    if run.resumed:  # environments restart their episodes; everything else continues where it stopped
        checkpoint = torch.load(checkpoint_path, weights_only=True)
        agent.load_state_dict(checkpoint["agent"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        return_rms.load_state_dict(checkpoint["return_rms"])
        start_iteration, global_step = checkpoint["iteration"], checkpoint["global_step"]
        torch.set_rng_state(checkpoint["torch_rng"])
    # env i starts from seed + i (CleanRL's convention); a resumed run reseeds from where it stopped
    next_obs, _ = envs.reset(seed=args.seed + (start_iteration - 1) * args.num_envs)

    progress = hub_utils.Progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between updates
            torch.save(dict(agent=agent.state_dict(), optimizer=optimizer.state_dict(),
                            return_rms=return_rms.state_dict(), iteration=iteration, global_step=global_step,
                            torch_rng=torch.get_rng_state()), checkpoint_path)
            progress.close()
            run.exit_interrupted()
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Run the envs num_steps steps with the current policy.
        truncation_values.zero_()
        for step in range(args.num_steps):
            with torch.inference_mode():
                observation = torch.as_tensor(next_obs, dtype=torch.float32, device=device)
                if agent.obs_rms is not None:
                    agent.obs_rms.update(observation)
                obs[step] = agent.normalize(observation)
                action, values[step] = agent.sample_action(obs[step])
            actions[step] = action
            env_action = action.cpu().numpy()
            next_obs, reward, terminated, truncated, infos = envs.step(
                np.clip(env_action, action_low, action_high) if continuous else env_action)
            global_step += args.num_envs
            done = terminated | truncated
            truncated = truncated & ~terminated  # TimeLimit also truncates a terminal last step: that one is final

            if args.normalize_reward:  # r / std(discounted return), the return restarting with each episode
                discounted_return = discounted_return * args.gamma + reward
                return_rms.update(discounted_return)
                reward = np.clip(reward / np.sqrt(return_rms.var.item() + 1e-8), -10, 10)
                discounted_return[done] = 0.0
            rewards[step] = torch.as_tensor(reward, device=device)
            episode_continues[step] = torch.as_tensor(~done, device=device)
            if truncated.any():  # bootstrap a time limit from V(final observation)
                with torch.inference_mode():
                    final_obs = torch.as_tensor(np.stack(infos["final_obs"][truncated]), dtype=torch.float32,
                                                device=device)
                    truncated_envs = torch.as_tensor(truncated, device=device)
                    truncation_values[step, truncated_envs] = agent.get_value(agent.normalize(final_obs))
            if "episode" in infos:
                for finished in np.flatnonzero(infos["_episode"]):
                    run.writer.add_scalar("charts/episodic_return", infos["episode"]["r"][finished], global_step)
                    run.writer.add_scalar("charts/episodic_length", infos["episode"]["l"][finished], global_step)
                    recent_return = float(infos["episode"]["r"][finished])
        with torch.inference_mode():
            values[-1] = agent.get_value(agent.normalize(torch.as_tensor(next_obs, dtype=torch.float32,
                                                                          device=device)))

        # 2. n-step returns R_t and advantages A_t = R_t - V(s_t) (bootstrapping truncated episodes).
        advantages, returns = compute_advantages(rewards, values, episode_continues, truncation_values,
                                                 args.gamma, args.gae_lambda)

        # 3. One gradient step on the actor, critic and entropy losses of the whole rollout. The
        # rollout ran without gradients; the policy has not changed since, so one batched forward
        # pass here gives the same log-probabilities and values, now with gradients.
        b_obs = obs.reshape((-1,) + probe_env.observation_space.shape)
        b_actions = actions.reshape((-1,) + probe_env.action_space.shape)
        b_advantages, b_returns = advantages.reshape(-1), returns.reshape(-1)
        if args.norm_adv:
            b_advantages = (b_advantages - b_advantages.mean()) / (b_advantages.std() + 1e-8)
        log_prob, entropy, value = agent.evaluate_actions(b_obs, b_actions)
        policy_loss = -(b_advantages * log_prob).mean()
        value_loss = ((b_returns - value) ** 2).mean()
        entropy_loss = entropy.mean()
        loss = policy_loss - args.ent_coef * entropy_loss + args.vf_coef * value_loss

        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
        optimizer.step()

        sps = (global_step - start_step) / (time.time() - start_time)
        if iteration % LOG_EVERY == 0 or iteration == num_iterations:
            b_values = values[:-1].reshape(-1)
            explained_variance = 1 - (b_returns - b_values).var() / b_returns.var()
            for name, scalar in [("charts/learning_rate", optimizer.param_groups[0]["lr"]),
                                 ("losses/value_loss", value_loss), ("losses/policy_loss", policy_loss),
                                 ("losses/entropy", entropy_loss),
                                 ("losses/explained_variance", explained_variance), ("charts/SPS", sps)]:
                run.writer.add_scalar(name, float(scalar.detach()) if torch.is_tensor(scalar) else scalar, global_step)
        progress.update(batch_size, sps=sps, ret=recent_return)
    progress.close()
    envs.close()
    training_seconds = time.time() - start_time

    # Save the weights with the frozen observation statistics (safetensors: loading never runs code)
    # and evaluate the deterministic policy.
    agent = agent.cpu().eval()
    save_file(agent.state_dict(), run.dir / "model.safetensors")
    checkpoint_path.unlink(missing_ok=True)
    policy = deterministic_policy(agent, probe_env.action_space)
    seeds = hub_utils.eval_seeds(args.seed, args.eval_episodes)
    evaluation = hub_utils.evaluate(policy, make_env(args), seeds)
    if args.capture_video:
        video_env = make_env(args, render_mode="rgb_array")
        hub_utils.record_video(policy, video_env, run.dir / "replay.mp4",
                               fps=video_env.metadata.get("render_fps", 30), seed=seeds[0])
    results = hub_utils.write_results(
        run, args, algo="a2c", algo_title="A2C", evaluation=evaluation, model_file="model.safetensors",
        video_fps=probe_env.metadata.get("render_fps", 30),
        training=dict(env_steps=global_step, wall_time_s=round(training_seconds, 1),
                      sps=round((global_step - start_step) / training_seconds)))
    run.close()
    hub_utils.upload_if_requested(run, args, results)


if __name__ == "__main__":
    hub_utils.run_script(main)
