"""PPO with Random Network Distillation (RND): curiosity, as in Unit 5 of the Hugging Face Deep RL Course.

Where the environment's reward is sparse, a policy that has never reached it has nothing to learn from.
Curiosity gives the agent a reward of its own for observations it has not seen often (Burda et al.,
2018, "Exploration by Random Network Distillation"), the course's second curiosity method:

    f       a fixed, randomly initialized target network;   f_hat  a predictor trained to imitate it
    loop:
      1. collect a rollout with pi; the environment's reward r_e (episodic)
      2. r_i(s') = || f_hat(s') - f(s') ||^2 on normalized next observations: large where s' is novel,
         falling as it recurs (f_hat has been trained there);   r_i /= std of the intrinsic returns
      3. two value heads: A_e = GAE(r_e, V_e, gamma)      episodic, a time limit still bootstraps
                          A_i = GAE(r_i, V_i, int_gamma)  non-episodic: a lost episode does not end
                                                          curiosity's horizon
         A = ext_coef * A_e + int_coef * A_i
      4. loss = PPO's clipped surrogate on A + c_v * (V_e's and V_i's errors) - c_e * entropy
              + the predictor's error on a random share (--update-proportion) of each minibatch

The course runs it with Unity ML-Agents (Pyramids: press a switch, find the pyramid, knock it over,
reach the brick); this file, on MiniGrid (gymnasium-native, fast on a CPU). Its default task,
MultiRoom-N4-S5, is four small rooms behind closed doors, the goal in the last, 80 steps to get there;
the reward is 0 until the goal (then 1 - 0.9 * steps / 80). Random actions never get there (0 of 502
episodes): plain PPO has nothing to learn from. The agent sees its 7x7x3 egocentric view (or another
Box observation) and remembers the episode in a GRU. `--int-coef 0` is the ablation: plain PPO, same
settings, no intrinsic reward, intrinsic value or predictor. One optimizer trains the agent and the
predictor; the target never learns. Only the agent (with its observation statistics) is published.

    python algorithms/ppo_rnd.py --env-id MiniGrid-MultiRoom-N4-S5-v1 --seed 1
    python algorithms/ppo_rnd.py --env-id MiniGrid-MultiRoom-N4-S5-v1 --seed 1 --int-coef 0   # ablation
"""

import argparse
import math
import time

import gymnasium as gym
import minigrid  # noqa: F401 (registers the MiniGrid-* ids with gymnasium)
import numpy as np
import torch
import torch.nn as nn
from minigrid.wrappers import ImgObsWrapper
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from hub_utils import UserError, resolve_env_id
from training_run import nonnegative_float, nonnegative_int, positive_float, positive_int, unit_float


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="ppo_rnd")
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="MiniGrid-MultiRoom-N4-S5-v1", help="a MiniGrid id, or one with Box observations")
    add("--seed", type=nonnegative_int, default=1, help="seed of torch and of the environments")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=500_000, help="environment steps to train for")
    add("--learning-rate", type=positive_float, default=5e-4, help="the optimizer's step size")
    add("--anneal-lr", action=BOOL, default=True, help="decay the lr linearly to 0")
    add("--num-envs", type=positive_int, default=16, help="parallel environments")
    add("--num-steps", type=positive_int, default=128, help="steps per environment per rollout")
    add("--gamma", type=unit_float, default=0.99, help="discount of the environment's reward")
    add("--int-gamma", type=unit_float, default=0.99, help="discount of the intrinsic reward")
    add("--gae-lambda", type=unit_float, default=0.95, help="lambda of GAE")
    add("--num-minibatches", type=positive_int, default=8, help="minibatches per epoch")
    add("--update-epochs", type=positive_int, default=4, help="epochs over each rollout")
    add("--norm-adv", action=BOOL, default=True, help="normalize advantages per minibatch")
    add("--clip-coef", type=positive_float, default=0.2, help="surrogate clipping epsilon")
    add("--ent-coef", type=nonnegative_float, default=0.01, help="entropy bonus coefficient")
    add("--vf-coef", type=nonnegative_float, default=0.5, help="value loss coefficient")
    add("--max-grad-norm", type=positive_float, default=0.5, help="global gradient norm clip")
    add("--ext-coef", type=nonnegative_float, default=2.0, help="weight of the extrinsic advantage")
    add("--int-coef", type=nonnegative_float, default=1.0, help="intrinsic advantage's weight; 0: plain PPO")
    share = training_run.fraction  # in (0, 1]
    add("--update-proportion", type=share, default=0.25, help="share of each minibatch the predictor fits")
    add("--hidden-size", type=positive_int, default=128, help="units of each hidden layer of the agent")
    add("--rnd-hidden-size", type=positive_int, default=256, help="units of each hidden layer of f, f_hat")
    add("--rnd-output-size", type=positive_int, default=64, help="size of the target's random features")
    args = parser.parse(argv)
    agent_size, rnd_size = args.hidden_size, args.rnd_hidden_size  # the encoder, the GRU; f and f_hat
    weights = 9 * agent_size**2 + 2 * rnd_size * (rnd_size + args.rnd_output_size)
    training_run.check_memory(weights * training_run.BYTES_PER_PARAMETER, "--hidden-size, --rnd-hidden-size")
    rollout = f"one rollout (--num-envs x --num-steps = {args.num_envs * args.num_steps} transitions)"
    if args.num_envs % args.num_minibatches:  # a minibatch is the whole sequences of some envs
        raise UserError(f"--num-minibatches {args.num_minibatches} must divide --num-envs {args.num_envs}")
    if args.total_timesteps < args.num_envs * args.num_steps:
        raise UserError(f"--total-timesteps {args.total_timesteps} is less than {rollout}")
    return args


