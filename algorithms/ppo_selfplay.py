"""PPO with self-play and ELO ratings, as in Unit 7 of the Hugging Face Deep RL Course, on Connect Four.

The course trains ML-Agents' PPO on SoccerTwos against frozen copies of its past selves, and tracks
progress with an ELO rating: against an opponent that improves with it, the agent's reward says
nothing. This file does the same on PettingZoo's classic Connect Four (turn-based, zero-sum, illegal
moves masked), with ML-Agents' self-play settings under their names:

    pool = []                                          # frozen snapshots of the learner
    for every step of training:
        if step % save_steps == 0: pool.append(copy(learner)); pool = pool[-window:]
        if step % swap_steps == 0:                     # a new opponent
            opponent = learner with probability play_against_latest_model_ratio,
                       else a snapshot drawn uniformly from the pool
        play the learner (alternating seats, game by game) against the opponent; PPO learns from
        the learner's moves only; after each game, update both ELO ratings:
            E_A = 1 / (1 + 10^((R_B - R_A) / 400)),   R_A' = R_A + K (S_A - E_A),   R_B' = R_B - K (S_A - E_A)
            (S_A: 1 win, 0.5 draw, 0 loss; every rating starts at initial_elo)

A snapshot enters the pool with the learner's rating, and plays rated games against reference players
that never learn, so that the scale means something: a random player and depth-limited alpha-beta
searches (envs/connect_four.py). With --publish best (the default) the snapshot that scored best in them
is published. One network (Agent, masked logits: an illegal column is never chosen), one torch.optim
optimizer. Training games run in numpy (PettingZoo's rules, tested move for move); evaluation, the
replay and `hub_utils.py enjoy` play PettingZoo's environment itself (ConnectFour-v3): the greedy agent
against --eval-opponent, first on even seeds and second on odd ones.

    python algorithms/ppo_selfplay.py --env-id ConnectFour-v3
"""

import argparse
import time
from collections import OrderedDict

import gymnasium as gym
import numpy as np
import pettingzoo  # noqa: F401  (the game, played through envs/connect_four.py: named here, so that
import pygame  # noqa: F401  the run folder's requirements.txt pins it and the pygame it renders with)
import torch
import torch.nn as nn
from safetensors.torch import load_file

import training_run  # the run: flags, folder, checkpoints, Ctrl-C, publishing
from envs.connect_four import BatchConnectFour, check_opponent, reference_move
from hub_utils import UserError, eval_seeds, evaluate, resolve_env_id
from training_run import nonnegative_float, positive_float, positive_int, unit_float

ENV_DEFAULTS = {"ConnectFour": dict(eval_episodes=100)}  # games per reference and seat (the course: 10)
REFERENCES = ["random", "alphabeta-1", "alphabeta-2", "alphabeta-3"]  # envs/connect_four.py: D plies deep


