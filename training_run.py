"""What every training run shares: its flags, its folder, checkpoints, Ctrl-C and --resume, progress,
and publishing at the end. The algorithm scripts call it in a few one-line steps:

    parser = ScriptParser(__doc__, exp_name="ppo", env_defaults=ENV_DEFAULTS)
    parser.add_argument("--gamma", type=unit_float, default=0.99, help="discount factor")
    args = parser.parse(argv)                  # + the shared flags, env defaults, --resume
    run = start_run(args, __file__)            # runs/<run_name>/, TensorBoard, Ctrl-C handling
    ...
    if run.stop_requested:                     # Ctrl-C or SIGTERM, checked at a safe point
        run.checkpoint_and_exit(agent=agent.state_dict(), ...)
    ...
    save_weights(agent.state_dict(), run.dir / "model.safetensors")
    publish(run, args, policy, make_env, ...)  # evaluation, replay, card, upload (hub_utils)

It builds on ``hub_utils`` (the Hub side); ``fast_paths`` holds the optional fast acting paths.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import gymnasium as gym
import numpy as np

from hub_utils import (
    CHECKPOINT_PATTERN,
    RUN_ONLY_FLAGS,
    RUNS_DIR,
    SHARED_MODULES,
    ArgumentParser,
    HubError,
    Policy,
    UserError,
    as_flags,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    default_repo_id,
    eval_seeds,
    evaluate,
    one_line,
    push,
    read_json_object,
    record_video,
    resolve_env_id,
    write_model_card,
    write_replay_files,
)


# ------------------------------------------------------------------------------------------------
# Flags: each flag's accepted values are declared with it, as its argparse type
# ------------------------------------------------------------------------------------------------
def _number(kind: type, accepted: str, ok: Callable[[Any], bool]) -> Callable[[str], Any]:
    """An argparse ``type=``: ``kind(text)``, finite, and ``ok``; else the flag's one-line error."""

    def parse(text: str) -> Any:
        value = kind(text)  # a ValueError here is argparse's "invalid int value: 'x'"
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {accepted}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


positive_int = _number(int, ">= 1", lambda value: value >= 1)
nonnegative_int = _number(int, ">= 0", lambda value: value >= 0)
positive_float = _number(float, "> 0", lambda value: value > 0)
nonnegative_float = _number(float, ">= 0", lambda value: value >= 0)
unit_float = _number(float, "in [0, 1]", lambda value: 0 <= value <= 1)  # gamma, lambda, epsilon
fraction = _number(float, "in (0, 1]", lambda value: 0 < value <= 1)  # tau, a share of the run
finite_float = _number(float, "a finite number", lambda value: True)


def int_in(low: int, high: int, note: str = "") -> Callable[[str], int]:
    """An integer in [low, high], e.g. ``type=int_in(1, 16)``; ``note`` explains a special value."""
    return _number(int, f"in [{low}, {high}]{note}", lambda value: low <= value <= high)


