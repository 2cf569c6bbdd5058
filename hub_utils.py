"""The Hub side of every run: evaluation, replay video, model card, upload, and loading a model back.

Every training run writes one folder, ``runs/<run_name>/``, that is exactly the Hub repository:
TensorBoard events, model weights, ``args.json``, ``results.json``, ``replay.mp4``, ``README.md``
(the model card), a copy of the script, and what the folder needs to replay on its own with pip
packages alone: copies of this project's modules that the script imports and a ``requirements.txt``
pinned to the run's versions. The command line works on such folders:

    python hub_utils.py push runs/<run> --repo-id <user>/<name>
    python hub_utils.py enjoy --repo-id <user>/<name>      (or --path runs/<run>)

``enjoy`` rebuilds an agent from the trusted algorithm file in ``algorithms/`` and the downloaded
weights; nothing downloaded is executed or unpickled (except a course-format ``q-learning.pkl``,
and only with ``--trust-pickle``). A copy of this module inside a downloaded model repository
(no ``algorithms/`` beside it) uses the script beside it: ``python hub_utils.py enjoy --path .``.
The training side (flags, run folder, checkpoints, Ctrl-C) is ``training_run.py``, built on this.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import importlib.util
import json
import os
import pickle
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
SHARED_MODULES = ("hub_utils", "training_run", "fast_paths")  # this project's modules, not scripts
# Flags that say how to run, log or publish, not what is trained: not saved in args.json.
RUN_ONLY_FLAGS = ("track", "wandb_project_name", "wandb_entity")  # logging
RUN_ONLY_FLAGS += ("upload_model", "repo_id", "hf_entity", "resume")  # publishing, resuming

Policy = Callable[[Any], Any]  # observation -> action, deterministic; a reset() if it has a memory


class UserError(Exception):
    """Bad input from the user: reported as one line, without a traceback."""


def one_line(error: BaseException) -> str:
    """An exception as one line (a state-dict mismatch is several: they are joined)."""
    text = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Runs ``write(temporary)`` on a temporary file beside ``path``, flushes it to disk and renames it
    over ``path``: a reader, a crash or a Ctrl-C finds the previous file or the new one, never part of
    one. The temporary file keeps ``path``'s suffix (``.x.<pid>.tmp.npy``), which some writers need.
    A failed write (a full disk, a read-only folder) is one ``UserError`` line."""
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            message = f"could not save {path} ({one_line(error)}); the previous one, if any, is kept"
            raise UserError(message) from None
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``atomic_write`` of ``data``."""
    atomic_write(path, lambda temporary: temporary.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    """``atomic_write`` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``, or one ``UserError`` line naming the file and what is wrong."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:  # ValueError: JSONDecodeError and UnicodeDecodeError
        raise UserError(f"{what}: {path} is not readable JSON ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{what}: {path} holds a JSON {type(data).__name__}, not an object")
    return data


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser without abbreviations (``--learning-rat`` is an error, never a silent
    ``--learning-rate``) whose errors are one ``UserError`` line, without the usage block: a bad value
    as its ``type=`` check words it (``--gamma must be in [0, 1], got 1.5``), an unknown flag with
    the closest valid one and ``--help`` for the rest. ``--help`` itself is unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def _flags(self) -> list[str]:
        flags = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                flags += [flag for sub in action.choices.values() for flag in sub._option_string_actions]
        return flags

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._words = [str(word) for word in (sys.argv[1:] if args is None else args)]
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        flags = self._flags()
        words = getattr(self, "_words", [])
        unknown = [word for word in words if word.startswith("--") and word.split("=")[0] not in flags]
        if unknown and "required" in message:  # a typo in a required flag: name the typo, not the flag
            message = f"unrecognized arguments: {unknown[0]}"
        if bad_value := re.fullmatch(r"argument (--[\w-]+)(?:/[\w-]+)*: (must .*)", message):
            raise UserError(" ".join(bad_value.groups()))
        if message.startswith("unrecognized arguments: "):
            word = message.removeprefix("unrecognized arguments: ").split()[0].split("=")[0]
            close = difflib.get_close_matches(word, flags, n=1, cutoff=0.6)
            what = "flag" if word.startswith("-") else "argument"
            message = f"unknown {what} '{word}'" + (f" (did you mean {close[0]}?)" if close else "")
        raise UserError(f"{self.prog}: {message}; see --help")


