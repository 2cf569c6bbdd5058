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

Discrete actions use a categorical policy, Box actions a Gaussian with a state-independent log-std;
the evaluated policy is its mode. Dict observations (panda-gym) are flattened in sorted key order.
For robotics the course normalizes observations and rewards with running mean/std (SB3's
VecNormalize): the observation statistics are saved with the model and frozen at evaluation.
RMSprop as A2C was published (SB3's settings), or --optimizer adam. --resume finishes exactly as the
uninterrupted run would.

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
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import nonnegative_float, nonnegative_int, positive_float, positive_int, unit_float

# Per-environment defaults; any flag overrides them. CartPole and LunarLander are RL Zoo's A2C
# settings (hyperparams/a2c.yml: LunarLander lr lin_0.00083, i.e. decayed linearly to 0). PandaReach
# is the course's Unit 6 set-up (SB3 A2C, 4 envs, VecNormalize of observations and rewards) with a
# smaller budget than the course's 1M steps that still passes the bar (benchmarks/README.md).
LUNAR_LANDER = dict(num_envs=8, num_steps=5, gamma=0.995, learning_rate=8.3e-4, anneal_lr=True)
PANDA_REACH = dict(num_envs=4, normalize_observation=True, normalize_reward=True, total_timesteps=100_000)
ENV_DEFAULTS = {
    "CartPole": dict(num_envs=8, total_timesteps=500_000, ent_coef=0.0),
    "LunarLander": dict(LUNAR_LANDER, ent_coef=1e-5, total_timesteps=200_000),
    "PandaReachDense": PANDA_REACH,
}


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="a2c", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="PandaReachDense-v3", help="1-D Box or Dict-of-Box observations")
    add("--seed", type=nonnegative_int, default=1, help="seed of torch and of the environments")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=500_000, help="environment steps to train for")
    add("--optimizer", choices=("rmsprop", "adam"), default="rmsprop", help="SB3: rmsprop")
    add("--learning-rate", type=positive_float, default=7e-4, help="optimizer step size")
    add("--optimizer-eps", type=positive_float, default=1e-5, help="epsilon of RMSprop or Adam")
    add("--anneal-lr", action=BOOL, default=False, help="decay the learning rate to 0")
    add("--num-envs", type=positive_int, default=4, help="parallel environments")
    add("--num-steps", type=positive_int, default=5, help="steps per env per update: the n of n-step")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--gae-lambda", type=unit_float, default=1.0, help="lambda of GAE (1: n-step returns)")
    add("--norm-adv", action=BOOL, default=False, help="standardize the advantages")
    add("--ent-coef", type=nonnegative_float, default=0.0, help="entropy bonus coefficient")
    add("--vf-coef", type=nonnegative_float, default=0.5, help="value loss (MSE) coefficient")
    add("--max-grad-norm", type=positive_float, default=0.5, help="global gradient norm clip")
    add("--normalize-observation", action=BOOL, default=False, help="running mean/std, +-10")
    add("--normalize-reward", action=BOOL, default=False, help="r / std(return), +-10")
    add("--hidden-size", type=positive_int, default=64, help="units of each hidden layer")
    args = parser.parse(argv)
    parameters = 2 * args.hidden_size * (args.hidden_size + 2)  # at least: actor and critic, 2 layers each
    training_run.check_memory(
        parameters * training_run.BYTES_PER_PARAMETER, f"--hidden-size {args.hidden_size}"
    )
    rollout = f"one rollout (--num-envs x --num-steps = {args.num_envs * args.num_steps} steps)"
    if args.total_timesteps < args.num_envs * args.num_steps:
        raise UserError(f"--total-timesteps {args.total_timesteps} is less than {rollout}")
    return args


class FlattenDictObservation(gym.ObservationWrapper):
    """A Dict of 1-D Boxes as one 1-D Box: the entries concatenated in sorted key order, fixed by the
    keys' names (not by how the env built its Dict), so a saved model reads its inputs the same way
    anywhere. PandaReach-v3: [achieved_goal (3), desired_goal (3), observation (6)]."""

    def __init__(self, env):
        super().__init__(env)
        self.keys = sorted(env.observation_space.spaces)
        boxes = [env.observation_space[key] for key in self.keys]
        low = np.concatenate([box.low.ravel() for box in boxes]).astype(np.float32)
        high = np.concatenate([box.high.ravel() for box in boxes]).astype(np.float32)
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)

    def observation(self, observation):
        return np.concatenate([np.asarray(observation[key], dtype=np.float32).ravel() for key in self.keys])


