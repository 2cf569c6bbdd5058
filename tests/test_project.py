"""The project's own promises: dependency pins and the single-file rules of algorithms/."""

import ast
import importlib.metadata
import re
import shlex

import pytest
from conftest import REPO
from packaging.requirements import Requirement

import hub_utils

ALGORITHM_FILES = sorted((REPO / "algorithms").glob("*.py"))


def requirements():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return {
        Requirement(line).name.lower(): Requirement(line)
        for line in lines
        if line.strip() and not line.startswith(("#", "-"))
    }


def test_torch_pin_admits_2_13_and_excludes_newer_releases():
    torch = requirements()["torch"]
    assert torch.specifier.contains("2.13.0") and torch.specifier.contains("2.13.0+cpu")
    assert not torch.specifier.contains("2.14.0") and not torch.specifier.contains("2.15.0")


def test_box2d_and_pygame_come_through_gymnasium_extras_only():
    pinned = requirements()
    assert "box2d" in pinned["gymnasium"].extras
    assert not {"pygame", "pygame-ce", "box2d", "box2d-py"} & set(pinned)
    installed = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
    assert "pygame-ce" in installed and "pygame" not in installed


def test_the_project_installs_editable():
    assert "-e ." in (REPO / "requirements.txt").read_text().splitlines()


def test_algorithm_files_stand_alone():
    """Each script imports third-party packages and hub_utils only: no other algorithm, no sys.path edits."""
    assert ALGORITHM_FILES
    algorithm_names = {path.stem for path in ALGORITHM_FILES}
    for path in ALGORITHM_FILES:
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & (algorithm_names | {"algorithms"}), path.name
        assert "sys.path" not in path.read_text(), path.name
        assert 'if __name__ == "__main__":' in path.read_text(), path.name


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci/run").read_text()
    assert "make test" in (REPO / "README.md").read_text()


def test_every_script_keeps_the_spec_contract(capsys):
    """parse_args / make_env / load_policy / main, and CleanRL's flag names in --help (q_learning.py
    has no torch, so no --cuda or --torch-deterministic)."""
    common = [
        "--exp-name",
        "--seed",
        "--track",
        "--wandb-project-name",
        "--wandb-entity",
        "--capture-video",
        "--env-id",
        "--total-timesteps",
        "--eval-episodes",
        "--upload-model",
        "--repo-id",
        "--hf-entity",
        "--resume",
    ]
    for path in ALGORITHM_FILES:
        module = hub_utils.load_algorithm(path.name)
        for function in ("parse_args", "make_env", "load_policy", "main"):
            assert callable(getattr(module, function, None)), (path.name, function)
        with pytest.raises(SystemExit):  # --help prints and exits 0, as argparse's
            module.parse_args(["--help"])
        text = capsys.readouterr().out
        expected = common if path.stem == "q_learning" else [*common, "--cuda", "--torch-deterministic"]
        assert [flag for flag in expected if flag not in text] == [], path.name


@pytest.mark.parametrize("path", ALGORITHM_FILES, ids=lambda path: path.name)
def test_algorithm_files_stay_short(path):
    """A file read top to bottom in one sitting: the algorithm is most of it, the plumbing a few calls."""
    text = path.read_text()
    assert len(text.splitlines()) <= 450, f"{path.name} has grown past 450 lines"
    assert "fmt: skip" not in text, f"{path.name}: write code the formatter lays out well"


def test_the_shared_modules_stay_small():
    """hub_utils.py is what a Hub user reads (evaluation, video, card, upload, loading): at most 800
    lines; the run's plumbing and the fast paths beside it at most 600 each."""
    for name, limit in (("hub_utils.py", 800), ("training_run.py", 600), ("fast_paths.py", 600)):
        text = (REPO / name).read_text()
        assert len(text.splitlines()) <= limit and "fmt: skip" not in text, name