# -------------------- Environments ---------------------------------------------------------------
def resolve_env_id(requested: str, quiet: bool = False) -> str:
    """Returns the gymnasium id to run for ``requested``. A retired version (``LunarLander-v2``,
    ``Taxi-v3``) maps to the newest registered version of the same environment with a one-line notice;
    the caller keeps ``requested`` for the model card and the leaderboard. An unknown id raises
    ``UserError`` naming close matches."""
    for package in ("envs", "ale_py", "panda_gym", "minigrid") if requested not in gym.registry else ():
        try:  # this project's environments, and those of optional packages (Atari, panda-gym, MiniGrid)
            gym.register_envs(importlib.import_module(package))
        except ImportError:
            continue
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


def eval_seeds(train_seed: int, episodes: int) -> list[int]:
    """Evaluation seeds, one per episode, disjoint from the training seeds (seed .. seed + n_envs)."""
    return [1_000_000 + 1_000 * train_seed + episode for episode in range(episodes)]


# -------------------- Evaluation and replay ------------------------------------------------------
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
    """Plays one episode per seed of ``policy`` on ``env`` (an evaluation env), each after policy.reset()."""
    returns, lengths = [], []
    for seed in seeds:
        observation, _ = env.reset(seed=int(seed))
        getattr(policy, "reset", lambda: None)()
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
    getattr(policy, "reset", lambda: None)()
    frames = [env.render()]
    for _ in range(max_steps):
        observation, _, terminated, truncated, _ = env.step(policy(observation))
        frames.append(env.render())
        if terminated or truncated:
            break
    env.close()
    # macro_block_size=2 keeps the frame size (only odd sizes are padded, as H.264 needs)
    write = lambda file: imageio.mimwrite(file, frames, fps=fps, codec="libx264", macro_block_size=2)  # noqa: E731
    atomic_write(path, write)
    return len(frames)


# -------------------- Results and model card -----------------------------------------------------
def as_flags(hyperparameters: dict[str, Any]) -> list[list[str]]:
    """The command-line words that set these hyperparameters, flag by flag (``None`` left unset)."""
    flags = []
    for key, value in hyperparameters.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags.append([flag if value else f"--no-{key.replace('_', '-')}"])
        elif isinstance(value, list):  # nargs flags: --hidden-sizes 120 84
            flags.append([flag, *(str(item) for item in value)])
        elif value is not None:
            flags.append([flag, str(value)])
    return flags


def reproduce_command(script: str, hyperparameters: dict[str, Any]) -> str:
    """The command line that retrains with exactly these hyperparameters."""
    flags = [" ".join(shlex.quote(word) for word in words) for words in as_flags(hyperparameters)]
    return " \\\n    ".join([f"python algorithms/{script}", *flags])