def parse_args(argv=None):
    parser = training_run.ScriptParser(__doc__, exp_name="ppo_selfplay", env_defaults=ENV_DEFAULTS)
    add, BOOL = parser.add_argument, argparse.BooleanOptionalAction
    add("--env-id", default="ConnectFour-v3", help="ConnectFour-v3 (PettingZoo's connect_four_v3)")
    add("--seed", type=training_run.nonnegative_int, default=1, help="seed of torch and of the games")
    add("--torch-deterministic", action=BOOL, default=True, help="cudnn.deterministic")
    add("--cuda", action=BOOL, default=True, help="use CUDA if present")
    add("--total-timesteps", type=positive_int, default=2_000_000, help="learner moves to train for")
    add("--learning-rate", type=positive_float, default=2.5e-4, help="the optimizer's step size")
    add("--anneal-lr", action=BOOL, default=True, help="decay the lr linearly to 0")
    add("--num-envs", type=positive_int, default=128, help="games played at once")
    add("--num-steps", type=positive_int, default=32, help="learner moves per game slot per rollout")
    add("--gamma", type=unit_float, default=0.99, help="discount factor")
    add("--gae-lambda", type=unit_float, default=0.95, help="lambda of GAE")
    add("--num-minibatches", type=positive_int, default=4, help="minibatches per epoch")
    add("--update-epochs", type=positive_int, default=4, help="epochs over each rollout")
    add("--clip-coef", type=positive_float, default=0.2, help="surrogate clipping epsilon")
    add("--ent-coef", type=nonnegative_float, default=0.1, help="entropy bonus coefficient")
    add("--vf-coef", type=nonnegative_float, default=0.5, help="value loss coefficient")
    add("--max-grad-norm", type=positive_float, default=0.5, help="global gradient norm clip")
    add("--hidden-size", type=positive_int, default=128, help="units of the critic's hidden layer")
    # ML-Agents' self_play settings under the course's names. Its SoccerTwos YAML has save_steps 50000,
    # window 10, ratio 0.5: here the learner then forgot how to beat the reference players; a pool of every
    # snapshot, the current self a fifth of the time and more entropy kept it learning (benchmarks/README.md).
    add("--save-steps", type=positive_int, default=20_000, help="learner moves between snapshots")
    add("--swap-steps", type=positive_int, default=2_000, help="learner moves between opponent swaps")
    add("--window", type=positive_int, default=100, help="snapshots kept in the pool (the newest)")
    add("--play-against-latest-model-ratio", type=unit_float, default=0.2, help="P(opponent = current self)")
    add("--initial-elo", type=positive_float, default=1200.0, help="every player's first rating")
    add("--elo-k", type=positive_float, default=16.0, help="K of the ELO update")
    add("--reference-opponents", type=check_opponent, nargs="+", default=REFERENCES, help="never learn")
    add("--elo-games", type=positive_int, default=200, help="games per reference player per snapshot")
    add("--eval-opponent", type=check_opponent, default="alphabeta-3", help="evaluation's and enjoy's")
    add("--publish", choices=["best", "latest"], default="best", help="best: the top-rated snapshot")
    args = parser.parse(argv)
    training_run.check_memory(32 * 42 * args.hidden_size * training_run.BYTES_PER_PARAMETER, "--hidden-size")
    rollout = f"one rollout (--num-envs x --num-steps = {args.num_envs * args.num_steps} moves)"
    if args.num_envs * args.num_steps % args.num_minibatches:
        raise UserError(f"--num-minibatches {args.num_minibatches} does not divide {rollout}")
    if args.total_timesteps < args.num_envs * args.num_steps:
        raise UserError(f"--total-timesteps {args.total_timesteps} is less than {rollout}")
    return args


def make_env(args, render_mode=None, opponent=None, seat="alternate"):
    """PettingZoo's Connect Four with the agent in one seat and a reference player in the other."""
    if resolve_env_id(args.env_id, quiet=True) != "ConnectFour-v3":
        raise UserError(f"ppo_selfplay.py plays ConnectFour-v3 (PettingZoo's), not {args.env_id}")
    opponent = opponent or args.eval_opponent
    return gym.make("ConnectFour-v3", opponent=opponent, seat=seat, render_mode=render_mode)


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Actor-critic on the mover's view of the board (own pieces, other pieces: 6 x 7 x 2). Convolutions that
    keep the board's shape see a three to block the same way in every column, even those its own games
    rarely use; a column's logit is read at the cell where a piece dropped there would land."""

    def __init__(self, hidden_size=128, channels=32):
        super().__init__()
        layers = [layer_init(nn.Conv2d(3, channels, kernel_size=3, padding=1)), nn.ReLU()]
        for _ in range(3):  # four 3x3 layers: each cell sees every line of four through it (and more)
            layers += [layer_init(nn.Conv2d(channels, channels, kernel_size=3, padding=1)), nn.ReLU()]
        self.cells = nn.Sequential(*layers)
        self.actor = layer_init(nn.Conv2d(channels, 1, kernel_size=1), std=0.01)  # near-uniform first moves
        self.critic = nn.Sequential(
            nn.Flatten(),
            layer_init(nn.Linear(channels * 6 * 7, hidden_size)),
            nn.ReLU(),
            layer_init(nn.Linear(hidden_size, 1), std=1.0),
        )

    def features(self, obs):
        """Each cell's features (a plane of ones marks the board's cells) and each column's landing row."""
        planes = torch.cat([obs, torch.ones_like(obs[..., :1])], -1).permute(0, 3, 1, 2)
        landing_row = (6 - obs.sum((1, 3))).long().clamp(min=1) - 1  # the lowest empty cell; row 0: the top
        return self.cells(planes), landing_row

    def logits(self, hidden, mask):
        """Masked logits: a full column gets -1e8, so its probability is exactly 0 (and 0 * log p = 0)."""
        cells, landing_row = hidden
        column_logits = self.actor(cells)[:, 0].gather(1, landing_row[:, None]).squeeze(1)
        return torch.where(mask, column_logits, torch.tensor(-1e8))

    def get_action_and_value(self, obs, mask, action=None):
        """a ~ pi(.|s) among the legal columns (or the given a), log pi(a|s), the entropy and V(s)."""
        hidden = self.features(obs)
        log_pi = self.logits(hidden, mask).log_softmax(-1)
        if action is None:
            action = torch.multinomial(log_pi.exp(), 1).squeeze(-1)
        log_prob = log_pi.gather(-1, action.unsqueeze(-1)).squeeze(-1)
        return action, log_prob, -(log_pi.exp() * log_pi).sum(-1), self.critic(hidden[0]).squeeze(-1)

    def get_value(self, obs):
        return self.critic(self.features(obs)[0]).squeeze(-1)

    def get_action(self, obs, mask):
        return torch.multinomial(self.logits(self.features(obs), mask).softmax(-1), 1).squeeze(-1)

    def get_greedy_action(self, obs, mask):
        return self.logits(self.features(obs), mask).argmax(-1)