def make_env(args, render_mode=None):
    """One environment, as the vector env runs it: used for evaluation and `hub_utils.py enjoy`. A MiniGrid
    environment's observation is a dict; the agent sees its "image", the 7x7x3 egocentric view."""
    env = gym.make(resolve_env_id(args.env_id, quiet=True), render_mode=render_mode)
    if isinstance(env.observation_space, gym.spaces.Dict) and "image" in env.observation_space.spaces:
        env = ImgObsWrapper(env)
    observations, actions = env.observation_space, env.action_space
    if not isinstance(observations, gym.spaces.Box):
        raise UserError(f"ppo_rnd.py needs a Box observation space; {args.env_id} has {observations}")
    if not isinstance(actions, gym.spaces.Discrete):
        raise UserError(f"ppo_rnd.py needs a Discrete action space; {args.env_id} has {actions}")
    return env


def make_vector_env(args, num_envs):
    """num_envs copies with episode statistics. SAME_STEP autoreset: a step that ends an episode returns
    the next one's first observation, its own last in info["final_obs"] (a time limit can bootstrap)."""
    make = lambda: training_run.EpisodeRecorder(make_env(args))  # noqa: E731 (records for an exact --resume)
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


def mlp(in_size, hidden_size, out_size, out_std, activation=nn.Tanh):
    """Flatten (a 7x7x3 view becomes 147 inputs), then two hidden layers."""
    return nn.Sequential(
        nn.Flatten(),
        layer_init(nn.Linear(in_size, hidden_size)),
        activation(),
        layer_init(nn.Linear(hidden_size, hidden_size)),
        activation(),
        layer_init(nn.Linear(hidden_size, out_size), std=out_std),
    )