def with_flat_observations(env):
    """Flattens a Dict-of-Box observation space (see FlattenDictObservation); other envs pass as they are."""
    space = env.observation_space
    if isinstance(space, gym.spaces.Dict) and all(isinstance(box, gym.spaces.Box) for box in space.values()):
        return FlattenDictObservation(env)
    return env


def make_env(args, render_mode=None):
    """One environment, as the vector env runs it: used for evaluation and `hub_utils.py enjoy`."""
    # render_mode only when asked for: panda-gym refuses render_mode=None (its own default renders headless)
    render = {"render_mode": render_mode} if render_mode else {}
    env = with_flat_observations(gym.make(resolve_env_id(args.env_id, quiet=True), **render))
    observations, actions = env.observation_space, env.action_space
    if not (isinstance(observations, gym.spaces.Box) and len(observations.shape) == 1):
        needs = "a 1-D Box or a Dict of Box observation space"
        raise UserError(f"a2c.py needs {needs}; {args.env_id} has {observations}")
    if not isinstance(actions, (gym.spaces.Discrete, gym.spaces.Box)):
        raise UserError(f"a2c.py needs Discrete/Box actions; {args.env_id} has {actions}")
    return env


class SeededGoals(gym.Wrapper):
    """panda-gym re-creates its goal generator at every reset, from the reset's seed or, without one (each
    later episode of a vector env), from the system's entropy. Here such a reset gets a seed drawn from the
    env's own generator (seeded by the first reset, restored by EpisodeRecorder): a seeded run repeats."""

    def reset(self, *, seed=None, options=None):
        if seed is None:
            seed = int(self.unwrapped.np_random.integers(2**32))
        return self.env.reset(seed=seed, options=options)


