"""Issue #15, class 1: a nonsense number (negative, zero, NaN, inf, out of [0, 1], a buffer or network
larger than memory) is refused in one line naming the flag and what is accepted, exit code 2, before
anything is written; each script's parse_args refuses NaN and inf in every float flag and a negative
value in every integer flag."""

import math

import pytest
from conftest import FLAG_CHECKED_SCRIPTS as SCRIPTS
from conftest import assert_one_line_error, run_cli

import hub_utils
import training_run

# Flags that pick the environment, so that each script parses without optional packages (panda-gym).
ENV = {"a2c.py": ["--env-id", "CartPole-v1"]}


@pytest.mark.parametrize(
    "script, flags, fragments",
    [
        ("q_learning.py", ["--total-timesteps", "-5"], ["--total-timesteps must be >= 1", "-5"]),
        ("q_learning.py", ["--learning-rate", "inf"], ["--learning-rate must be a finite number", "inf"]),
        ("q_learning.py", ["--env-id", "FrozenLake-v1", "--map-name", "5x5"], ["--map-name", "5x5", "4x4"]),
        ("ppo.py", ["--learning-rate", "-0.001"], ["--learning-rate must be > 0", "-0.001"]),
        ("dqn.py", ["--learning-rate", "nan"], ["--learning-rate must be a finite number", "nan"]),
        ("dqn.py", ["--buffer-size", "1000000000000"], ["--buffer-size 1000000000000", "TiB", "available"]),
        ("reinforce.py", ["--hidden-size", "1000000000000"], ["--hidden-size 1000000000000", "needs"]),
        ("a2c.py", ["--env-id", "CartPole-v1", "--ent-coef", "-1"], ["--ent-coef must be >= 0", "-1"]),
        ("dqn_atari.py", ["--buffer-size", "10000000000"], ["--buffer-size 10000000000", "GiB", "available"]),
        ("ppo_atari.py", ["--clip-coef", "nan"], ["--clip-coef must be a finite number"]),
    ],
)
def test_a_nonsense_value_is_one_line_before_anything_is_written(tmp_path, script, flags, fragments):
    process = run_cli([f"algorithms/{script}", *flags], tmp_path)
    assert_one_line_error(process, *fragments)
    assert process.stderr.count("\n") == 1 and "A.L.E" not in process.stdout + process.stderr  # one line only
    assert not (tmp_path / "runs").exists()


def numeric_flags(script):
    """(flag, default) of every float and integer flag of a script (booleans and unset options left out)."""
    defaults = vars(hub_utils.load_algorithm(script).parse_args(ENV.get(script, [])))
    return [
        ("--" + name.replace("_", "-"), value)
        for name, value in defaults.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_numeric_flag_refuses_nan_inf_and_negatives(script):
    module = hub_utils.load_algorithm(script)
    flags = numeric_flags(script)
    assert len(flags) >= 5, flags  # the test sees the script's hyperparameters
    for flag, default in flags:
        bad_values = ["nan", "inf", "-inf", "-1e9"] if isinstance(default, float) else ["-1"]
        for value in bad_values:
            if flag == "--max-grad-norm" and script == "dqn_atari.py" and value == "-1e9":
                continue  # dqn_atari.py documents --max-grad-norm <= 0 as "no clipping"
            with pytest.raises(hub_utils.UserError, match=f"^{flag} "):
                module.parse_args([*ENV.get(script, []), f"{flag}={value}"])


def test_flag_types_and_check_memory_name_the_value():
    parser = training_run.ScriptParser("a test", exp_name="test")
    parser.add_argument("--lr", type=training_run.positive_float, default=0.1)
    parser.add_argument("--gamma", type=training_run.unit_float, default=1.0)
    parser.add_argument("--tau", type=training_run.fraction, default=1.0)
    parser.add_argument("--sizes", type=training_run.positive_int, nargs="+", default=[64])
    parser.add_argument("--seed", type=training_run.nonnegative_int, default=0)
    parser.add_argument("--kl", type=training_run.positive_float, default=None)
    args = parser.parse(["--gamma", "0", "--tau", "1", "--sizes", "1", "2", "--seed", "0"])
    assert (args.lr, args.gamma, args.tau, args.sizes, args.seed, args.kl) == (0.1, 0.0, 1.0, [1, 2], 0, None)
    for flags, message in [
        (["--sizes", "64", "0"], r"^--sizes must be >= 1, got 0$"),
        (["--tau", "0.0"], r"^--tau must be in \(0, 1\], got 0.0$"),
        (["--gamma", "1.5"], r"^--gamma must be in \[0, 1\], got 1.5$"),
        (["--seed=-3"], r"^--seed must be >= 0, got -3$"),
        (["--lr=-inf"], r"^--lr must be a finite number, got -inf$"),
        (["--kl", "0"], r"^--kl must be > 0, got 0$"),
        (["--seed", "1.5"], r"--seed: invalid int value: '1.5'; see --help$"),
    ]:
        with pytest.raises(hub_utils.UserError, match=message):
            parser.parse_args(flags)
    training_run.check_memory(1024, "a small buffer")
    with pytest.raises(
        hub_utils.UserError, match=r"^a huge buffer needs 8.0 EiB|^a huge buffer needs [\d,.]+ PiB"
    ):
        training_run.check_memory(2.0**63, "a huge buffer")
    assert math.isfinite(training_run.available_memory()) and training_run.available_memory() > 0