class Agent(nn.Module):
    """The policy and its two value heads (extrinsic, intrinsic) on a GRU's memory of the episode, and the
    observation statistics. Without memory, a view seen twice gets the same action twice: a policy can
    loop to the time limit. The memory (MiniGrid's PPO baselines use one on MultiRoom) tells them apart."""

    def __init__(self, observation_space, action_space, hidden_size=128):
        super().__init__()
        self.encoder = mlp(math.prod(observation_space.shape), hidden_size, hidden_size, out_std=math.sqrt(2))
        self.memory = nn.GRUCell(hidden_size, hidden_size)
        self.actor = layer_init(nn.Linear(hidden_size, action_space.n), std=0.01)  # near-uniform at first
        self.critic = layer_init(nn.Linear(hidden_size, 2), std=1.0)  # [V_e(s), V_i(s)]
        self.obs_rms = RunningMeanStd(observation_space.shape)

    def normalize(self, obs):
        """(obs - mean) / std with the running statistics, clipped to [-5, 5] as in the RND paper."""
        obs = torch.as_tensor(obs, dtype=torch.float32)
        return ((obs - self.obs_rms.mean) / torch.sqrt(self.obs_rms.var + 1e-8)).clamp(-5, 5).float()

    def remember(self, obs, memory, episode_starts):
        """The memory h_t after each observation of a (steps, envs) sequence, from the memory before it;
        h_t = GRU(encoder(s_t), h_{t-1}), with h_{t-1} = 0 where s_t starts an episode."""
        features, memories = self.encoder(obs.flatten(0, 1)).view(*obs.shape[:2], -1), []
        for step_features, starts in zip(features, episode_starts):
            memory = self.memory(step_features, memory * (1.0 - starts).unsqueeze(-1))
            memories.append(memory)
        return torch.stack(memories)

    def get_values(self, memory):
        """(V_e(s), V_i(s)) from the memory h after s."""
        return self.critic(memory).unbind(-1)

    def get_action_and_value(self, memory, action):
        """log pi(a|h), the entropy H(pi(.|h)), V_e and V_i."""
        log_pi = self.actor(memory).log_softmax(-1)
        log_prob = log_pi.gather(-1, action.unsqueeze(-1)).squeeze(-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1)
        return log_prob, entropy, *self.get_values(memory)


class RandomNetworkDistillation(nn.Module):
    """f (target: random, fixed) and f_hat (predictor: trained); r_i(s') = || f_hat(s') - f(s') ||^2."""

    def __init__(self, observation_space, hidden_size=256, output_size=64):
        super().__init__()
        obs_size = math.prod(observation_space.shape)
        # LeakyReLU, as the paper's: a sharper target than tanh's, whose fit where visited spreads less.
        self.target = mlp(obs_size, hidden_size, output_size, math.sqrt(2), nn.LeakyReLU)
        self.predictor = mlp(obs_size, hidden_size, output_size, math.sqrt(2), nn.LeakyReLU)
        self.target.requires_grad_(False)  # never trained: its features are what novelty is measured by

    def forward(self, normalized_next_obs):
        """The predictor's squared error per observation: the intrinsic reward, and its loss."""
        return (self.predictor(normalized_next_obs) - self.target(normalized_next_obs)).pow(2).mean(-1)


def compute_gae(rewards, values, episode_continues, truncation_values, gamma, gae_lambda):
    """Generalized Advantage Estimation over a rollout of shape (steps, envs):
    delta_t = r_t + gamma * V(s_{t+1}) - V(s_t),   A_t = delta_t + gamma * lambda * A_{t+1}, restarting
    where an episode ended. ``values`` has one more row than ``rewards``: V after the rollout. Where an
    episode ended at step t (``episode_continues[t] == 0``), V(s_{t+1}) is 0 if it terminated and
    ``truncation_values[t]`` if it was truncated (a time limit still bootstraps). Returns A and A + V."""
    next_values = values[1:] * episode_continues + truncation_values
    values = values[:-1]
    deltas = rewards + gamma * next_values - values  # every step's delta at once; the sum is sequential
    advantages = torch.zeros_like(rewards)
    next_advantage = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        next_advantage = deltas[t] + gamma * gae_lambda * episode_continues[t] * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


def intrinsic_returns(int_rewards, int_return, int_gamma):
    """The non-episodic discounted intrinsic return of every step, R_t = int_gamma * R_{t-1} + r_i(t),
    carried from rollout to rollout in ``int_return`` (one per env) and never restarted at an
    episode's end: the running std of these returns is the intrinsic reward's scale (step 2)."""
    returns = np.zeros(int_rewards.shape)
    for step, reward in enumerate(int_rewards):
        returns[step] = int_return = int_return * int_gamma + reward
    return returns, int_return


