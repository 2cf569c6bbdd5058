"""How much of each algorithm file is plumbing (issue #25's before/after table).

    python benchmarks/experiments/plumbing_metrics.py .            # this checkout
    python benchmarks/experiments/plumbing_metrics.py /tmp/old     # another one (e.g. a git worktree)

Per file: lines; the distinct names it uses from each of the project's shared modules (flag types
included); plumbing lines, those of simple statements that use a shared module (flag types aside) or the
run (`run.`, `progress.`); `# fmt: skip` blocks. Then the shared modules' lengths.
"""

import ast
import sys
from pathlib import Path

SHARED = ("hub_utils", "training_run", "fast_paths")
TYPES = {"positive_int", "nonnegative_int", "positive_float", "nonnegative_float", "unit_float", "fraction"}
TYPES |= {"finite_float", "int_in"}


def metrics(path):
    text = path.read_text()
    tree = ast.parse(text)
    aliases, names = {}, {m: set() for m in SHARED}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in SHARED:
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module in SHARED:
            for a in node.names:
                names[node.module].add(a.name)
                aliases[a.asname or a.name] = node.module + "." + a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and aliases.get(node.value.id) in SHARED
        ):
            names[aliases[node.value.id]].add(node.attr)
    plumbing = set()

    def uses_shared(node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in aliases and sub.id not in TYPES:
                return True
            if (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name)
                and sub.value.id in ("run", "progress")
            ):
                return True
        return False

    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node,
            (
                ast.If,
                ast.For,
                ast.While,
                ast.With,
                ast.Try,
                ast.FunctionDef,
                ast.ClassDef,
                ast.Import,
                ast.ImportFrom,
            ),
        ):
            if uses_shared(node):
                plumbing.update(range(node.lineno, node.end_lineno + 1))
    lines = len(text.splitlines())
    return lines, {m: len(v) for m, v in names.items() if v}, len(plumbing), text.count("fmt: skip")


root = Path(sys.argv[1])
print("| file | lines | names imported (per module) | plumbing lines | fmt: skip |")
print("|---|---|---|---|---|")
for path in sorted((root / "algorithms").glob("*.py")):
    lines, names, plumbing, skips = metrics(path)
    used = ", ".join(f"{module} {count}" for module, count in names.items())
    print(f"| {path.name} | {lines} | {used} | {plumbing} | {skips} |")
for module in SHARED:
    p = root / f"{module}.py"
    if p.exists():
        print(f"| {module}.py | {len(p.read_text().splitlines())} | | | {p.read_text().count('fmt: skip')} |")