def make_vector_env(env_id, num_envs):
    """num_envs copies of the env (Dict observations flattened), in this process, with episode statistics.
    SAME_STEP autoreset: every step is a real transition (the last observation is in info["final_obs"]);
    EpisodeRecorder keeps each running episode's reset and actions for an exact --resume."""

    def make():
        env = with_flat_observations(gym.make(env_id))
        if type(env.unwrapped).__module__.startswith("panda_gym."):
            env = SeededGoals(env)
        return training_run.EpisodeRecorder(env)

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
            log_prob = -0.5 * ((action - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
            log_prob, entropy = log_prob.sum(-1), (log_std + 0.5 + 0.5 * math.log(2 * math.pi)).sum(-1)
        else:
            log_pi = self.actor(obs).log_softmax(-1)
            log_prob = log_pi.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
            entropy = -(log_pi.exp() * log_pi).sum(-1)
        return log_prob, entropy, self.get_value(obs)

    def act(self, obs):
        """The deterministic action evaluated and published: the mode of the policy."""
        return self.actor(obs) if self.continuous else self.actor(obs).argmax(-1)


# ppo.py's compute_gae word for word, under A2C's name and with lambda = 1 by default: then
# A_t + V(s_t) telescopes to exactly the n-step return R_t of the module docstring.
def compute_advantages(rewards, values, episode_continues, truncation_values, gamma, gae_lambda=1.0):
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
    batch_size = args.num_envs * args.num_steps
    num_iterations = args.total_timesteps // batch_size

    torch.manual_seed(args.seed)  # drives initialization and action sampling
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # tiny matrices: extra threads only wait on each other (and on the envs)

    observation_space, action_space = probe_env.observation_space, probe_env.action_space
    continuous = isinstance(action_space, gym.spaces.Box)
    agent = build_agent(args, probe_env).to(device)
    optimizer = build_optimizer(args, agent)
    return_rms = RunningMeanStd()  # for reward scaling: std of the discounted return
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys = ("iteration", "global_step", "torch_rng", "discounted_return", "running_episodes")
        into = dict(agent=agent, optimizer=optimizer, return_rms=return_rms)
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, into)
    run = training_run.start_run(args, __file__)
    envs = make_vector_env(run.env_id, args.num_envs)
    discounted_return = np.zeros(args.num_envs)

    # Rollout storage, (steps, envs) per quantity. values has one extra row: V after the last step.
    steps_envs = (args.num_steps, args.num_envs)
    obs = torch.zeros(steps_envs + observation_space.shape, device=device)
    actions = torch.zeros(steps_envs + action_space.shape, device=device)
    rewards, episode_continues, truncation_values = (torch.zeros(steps_envs, device=device) for _ in range(3))
    values = torch.zeros((args.num_steps + 1, args.num_envs), device=device)

    start_iteration, global_step = 1, 0
    next_obs, _ = envs.reset(seed=args.seed)  # env i starts from seed + i (CleanRL's convention)
    if run.resumed:  # continue exactly where the interrupted run stopped, its episodes replayed
        start_iteration, global_step = checkpoint["iteration"], checkpoint["global_step"]
        torch.set_rng_state(checkpoint["torch_rng"].cpu())
        discounted_return = checkpoint["discounted_return"].numpy()
        next_obs = training_run.replay_running_episodes(envs, checkpoint["running_episodes"])

    def observe(observation):  # normalized, on the device (where the observation statistics live)
        return agent.normalize(torch.as_tensor(observation, dtype=torch.float32, device=device))

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between updates, then exit
            run.checkpoint_and_exit(
                agent=agent.state_dict(),
                optimizer=optimizer.state_dict(),
                return_rms=return_rms.state_dict(),
                iteration=iteration,
                global_step=global_step,
                torch_rng=torch.get_rng_state(),
                discounted_return=torch.from_numpy(discounted_return),
                running_episodes=training_run.running_episodes(envs),
            )
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            for group in optimizer.param_groups:
                group["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

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
            action = action.cpu().numpy()
            next_obs, reward, terminated, truncated, infos = envs.step(
                np.clip(action, action_space.low, action_space.high) if continuous else action
            )
            global_step += args.num_envs
            done = terminated | truncated
            # TimeLimit also truncates an episode whose last step terminates it: that step is final
            truncated = truncated & ~terminated

            if args.normalize_reward:  # r / std(discounted return), the return restarting with each episode
                discounted_return = discounted_return * args.gamma + reward
                return_rms.update(discounted_return)
                reward = np.clip(reward / np.sqrt(return_rms.var.item() + 1e-8), -10, 10)
                discounted_return[done] = 0.0
            rewards[step] = torch.as_tensor(reward, device=device)
            episode_continues[step] = torch.as_tensor(~done, device=device)
            if truncated.any():  # bootstrap a time limit from V(final observation)
                with torch.inference_mode():
                    final_values = agent.get_value(observe(np.stack(infos["final_obs"][truncated])))
                    truncation_values[step, torch.as_tensor(truncated, device=device)] = final_values
            if "episode" in infos:
                for i in np.flatnonzero(infos["_episode"]):
                    run.writer.add_scalar("charts/episodic_return", infos["episode"]["r"][i], global_step)
                    run.writer.add_scalar("charts/episodic_length", infos["episode"]["l"][i], global_step)
                    recent_return = float(infos["episode"]["r"][i])
        with torch.inference_mode():
            values[-1] = agent.get_value(observe(next_obs))

        # 2. n-step returns R_t and advantages A_t = R_t - V(s_t) (bootstrapping truncated episodes).
        advantages, returns = compute_advantages(
            rewards, values, episode_continues, truncation_values, args.gamma, args.gae_lambda
        )

        # 3. One gradient step on the actor, critic and entropy losses of the whole rollout. The
        # rollout ran without gradients; the policy has not changed since, so one batched forward
        # pass here gives the same log-probabilities and values, now with gradients.
        b_obs = obs.reshape((-1,) + observation_space.shape)
        b_actions = actions.reshape((-1,) + action_space.shape)
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
            explained_variance = 1 - (b_returns - values[:-1].reshape(-1)).var() / b_returns.var()
            scalars = dict(value_loss=value_loss, policy_loss=policy_loss, entropy=entropy_loss)
            for name, scalar in dict(scalars, explained_variance=explained_variance).items():
                run.writer.add_scalar(f"losses/{name}", scalar.item(), global_step)
            run.writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
            run.writer.add_scalar("charts/SPS", sps, global_step)
        progress.update(batch_size, sps=sps, ret=recent_return)
    envs.close()
    training_seconds = time.time() - start_time
    sps = round((global_step - start_step) / training_seconds)
    training = dict(env_steps=global_step, wall_time_s=round(training_seconds, 1), sps=sps)

    # Save the weights with the frozen observation statistics, then evaluate the deterministic policy
    # on seeds of its own and publish.
    agent = agent.cpu().eval()
    training_run.save_weights(agent.state_dict(), run.dir / "model.safetensors")
    policy, fps = deterministic_policy(agent, action_space), probe_env.metadata.get("render_fps", 30)
    card = dict(algo="a2c", algo_title="A2C", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, policy, make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