def deterministic_policy(agent):
    """obs -> argmax action with the agent's frozen statistics and its memory of the episode: what
    evaluation, the replay and `enjoy` run (hub_utils calls policy.reset() as each episode starts)."""
    empty = torch.zeros(1, agent.memory.hidden_size)  # h before an episode's first view
    state = dict(memory=empty)

    @torch.inference_mode()
    def policy(observation):
        obs = agent.normalize(observation[None, None])  # one step of one env
        state["memory"] = agent.remember(obs, state["memory"], torch.zeros(1, 1))[-1]
        return int(agent.actor(state["memory"]).argmax(-1)[0])

    policy.reset = lambda: state.update(memory=empty)
    return policy


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: rebuilds the Agent and loads model.safetensors (no pickle)."""
    env = make_env(args)
    agent = Agent(env.observation_space, env.action_space, args.hidden_size)
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return deterministic_policy(agent.eval())


def main():
    args = parse_args()
    probe_env = make_env(args)  # checks the spaces before anything is written
    batch_size = args.num_envs * args.num_steps
    envs_per_minibatch = args.num_envs // args.num_minibatches
    num_iterations = args.total_timesteps // batch_size
    curious = args.int_coef > 0  # 0: the ablation, plain PPO

    torch.manual_seed(args.seed)  # initialization, actions, minibatch shuffling, the predictor's share
    torch.backends.cudnn.deterministic = args.torch_deterministic
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)  # small matrices: extra threads only wait on each other (and on the envs)

    observation_space = probe_env.observation_space
    agent = Agent(observation_space, probe_env.action_space, args.hidden_size).to(device)
    rnd = RandomNetworkDistillation(observation_space, args.rnd_hidden_size, args.rnd_output_size).to(device)
    # One optimizer over everything that learns: the agent and the predictor (the target has no gradients).
    params = [*agent.parameters(), *rnd.predictor.parameters()]
    optimizer = torch.optim.Adam(params, lr=args.learning_rate, eps=1e-5)
    int_return_rms = RunningMeanStd()  # std of the intrinsic returns: the intrinsic reward's scale
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys = "iteration global_step torch_rng int_return memory running_episodes".split()
        into = dict(agent=agent, rnd=rnd, optimizer=optimizer, int_return_rms=int_return_rms)
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys, into)
    run = training_run.start_run(args, __file__)
    envs = make_vector_env(args, args.num_envs)

    # Rollout storage, (steps, envs) per quantity. The value rows have one more: V after the last step.
    steps_envs = (args.num_steps, args.num_envs)
    obs = torch.zeros(steps_envs + observation_space.shape, device=device)
    actions = torch.zeros(steps_envs, dtype=torch.long, device=device)
    ext_rewards, episode_continues, truncation_values = torch.zeros((3, *steps_envs), device=device)
    ext_values, int_values = torch.zeros((2, args.num_steps + 1, args.num_envs), device=device)
    raw_next_obs = np.zeros(steps_envs + observation_space.shape, dtype=np.float32)  # s' of every step
    always, never = torch.ones(steps_envs, device=device), torch.zeros(steps_envs, device=device)
    int_return = np.zeros(args.num_envs)  # the non-episodic discounted intrinsic return, for its scale
    memory = torch.zeros((args.num_envs, args.hidden_size), device=device)  # h of each env's episode so far
    no_starts = torch.zeros((1, args.num_envs), device=device)  # h is zeroed as an episode ends instead

    start_iteration, global_step = 1, 0
    next_obs, _ = envs.reset(seed=args.seed)  # env i starts from seed + i (CleanRL's convention)
    if run.resumed:  # continue exactly where the interrupted run stopped, its episodes replayed
        start_iteration, global_step = checkpoint["iteration"], checkpoint["global_step"]
        torch.set_rng_state(checkpoint["torch_rng"].cpu())
        int_return, memory = checkpoint["int_return"].numpy(), checkpoint["memory"].to(device)
        next_obs = training_run.replay_running_episodes(envs, checkpoint["running_episodes"])

    def observe(observation):  # normalized, on the device (where the observation statistics live)
        return agent.normalize(torch.as_tensor(observation, device=device))

    progress = run.progress(args.total_timesteps, "steps", initial=global_step)
    start_time, start_step, recent_return = time.time(), global_step, float("nan")
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between iterations, then exit
            run.checkpoint_and_exit(
                agent=agent.state_dict(),
                rnd=rnd.state_dict(),
                optimizer=optimizer.state_dict(),
                int_return_rms=int_return_rms.state_dict(),
                iteration=iteration,
                global_step=global_step,
                torch_rng=torch.get_rng_state(),
                int_return=torch.from_numpy(int_return),
                memory=memory,
                running_episodes=training_run.running_episodes(envs),
            )
        if args.anneal_lr:  # lr decays linearly from its initial value to 0 over training
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Collect a rollout with the current policy (the environment's reward only, so far).
        truncation_values.zero_()
        initial_memory = memory  # step 3 replays the rollout's memories from here
        for step in range(args.num_steps):
            obs[step] = observe(next_obs)
            with torch.no_grad():
                memory = agent.remember(obs[step][None], memory, no_starts)[-1]
                actions[step] = agent.actor(memory).softmax(-1).multinomial(1).squeeze(-1)  # a ~ pi(.|h)
            next_obs, reward, terminated, truncated, infos = envs.step(actions[step].cpu().numpy())
            global_step += args.num_envs
            done = terminated | truncated
            truncated = truncated & ~terminated  # a last step that terminates is final, whatever the clock
            raw_next_obs[step] = next_obs
            if done.any():  # s' of a finished episode is its final observation, not the next reset
                raw_next_obs[step, done] = np.stack(infos["final_obs"][done])
            ext_rewards[step] = torch.as_tensor(reward, device=device)
            episode_continues[step] = torch.as_tensor(~done, device=device)
            if truncated.any():  # bootstrap a time limit from V_e(final observation), remembered as the rest
                cut = torch.as_tensor(truncated, device=device)
                with torch.no_grad():
                    final_obs = observe(np.stack(infos["final_obs"][truncated]))[None]
                    final_memory = agent.remember(final_obs, memory[cut], torch.zeros(1, int(cut.sum())))
                    truncation_values[step, cut] = agent.get_values(final_memory[-1])[0]
            memory = memory * episode_continues[step].unsqueeze(-1)  # the next episode starts from h = 0
            if "episode" in infos:
                for i in np.flatnonzero(infos["_episode"]):
                    run.writer.add_scalar("charts/episodic_return", infos["episode"]["r"][i], global_step)
                    run.writer.add_scalar("charts/episodic_length", infos["episode"]["l"][i], global_step)
                    recent_return = float(infos["episode"]["r"][i])

        # 2. The observation statistics take in the rollout; then r_i(s') for all of it at once, scaled by
        #    the running std of the non-episodic intrinsic return (it never restarts at an episode's end).
        agent.obs_rms.update(raw_next_obs.reshape(-1, *observation_space.shape))
        b_next_obs = observe(raw_next_obs.reshape(-1, *observation_space.shape))
        if curious:  # (the ablation has no intrinsic term in steps 2-4 at all: plain PPO)
            with torch.no_grad():
                raw_int_rewards = rnd(b_next_obs).view(steps_envs)
            discounted_int_returns, int_return = intrinsic_returns(
                raw_int_rewards.cpu().numpy(), int_return, args.int_gamma
            )
            int_return_rms.update(discounted_int_returns.reshape(-1))
            int_rewards = raw_int_rewards / torch.sqrt(int_return_rms.var + 1e-8).float()

        # 3. log pi_old(a|h), V_e and V_i of the rollout in one pass (the policy that acted, unchanged),
        #    and the two advantages: episodic for the environment's reward, non-episodic for curiosity's.
        b_actions = actions.flatten()
        episode_starts = torch.cat([no_starts, 1.0 - episode_continues[:-1]])  # (step 0's h is already 0)
        with torch.no_grad():
            b_memories = agent.remember(obs, initial_memory, episode_starts).flatten(0, 1)
            b_log_probs, _, b_ext_values, b_int_values = agent.get_action_and_value(b_memories, b_actions)
            ext_values[:-1], int_values[:-1] = b_ext_values.view(steps_envs), b_int_values.view(steps_envs)
            last_memory = agent.remember(observe(next_obs)[None], memory, no_starts)[-1]
            ext_values[-1], int_values[-1] = agent.get_values(last_memory)
        ext_advantages, ext_returns = compute_gae(
            ext_rewards, ext_values, episode_continues, truncation_values, args.gamma, args.gae_lambda
        )
        b_advantages, b_ext_returns = (args.ext_coef * ext_advantages).flatten(), ext_returns.flatten()
        if curious:  # non-episodic: every step "continues" (always), so no time limit to bootstrap (never)
            int_advantages, int_returns = compute_gae(
                int_rewards, int_values, always, never, args.int_gamma, args.gae_lambda
            )
            b_advantages = b_advantages + args.int_coef * int_advantages.flatten()
            b_int_returns = int_returns.flatten()

        # 4. Optimize the clipped surrogate, both value heads and the predictor, for several epochs; a
        #    minibatch is the whole rollout of some envs, its memories rebuilt by the network being trained.
        step_env_inds = torch.arange(batch_size, device=device).view(steps_envs)  # into the flat b_ arrays
        for _ in range(args.update_epochs):
            env_order = torch.randperm(args.num_envs, device=device)
            for start in range(0, args.num_envs, envs_per_minibatch):
                mb_envs = env_order[start : start + envs_per_minibatch]
                mb_inds = step_env_inds[:, mb_envs].flatten()
                h = agent.remember(obs[:, mb_envs], initial_memory[mb_envs], episode_starts[:, mb_envs])
                new_log_prob, entropy, new_ext_value, new_int_value = agent.get_action_and_value(
                    h.flatten(0, 1), b_actions[mb_inds]
                )
                ratio = (new_log_prob - b_log_probs[mb_inds]).exp()
                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:  # A <- (A - mean) / std within the minibatch
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                clipped_ratio = ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                policy_loss = -torch.min(ratio * mb_advantages, clipped_ratio * mb_advantages).mean()
                value_loss = 0.5 * ((new_ext_value - b_ext_returns[mb_inds]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = policy_loss - args.ent_coef * entropy_loss + args.vf_coef * value_loss
                if curious:  # V_i's error, and the predictor's on a random share of the minibatch
                    int_value_loss = 0.5 * ((new_int_value - b_int_returns[mb_inds]) ** 2).mean()
                    share = torch.rand(len(mb_inds), device=device) < args.update_proportion
                    forward_loss = (rnd(b_next_obs[mb_inds]) * share).sum() / share.sum().clamp(min=1)
                    loss = loss + args.vf_coef * int_value_loss + forward_loss

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, args.max_grad_norm)
                optimizer.step()

        sps = (global_step - start_step) / (time.time() - start_time)
        run.writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        run.writer.add_scalar("charts/SPS", sps, global_step)
        run.writer.add_scalar("charts/extrinsic_return", ext_returns.mean().item(), global_step)
        run.writer.add_scalar("losses/value_loss", value_loss.item(), global_step)
        run.writer.add_scalar("losses/policy_loss", policy_loss.item(), global_step)
        run.writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
        if curious:
            run.writer.add_scalar("charts/intrinsic_return", int_returns.mean().item(), global_step)
            run.writer.add_scalar("charts/intrinsic_reward", raw_int_rewards.mean().item(), global_step)
            run.writer.add_scalar("charts/intrinsic_reward_scale", math.sqrt(int_return_rms.var), global_step)
            run.writer.add_scalar("losses/intrinsic_value_loss", int_value_loss.item(), global_step)
            run.writer.add_scalar("losses/forward_loss", forward_loss.item(), global_step)
        progress.update(batch_size, sps=sps, ret=recent_return)
    envs.close()
    training_seconds = time.time() - start_time
    sps = round((global_step - start_step) / training_seconds)
    training = dict(env_steps=global_step, wall_time_s=round(training_seconds, 1), sps=sps)

    # Save the agent (the RND networks are only for training), evaluate it greedily and publish.
    agent = agent.cpu().eval()
    training_run.save_weights(agent.state_dict(), run.dir / "model.safetensors")
    fps = probe_env.metadata.get("render_fps", 30)
    card = dict(algo="ppo-rnd", algo_title="PPO + RND", model_file="model.safetensors", video_fps=fps)
    training_run.publish(run, args, deterministic_policy(agent), make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
