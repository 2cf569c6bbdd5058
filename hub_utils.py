"""The one module the algorithm scripts share: run folders, evaluation, replay video, model
cards, and publishing to / loading from the Hugging Face Hub.

Every training run writes one folder, ``runs/<run_name>/``, that is exactly the Hub repository:
TensorBoard events, model weights, ``args.json``, ``results.json``, ``replay.mp4``, ``README.md``
(the model card), a copy of the script, and what the folder needs to replay on its own with pip
packages alone: a copy of this module and a ``requirements.txt`` pinned to the run's versions.
The command line works on such folders:

    python hub_utils.py push runs/<run> --repo-id <user>/<name>
    python hub_utils.py enjoy --repo-id <user>/<name>      (or --path runs/<run>)

``enjoy`` rebuilds an agent from the trusted algorithm file in ``algorithms/`` and the downloaded
weights; nothing downloaded is executed or unpickled (except a course-format ``q-learning.pkl``,
and only with ``--trust-pickle``). A copy of this module inside a downloaded model repository
(no ``algorithms/`` beside it) uses the script beside it: ``python hub_utils.py enjoy --path .``.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import importlib.util
import json
import math
import os
import pickle
import re
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import gymnasium as gym
import numpy as np

# Rendering is always rgb_array, never a window: SDL's dummy video driver keeps pygame-based
# renderers (Taxi, FrozenLake) from looking for a display on headless machines.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

REPO_ROOT = Path(__file__).resolve().parent
ALGORITHMS_DIR = REPO_ROOT / "algorithms"
RUNS_DIR = Path("runs")
CHECKPOINT_PATTERN = "checkpoint*"  # interruption checkpoints stay local, never uploaded

Policy = Callable[[Any], Any]
"""Maps one (unbatched) observation to one action, deterministically."""


class UserError(Exception):
    """Bad input from the user: reported as one line, without a traceback."""


def run_script(main: Callable[[], None]) -> None:
    """Runs a script's ``main`` and turns a ``UserError`` into one line on stderr and exit code 2, and a
    second Ctrl-C (quit without saving, even in the middle of a save) into one line and exit code 130."""
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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` all at once: a reader, or a crash, finds the previous file or the
    new one, never part of one (a temporary file in the same folder, flushed to disk, renamed over)."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's files are private (0600); a run folder is for sharing
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """``atomic_write_bytes`` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


# ------------------------------------------------------------------------------------------------
# Environments
# ------------------------------------------------------------------------------------------------
def _register_optional_envs() -> None:
    """Registers this project's environments (``envs``) and those of optional packages (Atari,
    panda-gym) when they are installed."""
    for package in ("envs", "ale_py", "panda_gym"):
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        if package == "ale_py":
            gym.register_envs(module)


def resolve_env_id(requested: str, quiet: bool = False) -> str:
    """Returns the gymnasium id to run for ``requested``.

    A retired version (``LunarLander-v2``, ``Taxi-v3``) maps to the newest registered version of
    the same environment with a one-line notice; the caller keeps ``requested`` for the model card
    and the leaderboard. An unknown id raises ``UserError`` naming close matches.
    """
    if requested not in gym.registry:
        _register_optional_envs()
    if "ale_py" in sys.modules:  # no ALE banner on the terminal, before an error line or otherwise
        sys.modules["ale_py"].ALEInterface.setLoggerMode(sys.modules["ale_py"].LoggerMode.Error)
    if requested in gym.registry:
        return requested
    try:
        namespace, name, version = gym.envs.registration.parse_env_id(requested)
    except gym.error.Error:
        namespace, name, version = None, None, None
    if name is not None:
        latest = gym.envs.registration.find_highest_version(namespace, name)
        if latest is not None and version is not None and latest > version:
            used = gym.envs.registration.get_env_id(namespace, name, latest)
            if not quiet:
                print(
                    f"note: {requested} is retired in gymnasium {gym.__version__}; running {used} "
                    f"(the model card keeps {requested} for the leaderboard)"
                )
            return used
    if requested.startswith("Panda"):  # panda-gym is optional: say how to install it
        try:
            importlib.import_module("panda_gym")
        except ImportError as error:
            raise UserError(
                f"{requested} needs panda-gym, an optional dependency ({error}): "
                "pip install -r requirements-robotics.txt"
            ) from None
    close = difflib.get_close_matches(requested, list(gym.registry), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "see gymnasium.pprint_registry()"
    raise UserError(f"unknown environment id '{requested}': {hint}")


# ------------------------------------------------------------------------------------------------
# Command-line flags and the run folder
# ------------------------------------------------------------------------------------------------
def add_run_args(parser: argparse.ArgumentParser, exp_name: str) -> None:
    """Adds the flags every script shares for logging, evaluation, publishing and resuming."""
    group = parser.add_argument_group("run, logging and publishing")
    group.add_argument("--exp-name", default=exp_name, help="experiment name, part of the run folder name")
    group.add_argument(
        "--track",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="log to Weights & Biases (honours WANDB_MODE=offline)",
    )
    group.add_argument("--wandb-project-name", default="deep-rl-single-file", help="W&B project")
    group.add_argument("--wandb-entity", default=None, help="W&B team or user")
    group.add_argument(
        "--capture-video",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="record replay.mp4 of one evaluation episode after training",
    )
    group.add_argument(
        "--eval-episodes", type=int, default=10, help="episodes of the final deterministic evaluation"
    )
    group.add_argument(
        "--upload-model",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="push the run folder to the Hugging Face Hub after training",
    )
    group.add_argument("--repo-id", default=None, help="Hub repository, e.g. user/ppo-LunarLander-v2")
    group.add_argument(
        "--hf-entity",
        default=None,
        help="Hub user or organisation; the repository becomes {entity}/{algo}-{env id}",
    )
    group.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="continue the interrupted run in RUN_DIR (its saved hyperparameters are used)",
    )


