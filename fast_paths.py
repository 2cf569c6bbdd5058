"""Fast acting paths for a CPU, each derived from the torch modules or environments it stands in for
at run time, and proving itself against them: a numpy mirror of a policy network (``numpy_mirror``,
``PolicySampler``) and envpool's C++ twin of a gymnasium environment (``EnvpoolVectorEnv``). A script
turns each off with a flag (``--no-fast-rollout``, ``--no-envpool``) and trains the same way without.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, NoReturn

import gymnasium as gym
import numpy as np

from hub_utils import UserError

# gymnasium ids whose envpool twin was shown to be the same environment (benchmarks/envpool_check.py:
# episode statistics of random and trained policies on both agree); ppo.py trains on it where installed.
ENVPOOL_TWINS = ("LunarLander-v3",)


def envpool_available(env_id: str) -> bool:
    """Whether ``env_id`` (a resolved gymnasium id) can be stepped by envpool here."""
    return env_id in ENVPOOL_TWINS and importlib.util.find_spec("envpool") is not None


class EnvpoolVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of a gymnasium environment stepped by envpool (C++), behind gymnasium's
    SAME_STEP vector interface: the step that ends an episode returns the next episode's first
    observation, and its own last one in ``info["final_obs"]``. Copy i is seeded with ``seed + i``
    at ``reset(seed=...)``. It remembers every action since that reset, so that a resumed run can
    rebuild the same state in a new process by replaying them (envpool's state cannot be saved)."""

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

    def running_episodes(self) -> dict[str, Any]:
        """For a checkpoint (``training_run.running_episodes``): the seed and every action since it."""
        import torch

        return dict(seed=self.seed, actions=torch.from_numpy(np.array(self.actions)))

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
