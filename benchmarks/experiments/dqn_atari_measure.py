"""Measurements for algorithms/dqn_atari.py that a training run does not print by itself.

    python benchmarks/experiments/dqn_atari_measure.py untrained   # an untrained network's score
    python benchmarks/experiments/dqn_atari_measure.py memory      # peak RSS, default replay memory full
    python benchmarks/experiments/dqn_atari_measure.py speed [--threads N]   # each part of a training step

Random play's score: `python benchmarks/random_play.py --algo dqn_atari --env-id SpaceInvadersNoFrameskip-v4`.
Results and dates: benchmarks/HISTORY.md, section "DQN on Atari"; what is current: benchmarks/README.md.
"""

import argparse
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F

import hub_utils

dqn_atari = hub_utils.load_algorithm("dqn_atari.py")
ENV_ID = "SpaceInvadersNoFrameskip-v4"


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # ru_maxrss is in KiB on Linux


def untrained(args):
    """An untrained network's greedy score, evaluated like a trained run: whole games, the real score,
    seeds of --seed 1 (random play: benchmarks/random_play.py)."""
    torch.set_num_threads(1)
    env_args = argparse.Namespace(env_id=ENV_ID)
    seeds = hub_utils.eval_seeds(1, args.episodes)
    n_actions = dqn_atari.make_env(env_args).action_space.n
    torch.manual_seed(1)  # the initialization a --seed 1 run starts from
    policies = {
        "untrained network, greedy": dqn_atari.greedy_policy(dqn_atari.QNetwork(n_actions).eval(), "cpu")
    }
    for name, policy in policies.items():
        result = hub_utils.evaluate(policy, dqn_atari.make_env(env_args), seeds)
        print(
            f"{name}: mean_reward {result.mean:.2f} +/- {result.std:.2f} (result {result.result:.2f}) over "
            f"{len(seeds)} games; returns {result.returns}; lengths {result.lengths}",
            flush=True,
        )


def memory(args):
    """Allocates the default replay memory, writes every slot (np.zeros commits pages only when
    written) and reports the process's peak resident memory before and after."""
    before = peak_rss_gb()
    replay = dqn_atari.ReplayBuffer(args.buffer_size)
    allocated = peak_rss_gb()
    frame = np.random.default_rng(0).integers(0, 256, (dqn_atari.FRAME_STACK, 84, 84), dtype=np.uint8)
    replay.start_episode(frame)
    for step in range(args.buffer_size - 1):
        replay.add(step % 6, 1.0, False, frame)
    print(
        f"replay memory of {args.buffer_size:,} steps: {replay.nbytes / 1e9:.3f} GB of arrays; peak RSS "
        f"{before:.3f} GB after the imports, {allocated:.3f} GB after np.zeros, "
        f"{peak_rss_gb():.3f} GB once full"
    )


def speed(args):
    """Milliseconds per env step (the bare training env, random actions; then with storing in the
    replay memory), per greedy action, per minibatch sample and per gradient step (batch 32, 3-step
    returns, Huber, clipped), with --threads torch threads."""
    torch.set_num_threads(args.threads)
    hub_utils.resolve_env_id(ENV_ID)
    env = dqn_atari.make_atari_env(ENV_ID, training=True)
    replay = dqn_atari.ReplayBuffer(20_000, n_step=3, gamma=0.99)
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def bare_step():  # what the agent's env costs by itself: a slower machine compares in proportion
        _, _, terminated, truncated, _ = env.step(int(rng.integers(6)))
        if terminated or truncated:
            env.reset()

    def per_call_ms(function, calls):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - start) / calls * 1e3

    bare_ms = per_call_ms(bare_step, 10_000)
    obs, _ = env.reset(seed=0)
    replay.start_episode(obs)
    env_ms = per_call_ms(lambda: dqn_atari.step_and_remember(env, replay, int(rng.integers(6))), 3000)
    q_network, target_network = dqn_atari.QNetwork(6), dqn_atari.QNetwork(6)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=1e-4, foreach=True)  # as in the script
    act = dqn_atari.greedy_policy(q_network, "cpu")
    act_ms = per_call_ms(lambda: act(obs), 300)
    sample_ms = per_call_ms(lambda: replay.get(replay.sample_slots(32, rng)), 300)

    def gradient_step():
        b_obs, b_actions, b_returns, b_terminations, b_next_obs, b_discounts = (
            torch.from_numpy(array) for array in replay.get(replay.sample_slots(32, rng))
        )
        target = dqn_atari.td_target(b_returns, b_next_obs, b_terminations, b_discounts, target_network)
        loss = F.smooth_l1_loss(q_network(b_obs).gather(1, b_actions.unsqueeze(1)).squeeze(1), target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(q_network.parameters(), 10.0)
        optimizer.step()

    update_ms = per_call_ms(gradient_step, 100)
    adam_ms = per_call_ms(optimizer.step, 100)  # the gradients of the last step, again
    loop = torch.optim.Adam(q_network.parameters(), lr=1e-4, foreach=False)  # torch's default on a CPU
    loop.step()
    loop_ms = per_call_ms(loop.step, 100)
    fused = torch.optim.Adam(q_network.parameters(), lr=1e-4, fused=True)  # not in the script: see below
    fused.step()
    fused_ms = per_call_ms(fused.step, 100)
    print(
        f"threads {args.threads}: bare env step {bare_ms:.2f} ms ({1e3 / bare_ms:.0f} steps/s, "
        f"{4e3 / bare_ms:.0f} frames/s), env step and storing {env_ms:.2f} ms, greedy action "
        f"{act_ms:.2f} ms, minibatch sample "
        f"{sample_ms:.2f} ms, gradient step {update_ms:.1f} ms -> predicted SPS: warm-up (epsilon ~1) "
        f"{1e3 / env_ms:.0f}, learning (train_frequency 4, epsilon 0.01) "
        f"{1e3 / (env_ms + 0.99 * act_ms + update_ms / 4):.0f}; of the gradient step, Adam's update "
        f"{adam_ms:.1f} ms (foreach=True, as in the script; the default loop over tensors: {loop_ms:.1f} ms; "
        f"with fused=True, which the script leaves out so that any torch.optim "
        f"optimizer swaps in: {fused_ms:.1f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("untrained").add_argument("--episodes", type=int, default=10)
    commands.add_parser("memory").add_argument("--buffer-size", type=int, default=1_000_000)
    commands.add_parser("speed").add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    {"untrained": untrained, "memory": memory, "speed": speed}[arguments.command](arguments)