def greedy_policy(agent):
    """PettingZoo's observation dict -> the most probable legal column: what is evaluated and published."""

    @torch.inference_mode()
    def policy(observation):
        obs = torch.as_tensor(observation["observation"], dtype=torch.float32)[None]
        return int(agent.get_greedy_action(obs, torch.as_tensor(observation["action_mask"] == 1)[None])[0])

    return policy


def load_policy(run_dir, args):
    """Used by `hub_utils.py enjoy`: rebuilds the Agent and loads model.safetensors (no pickle)."""
    agent = Agent(args.hidden_size)
    agent.load_state_dict(load_file(run_dir / "model.safetensors"))
    return greedy_policy(agent.eval())


# ---- ELO, exactly as the course computes it --------------------------------------------------
def expected_score(rating_a, rating_b):
    """E_A = 1 / (1 + 10^((R_B - R_A) / 400)): A's expected score against B."""
    return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / 400.0))


def elo_update(rating_a, rating_b, score_a, k):
    """R_A' = R_A + K (S_A - E_A) and R_B' = R_B - K (S_A - E_A): what A gains, B loses (S_A 1, 0.5, 0)."""
    change = k * (float(score_a) - expected_score(rating_a, rating_b))  # plain floats: checkpointed
    return rating_a + change, rating_b - change


# ---- The pool of past selves --------------------------------------------------------------------
class SnapshotPool:
    """The last ``window`` snapshots of the learner (state dicts of the same Agent class), by name."""

    def __init__(self, window):
        self.window, self.snapshots = window, OrderedDict()

    def add(self, name, state_dict):
        self.snapshots[name] = {key: value.detach().clone() for key, value in state_dict.items()}
        while len(self.snapshots) > self.window:
            self.snapshots.popitem(last=False)  # the oldest leaves

    def sample(self, latest_ratio, rng):
        """ "latest" (the learner as it is now) with probability latest_ratio, else a pooled snapshot's name
        drawn uniformly; "latest" while the pool is empty."""
        if not self.snapshots or rng.random() < latest_ratio:
            return "latest"
        return list(self.snapshots)[rng.integers(len(self.snapshots))]


def rated_games(agent, reference, games, rng):
    """``games`` games (seats alternating) of the greedy learner against a reference player, all at once:
    returns the learner's scores (1 win, 0.5 draw, 0 loss) in the order the games were set up."""
    board = BatchConnectFour(games)
    learner_player = 1 + np.arange(games) % 2  # 1: the learner moves first
    scores, running = np.full(games, -1.0), np.arange(games)
    while len(running):
        learner_moves = running[board.to_move[running] == learner_player[running]]
        moves = np.zeros(len(running), dtype=np.int64)
        if len(learner_moves):
            obs, mask = board.observe(learner_moves)
            with torch.no_grad():
                greedy = agent.get_greedy_action(torch.from_numpy(obs), torch.from_numpy(mask)).numpy()
            moves[np.isin(running, learner_moves)] = greedy
        for i, game in enumerate(running):
            if game not in learner_moves:
                moves[i] = reference_move(reference, board.boards[game], int(board.to_move[game]), rng)
        movers = board.to_move[running].copy()
        won, draw = board.play(running, moves)
        scores[running[won]] = (movers[won] == learner_player[running[won]]).astype(float)
        scores[running[draw]] = 0.5
        running = running[~(won | draw)]
    return scores