# Flags that say how to run, log or publish, not what is trained: not saved as hyperparameters.
RUN_ONLY_FLAGS = (
    "track",
    "wandb_project_name",
    "wandb_entity",
    "upload_model",
    "repo_id",
    "hf_entity",
    "resume",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser without abbreviations (``--learning-rat`` is an error, never a silent
    ``--learning-rate``) whose errors are one line, without the usage block: the bad flag, the
    closest valid one, and ``--help`` for the rest. ``--help`` itself is unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def _flags(self) -> list[str]:
        flags = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                flags += [flag for sub in action.choices.values() for flag in sub._option_string_actions]
        return flags

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            word = message.removeprefix("unrecognized arguments: ").split()[0].split("=")[0]
            close = difflib.get_close_matches(word, self._flags(), n=1, cutoff=0.6)
            what = "flag" if word.startswith("-") else "argument"
            message = f"unknown {what} '{word}'" + (f" (did you mean {close[0]}?)" if close else "")
        print(f"error: {self.prog}: {message}; see --help", file=sys.stderr)
        sys.exit(2)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_args(
    args: argparse.Namespace,
    counts: str = "",
    positive: str = "",
    nonnegative: str = "",
    unit: str = "",
    fraction: str = "",
) -> None:
    """Refuses, in one ``UserError`` line naming the flag, the value and what is accepted, any number
    in ``args`` that is NaN or infinite, and any flag out of its range: ``counts`` (integers >= 1),
    ``positive`` (> 0), ``nonnegative`` (>= 0), ``unit`` (in [0, 1]), ``fraction`` (in (0, 1]); each a
    space-separated list of names. A flag left at ``None`` (optional, unset) passes; a list flag is
    checked element by element. A ``seed`` must be >= 0 (numpy's generators refuse negative seeds)."""
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise UserError(f"{_flag(name)} must be a finite number, got {value}")
    rules = (
        (counts, ">= 1", lambda v: v >= 1),
        (positive, "> 0", lambda v: v > 0),
        (nonnegative + (" seed" if "seed" in vars(args) else ""), ">= 0", lambda v: v >= 0),
        (unit, "in [0, 1]", lambda v: 0 <= v <= 1),
        (fraction, "in (0, 1]", lambda v: 0 < v <= 1),
    )
    for names, accepted, ok in rules:
        for name in names.split():
            value = getattr(args, name)
            if value is not None and not all(ok(v) for v in (value if isinstance(value, list) else [value])):
                raise UserError(f"{_flag(name)} must be {accepted}, got {value}")


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


def eval_seeds(train_seed: int, episodes: int) -> list[int]:
    """Evaluation seeds, one per episode, disjoint from the training seeds (seed .. seed + n_envs)."""
    return [1_000_000 + 1_000 * train_seed + episode for episode in range(episodes)]


@dataclass
class Run:
    """A training run's folder, logger and stop flag (set by Ctrl-C or SIGTERM)."""

    dir: Path
    env_id: str  # the gymnasium id actually run (args.env_id keeps the one the user asked for)
    script: str  # file name of the algorithm script, e.g. "ppo.py"
    writer: Any  # torch.utils.tensorboard.SummaryWriter
    resumed: bool
    stop_requested: bool = False
    _wandb_run: Any = field(default=None, repr=False)

    def handle_stop_signal(self, signum: int, frame: Any) -> None:
        if self.stop_requested:  # second Ctrl-C: quit at once
            raise KeyboardInterrupt
        self.stop_requested = True
        print(
            f"\n{signal.Signals(signum).name}: saving a checkpoint at the next safe point "
            "(press Ctrl-C again to quit without saving)",
            flush=True,
        )

    def exit_interrupted(self) -> NoReturn:
        """Call after saving the checkpoint: says how to resume and exits with code 130."""
        self.close()
        print(
            f"interrupted: checkpoint saved in {self.dir}\n"
            f"resume with: python algorithms/{self.script} --resume {self.dir}",
            flush=True,
        )
        sys.exit(130)

    def close(self) -> None:
        self.writer.close()
        if self._wandb_run is not None:
            self._wandb_run.finish()


def _read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``, or one ``UserError`` line naming the file and what is wrong."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:  # ValueError: JSONDecodeError and UnicodeDecodeError
        raise UserError(f"{what}: {path} is not readable JSON ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{what}: {path} holds a JSON {type(data).__name__}, not an object")
    return data


def apply_resume(
    args: argparse.Namespace, parser: argparse.ArgumentParser | None = None, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """With ``--resume RUN_DIR``, replaces the hyperparameters in ``args`` by those the run was
    started with (its ``args.json``); the run-only flags (tracking, upload) stay as given, with a note.
    Scripts call this at the end of argument parsing, before validating or building anything.

    A folder that is not an interrupted run of this script (no args.json or checkpoint, a corrupt
    args.json, another script's hyperparameters) and, given the ``parser`` and ``argv``, a flag on the
    command line that contradicts the saved hyperparameters are each refused in one line."""
    if args.resume is None:
        return args
    what = f"--resume {args.resume}"
    if not (args.resume / "args.json").is_file():
        raise UserError(f"{what}: no args.json there; pass a run folder under runs/")
    saved = _read_json_object(args.resume / "args.json", what)
    scripts = sorted(path.name for path in args.resume.glob("*.py") if path.name != "hub_utils.py")
    script = parser.prog if parser is not None and parser.prog.endswith(".py") else "__main__.py"
    if script != "__main__.py" and scripts and script not in scripts:  # (__main__.py: pytest, python -m)
        raise UserError(
            f"{what}: a run of {', '.join(scripts)}; resume it with that script, not {parser.prog}"
        )
    expected = {key for key in vars(args) if key not in RUN_ONLY_FLAGS}
    if missing := sorted(expected - saved.keys()):
        raise UserError(f"{what}: args.json lacks {', '.join(missing)}; this script cannot resume it")
    if not any(args.resume.glob(CHECKPOINT_PATTERN)):
        raise UserError(f"{what}: no checkpoint there (the run finished, or never saved one)")
    if parser is not None:
        words = [word.split("=")[0] for word in (sys.argv[1:] if argv is None else argv)]
        actions = parser._option_string_actions
        given = {actions[word].dest for word in words if word in actions}
        as_json = {key: json.loads(json.dumps(value, default=str)) for key, value in vars(args).items()}
        changed = sorted(key for key in given & expected if as_json[key] != saved[key])
        conflicts = [f"{_flag(key)} {as_json[key]} (the run has {saved[key]})" for key in changed]
        if conflicts:
            raise UserError(
                f"{what}: {'; '.join(conflicts)}: a resumed run keeps its hyperparameters; drop the flag, "
                "or start a new run"
            )
        if kept := sorted(_flag(key) for key in given if key in RUN_ONLY_FLAGS and key != "resume"):
            print(f"note: resuming {args.resume} with {', '.join(kept)} as given on this command line")
    vars(args).update({key: value for key, value in saved.items() if key in expected})
    return args


def start_run(args: argparse.Namespace, script_file: str) -> Run:
    """Creates (or, with ``--resume``, reopens) ``runs/<run_name>/`` and its logger.

    A new run gets ``args.json`` and a copy of the script (``write_results`` adds what the folder
    needs to replay on its own). Ctrl-C and SIGTERM then set ``run.stop_requested`` instead of
    killing the process.
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
    run = Run(
        dir=run_dir,
        env_id=env_id,
        script=script,
        writer=writer,
        resumed=args.resume is not None,
        _wandb_run=wandb_run,
    )
    signal.signal(signal.SIGINT, run.handle_stop_signal)
    signal.signal(signal.SIGTERM, run.handle_stop_signal)
    print(f"run folder: {run_dir}" + (" (resumed)" if run.resumed else ""), flush=True)
    return run


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
    for an EnvpoolVectorEnv its seed and every action since its reset."""
    import torch

    if isinstance(envs.unwrapped, EnvpoolVectorEnv):
        actions = envs.unwrapped.actions
        return dict(seed=envs.unwrapped.seed, actions=torch.from_numpy(np.array(actions)))
    return [
        dict(env.episode_start, actions=torch.from_numpy(np.array(env.episode_actions)))
        for env in envs.unwrapped.envs
    ]


def replay_running_episodes(envs: Any, episodes: Any) -> np.ndarray:
    """Rebuilds the saved episodes in a freshly reset vector env (the same reset, then the same
    actions, one sub-environment at a time; an EnvpoolVectorEnv replays its whole history) and its
    episode statistics; returns the observations that the interrupted run would have seen next."""
    on_envpool = isinstance(envs.unwrapped, EnvpoolVectorEnv)
    if on_envpool != isinstance(episodes, dict):  # envpool installed or removed since the checkpoint
        engines = ("envpool", "gymnasium") if on_envpool else ("gymnasium", "envpool")
        raise UserError(
            f"the checkpoint's environments ran on {engines[1]}, this run's on {engines[0]}: resume where "
            f"{engines[1]} steps them (pip install envpool==1.2.5, or pip uninstall envpool)"
        )
    if on_envpool:
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


# gymnasium ids whose envpool twin was shown to be the same environment (benchmarks/envpool_check.py:
# episode statistics of random and trained policies on both agree); ppo.py trains on it where installed.
ENVPOOL_TWINS = ("LunarLander-v3",)


def envpool_available(env_id: str) -> bool:
    """Whether ``env_id`` (a resolved gymnasium id) can be stepped by envpool here."""
    return env_id in ENVPOOL_TWINS and importlib.util.find_spec("envpool") is not None


class EnvpoolVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of a gymnasium environment stepped by envpool (C++; about 2.5x gymnasium's
    single-process vector env for LunarLander), behind gymnasium's SAME_STEP vector interface: the
    step that ends an episode returns the next episode's first observation, and its own last one in
    ``info["final_obs"]``. Copy i is seeded with ``seed + i`` at ``reset(seed=...)``. It remembers
    every action since that reset, so ``running_episodes`` / ``replay_running_episodes`` can rebuild
    the same state in a new process by replaying them (envpool's state cannot be saved)."""

    def __init__(self, env_id: str, num_envs: int) -> None:
        single = gym.make(env_id)  # gymnasium's own spaces (envpool's observation bounds differ)
        self.env_id, self.num_envs, self.pool, self.seed = env_id, num_envs, None, 0
        self.single_observation_space = single.observation_space
        self.single_action_space = single.action_space
        self.observation_space = gym.vector.utils.batch_space(single.observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(single.action_space, num_envs)
        self.metadata = dict(single.metadata, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
        self.actions: list[np.ndarray] = []
        single.close()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        import envpool

        self.seed = self.seed if seed is None else seed
        self.pool = envpool.make_gymnasium(self.env_id, num_envs=self.num_envs, num_threads=1, seed=self.seed)
        self.actions = []
        return self.pool.reset()[0], {}

    def step(self, actions: np.ndarray) -> Any:
        self.actions.append(np.array(actions, copy=True))
        obs, reward, terminated, truncated, _ = self.pool.step(actions)
        done, infos = terminated | truncated, {}
        if done.any():
            final_obs = np.empty(self.num_envs, dtype=object)
            for index in np.flatnonzero(done):
                final_obs[index] = obs[index]
            infos = {"final_obs": final_obs, "_final_obs": done}
            obs = obs.copy()
            obs[done] = self.pool.reset(np.flatnonzero(done))[0]
        return obs, reward.astype(np.float64), terminated, truncated, infos

    def close(self, **kwargs: Any) -> None:
        self.pool = None


def numpy_mirror(module: Any, probe: np.ndarray, off_switch: str) -> Callable[[np.ndarray], np.ndarray]:
    """A numpy function computing ``module(x)``, derived from the module at run time, for a fast path
    where torch's per-call overhead outweighs the arithmetic (one observation at a time on a CPU).

    torch.fx traces the module's forward into its operations; each linear layer, activation and
    layer norm is mirrored on numpy views of the parameters (so the mirror always sees the current
    weights). An operation it does not know, or a mirror that does not reproduce ``module(probe)``
    to float32 tolerance, raises ``UserError`` naming it and ``off_switch`` (the flag that turns the
    fast path off). The caller re-checks with ``check_mirror`` whenever it wants proof again.
    """
    import torch  # imported here: q_learning needs no torch
    import torch.fx
    import torch.nn.functional as F

    def linear(layer: Any) -> Callable[[np.ndarray], np.ndarray]:
        weight = layer.weight.detach().numpy()
        bias = None if layer.bias is None else layer.bias.detach().numpy()
        return lambda x: x @ weight.T if bias is None else x @ weight.T + bias

    def layer_norm(layer: Any) -> Callable[[np.ndarray], np.ndarray]:
        if len(layer.normalized_shape) != 1 or not layer.elementwise_affine or layer.bias is None:
            raise ValueError("a LayerNorm over the last dimension with affine weight and bias")
        weight, bias, eps = layer.weight.detach().numpy(), layer.bias.detach().numpy(), layer.eps

        def normalize(x: np.ndarray) -> np.ndarray:
            centered = x - x.mean(-1, keepdims=True)
            return centered / np.sqrt((centered**2).mean(-1, keepdims=True) + eps) * weight + bias

        return normalize

    def elu(alpha: float) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    relu, tanh = (lambda x: np.maximum(x, 0)), np.tanh
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    modules: dict[type, Callable[[Any], Callable[[np.ndarray], np.ndarray]]] = {
        torch.nn.Linear: linear,
        torch.nn.LayerNorm: layer_norm,
        torch.nn.ReLU: lambda _: relu,
        torch.nn.Tanh: lambda _: tanh,
        torch.nn.Sigmoid: lambda _: sigmoid,
        torch.nn.ELU: lambda layer: elu(layer.alpha),
        torch.nn.Identity: lambda _: lambda x: x,
    }
    functions = {torch.relu: relu, F.relu: relu, torch.tanh: tanh, F.tanh: tanh, torch.sigmoid: sigmoid}
    methods = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}

    def fail(what: str) -> NoReturn:
        raise UserError(
            f"the fast numpy path cannot mirror {what} of {type(module).__name__}; "
            f"train without it with {off_switch}"
        )

    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as error:  # fx cannot follow data-dependent Python control flow
        fail(f"the forward pass ({type(error).__name__}: {str(error).splitlines()[0]})")
    steps: list[tuple[str, Callable[[np.ndarray], np.ndarray], str]] = []  # (output, function, input)
    for node in graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        inputs = [arg for arg in node.args if isinstance(arg, torch.fx.Node)]
        operation = (
            node.target if isinstance(node.target, str) else getattr(node.target, "__name__", node.target)
        )
        if len(inputs) != 1:
            fail(f"'{operation}' (an operation on {len(inputs)} tensors)")
        if node.op == "call_module":
            layer = module.get_submodule(node.target)
            if type(layer) not in modules:
                fail(f"layer '{node.target}' ({type(layer).__name__})")
            try:
                function = modules[type(layer)](layer)
            except ValueError as error:
                fail(f"layer '{node.target}' (only {error})")
        elif node.op == "call_function" and node.target is F.elu:
            function = elu(node.kwargs.get("alpha", node.args[1] if len(node.args) > 1 else 1.0))
        elif node.op == "call_function" and node.target in functions and len(node.args) == 1:
            function = functions[node.target]
        elif node.op == "call_method" and node.target in methods and len(node.args) == 1:
            function = methods[node.target]
        else:
            fail(f"'{operation}' with arguments {node.args[1:]} {node.kwargs or ''}".rstrip())
        steps.append((node.name, function, inputs[0].name))
    output_name = next(node for node in graph.nodes if node.op == "output").args[0].name
    input_name = next(node for node in graph.nodes if node.op == "placeholder").name

    def mirror(x: np.ndarray) -> np.ndarray:
        values = {input_name: np.asarray(x, dtype=np.float32)}
        for name, function, source in steps:
            values[name] = function(values[source])
        return values[output_name]

    check_mirror(mirror, module, probe, off_switch)
    return mirror


def check_mirror(
    mirror: Callable[[np.ndarray], np.ndarray], module: Any, probe: np.ndarray, off_switch: str
) -> None:
    """Raises ``UserError`` unless ``mirror(probe)`` equals ``module(probe)`` to float32 tolerance."""
    import torch

    with torch.no_grad():
        expected = module(torch.as_tensor(probe, dtype=torch.float32)).numpy()
    error = float(np.abs(mirror(probe) - expected).max())
    if not error <= 1e-4 * (1.0 + float(np.abs(expected).max())):
        raise UserError(
            f"the fast numpy path does not reproduce {type(module).__name__}'s forward pass (largest "
            f"difference {error:.3g}); train without it with {off_switch}"
        )


class PolicySampler:
    """a ~ pi(.|s) for a rollout on a CPU, where torch's per-call overhead outweighs the maths of a few
    observations: ``actor`` (the module giving logits, or a Gaussian's mean with the state-independent
    ``log_std`` parameter) runs as ``numpy_mirror(actor)``, and numpy draws the action from the same
    distribution with ``rng``. ``check()`` proves the mirror again against the module (after an update)."""

    def __init__(
        self, actor: Any, log_std: Any, probe: np.ndarray, rng: np.random.Generator, off_switch: str
    ):
        self.actor, self.log_std, self.probe, self.rng = actor, log_std, probe, rng
        self.off_switch = off_switch
        self.mirror = numpy_mirror(actor, probe, off_switch)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        output = self.mirror(obs)
        if self.log_std is not None:  # mean + std * N(0, 1)
            noise = self.rng.standard_normal(output.shape, dtype=np.float32)
            return output + np.exp(self.log_std.detach().numpy()) * noise
        cumulative = np.exp(output - output.max(-1, keepdims=True)).cumsum(-1)  # softmax, unnormalized
        uniform = self.rng.random((len(output), 1), dtype=np.float32) * cumulative[:, -1:]
        return np.minimum((uniform >= cumulative).sum(-1), output.shape[-1] - 1)  # inverse CDF

    def check(self) -> None:
        check_mirror(self.mirror, self.actor, self.probe, self.off_switch)


def save_checkpoint(path: Path, **state: Any) -> None:
    """Saves a training state with ``torch.save`` atomically (``_save_atomically``)."""
    import torch  # imported here: q_learning needs no torch

    _save_atomically(path, lambda file: torch.save(state, file))


def _save_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Streams ``write(file)`` into a temporary file in the same folder, flushes it to disk, then
    renames it over ``path``: an interrupted or failed save leaves the previous file (or none), never
    half of one. A failed save (a full disk, a read-only folder) is one ``UserError`` line."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            kept = "the previous one, if any, is kept"
            raise UserError(f"could not save {path} ({_one_line(error)}); {kept}") from None
        raise


def _one_line(error: BaseException) -> str:
    """An exception as one line (a state-dict mismatch is several: they are joined)."""
    text = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}"


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
        raise UserError(f"{what} is unreadable, truncated or not a checkpoint ({_one_line(error)})") from None
    if not isinstance(state, dict):
        raise UserError(f"{what} holds a {type(state).__name__}, not a checkpoint of this script")
    if missing := [key for key in (*keys, *(into or {})) if key not in state]:
        raise UserError(f"{what} lacks {', '.join(missing)}: not a checkpoint of this script")
    for name, target in (into or {}).items():
        try:
            target.load_state_dict(state[name])
        except Exception as error:  # size mismatch, missing or unexpected keys, another optimizer
            raise UserError(f"{what}: its {name} does not fit this run ({_one_line(error)})") from None
    return state


def save_weights(tensors: dict[str, Any], path: Path) -> None:
    """safetensors' ``save_file``, written atomically (an interrupted save leaves the old file or none)."""
    from safetensors.torch import save

    atomic_write_bytes(path, save(tensors))


def save_array(path: Path, array: np.ndarray) -> None:
    """``np.save`` written atomically (``_save_atomically``), streamed: no copy in memory."""
    _save_atomically(path, lambda file: np.save(file, array))


def load_array(path: Path, rows: int, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only memory map of the ``.npy`` file ``path`` (no pickles), checked to hold at least
    ``rows`` rows of ``shape``; a missing, truncated or foreign file is one ``UserError`` line."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as error:
        raise UserError(f"{path} is unreadable or truncated ({_one_line(error)})") from None
    if array.shape[1:] != tuple(shape) or len(array) < rows:
        raise UserError(f"{path} holds an array of shape {array.shape}, not {rows} rows of {tuple(shape)}")
    return array


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
        shown = {key: f"{value:.4g}" for key, value in stats.items()}
        if self._bar is not None:
            self._bar.set_postfix(shown, refresh=False)
            self._bar.update(count)
        elif self.done >= self._next_line or self.done >= self.total:
            details = "".join(f" | {key} {value}" for key, value in shown.items())
            print(
                f"{self.done}/{self.total} {self.unit} ({100 * self.done // self.total}%){details}",
                flush=True,
            )
            self._next_line = self.done + max(self.total // 20, 1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ------------------------------------------------------------------------------------------------
# Evaluation and replay
# ------------------------------------------------------------------------------------------------
@dataclass
class EvalResult:
    """Returns of a deterministic evaluation; ``result = mean - std`` is the course's score."""

    returns: list[float]
    lengths: list[int]
    seeds: list[int]

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:  # population std (ddof=0), as the course computes it
        return float(np.std(self.returns))

    @property
    def result(self) -> float:
        return self.mean - self.std


def evaluate(policy: Policy, env: gym.Env, seeds: Sequence[int]) -> EvalResult:
    """Plays one episode per seed with ``policy`` on ``env`` (a separate evaluation env)."""
    returns, lengths = [], []
    for seed in seeds:
        observation, _ = env.reset(seed=int(seed))
        episode_return, length, done = 0.0, 0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(policy(observation))
            episode_return += float(reward)
            length += 1
            done = terminated or truncated
        returns.append(episode_return)
        lengths.append(length)
    env.close()
    return EvalResult(returns=returns, lengths=lengths, seeds=[int(seed) for seed in seeds])


def record_video(
    policy: Policy, env: gym.Env, path: Path, fps: float, seed: int, max_steps: int = 10_000
) -> int:
    """Writes one episode of ``env`` (made with ``render_mode="rgb_array"``) to an mp4 with
    imageio's ffmpeg; stops at termination, truncation or ``max_steps``. Returns the frame count."""
    import imageio.v2 as imageio

    observation, _ = env.reset(seed=seed)
    frames = [env.render()]
    for _ in range(max_steps):
        observation, _, terminated, truncated, _ = env.step(policy(observation))
        frames.append(env.render())
        if terminated or truncated:
            break
    env.close()
    # Written whole, then renamed over `path` (as atomic_write_bytes; the suffix tells imageio the format).
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        # macro_block_size=2 keeps the frame size (only odd sizes are padded, as H.264 needs)
        imageio.mimwrite(temporary, frames, fps=fps, codec="libx264", macro_block_size=2)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(frames)


# ------------------------------------------------------------------------------------------------
# Results and model card
# ------------------------------------------------------------------------------------------------
def write_results(
    run: Run,
    args: argparse.Namespace,
    *,
    algo: str,
    algo_title: str,
    evaluation: EvalResult,
    model_file: str,
    video_fps: float,
    dataset_id: str | None = None,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Writes ``results.json``, what the folder needs to replay on its own (``write_replay_files``)
    and the model card; returns the results.

    ``algo`` is the short name used in tags and repo names (``q-learning``, ``ppo``);
    ``dataset_id`` is the leaderboard's id (defaults to the requested env id).
    """
    results = {
        "algo": algo,
        "algo_title": algo_title,
        "script": run.script,
        "env_id": args.env_id,
        "env_id_used": run.env_id,
        "dataset_id": dataset_id or args.env_id,
        "mean_reward": evaluation.mean,
        "std_reward": evaluation.std,
        "result": evaluation.result,
        "eval_episodes": len(evaluation.returns),
        "eval_seeds": evaluation.seeds,
        "episode_returns": evaluation.returns,
        "episode_lengths": evaluation.lengths,
        "model_file": model_file,
        "video_fps": video_fps,
        "gymnasium_version": gym.__version__,
        "training": training or {},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    atomic_write_text(run.dir / "results.json", json.dumps(results, indent=2) + "\n")
    write_replay_files(run.dir, run.script, run.env_id)
    write_model_card(run.dir)
    print(
        f"evaluation: mean_reward {evaluation.mean:.2f} +/- {evaluation.std:.2f} over "
        f"{len(evaluation.returns)} episodes (result {evaluation.result:.2f})\nsaved: {run.dir}",
        flush=True,
    )
    return results


def reproduce_command(script: str, hyperparameters: dict[str, Any]) -> str:
    """The command line that retrains with exactly these hyperparameters."""
    parts = [f"python algorithms/{script}"]
    for key, value in hyperparameters.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else f"--no-{key.replace('_', '-')}")
        elif isinstance(value, list):  # nargs flags: --hidden-sizes 120 84
            parts.append(" ".join([flag, *(shlex.quote(str(item)) for item in value)]))
        elif value is not None:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " \\\n    ".join(parts)


# Import names whose packages a replay needs when this process used them, beside the script's own
# imports and the environment's package: gymnasium's renderers (pygame), LunarLander's Box2D, the
# Atari preprocessing's cv2, and what hub_utils itself uses to evaluate, record and download.
REPLAY_IMPORTS = ("gymnasium", "numpy", "safetensors", "huggingface_hub", "imageio", "imageio_ffmpeg")
REPLAY_IMPORTS_IF_USED = ("Box2D", "cv2")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def replay_requirements(script_path: Path, env_id: str) -> str:
    """``requirements.txt`` for a run folder: the packages the script, the environment and
    ``hub_utils`` need to replay it, pinned to the versions installed now (local version labels
    such as ``+cpu`` dropped, so that PyPI's builds match)."""
    import ast
    import importlib.metadata as metadata
    import platform

    tree = ast.parse(script_path.read_text())
    imports = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imports |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    entry_point = str(gym.spec(env_id).entry_point)
    imports.add(entry_point)  # the environment's package: ale_py, panda_gym, gymnasium, ...
    if entry_point.startswith("gymnasium.envs."):
        imports.add("pygame")  # gymnasium's own environments render with pygame (pygame-ce)
    imports.update(REPLAY_IMPORTS)
    imports.update(name for name in REPLAY_IMPORTS_IF_USED if name in sys.modules)
    top_level = {name.split(".")[0].split(":")[0] for name in imports} - {"hub_utils", "envs"}
    providers = metadata.packages_distributions()
    pins = {}
    for name in sorted(top_level):
        for distribution in providers.get(name, []):
            pins[distribution.lower()] = metadata.version(distribution).split("+")[0]
    lines = [
        "# What this model needs to replay: pip install -r requirements.txt, then",
        "#   python hub_utils.py enjoy --path .",
        f"# Pinned to the versions the run used (Python {platform.python_version()}, {platform.system()}).",
    ]
    if "torch" in pins:
        lines.append(
            f"# torch from PyPI on Linux brings CUDA libraries (several GB); the CPU-only build: first\n"
            f"#   pip install torch=={pins['torch']} --index-url {TORCH_CPU_INDEX}"
        )
    if "pybullet" in pins or "panda-gym" in pins:
        lines.append("# pybullet (panda-gym): wheels for Python 3.10 and 3.11 only, elsewhere a compiler.")
    return "\n".join(lines + [f"{name}=={version}" for name, version in sorted(pins.items())]) + "\n"


def write_replay_files(run_dir: Path, script: str, env_id: str) -> None:
    """What a run folder needs to replay on its own, with pip packages alone: a copy of this module
    (the script imports it), ``requirements.txt`` (``replay_requirements``) and, for an environment
    of this project's ``envs`` package (Pixelcopter), a copy of that package."""
    atomic_write_bytes(run_dir / "hub_utils.py", Path(__file__).read_bytes())
    atomic_write_text(run_dir / "requirements.txt", replay_requirements(run_dir / script, env_id))
    if str(gym.spec(env_id).entry_point).startswith("envs."):
        import envs  # this project's environments: registered with gymnasium when imported

        (run_dir / "envs").mkdir(exist_ok=True)
        for source in sorted(Path(envs.__file__).parent.glob("*.py")):
            atomic_write_bytes(run_dir / "envs" / source.name, source.read_bytes())


# The last line of every card hub_utils writes: the digest of the text above it. A card whose line
# no longer matches was edited by hand; `push` then uploads it as it is and never rewrites it.
CARD_SIGNATURE = "<!-- written by hub_utils.py (sha256 {digest}); once edited, push keeps it as it is -->"


def _signed(card: str) -> str:
    """``card`` with ``CARD_SIGNATURE`` (the digest of its text) as its last line."""
    import hashlib

    text = card.rstrip("\n")
    return f"{text}\n\n{CARD_SIGNATURE.format(digest=hashlib.sha256(text.encode()).hexdigest())}\n"


def card_edited_by_hand(card: str) -> bool:
    """Whether a model card is not exactly as hub_utils wrote it (see ``CARD_SIGNATURE``)."""
    text, _, _ = card.rstrip("\n").rpartition("\n\n")
    return _signed(text) != card


def render_model_card(run_dir: Path, repo_id: str | None = None) -> str:
    """The model card for a run folder, from ``results.json`` and ``args.json``: course-leaderboard
    metadata (the tags the course's own code writes for the same unit, and a ``model-index`` whose
    dataset id is the requested env id) and a readable body. ``repo_id`` goes into the commands."""
    from huggingface_hub import EvalResult as CardEvalResult
    from huggingface_hub import ModelCard, ModelCardData

    results = json.loads((run_dir / "results.json").read_text())
    hyperparameters = json.loads((run_dir / "args.json").read_text())
    dataset_id, algo, script = results["dataset_id"], results["algo"], results["script"]
    score = f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    card_data = ModelCardData(
        # The course's Unit 8 tags; Unit 4's notebook adds "deep-rl-class" to REINFORCE cards.
        tags=[
            dataset_id,
            algo,
            "deep-reinforcement-learning",
            "reinforcement-learning",
            "custom-implementation",
            "deep-rl-course",
        ]
        + (["deep-rl-class"] if algo == "reinforce" else []),
        model_name=repo_id.split("/")[-1] if repo_id else f"{algo}-{dataset_id}",  # as Units 2 and 4
        eval_results=[
            CardEvalResult(
                task_type="reinforcement-learning",
                task_name="reinforcement-learning",
                dataset_type=dataset_id,
                dataset_name=dataset_id,
                metric_type="mean_reward",
                metric_name="mean_reward",
                metric_value=score,
                verified=False,  # as the course's and SB3's cards: not checked by the Hub
            )
        ],
    )
    used = results["env_id_used"]
    ran_on = (
        f" (run as `{used}` with gymnasium {results['gymnasium_version']}, which retired "
        f"`{results['env_id']}`)"
        if used != results["env_id"]
        else ""
    )
    table = "\n".join(f"| {key} | {value} |" for key, value in hyperparameters.items() if value is not None)
    load = f"--repo-id {repo_id}" if repo_id else f"--path runs/{run_dir.name}"
    training = "".join(
        f"| training {key.replace('_', ' ')} | {value} |\n" for key, value in results["training"].items()
    )
    module = Path(script).stem
    standalone = ""
    if (run_dir / "hub_utils.py").is_file() and (run_dir / "requirements.txt").is_file():
        folder = (repo_id or "model").rsplit("/", 1)[-1]
        standalone = f"""
**On its own, with pip packages only.** This repository carries the script, `hub_utils.py` and a
`requirements.txt` pinned to the versions the run used:

```bash
hf download {repo_id or "<user>/<repo>"} --local-dir {folder} && cd {folder}
python -m venv .venv && . .venv/bin/activate      # Windows: .venv\\Scripts\\activate
pip install -r requirements.txt
python hub_utils.py enjoy --path .
```

That runs `{script}` and `hub_utils.py` from this repository: running downloaded code is running
someone else's code. Read them first, or use a machine or container you can throw away.

**In plain Python**, from that folder: `load_policy` builds the script's network (or table) and loads
`{results["model_file"]}` into it.

```python
import argparse, json
import {module}  # {script}, from this repository

args = argparse.Namespace(**json.load(open("args.json")))
policy = {module}.load_policy(".", args)  # observation -> action, deterministic
env = {module}.make_env(args)
observation, info = env.reset(seed=0)
done = False
while not done:
    observation, reward, terminated, truncated, info = env.step(policy(observation))
    done = terminated or truncated
```
"""
    body = f"""
# {results["algo_title"]} agent playing {dataset_id}

A **{results["algo_title"]}** agent trained on **{results["env_id"]}**{ran_on} with the single-file
implementation `{script}` (a copy is in this repository).

## Evaluation

| metric | value |
| --- | --- |
| mean_reward | {score} |
| result (mean - std, the course's score) | {results["result"]:.2f} |
| evaluation episodes | {results["eval_episodes"]}, deterministic policy, seeds in `results.json` |
{training}
## Hyperparameters

| parameter | value |
| --- | --- |
{table}

## Reproduce

```bash
{reproduce_command(script, hyperparameters)}
```

## Use this model

**With the project that trained it** (single-file deep RL: `algorithms/`, `hub_utils.py`), nothing
downloaded is executed: `enjoy` fetches `args.json`, `results.json` and the weights only, rebuilds
the agent from your own `algorithms/{script}`, evaluates it with the seeds above and writes a replay:

```bash
python hub_utils.py enjoy {load}
```
{standalone}"""
    return _signed(ModelCard(f"---\n{card_data.to_yaml()}\n---\n{body}").content)


def write_model_card(run_dir: Path, repo_id: str | None = None) -> None:
    """Writes ``README.md``, the card ``render_model_card`` makes, atomically."""
    atomic_write_text(run_dir / "README.md", render_model_card(run_dir, repo_id))


# ------------------------------------------------------------------------------------------------
# The Hub: push and enjoy
# ------------------------------------------------------------------------------------------------
class HubError(Exception):
    """A Hub request that failed for a reason the user can fix (login, permissions, network)."""


def default_repo_id(algo: str, dataset_id: str, entity: str | None) -> str:
    """``{entity}/{algo}-{dataset_id}``; without an entity, the logged-in user's name. A namespaced
    id's slash (``ALE/Pong-v5``) becomes a dash: a repository name cannot contain one."""
    if entity is None:
        entity = _hub_call(lambda api: api.whoami()["name"], "find your Hub user name")
    return f"{entity}/{algo}-{dataset_id.replace('/', '-')}"


def _hub_call(action: Callable[[Any], Any], what: str, needs_token: bool = True) -> Any:
    """Runs ``action(HfApi())`` and turns the failures a user can fix into one-line HubErrors.

    Writing needs a token: without one, we say so before the Hub answers with a bare 401.
    """
    import httpx2  # huggingface_hub 2.x's HTTP client: connection failures are its errors
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    try:
        if needs_token and get_token() is None:
            raise LocalTokenNotFoundError
        return action(HfApi())
    except LocalTokenNotFoundError:
        raise HubError(f"cannot {what}: not logged in (run `hf auth login` or set HF_TOKEN)") from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        reason = {
            401: "the Hub rejected the token (401): log in again with `hf auth login` or fix HF_TOKEN",
            403: "permission denied (403): the token cannot write there; use a write token "
            "or your own namespace",
            404: "no such repository or revision (404)",
        }.get(status, f"the Hub answered {status}: {str(error).splitlines()[0]}")
        raise HubError(f"cannot {what}: {reason}") from None
    except (httpx2.HTTPError, OSError) as error:
        raise HubError(f"cannot {what}: the Hub is unreachable ({type(error).__name__}: {error})") from None


def _folder_files(run_dir: Path) -> list[tuple[str, Path]]:
    """The files of a run folder that make its Hub repository: all but checkpoints (they stay local),
    caches and leftover temporary files. Pairs of (path in the repository, file)."""
    files = []
    for path in sorted(run_dir.rglob("*")):
        relative = path.relative_to(run_dir)
        skipped = any(part in (".git", ".cache", "__pycache__") for part in relative.parts)
        if path.is_file() and not skipped and not fnmatch.fnmatch(relative.parts[0], CHECKPOINT_PATTERN):
            if not (path.name.startswith(".") and ".tmp" in path.suffixes):  # an interrupted write
                files.append((relative.as_posix(), path))
    return files


def check_repo_id(repo_id: str) -> None:
    """Refuses a malformed Hub repository id in one line (before any network call)."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id) or ".." in repo_id or repo_id.endswith((".", "-")):
        raise UserError(f"--repo-id {repo_id!r} is not a repository id: use <user or organisation>/<name>")


def push(run_dir: Path, repo_id: str, private: bool = False) -> str:
    """Creates ``repo_id`` if needed and uploads the run folder (checkpoints excluded) in one commit.

    The card is rendered for the upload (its commands name ``repo_id``) without touching the folder;
    once the upload succeeded it replaces ``README.md``, unless that card was edited by hand, which is
    then uploaded as it is and kept. A failed push leaves the folder byte for byte as it was.
    Returns the repository URL; raises ``HubError`` with a one-line reason on failure.
    """
    if not (run_dir / "results.json").is_file():
        raise UserError(f"{run_dir} is not a finished run folder (no results.json)")
    check_repo_id(repo_id)
    card_path = run_dir / "README.md"
    users_card = card_path.read_bytes() if card_path.is_file() else None
    keep_users_card = users_card is not None and card_edited_by_hand(users_card.decode("utf-8", "replace"))
    card = users_card if keep_users_card else render_model_card(run_dir, repo_id).encode("utf-8")

    def upload(api: Any) -> str:
        from huggingface_hub import CommitOperationAdd

        url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        operations = [
            CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path))
            for name, path in _folder_files(run_dir)
            if name != "README.md"
        ] + [CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card)]
        api.create_commit(repo_id, operations, repo_type="model", commit_message=f"Upload {run_dir.name}")
        return str(url)

    url = _hub_call(upload, f"push {run_dir} to {repo_id}")
    if keep_users_card:
        print(f"note: {card_path} was edited by hand: uploaded as it is, and left unchanged")
    else:
        atomic_write_bytes(card_path, card)  # the local card now names the repository, as the Hub's
    return url


def upload_if_requested(run: Run, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Pushes the run when ``--upload-model`` was given (repo from --repo-id or --hf-entity).

    The model is already saved: a failure prints one line, saying why and how to push the folder
    later, and exits with code 1.
    """
    if not args.upload_model:
        return
    repo_id = args.repo_id or "<user>/<name>"
    try:
        repo_id = args.repo_id or default_repo_id(results["algo"], results["dataset_id"], args.hf_entity)
        print(f"pushed: {push(run.dir, repo_id)}")
    except HubError as error:
        print(
            f"error: {error}; the model is saved in {run.dir}: push it later with "
            f"`python hub_utils.py push {run.dir} --repo-id {repo_id}`",
            file=sys.stderr,
        )
        sys.exit(1)


def load_algorithm(script: str) -> ModuleType:
    """Imports a trusted algorithm file by file name: from this project's ``algorithms/``, or, for
    the copy of this module inside a model repository (no ``algorithms/`` beside it), from the
    folder this module is in, which the user chose to run."""
    folder = ALGORITHMS_DIR if ALGORITHMS_DIR.is_dir() else REPO_ROOT
    path = folder / script
    if not re.fullmatch(r"[a-z0-9_]+\.py", script) or not path.is_file():
        known = ", ".join(sorted(p.name for p in folder.glob("*.py") if p.name != "hub_utils.py"))
        raise UserError(f"unknown algorithm script '{script}' (known: {known})")
    spec = importlib.util.spec_from_file_location(f"algorithms.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COURSE_PICKLE = "q-learning.pkl"  # the Deep RL Course's Unit 2 model format
PICKLE_WARNING = (
    f"holds a course-format {COURSE_PICKLE}: loading a pickle can run arbitrary code; "
    "pass --trust-pickle only if you trust its author"
)


def _import_course_pickle(folder: Path, output: Path) -> Path:
    """Converts the course's ``q-learning.pkl`` into a run folder (args.json, results.json, table)
    that replays as the course's ``evaluate_agent`` does.

    The course's Unit 2 ``push_to_hub`` writes ``map_name`` for FrozenLake and ``slippery: False``
    only for non-slippery ice: no ``slippery`` key means slippery (gymnasium's default, which its
    ``load_from_hub`` example gets with ``gym.make(model["env_id"])``). Episodes end after
    ``max_steps`` steps or the environment's own time limit; ``n_eval_episodes`` episodes are played,
    reset with ``eval_seed[i]``; without seeds the course does not seed them, and we use our own.
    """
    try:
        with open(folder / COURSE_PICKLE, "rb") as file:
            model = pickle.load(file)  # the user vouched for this file with --trust-pickle
    except Exception as error:  # truncated or not a pickle
        raise UserError(f"{folder / COURSE_PICKLE} is not a readable pickle ({_one_line(error)})") from None
    try:
        env_id = str(model["env_id"])
        qtable = np.asarray(model["qtable"], dtype=np.float64)
        max_steps = int(model.get("max_steps", 99))
        seeds = [int(seed) for seed in model.get("eval_seed") or []]
        episodes = int(model.get("n_eval_episodes") or len(seeds) or 100)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UserError(f"{folder / COURSE_PICKLE} is not a course Q-learning model ({error!r})") from None
    if seeds and episodes > len(seeds):
        raise UserError(f"{COURSE_PICKLE}: n_eval_episodes {episodes} but {len(seeds)} eval_seed entries")
    time_limit = gym.spec(resolve_env_id(env_id, quiet=True)).max_episode_steps
    flags = ["--env-id", env_id, "--max-steps", str(min(max_steps, time_limit or max_steps))]
    if env_id.startswith("FrozenLake"):
        map_name = model.get("map_name") or {16: "4x4", 64: "8x8"}.get(qtable.shape[0])
        if map_name is None:
            raise UserError(f"{COURSE_PICKLE}: no map_name, and {qtable.shape[0]} states (4x4: 16, 8x8: 64)")
        slippery = model.get("slippery", True)
        flags += ["--map-name", str(map_name), "--is-slippery" if slippery else "--no-is-slippery"]
    flags += ["--eval-episodes", str(episodes)]
    module = load_algorithm("q_learning.py")
    args = module.parse_args(flags)
    hyperparameters = {key: value for key, value in vars(args).items() if key not in RUN_ONLY_FLAGS}
    results = dict(
        algo="q-learning",
        algo_title="Q-Learning",
        script="q_learning.py",
        env_id=env_id,
        eval_seeds=seeds[:episodes] or eval_seeds(args.seed, episodes),
        video_fps=1,
    )
    output.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output / "args.json", json.dumps(hyperparameters, default=str))
    atomic_write_text(output / "results.json", json.dumps(results))
    np.savez(output / "qtable.npz", qtable=qtable)
    return output


def enjoy(
    folder: Path, eval_episodes: int | None = None, video_path: Path | None = None, trust_pickle: bool = False
) -> EvalResult:
    """Rebuilds the agent saved in ``folder``, evaluates it deterministically and records a replay.

    ``folder`` holds ``args.json`` and ``results.json`` (the algorithm and evaluation seeds) and the
    weights; the agent class comes from the local ``algorithms/<script>``.
    """
    if not (folder / "args.json").is_file() and (folder / COURSE_PICKLE).is_file():
        if not trust_pickle:
            raise UserError(f"{folder} {PICKLE_WARNING}")
        folder = _import_course_pickle(folder, Path(tempfile.mkdtemp(prefix="course-model-")))
    for name in ("args.json", "results.json"):
        if not (folder / name).is_file():
            raise UserError(f"{folder} is not a model folder of this project (no {name})")
    args = argparse.Namespace(**_read_json_object(folder / "args.json", "enjoy"))
    results = _read_json_object(folder / "results.json", "enjoy")
    if missing := [
        key for key in ("script", "eval_seeds", "algo_title", "env_id", "video_fps") if key not in results
    ]:
        raise UserError(f"enjoy: {folder / 'results.json'} lacks {', '.join(missing)}")
    script = results["script"]
    module = load_algorithm(script)
    if (
        "torch" in sys.modules
    ):  # one observation at a time: more threads only wait, and crawl on a busy machine
        sys.modules["torch"].set_num_threads(1)
    from safetensors import SafetensorError

    try:
        policy = module.load_policy(folder, args)
    except (OSError, ValueError, KeyError, EOFError, RuntimeError, SafetensorError) as error:
        raise UserError(f"cannot load the model in {folder}: {_one_line(error)}") from None
    seeds = results["eval_seeds"]
    if eval_episodes is not None:
        seeds = eval_seeds(args.seed, eval_episodes) if eval_episodes > len(seeds) else seeds[:eval_episodes]
    evaluation = evaluate(policy, module.make_env(args), seeds)
    print(
        f"{results['algo_title']} on {results['env_id']}: mean_reward {evaluation.mean:.2f} +/- "
        f"{evaluation.std:.2f} over {len(seeds)} episodes (result {evaluation.result:.2f})"
    )
    if video_path is not None:
        video_path.parent.mkdir(parents=True, exist_ok=True)
        env = module.make_env(args, render_mode="rgb_array")
        record_video(policy, env, video_path, fps=results["video_fps"], seed=seeds[0])
        print(f"replay: {video_path}")
    return evaluation


def download(repo_id: str, revision: str | None, trust_pickle: bool) -> Path:
    """Downloads what ``enjoy`` needs from a Hub repository (never code, never a pickle unless trusted)."""
    from huggingface_hub import snapshot_download

    def fetch(api: Any) -> Path:
        files = api.list_repo_files(repo_id, revision=revision)
        if "args.json" not in files:
            if COURSE_PICKLE in files and not trust_pickle:
                raise UserError(f"{repo_id} {PICKLE_WARNING}")
            if COURSE_PICKLE not in files:
                raise UserError(f"{repo_id} is not a model of this project (no args.json)")
        patterns = ["*.json", "*.npz", "*.safetensors"] + ([COURSE_PICKLE] if trust_pickle else [])
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns))

    return _hub_call(fetch, f"download {repo_id}", needs_token=False)


def main(argv: Sequence[str] | None = None) -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    push_parser = commands.add_parser("push", help="upload a run folder to the Hub")
    push_parser.add_argument("run_dir", type=Path, help="a finished run folder, e.g. runs/<run>")
    push_parser.add_argument("--repo-id", required=True, help="user/name")
    push_parser.add_argument("--private", action="store_true", help="create the repository as private")
    enjoy_parser = commands.add_parser("enjoy", help="load a model, evaluate it and record a replay")
    source = enjoy_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--repo-id", help="Hub repository to download")
    source.add_argument("--path", type=Path, help="local run folder")
    enjoy_parser.add_argument("--revision", default=None, help="branch, tag or commit (with --repo-id)")
    enjoy_parser.add_argument(
        "--eval-episodes",
        type=int,
        default=None,
        help="episodes to evaluate (default: the model's own evaluation seeds)",
    )
    enjoy_parser.add_argument(
        "--video", type=Path, default=None, help="replay file (default: runs/enjoy/<name>-<time>.mp4)"
    )
    enjoy_parser.add_argument("--no-video", action="store_true", help="evaluate only")
    enjoy_parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow reading a course-format q-learning.pkl (pickle can run code)",
    )
    args = parser.parse_args(argv)

    try:
        if args.command == "push":
            print(f"pushed: {push(args.run_dir, args.repo_id, args.private)}")
            return
        if args.eval_episodes is not None and args.eval_episodes < 1:
            raise UserError(f"--eval-episodes must be >= 1, got {args.eval_episodes}")
        if args.path is not None and not args.path.is_dir():
            raise UserError(f"--path {args.path}: no such folder")
        if args.repo_id is not None:
            check_repo_id(args.repo_id)
        if args.video is not None and args.video.is_dir():
            raise UserError(
                f"--video {args.video} is a folder: name the replay file, e.g. {args.video}/replay.mp4"
            )
        folder = download(args.repo_id, args.revision, args.trust_pickle) if args.repo_id else args.path
        name = args.repo_id.replace("/", "__") if args.repo_id else folder.resolve().name
        video = None if args.no_video else args.video or RUNS_DIR / "enjoy" / f"{name}-{int(time.time())}.mp4"
        enjoy(folder, args.eval_episodes, video, args.trust_pickle)
    except (UserError, HubError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2 if isinstance(error, UserError) else 1)


if __name__ == "__main__":
    # Run as the module the scripts import, so that there is one UserError class, not two.
    import hub_utils

    hub_utils.main()