def test_the_code_is_formatted_and_linted_by_ruff():
    """What CI checks: `ruff format --check` and `ruff check` (configured in pyproject.toml) pass."""
    import subprocess
    import sys
    from pathlib import Path

    ruff = Path(sys.executable).with_name("ruff")
    for command in (["format", "--check"], ["check"]):
        process = subprocess.run([str(ruff), *command, "."], cwd=REPO, capture_output=True, text=True)
        assert process.returncode == 0, f"ruff {' '.join(command)}:\n{process.stdout}{process.stderr}"


DOC_PAGES = [
    "README.md",
    "benchmarks/README.md",
    *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")),
]


def one_line_spans(markdown: str) -> str:
    """The page with each `inline code` span that a line break wrapped joined back into one line
    (fenced code blocks are left as they are: one command a line)."""
    parts = re.split(r"(```.*?```)", markdown, flags=re.S)
    return "".join(
        part if part.startswith("```") else re.sub(r"`[^`]+`", lambda m: m.group(0).replace("\n", " "), part)
        for part in parts
    )


def documented_commands():
    """Every `python algorithms/<script>.py ...` command line the README, the pages in docs/, the
    benchmarks page and the scripts' own docstrings show a user, as (where it is shown, script name,
    its flags)."""
    sources = {page: one_line_spans((REPO / page).read_text()) for page in DOC_PAGES}
    sources |= {path.name: ast.get_docstring(ast.parse(path.read_text())) for path in ALGORITHM_FILES}
    pattern = re.compile(r"python (algorithms/(\w+)\.py)([^`#|\n(]*)")
    return [
        (source, f"{script}.py", shlex.split(flags.replace("<you>", "someone")))
        for source, text in sources.items()
        for _, script, flags in pattern.findall(text)
    ]


@pytest.mark.parametrize("source, script, flags", documented_commands(), ids=lambda value: str(value))
def test_every_documented_command_parses_with_its_script(source, script, flags):
    """A command copied from the README or a script's docstring is one the script accepts as it is now:
    every flag exists and every value is valid (a renamed flag would end in a usage error)."""
    assert (REPO / "algorithms" / script).is_file(), (source, script)
    module = hub_utils.load_algorithm(script)
    args = module.parse_args(flags)  # a usage error raises UserError: pytest reports it with the message
    if "--env-id" in flags:
        assert args.env_id == flags[flags.index("--env-id") + 1]


def test_the_docs_pages_show_commands_and_are_each_one_click_from_the_readme():
    """The pages README.md sends a newcomer to: each linked from it, each command on them parsed above."""
    readme = (REPO / "README.md").read_text()
    assert [page for page in DOC_PAGES[1:] if f"]({page})" not in readme] == []
    shown = {source for source, _, _ in documented_commands()}
    assert {"README.md", "docs/install.md", "benchmarks/README.md"} <= shown


@pytest.mark.parametrize("page", DOC_PAGES + ["benchmarks/HISTORY.md", "benchmarks/records/README.md"])
def test_relative_links_lead_to_files_that_exist(page):
    """Every relative link of a page (a file or folder of this repository) exists."""
    text = (REPO / page).read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    missing = [t for t in targets if "://" not in t and not ((REPO / page).parent / t).exists()]
    assert missing == []


def documented_benchmark_commands():
    """Every `python benchmarks/{run,tune,random_play}.py ...` command the README, docs/ and the
    benchmarks page show, as (page, tool, its arguments)."""
    pattern = re.compile(r"python benchmarks/(run|tune|random_play)\.py([^`#|\n(]*)")
    return [
        (page, tool, shlex.split(flags))
        for page in DOC_PAGES
        for tool, flags in pattern.findall(one_line_spans((REPO / page).read_text()))
    ]


@pytest.mark.parametrize("page, tool, flags", documented_benchmark_commands(), ids=lambda value: str(value))
def test_every_documented_benchmark_command_parses(page, tool, flags, monkeypatch):
    """The benchmark tools' commands on the pages are ones their parsers accept as they are now."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    module = importlib.import_module(tool)
    args = module.parse_args(flags)  # a usage error exits: pytest reports it with the message
    assert args.algo in {path.stem for path in ALGORITHM_FILES}, (page, flags)