def imported_names(path: Path, module_level: bool = False) -> set[str]:
    """The top-level names of the modules a Python file imports (``torch`` for ``torch.nn``): all of
    them, or only those imported when it is (not those a function imports when it needs them)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level else list(ast.walk(tree))
    names = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in nodes if isinstance(node, ast.ImportFrom) and node.module}
    return {name.split(".")[0] for name in names}


def first_party_modules(script_path: Path) -> list[Path]:
    """This project's modules beside this file that a script needs, directly or through one another;
    ``hub_utils.py`` always (``enjoy`` is run from it)."""
    needed, queue = {Path(__file__).resolve()}, [Path(script_path), Path(__file__)]
    while queue:
        for name in imported_names(queue.pop()):
            module = REPO_ROOT / f"{name}.py"
            if module.is_file() and module.resolve() not in needed:
                needed.add(module.resolve())
                queue.append(module)
    return sorted(needed)


# Import names whose packages a replay needs when this process used them, beside the imports of the
# script and of its modules and the environment's package: gymnasium's renderers (pygame),
# LunarLander's Box2D, the Atari preprocessing's cv2, and what a replay itself writes and reads.
REPLAY_IMPORTS = ("gymnasium", "numpy", "safetensors", "huggingface_hub", "imageio", "imageio_ffmpeg")
REPLAY_IMPORTS_IF_USED = ("Box2D", "cv2")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def replay_requirements(script_path: Path, env_id: str) -> str:
    """``requirements.txt`` for a run folder: the packages the script, this project's modules it uses
    and the environment need to replay it, pinned to the versions installed now (local version labels
    such as ``+cpu`` dropped, so that PyPI's builds match)."""
    import importlib.metadata as metadata
    import platform

    modules = first_party_modules(script_path)
    imports = imported_names(script_path).union(
        *(imported_names(path, module_level=True) for path in modules)
    )
    entry_point = str(gym.spec(env_id).entry_point)
    imports.add(entry_point)  # the environment's package: ale_py, panda_gym, gymnasium, ...
    if entry_point.startswith("gymnasium.envs."):
        imports.add("pygame")  # gymnasium's own environments render with pygame (pygame-ce)
    imports.update(REPLAY_IMPORTS)
    imports.update(name for name in REPLAY_IMPORTS_IF_USED if name in sys.modules)
    top_level = {name.split(".")[0].split(":")[0] for name in imports} - {"envs"}
    top_level -= {module.stem for module in modules}
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
    """What a run folder needs to replay on its own, with pip packages alone: copies of this project's
    modules the script uses (``first_party_modules``), ``requirements.txt`` (``replay_requirements``)
    and, for an environment of this project's ``envs`` package (Pixelcopter), a copy of that package."""
    for module in first_party_modules(run_dir / script):
        atomic_write_bytes(run_dir / module.name, module.read_bytes())
    atomic_write_text(run_dir / "requirements.txt", replay_requirements(run_dir / script, env_id))
    if str(gym.spec(env_id).entry_point).startswith("envs."):
        import envs  # this project's environments: registered with gymnasium when imported

        (run_dir / "envs").mkdir(exist_ok=True)
        for source in sorted(Path(envs.__file__).parent.glob("*.py")):
            atomic_write_bytes(run_dir / "envs" / source.name, source.read_bytes())


COURSE_TAGS = ["deep-reinforcement-learning", "reinforcement-learning"]  # every card's, after env id and algo
COURSE_TAGS += ["custom-implementation", "deep-rl-course"]
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

    results = read_json_object(run_dir / "results.json", "model card")
    hyperparameters = read_json_object(run_dir / "args.json", "model card")
    needed = "algo algo_title script env_id env_id_used dataset_id mean_reward std_reward result training"
    if missing := [key for key in needed.split() + ["eval_episodes", "model_file"] if key not in results]:
        raise UserError(f"model card: {run_dir / 'results.json'} lacks {', '.join(missing)}")
    dataset_id, algo, script = results["dataset_id"], results["algo"], results["script"]
    score = f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    # The course's Unit 8 tags; Unit 4's notebook adds "deep-rl-class" to REINFORCE cards.
    tags = [dataset_id, algo, *COURSE_TAGS] + (["deep-rl-class"] if algo == "reinforce" else [])
    card_data = ModelCardData(
        tags=tags,
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
        f" (run as `{used}` with gymnasium {results.get('gymnasium_version', '?')}, which retired "
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
        modules = ", ".join(
            f"`{path.name}`" for path in sorted(run_dir.glob("*.py")) if path.stem in SHARED_MODULES
        )
        standalone = f"""
**On its own, with pip packages only.** This repository carries the script, the modules of the
project it imports ({modules}) and a `requirements.txt` pinned to the versions the run used:

```bash
hf download {repo_id or "<user>/<repo>"} --local-dir {folder} && cd {folder}
python -m venv .venv && . .venv/bin/activate      # Windows: .venv\\Scripts\\activate
pip install -r requirements.txt
python hub_utils.py enjoy --path .
```

That runs `{script}` and those modules from this repository: running downloaded code is running
someone else's code. Read them first, or use a machine or container you can throw away.

**In plain Python**, from that folder: `load_policy` builds the script's network (or table) and loads
`{results["model_file"]}` into it.

```python
from pathlib import Path
import hub_utils, {module}  # from this repository

args = hub_utils.saved_hyperparameters({module}, Path("args.json"))
policy = {module}.load_policy(Path("."), args)  # observation -> action, deterministic
print(hub_utils.evaluate(policy, {module}.make_env(args), seeds=[0, 1, 2]).returns)
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


# -------------------- The Hub: push and enjoy ----------------------------------------------------
class HubError(Exception):
    """A Hub request that failed for a reason the user can fix (login, permissions, network)."""


def default_repo_id(algo: str, dataset_id: str, entity: str | None) -> str:
    """``{entity}/{algo}-{dataset_id}``; without an entity, the logged-in user's name. A namespaced
    id's slash (``ALE/Pong-v5``) becomes a dash: a repository name cannot contain one."""
    if entity is None:
        entity = _hub_call(lambda api: api.whoami()["name"], "find your Hub user name")
    return f"{entity}/{algo}-{dataset_id.replace('/', '-')}"


def _hub_call(action: Callable[[Any], Any], what: str, needs_token: bool = True) -> Any:
    """Runs ``action(HfApi())`` and turns the failures a user can fix into one-line HubErrors (writing
    needs a token: without one, we say so before the Hub answers with a bare 401)."""
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


def load_algorithm(script: str) -> ModuleType:
    """Imports a trusted algorithm file by file name: from this project's ``algorithms/``, or, for
    the copy of this module inside a model repository (no ``algorithms/`` beside it), from the
    folder this module is in, which the user chose to run."""
    folder = ALGORITHMS_DIR if ALGORITHMS_DIR.is_dir() else REPO_ROOT
    path = folder / script
    if not re.fullmatch(r"[a-z0-9_]+\.py", script) or not path.is_file():
        known = ", ".join(sorted(p.name for p in folder.glob("*.py") if p.stem not in SHARED_MODULES))
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
        raise UserError(f"{folder / COURSE_PICKLE} is not a readable pickle ({one_line(error)})") from None
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


def saved_hyperparameters(module: ModuleType, path: Path, changes: dict | None = None) -> argparse.Namespace:
    """The hyperparameters in a folder's ``args.json`` (with ``changes``, enjoy's ``--set``, applied),
    read back through the script's own ``parse_args``: a missing key, or a value its flag refuses, is
    one ``UserError`` line naming the file."""
    saved = read_json_object(path, "enjoy")
    if unknown := sorted(set(changes or {}) - set(saved)):
        raise UserError(f"--set {unknown[0]}: not a hyperparameter in {path} ({', '.join(sorted(saved))})")
    saved.update(changes or {})
    try:
        args = module.parse_args([word for words in as_flags(saved) for word in words])
    except UserError as error:
        raise UserError(f"{path}: {error}") from None
    if missing := sorted(key for key in vars(args) if key not in saved and key not in RUN_ONLY_FLAGS):
        raise UserError(f"{path} lacks {', '.join(missing)}: not the hyperparameters of this script")
    vars(args).update({key: None for key, value in saved.items() if value is None})
    return args


def enjoy(
    folder: Path,
    eval_episodes: int | None = None,
    video_path: Path | None = None,
    trust_pickle: bool = False,
    changes: dict[str, str] | None = None,
) -> EvalResult:
    """Rebuilds the agent saved in ``folder`` (``args.json``, ``results.json`` and the weights) with the
    local ``algorithms/<script>``, evaluates it as its script does and records a replay; ``changes``
    replace saved hyperparameters first (e.g. ppo_selfplay.py's ``eval_opponent``)."""
    if not (folder / "args.json").is_file() and (folder / COURSE_PICKLE).is_file():
        if not trust_pickle:
            raise UserError(f"{folder} {PICKLE_WARNING}")
        folder = _import_course_pickle(folder, Path(tempfile.mkdtemp(prefix="course-model-")))
    for name in ("args.json", "results.json"):
        if not (folder / name).is_file():
            raise UserError(f"{folder} is not a model folder of this project (no {name})")
    results = read_json_object(folder / "results.json", "enjoy")
    needed = ("script", "eval_seeds", "algo_title", "env_id", "video_fps")
    if missing := [key for key in needed if key not in results]:
        raise UserError(f"enjoy: {folder / 'results.json'} lacks {', '.join(missing)}")
    module = load_algorithm(results["script"])
    args = saved_hyperparameters(module, folder / "args.json", changes)
    if "torch" in sys.modules:  # one observation at a time: more threads only wait, and crawl on a busy CPU
        sys.modules["torch"].set_num_threads(1)
    from safetensors import SafetensorError

    try:
        policy = module.load_policy(folder, args)
    except (OSError, ValueError, KeyError, EOFError, RuntimeError, SafetensorError) as error:
        raise UserError(f"cannot load the model in {folder}: {one_line(error)}") from None
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
    push_flags = commands.add_parser("push", help="upload a run folder to the Hub")
    push_flags.add_argument("run_dir", type=Path, help="a finished run folder, e.g. runs/<run>")
    push_flags.add_argument("--repo-id", required=True, help="user/name")
    push_flags.add_argument("--private", action="store_true", help="create the repository as private")
    enjoy_flags = commands.add_parser("enjoy", help="load a model, evaluate it and record a replay")
    source = enjoy_flags.add_mutually_exclusive_group(required=True)
    source.add_argument("--repo-id", help="Hub repository to download")
    source.add_argument("--path", type=Path, help="local run folder")
    add = enjoy_flags.add_argument
    add("--revision", default=None, help="branch, tag or commit (with --repo-id)")
    add("--eval-episodes", type=int, default=None, help="episodes (default: the model's evaluation seeds)")
    add("--video", type=Path, default=None, help="replay file (default: runs/enjoy/<name>-<time>.mp4)")
    add("--no-video", action="store_true", help="evaluate only")
    add("--trust-pickle", action="store_true", help="read a course-format q-learning.pkl (pickle runs code)")
    add("--set", action="append", default=[], metavar="KEY=VALUE", help="replay with a saved value changed")
    try:
        args = parser.parse_args(argv)
        if args.command == "push":
            print(f"pushed: {push(args.run_dir, args.repo_id, args.private)}")
            return
        if args.eval_episodes is not None and args.eval_episodes < 1:
            raise UserError(f"--eval-episodes must be >= 1, got {args.eval_episodes}")
        if args.path is not None and not args.path.is_dir():
            raise UserError(f"--path {args.path}: no such folder")
        if args.repo_id is not None:
            check_repo_id(args.repo_id)
        if malformed := [item for item in args.set if "=" not in item]:
            raise UserError(f"--set {malformed[0]}: write KEY=VALUE, e.g. --set eval_opponent=random")
        if args.video is not None and args.video.is_dir():
            raise UserError(f"--video {args.video} is a folder: name the file, e.g. {args.video}/replay.mp4")
        folder = download(args.repo_id, args.revision, args.trust_pickle) if args.repo_id else args.path
        name = args.repo_id.replace("/", "__") if args.repo_id else folder.resolve().name
        video = None if args.no_video else args.video or RUNS_DIR / "enjoy" / f"{name}-{int(time.time())}.mp4"
        changes = dict(item.split("=", 1) for item in args.set)
        enjoy(folder, args.eval_episodes, video, args.trust_pickle, changes)
    except (UserError, HubError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2 if isinstance(error, UserError) else 1)


if __name__ == "__main__":
    # Run as the module the scripts import, so that there is one UserError class, not two.
    import hub_utils

    hub_utils.main()