def rate_against_references(agent, elo, args, rng):
    """At each snapshot: --elo-games rated games against every reference player, the ratings updated
    game by game. Returns each reference's scores, for the win/draw/loss rates."""
    results = {}
    for reference in args.reference_opponents:
        results[reference] = rated_games(agent, reference, args.elo_games, rng)
        for score in results[reference]:
            elo["learner"], elo[reference] = elo_update(elo["learner"], elo[reference], score, args.elo_k)
    return results


def main():
    args = parse_args()
    make_env(args).close()  # checks the env id before anything is written
    batch_size, steps_envs = args.num_envs * args.num_steps, (args.num_steps, args.num_envs)
    minibatch_size, num_iterations = batch_size // args.num_minibatches, args.total_timesteps // batch_size
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(1)  # small matrices and a numpy game: one thread is fastest on a CPU
    rng = np.random.default_rng(args.seed)  # opponents' draws, reference players' random choices

    agent, opponent_net = Agent(args.hidden_size), Agent(args.hidden_size)  # opponent: a snapshot's weights
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    pool = SnapshotPool(args.window)
    elo = {name: args.initial_elo for name in ["learner", *args.reference_opponents]}
    games = BatchConnectFour(args.num_envs)
    learner_player = (1 + np.arange(args.num_envs) % 2).astype(np.int8)  # seats alternate, game by game
    start_iteration, global_step, opponent_name, game_count = 1, 0, "latest", 0
    best = dict(score=-1.0, step=0, weights=None)  # the snapshot that scored best against the references
    if args.resume is not None:  # read before anything is written: a bad checkpoint is one line
        keys = "iteration global_step torch_rng rng pool elo boards to_move seats opponent games best"
        into = dict(agent=agent, optimizer=optimizer)
        checkpoint = training_run.load_checkpoint(args.resume / "checkpoint.pt", keys.split(), into)
    run = training_run.start_run(args, __file__)
    if run.resumed:  # the pool, the ratings and the games in progress carry on exactly
        start_iteration, global_step = checkpoint["iteration"], checkpoint["global_step"]
        opponent_name, game_count = checkpoint["opponent"], checkpoint["games"]
        elo, best = checkpoint["elo"], checkpoint["best"]
        torch.set_rng_state(checkpoint["torch_rng"])
        rng.bit_generator.state = checkpoint["rng"]
        for name, state_dict in checkpoint["pool"]:
            pool.add(name, state_dict)
        games.boards, games.to_move = checkpoint["boards"].numpy(), checkpoint["to_move"].numpy()
        learner_player = checkpoint["seats"].numpy()

    def opponent_moves(which):
        """The opponent's move in each of ``which`` games, sampled from its masked policy (as ML-Agents)."""
        obs, mask = games.observe(which)
        with torch.no_grad():
            net = agent if opponent_name == "latest" else opponent_net
            return games.play(which, net.get_action(torch.from_numpy(obs), torch.from_numpy(mask)).numpy())

    if opponent_name != "latest":
        opponent_net.load_state_dict(pool.snapshots[opponent_name])
    first = np.flatnonzero((games.boards == 0).all((1, 2)) & (learner_player == 2))
    if len(first):  # where the learner plays second, the opponent opens
        opponent_moves(first)

    # Rollout storage, (steps, games) per quantity; values has one more row: V after the rollout.
    obs = torch.zeros(steps_envs + (6, 7, 2))
    masks = torch.zeros(steps_envs + (7,), dtype=torch.bool)
    actions = torch.zeros(steps_envs, dtype=torch.long)
    rewards, episode_continues = torch.zeros(steps_envs), torch.zeros(steps_envs)
    values = torch.zeros((args.num_steps + 1, args.num_envs))
    everyone = np.arange(args.num_envs)
    progress = run.progress(args.total_timesteps, "moves", initial=global_step)
    start_time, start_step, recent, k, log = time.time(), global_step, [], args.elo_k, run.writer.add_scalar
    timings = dict(play_s=0.0, update_s=0.0, rated_games_s=0.0)  # where the time goes
    for iteration in range(start_iteration, num_iterations + 1):
        if run.stop_requested:  # Ctrl-C / SIGTERM: checkpoint between iterations (pool and ELO included)
            run.checkpoint_and_exit(
                agent=agent.state_dict(),
                optimizer=optimizer.state_dict(),
                iteration=iteration,
                global_step=global_step,
                torch_rng=torch.get_rng_state(),
                rng=rng.bit_generator.state,
                pool=list(pool.snapshots.items()),
                elo=elo,
                boards=torch.from_numpy(games.boards.copy()),
                to_move=torch.from_numpy(games.to_move.copy()),
                seats=torch.from_numpy(learner_player.copy()),
                opponent=opponent_name,
                games=game_count,
                best=best,
            )
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # 1. Play: the learner moves in every game, then the opponent answers where the game goes on.
        tic = time.time()
        for step in range(args.num_steps):
            board_obs, legal = games.observe(everyone)
            obs[step], masks[step] = torch.from_numpy(board_obs), torch.from_numpy(legal)
            with torch.no_grad():
                actions[step] = agent.get_action(obs[step], masks[step])
            won, draw = games.play(everyone, actions[step].numpy())
            reward, done = won.astype(np.float32), won | draw
            answer = np.flatnonzero(~done)
            if len(answer):
                opponent_won, opponent_draw = opponent_moves(answer)
                reward[answer[opponent_won]] = -1.0
                done[answer] = opponent_won | opponent_draw
            rewards[step], episode_continues[step] = torch.from_numpy(reward), torch.from_numpy(~done)

            # Each finished game rates the learner against its opponent (not against its own current self):
            # S_A = (reward + 1) / 2, 1 for a win, 0.5 for a draw, 0 for a loss.
            ended = np.flatnonzero(done)
            for result in reward[ended]:
                if opponent_name != "latest":
                    ratings = elo_update(elo["learner"], elo[opponent_name], (result + 1) / 2, k)
                    elo["learner"], elo[opponent_name] = ratings
                recent.append(result)
            game_count += len(ended)
            games.reset(ended)
            learner_player[ended] = 3 - learner_player[ended]  # the next game from the other seat
            if len(second := ended[learner_player[ended] == 2]):
                opponent_moves(second)

            global_step += args.num_envs
            if global_step % args.save_steps < args.num_envs:  # a snapshot, at the learner's rating
                name = f"snapshot-{global_step // args.save_steps}"
                pool.add(name, agent.state_dict())
                for gone in [key for key in elo if key.startswith("snapshot-") and key not in pool.snapshots]:
                    del elo[gone]
                elo[name], tic = elo["learner"], time.time()
                results = rate_against_references(agent, elo, args, rng)
                if (score := float(sum(scores.sum() for scores in results.values()))) >= best["score"]:
                    best = dict(score=score, step=global_step, weights=pool.snapshots[name])
                for reference, scores in results.items():
                    for outcome, value in (("win", 1.0), ("draw", 0.5), ("loss", 0.0)):
                        log(f"selfplay/{outcome}_rate_vs_{reference}", np.mean(scores == value), global_step)
                for name in ["learner", *args.reference_opponents]:
                    log(f"elo/{name}", elo[name], global_step)
                timings["rated_games_s"] += time.time() - tic
            if global_step % args.swap_steps < args.num_envs:  # a new opponent, for every game
                opponent_name = pool.sample(args.play_against_latest_model_ratio, rng)
                if opponent_name != "latest":
                    opponent_net.load_state_dict(pool.snapshots[opponent_name])

        timings["play_s"] += time.time() - tic
        # 2. log pi_old(a|s) and V(s) of the rollout in one pass (the policy has not changed since it acted).
        tic = time.time()
        b_obs, b_masks, b_actions = obs.flatten(0, 1), masks.flatten(0, 1), actions.flatten()
        with torch.no_grad():
            _, b_log_probs, _, b_values = agent.get_action_and_value(b_obs, b_masks, b_actions)
            values[:-1] = b_values.view(steps_envs)
            values[-1] = agent.get_value(torch.from_numpy(games.observe(everyone)[0]))

        # 3. GAE: A_t = delta_t + gamma lambda A_{t+1}, restarting where a game ended (no time limits here).
        deltas = rewards + args.gamma * values[1:] * episode_continues - values[:-1]
        advantages, next_advantage = torch.zeros_like(rewards), torch.zeros(args.num_envs)
        for t in reversed(range(args.num_steps)):
            next_advantage = deltas[t] + args.gamma * args.gae_lambda * episode_continues[t] * next_advantage
            advantages[t] = next_advantage
        b_advantages, b_returns = advantages.flatten(), (advantages + values[:-1]).flatten()

        # 4. The clipped surrogate, several epochs of shuffled minibatches (as ppo.py).
        for _ in range(args.update_epochs):
            b_inds = torch.randperm(batch_size)
            for start in range(0, batch_size, minibatch_size):
                mb = b_inds[start : start + minibatch_size]
                _, new_log_prob, entropy, new_value = agent.get_action_and_value(
                    b_obs[mb], b_masks[mb], b_actions[mb]
                )
                ratio = (new_log_prob - b_log_probs[mb]).exp()
                mb_adv = (b_advantages[mb] - b_advantages[mb].mean()) / (b_advantages[mb].std() + 1e-8)
                policy_loss = -torch.min(
                    ratio * mb_adv, ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef) * mb_adv
                ).mean()
                value_loss = 0.5 * ((new_value - b_returns[mb]) ** 2).mean()
                loss = policy_loss - args.ent_coef * entropy.mean() + args.vf_coef * value_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        timings["update_s"] += time.time() - tic
        sps = (global_step - start_step) / (time.time() - start_time)
        log("charts/SPS", sps, global_step)
        log("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        if recent:  # the learner's mean game result (+1 win, 0 draw, -1 loss) over this iteration's games
            log("charts/episodic_return", np.mean(recent), global_step)
        log("losses/value_loss", value_loss.item(), global_step)
        log("losses/policy_loss", policy_loss.item(), global_step)
        log("losses/entropy", entropy.mean().item(), global_step)
        progress.update(batch_size, sps=sps, elo=elo["learner"])
        recent = []
    training_seconds = time.time() - start_time
    timings["play_s"] -= timings["rated_games_s"]  # they were played in the middle of the rollouts

    # Save the weights, play every reference player from both seats on seeds of its own, then publish.
    if args.publish == "best" and best["weights"] is not None:  # as dqn_atari.py publishes its best validated
        agent.load_state_dict(best["weights"])
    training_run.save_weights(agent.eval().state_dict(), run.dir / "model.safetensors")
    policy, seeds = greedy_policy(agent), eval_seeds(args.seed, args.eval_episodes)
    training = dict(learner_moves=global_step, games=game_count, wall_time_s=round(training_seconds, 1))
    training.update(sps=round((global_step - start_step) / training_seconds))
    published = best["step"] if args.publish == "best" and best["weights"] is not None else global_step
    rated = f"{best['score']:g} of {args.elo_games * len(args.reference_opponents)}"
    training["published"] = f"the learner after {published:,} moves (the best rated score: {rated})"
    training.update({name: round(seconds, 1) for name, seconds in timings.items()})
    evaluation_start = time.time()
    for reference in args.reference_opponents:
        for seat in ("first", "second"):
            returns = evaluate(policy, make_env(args, opponent=reference, seat=seat), seeds).returns
            wins, draws, losses = (int(np.sum(np.array(returns) == value)) for value in (1.0, 0.0, -1.0))
            training[f"evaluation vs {reference}, {seat} seat (W/D/L)"] = f"{wins}/{draws}/{losses}"
    training["evaluation s"] = round(time.time() - evaluation_start, 1)
    ranked = sorted(elo, key=lambda name: -elo[name])
    training["elo"] = ", ".join(f"{name} {elo[name]:.0f}" for name in ranked)
    card = dict(algo="ppo_selfplay", algo_title="PPO self-play", model_file="model.safetensors", video_fps=2)
    training_run.publish(run, args, policy, make_env, training=training, **card)


if __name__ == "__main__":
    training_run.run_script(main)