class ScriptParser(ArgumentParser):
    """An algorithm script's flags: its own, then (in ``parse``) the flags every run shares, the
    defaults of the environment asked for (``env_defaults``, keyed by the id's name before ``-v``)
    and, with ``--resume``, the hyperparameters the run was started with."""

    def __init__(
        self, description: str, exp_name: str, env_defaults: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.exp_name, self.env_defaults = exp_name, env_defaults or {}
        defaults = "; ".join(f"{name}: {values}" for name, values in self.env_defaults.items())
        super().__init__(
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=f"Per-environment defaults: {defaults}" if defaults else None,
        )

    def parse(
        self, argv: Sequence[str] | None = None, overrides: Callable[[argparse.Namespace], dict] | None = None
    ) -> argparse.Namespace:
        """The flags as given over the defaults; ``overrides(flags given)`` returns defaults that win over
        the environment's (dqn_atari's budget)."""
        add_run_args(self, self.exp_name)
        known = self.parse_known_args(argv)[0]
        if self.env_defaults:
            self.set_defaults(**self.env_defaults.get(known.env_id.split("-v")[0], {}))
        self.set_defaults(**(overrides(known) if overrides else {}))
        return apply_resume(self.parse_args(argv), self, argv)


def add_run_args(parser: argparse.ArgumentParser, exp_name: str) -> None:
    """Adds the flags every script shares for logging, evaluation, publishing and resuming."""
    group = parser.add_argument_group("run, logging and publishing")
    add, flag = group.add_argument, argparse.BooleanOptionalAction
    add("--exp-name", default=exp_name, help="experiment name, part of the run folder name")
    add("--track", action=flag, default=False, help="log to Weights & Biases (honours WANDB_MODE=offline)")
    add("--wandb-project-name", default="deep-rl-single-file", help="W&B project")
    add("--wandb-entity", default=None, help="W&B team or user")
    add("--capture-video", action=flag, default=True, help="record replay.mp4 of one evaluation episode")
    add("--eval-episodes", type=positive_int, default=10, help="episodes of the final evaluation")
    add("--upload-model", action=flag, default=False, help="push the run folder to the Hub after training")
    add("--repo-id", default=None, help="Hub repository, e.g. user/ppo-LunarLander-v2")
    add(
        "--hf-entity",
        default=None,
        help="Hub user or organisation; the repository becomes {entity}/{algo}-{env id}",
    )
    add(
        "--resume", type=Path, default=None, metavar="RUN_DIR", help="continue the interrupted run in RUN_DIR"
    )


def apply_resume(
    args: argparse.Namespace, parser: argparse.ArgumentParser, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """With ``--resume RUN_DIR``, replaces the hyperparameters in ``args`` by those the run was
    started with (its ``args.json``, read back through ``parser``: a value a flag refuses is refused
    here too); the run-only flags (tracking, upload) stay as given, with a note.

    A folder that is not an interrupted run of this script (no args.json or checkpoint, a corrupt
    args.json, another script's hyperparameters) and a flag on the command line that contradicts the
    saved hyperparameters are each refused in one line."""
    if args.resume is None:
        return args
    what = f"--resume {args.resume}"
    if not (args.resume / "args.json").is_file():
        raise UserError(f"{what}: no args.json there; pass a run folder under runs/")
    saved = read_json_object(args.resume / "args.json", what)
    scripts = sorted(path.name for path in args.resume.glob("*.py") if path.stem not in SHARED_MODULES)
    script = parser.prog if parser.prog.endswith(".py") else "__main__.py"
    if script != "__main__.py" and scripts and script not in scripts:  # (__main__.py: pytest, python -m)
        raise UserError(f"{what}: a run of {', '.join(scripts)}; resume it with that script, not {script}")
    expected = {key for key in vars(args) if key not in RUN_ONLY_FLAGS}
    if missing := sorted(expected - saved.keys()):
        raise UserError(f"{what}: args.json lacks {', '.join(missing)}; this script cannot resume it")
    if not any(args.resume.glob(CHECKPOINT_PATTERN)):
        raise UserError(f"{what}: no checkpoint there (the run finished, or never saved one)")
    words = [word.split("=")[0] for word in (sys.argv[1:] if argv is None else argv)]
    given = {
        parser._option_string_actions[word].dest for word in words if word in parser._option_string_actions
    }
    as_json = {key: json.loads(json.dumps(value, default=str)) for key, value in vars(args).items()}
    changed = sorted(key for key in given & expected if as_json[key] != saved[key])
    flag = {key: "--" + key.replace("_", "-") for key in vars(args)}
    if conflicts := [f"{flag[key]} {as_json[key]} (the run has {saved[key]})" for key in changed]:
        raise UserError(
            f"{what}: {'; '.join(conflicts)}: a resumed run keeps its hyperparameters; drop the flag, "
            "or start a new run"
        )
    if kept := sorted(flag[key] for key in given if key in RUN_ONLY_FLAGS and key != "resume"):
        print(f"note: resuming {args.resume} with {', '.join(kept)} as given on this command line")
    hyperparameters = {key: saved[key] for key in expected}
    try:
        checked = vars(parser.parse_args([word for words in as_flags(hyperparameters) for word in words]))
    except UserError as error:
        raise UserError(f"{what}: {args.resume / 'args.json'}: {error}") from None
    vars(args).update(
        {key: None if value is None else checked[key] for key, value in hyperparameters.items()}
    )
    return args


BYTES_PER_PARAMETER = 16  # float32 weight, gradient and Adam's two moments


def available_memory() -> int:
    """Bytes of memory the machine can give a new process now (Linux: MemAvailable; else all RAM)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:,.0f} {unit}" if unit == "bytes" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1024
    raise AssertionError


def check_memory(nbytes: float, what: str) -> None:
    """Refuses ``what`` (e.g. ``"--buffer-size 10**12: the replay buffer"``) in one line when it needs
    more than the memory available now, saying how much it needs."""
    if nbytes > (available := available_memory()):
        raise UserError(f"{what} needs {_size(nbytes)}, more than the {_size(available)} of memory available")


# ------------------------------------------------------------------------------------------------
# The run: its folder, logger, progress and Ctrl-C
# ------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """A training run's folder, logger, progress and stop flag (set by Ctrl-C or SIGTERM)."""

    dir: Path
    env_id: str  # the gymnasium id actually run (args.env_id keeps the one the user asked for)
    script: str  # file name of the algorithm script, e.g. "ppo.py"
    writer: Any  # torch.utils.tensorboard.SummaryWriter
    resumed: bool
    stop_requested: bool = False
    saving: bool = False
    _wandb_run: Any = field(default=None, repr=False)
    _progress: Progress | None = field(default=None, repr=False)

    def handle_stop_signal(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.saving:  # the checkpoint is being written: finish it rather than lose it
            print(f"\n{name}: the checkpoint is being written; the run stops as soon as it is", flush=True)
        elif self.stop_requested:  # second Ctrl-C before the save began: quit at once
            raise KeyboardInterrupt
        else:
            self.stop_requested = True
            print(
                f"\n{name}: saving a checkpoint at the next safe point (press Ctrl-C again to quit without "
                "saving)",
                flush=True,
            )

    def progress(self, total: int, unit: str, initial: int = 0) -> Progress:
        """The run's progress bar (closed with the run)."""
        self._progress = Progress(total, unit, initial)
        return self._progress

    def save_and_exit(self, save: Callable[[], None]) -> NoReturn:
        """Runs ``save()`` (another Ctrl-C meanwhile waits for it), says how to resume, exits with 130."""
        self.saving = True
        save()
        self.close()
        print(
            f"interrupted: checkpoint saved in {self.dir}\n"
            f"resume with: python algorithms/{self.script} --resume {self.dir}",
            flush=True,
        )
        sys.exit(130)

    def checkpoint_and_exit(self, **state: Any) -> NoReturn:
        """``save_and_exit`` of ``state`` in ``checkpoint.pt``: tensors, state dicts, numbers and
        generator states. A numpy array is saved beside it, as ``checkpoint_<name>.<time>.npy``, and
        the checkpoint holds that file's name: it can be too large to be held twice in memory."""

        def save() -> None:
            arrays = {name: value for name, value in state.items() if isinstance(value, np.ndarray)}
            for name, array in arrays.items():
                state[name] = f"checkpoint_{name}.{time.time_ns()}.npy"
                print(f"saving {name} ({array.nbytes / 1e9:.2f} GB)", flush=True)
                atomic_write(self.dir / state[name], lambda temporary, array=array: np.save(temporary, array))
            save_checkpoint(self.dir / "checkpoint.pt", **state)
            for name in arrays:  # the previous checkpoint's arrays: no checkpoint names them any more
                for stale in set(self.dir.glob(f"checkpoint_{name}.*.npy")) - {self.dir / state[name]}:
                    stale.unlink()

        self.save_and_exit(save)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close()
        self.writer.close()
        if self._wandb_run is not None:
            self._wandb_run.finish()


def start_run(args: argparse.Namespace, script_file: str) -> Run:
    """Creates (or, with ``--resume``, reopens) ``runs/<run_name>/`` and its logger.

    A new run gets ``args.json`` and a copy of the script (``publish`` adds what the folder needs to
    replay on its own); a resumed one loses the temporary files of a save that a kill cut short.
    Ctrl-C and SIGTERM then set ``run.stop_requested`` instead of killing the process.
    """
    script = Path(script_file).name
    if args.resume is not None:
        run_dir = args.resume
    else:
        env_name = args.env_id.replace("/", "-")  # ALE/Pong-v5: one folder, not two
        run_dir = RUNS_DIR / f"{env_name}__{args.exp_name}__{args.seed}__{int(time.time())}"
        suffix = 1
        while run_dir.exists():  # never reuse a folder a user already has
            run_dir = run_dir.with_name(f"{run_dir.name.rsplit('__', 1)[0]}__{int(time.time())}-{suffix}")
            suffix += 1
    env_id = resolve_env_id(args.env_id)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        if args.resume is None:
            hyperparameters = {k: v for k, v in vars(args).items() if k not in RUN_ONLY_FLAGS}
            atomic_write_text(
                run_dir / "args.json", json.dumps(hyperparameters, indent=2, default=str) + "\n"
            )
            atomic_write_bytes(run_dir / script, Path(script_file).read_bytes())
        for leftover in run_dir.glob(".*.tmp*"):  # a save cut short by a kill (atomic_write's files)
            leftover.unlink()
    except OSError as error:  # a read-only or full disk
        raise UserError(f"cannot write the run folder {run_dir}: {error.strerror or error}") from None

    wandb_run = None
    if args.track:
        import wandb  # imported here: only --track needs it

        wandb_run = wandb.init(
            project=args.wandb_project_name,
            entity=args.wandb_entity,
            sync_tensorboard=True,
            config=vars(args),
            name=run_dir.name,
            save_code=True,
        )
    from torch.utils.tensorboard import SummaryWriter  # imported here: q_learning needs no torch otherwise

    writer = SummaryWriter(str(run_dir), flush_secs=10)  # live curves for TensorBoard and benchmarks/tune.py
    table = "\n".join(f"|{key}|{value}|" for key, value in sorted(vars(args).items()))
    writer.add_text("hyperparameters", f"|param|value|\n|-|-|\n{table}")
    run = Run(run_dir, env_id, script, writer, resumed=args.resume is not None, _wandb_run=wandb_run)
    signal.signal(signal.SIGINT, run.handle_stop_signal)
    signal.signal(signal.SIGTERM, run.handle_stop_signal)
    print(f"run folder: {run_dir}" + (" (resumed)" if run.resumed else ""), flush=True)
    return run


def run_script(main: Callable[[], None]) -> None:
    """Runs a script's ``main`` and turns a ``UserError`` into one line on stderr and exit code 2, and a
    second Ctrl-C (quit without saving) into one line and exit code 130."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: quit without saving (a checkpoint saved before, if any, is kept)", file=sys.stderr
        )
        sys.exit(130)


class Progress:
    """A progress bar on a terminal; plain lines every 5% when output is a file or a pipe (CI)."""

    def __init__(self, total: int, unit: str, initial: int = 0) -> None:
        self.total, self.unit, self.done = total, unit, initial
        self._bar = None
        if sys.stdout.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, unit=f" {unit}", dynamic_ncols=True)
        self._next_line = initial + max(total // 20, 1)

    def update(self, count: int, **stats: float) -> None:
        """Advances by ``count`` units; ``stats`` (e.g. sps, ret) are shown beside the count."""
        self.done += count
        shown = {
            key: f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}" for key, value in stats.items()
        }
        if self._bar is not None:
            self._bar.set_postfix(shown, refresh=False)
            self._bar.update(count)
        elif self.done >= self._next_line or self.done >= self.total:
            details = "".join(f" | {key} {value}" for key, value in shown.items())
            print(
                f"{self.done:,}/{self.total:,} {self.unit} ({100 * self.done // self.total}%){details}",
                flush=True,
            )
            self._next_line = self.done + max(self.total // 20, 1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# ------------------------------------------------------------------------------------------------
# Checkpoints, and the episodes a resumed run replays
# ------------------------------------------------------------------------------------------------
def save_checkpoint(path: Path, **state: Any) -> None:
    """Saves a training state with ``torch.save``, atomically."""
    import torch  # imported here: q_learning needs no torch

    atomic_write(path, lambda temporary: torch.save(state, temporary))


def load_checkpoint(
    path: Path, keys: Sequence[str] = (), into: dict[str, Any] | None = None, map_location: Any = "cpu"
) -> dict[str, Any]:
    """Reads a checkpoint written by ``save_checkpoint`` (``torch.load``, weights only: never
    unpickles code) or a ``.npz`` one (numpy, no pickles), checks it holds ``keys``, and loads each
    ``into[name].load_state_dict(state[name])`` (modules, optimizers). A missing, truncated, garbage
    or foreign file, or weights of another shape, is one ``UserError`` line naming the file; call it
    before ``start_run`` so that such a resume writes nothing."""
    path = Path(path)
    what = f"checkpoint {path}"
    if not path.is_file():
        raise UserError(f"{what}: no such file (the run finished, or never saved one)")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                state: Any = {name: archive[name] for name in archive.files}
        else:
            import torch

            state = torch.load(path, weights_only=True, map_location=map_location)
    except Exception as error:  # a truncated zip, garbage bytes, a pickle of forbidden objects...
        raise UserError(f"{what} is unreadable, truncated or not a checkpoint ({one_line(error)})") from None
    if not isinstance(state, dict):
        raise UserError(f"{what} holds a {type(state).__name__}, not a checkpoint of this script")
    if missing := [key for key in (*keys, *(into or {})) if key not in state]:
        raise UserError(f"{what} lacks {', '.join(missing)}: not a checkpoint of this script")
    for name, target in (into or {}).items():
        try:
            target.load_state_dict(state[name])
        except Exception as error:  # size mismatch, missing or unexpected keys, another optimizer
            raise UserError(f"{what}: its {name} does not fit this run ({one_line(error)})") from None
    return state


def load_array(path: Path, rows: int, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only memory map of the ``.npy`` file ``path`` (no pickles), checked to hold at least
    ``rows`` rows of ``shape``; a missing, truncated or foreign file is one ``UserError`` line."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as error:
        raise UserError(f"{path} is unreadable or truncated ({one_line(error)})") from None
    if array.shape[1:] != tuple(shape) or len(array) < rows:
        raise UserError(f"{path} holds an array of shape {array.shape}, not {rows} rows of {tuple(shape)}")
    return array


def save_weights(tensors: dict[str, Any], path: Path) -> None:
    """The trained weights in safetensors (loading them never runs code), written atomically."""
    from safetensors.torch import save

    atomic_write_bytes(path, save(tensors))


class EpisodeRecorder(gym.Wrapper):
    """Remembers how the running episode began (its reset seed, or the state of the environment's
    generator it reset from) and every action since: what a resumed run needs to rebuild the episode
    exactly, for environments that are deterministic given their seed and actions."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        generator = None if seed is not None else self.unwrapped.np_random.bit_generator.state
        self.episode_start = dict(seed=seed, generator=generator, options=options)
        self.episode_actions: list[np.ndarray] = []
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> Any:
        self.episode_actions.append(np.array(action, copy=True))
        return self.env.step(action)


def running_episodes(envs: Any) -> Any:
    """For a checkpoint: each sub-environment's running episode (a vector env of EpisodeRecorders), or
    the seed and actions a vector env that cannot be saved (``fast_paths.EnvpoolVectorEnv``) replays."""
    import torch

    if hasattr(envs.unwrapped, "running_episodes"):
        return envs.unwrapped.running_episodes()
    return [
        dict(env.episode_start, actions=torch.from_numpy(np.array(env.episode_actions)))
        for env in envs.unwrapped.envs
    ]


def replay_running_episodes(envs: Any, episodes: Any) -> np.ndarray:
    """Rebuilds the saved episodes in a freshly reset vector env (the same reset, then the same
    actions, one sub-environment at a time) and its episode statistics; returns the observations that
    the interrupted run would have seen next."""
    replays_itself = hasattr(envs.unwrapped, "running_episodes")  # all of it, from its first reset
    if replays_itself != isinstance(episodes, dict):  # envpool installed or removed since the checkpoint
        engines = ("envpool", "gymnasium") if replays_itself else ("gymnasium", "envpool")
        raise UserError(
            f"the checkpoint's environments ran on {engines[1]}, this run's on {engines[0]}: resume where "
            f"{engines[1]} steps them (pip install envpool==1.2.5, or pip uninstall envpool)"
        )
    if replays_itself:
        observation, _ = envs.reset(seed=episodes["seed"])
        for actions in episodes["actions"].numpy():
            observation, *_ = envs.step(actions)
        return observation
    observations = []
    for index, (env, episode) in enumerate(zip(envs.unwrapped.envs, episodes, strict=True)):
        if episode["seed"] is None:
            env.unwrapped.np_random.bit_generator.state = episode["generator"]
        observation, _ = env.reset(seed=episode["seed"], options=episode["options"])
        episode_return = 0.0
        for action in episode["actions"].numpy():
            observation, reward, *_ = env.step(action)
            episode_return += float(reward)
        envs.episode_returns[index], envs.episode_lengths[index] = episode_return, len(episode["actions"])
        observations.append(observation)
    return np.stack(observations)


# ------------------------------------------------------------------------------------------------
# The end of a run
# ------------------------------------------------------------------------------------------------
def publish(
    run: Run,
    args: argparse.Namespace,
    policy: Policy,
    make_env: Callable[..., gym.Env],
    *,
    algo: str,
    algo_title: str,
    model_file: str,
    video_fps: float,
    training: dict[str, Any],
    seeds: Sequence[int] | None = None,
    dataset_id: str | None = None,
) -> dict[str, Any]:
    """The end of every run, once the model is saved in ``model_file``: the checkpoint goes;
    ``policy`` (deterministic) plays ``args.eval_episodes`` episodes of ``make_env(args)`` on seeds of
    their own (``seeds``, or ``hub_utils.eval_seeds``) and one more is recorded as ``replay.mp4``;
    ``results.json``, the model card and what the folder needs to replay alone are written, and
    ``--upload-model`` pushes it. ``algo`` is the short name of tags and repo names (``ppo``);
    ``dataset_id`` the leaderboard's id (the env id asked for by default)."""
    for checkpoint in run.dir.glob(CHECKPOINT_PATTERN):
        checkpoint.unlink()
    seeds = list(seeds or eval_seeds(args.seed, args.eval_episodes))
    evaluation = evaluate(policy, make_env(args), seeds)
    if args.capture_video:
        record_video(
            policy, make_env(args, render_mode="rgb_array"), run.dir / "replay.mp4", video_fps, seeds[0]
        )
    results = dict(
        algo=algo,
        algo_title=algo_title,
        script=run.script,
        env_id=args.env_id,
        env_id_used=run.env_id,
        dataset_id=dataset_id or args.env_id,
        mean_reward=evaluation.mean,
        std_reward=evaluation.std,
        result=evaluation.result,
        eval_episodes=len(evaluation.returns),
        eval_seeds=evaluation.seeds,
        episode_returns=evaluation.returns,
        episode_lengths=evaluation.lengths,
        model_file=model_file,
        video_fps=video_fps,
        gymnasium_version=gym.__version__,
        training=training,
        date=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )
    atomic_write_text(run.dir / "results.json", json.dumps(results, indent=2) + "\n")
    write_replay_files(run.dir, run.script, run.env_id)
    write_model_card(run.dir)
    run.close()
    repo_id = args.repo_id or f"<user>/{algo}-{results['dataset_id'].replace('/', '-')}"
    print(
        f"evaluation: mean_reward {evaluation.mean:.2f} +/- {evaluation.std:.2f} over {len(seeds)} episodes "
        f"(result {evaluation.result:.2f})\nsaved: {run.dir}"
        + (f"\nreplay: {run.dir / 'replay.mp4'}" if args.capture_video else "")
        + f"\ncurves: tensorboard --logdir {run.dir}",
        flush=True,
    )
    if not args.upload_model:
        print(f"publish: python hub_utils.py push {run.dir} --repo-id {repo_id}")
        return results
    try:  # the model is saved: a failure says why, and how to push the folder later
        repo_id = args.repo_id or default_repo_id(algo, results["dataset_id"], args.hf_entity)
        print(f"pushed: {push(run.dir, repo_id)}")
    except HubError as error:
        print(
            f"error: {error}; the model is saved in {run.dir}: push it later with "
            f"`python hub_utils.py push {run.dir} --repo-id {repo_id}`",
            file=sys.stderr,
        )
        sys.exit(1)
    return results
