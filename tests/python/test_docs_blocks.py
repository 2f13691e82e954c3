# test_docs_blocks: every fenced block of README.md and docs/*.md is run or checked, so the
# docs cannot go stale (issue #11, part 6). One test per block, named FILE:LINE.
#
# What a block is, from its language or from an HTML comment on the line before it:
#   ```sh              the commands run with bash (-e) in a sandbox checkout (below)
#   ```python          run in one namespace per document; `EXPR  # → VALUE` compares
#                      repr(EXPR), `print(...)  # → TEXT` the printed line
#   ```yaml            a scenario (or a fragment of one, put under `extends: baseline.yaml`)
#                      that `childsim validate` accepts
#   <!-- docs-test: output -->          the output (stdout, then stderr) of the previous sh or
#                                       python block of the page
#   <!-- docs-test: output of: CMD -->  the output of CMD, run in the sandbox
#   <!-- docs-test: excerpt: PATH -->   lines of the repository's file PATH, in order
#   <!-- docs-test: file: PATH -->      written to PATH in the sandbox (later blocks use it)
#   <!-- docs-test: paths -->           a listing whose paths exist in the repository
#   <!-- docs-test: usage -->           command synopses: each command and option exists
#   <!-- docs-test: skip: REASON -->    not run; test_docs_skipped_blocks_are_few lists them
#   <!-- docs-test: skip-page: REASON -->  (anywhere in a page) every block not marked itself
# In compared text, a line `...` (or `…`) stands for any lines and `...`/`…` inside a line
# for any text; the sandbox's path is removed from outputs. Nothing else is normalised.
#
# The sandbox is one directory for all pages, like a reader's checkout: scenarios/ (links to
# the repository's files, so new files can be written beside them), docs/, tools/, tests/,
# analysis/, calibration/, bench/ linked, build/release the build tree, `childsim` on PATH,
# and out/ holding what tools/quickstart.sh makes (its own run/compare lines are run once
# here; CI runs the script itself). Pages run in the order of PAGES, blocks in page order; a
# block's test runs the blocks and pages before it first (each once per session).
import ast
import contextlib
import io
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from conftest import BUILD_DIR, ROOT, cli_binary

# Pages in reading order (later pages may use files earlier ones wrote); then the rest.
FIRST = ["README.md", "docs/user-guide.md", "docs/scenarios.md", "docs/python.md",
         "docs/output-format.md"]
PAGES = FIRST + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")
                       if str(p.relative_to(ROOT)) not in FIRST)

MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
PAGE_SKIP = re.compile(r"^<!--\s*docs-test:\s*skip-page:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")
ARROW = re.compile(r"#\s*→\s?(.*)$")


class Block:
    """One fenced block: page, line of its opening fence, language, marker, text."""

    def __init__(self, page, line, lang, marker, text):
        self.page, self.line, self.lang, self.marker, self.text = page, line, lang, marker, text

    @property
    def name(self):
        return f"{self.page}:{self.line}"

    @property
    def kind(self):
        if self.marker:
            return self.marker.split()[0].rstrip(":")
        return {"sh": "sh", "python": "python", "yaml": "yaml"}.get(self.lang, "unmarked")

    @property
    def argument(self):
        return self.marker.split(":", 1)[1].strip() if ":" in (self.marker or "") else ""


def parse(page):
    """The fenced blocks of a page (fences at the start of a line)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    # `<!-- docs-test: skip-page: REASON -->` skips every block of the page not marked itself.
    whole = [m.group(1) for m in map(PAGE_SKIP.match, lines) if m]
    blocks, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```"), None)
        assert end is not None, f"{page}:{i + 1}: a fence that is never closed"
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        marker = marker.group(1) if marker else (f"skip: {whole[0]} (the whole page)"
                                                 if whole else None)
        blocks.append(Block(page, i + 1, fence.group(1), marker,
                            "\n".join(lines[i + 1:end]) + "\n"))
        i = end + 1
    return blocks


BLOCKS = [b for page in PAGES for b in parse(page)]


# ---- comparing text ------------------------------------------------------------------------

def _line_pattern(line):
    parts = re.split(r"\.\.\.|…", line)
    return re.compile("^" + ".*?".join(re.escape(p) for p in parts) + "$")


def text_matches(expected, actual):
    """Whether ``actual`` has the lines of ``expected`` (a `...` line: any lines)."""
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    have = [line.rstrip() for line in actual.strip("\n").splitlines()]

    def match(i, j):
        if i == len(want):
            return j == len(have)
        if want[i].strip() in ("...", "…"):
            return any(match(i + 1, k) for k in range(j, len(have) + 1))
        return j < len(have) and _line_pattern(want[i]).match(have[j]) is not None and \
            match(i + 1, j + 1)

    return match(0, 0)


def excerpt_matches(expected, actual):
    """Whether ``expected``'s lines are a run of ``actual``'s lines (`...` lines: any lines)."""
    return text_matches("...\n" + expected.strip("\n") + "\n...", actual)


def _without_comments(yaml_text):
    """YAML text without comments and blank lines (a `#` after a space starts a comment)."""
    lines = (re.sub(r"(^|\s)#.*$", "", line).rstrip() for line in yaml_text.splitlines())
    return "\n".join(line for line in lines if line.strip()) + "\n"


# ---- the sandbox and the runner --------------------------------------------------------------

class Runner:
    """Runs the pages' blocks in order in one sandbox; remembers each block's result."""

    def __init__(self, sandbox):
        self.dir = sandbox
        self.results = {}           # block name -> None (passed) or a failure message
        self.outputs = {}           # block name -> its output (sh, python)
        self.namespaces = {}        # page -> Python namespace
        self.env = dict(os.environ)
        self.env["PATH"] = os.pathsep.join([str(pathlib.Path(cli_binary()).parent),
                                            self.env.get("PATH", "")])
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "analysis"),
                                                  str(BUILD_DIR / "python")])
        self.env["OMP_WAIT_POLICY"] = "passive"
        self._build_sandbox()

    def _build_sandbox(self):
        (self.dir / "scenarios").mkdir()
        for entry in (ROOT / "scenarios").iterdir():
            (self.dir / "scenarios" / entry.name).symlink_to(entry)
        for name in ("docs", "tools", "tests", "analysis", "calibration", "bench", "README.md"):
            (self.dir / name).symlink_to(ROOT / name)
        (self.dir / "build").mkdir()
        (self.dir / "build" / "release").symlink_to(BUILD_DIR)
        (self.dir / "out").mkdir()
        # What tools/quickstart.sh makes: its run and compare lines, as written there.
        self.quickstart = {}
        for line in (ROOT / "tools" / "quickstart.sh").read_text(encoding="utf-8").splitlines():
            if line.startswith("./build/release/sim/childsim "):
                self.quickstart[line] = self.shell(line)

    def shell(self, script, stop_on_error=True):
        """(exit status, stdout then stderr, the sandbox's path removed).

        Not interleaved: a program's stdout is buffered when it is a pipe, so the order of
        the two streams would depend on buffering, not on the program."""
        options = ["-e", "-o", "pipefail"] if stop_on_error else []
        result = subprocess.run(["bash", *options, "-c", script], cwd=self.dir, env=self.env,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=1200)
        out = result.stdout + result.stderr
        return result.returncode, out.replace(f"{self.dir}/", "").replace(str(self.dir), ".")

    def result(self, block):
        """Runs every block before ``block`` (pages in order) once, then ``block``."""
        for other in BLOCKS:
            if other.name not in self.results:
                try:
                    self.results[other.name] = self._run(other)
                except Exception as error:  # noqa: BLE001 - reported as the block's failure
                    self.results[other.name] = f"{type(error).__name__}: {error}"
            if other is block:
                return self.results[block.name]
        raise KeyError(block.name)

    def _previous_output(self, block):
        earlier = [b for b in BLOCKS if b.page == block.page and b.line < block.line
                   and b.name in self.outputs]
        assert earlier, "an `output` block with no sh or python block before it"
        return self.outputs[earlier[-1].name]

    def _run(self, block):
        kind = block.kind
        if kind == "skip":
            return None
        if kind == "sh":
            status, out = self.shell(block.text)
            self.outputs[block.name] = out
            return None if status == 0 else f"exit status {status}:\n{out}"
        if kind == "python":
            return self._python(block)
        if kind == "yaml":
            return self._yaml(block)
        if kind == "output":
            if block.argument:
                command = block.argument
                quick = "./build/release/sim/" + command
                if quick in self.quickstart:  # the quick start's own run, made once
                    out = self.quickstart[quick][1]
                else:
                    out = self.shell(command, stop_on_error=False)[1]
            else:
                out = self._previous_output(block)
            if not text_matches(block.text, out):
                return f"the page shows:\n{block.text}\nthe output is:\n{out}"
            return None
        if kind == "excerpt":
            path = ROOT / block.argument
            text, whole = block.text, path.read_text(encoding="utf-8")
            if block.lang == "yaml":  # the content, whatever the comments say
                text, whole = _without_comments(text), _without_comments(whole)
            if not excerpt_matches(text, whole):
                return f"these lines are not (in this order) in {block.argument}:\n{block.text}"
            return None
        if kind == "file":
            path = self.dir / block.argument
            assert not path.exists(), f"{block.argument} exists already (use `excerpt:`)"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
            if block.lang == "yaml" and "extends:" in block.text:
                return self._validate(path)
            return None
        if kind == "paths":
            return self._paths(block)
        if kind == "usage":
            return self._usage(block)
        return (f"a {block.lang or 'plain'} block without a `<!-- docs-test: ... -->` marker "
                f"on the line before it (see test_docs_blocks.py for the markers)")

    # -- the kinds ----------------------------------------------------------------------------

    def _validate(self, path):
        status, out = self.shell(f"childsim validate {shlex.quote(str(path))}")
        return None if status == 0 else f"childsim validate {path.name}: exit {status}\n{out}"

    def _yaml(self, block):
        tree = yaml.safe_load(block.text)
        text = block.text
        if not isinstance(tree, dict):
            return "a yaml block that is not a map (mark what it is)"
        if "extends" not in tree and "base_data" not in tree:
            text = "extends: baseline.yaml\n" + text
            extends = "baseline.yaml"
        else:
            extends = tree.get("extends", "baseline.yaml")
        # Write it where its `extends` path resolves (scenarios/, a directory beside it, or
        # the top): the pages' examples are written for one of those places.
        for where in ("scenarios", "docs-test", "."):
            directory = self.dir / where
            if (directory / extends).exists():
                break
        else:
            return f"extends: {extends} resolves nowhere in the checkout"
        directory.mkdir(exist_ok=True)
        path = directory / f"docs-test-{pathlib.Path(block.page).stem}-{block.line}.yaml"
        path.write_text(text, encoding="utf-8")
        return self._validate(path)

    def _memo_run(self):
        """childsim.run, remembering results: the same scenario file or dict with the same
        arguments gives the same dataset to the byte (a documented guarantee, tested by
        test_bindings), so pages that run the same thing share one run."""
        import childsim
        real = childsim.run
        cache = self.run_cache = getattr(self, "run_cache", {})

        def run(scenario, **options):
            if options.get("output") is not None:  # streamed to a file: nothing to share
                return real(scenario, **options)
            if isinstance(scenario, (str, os.PathLike)):
                key = str(pathlib.Path(scenario).resolve())
            elif isinstance(scenario, dict):
                key = repr(scenario)
            else:
                return real(scenario, **options)
            key = (key, repr(sorted(options.items())))
            if key not in cache:
                cache[key] = real(scenario, **options)
            return cache[key].copy(deep=True)

        run.__doc__ = real.__doc__
        return real, run

    def _python(self, block):
        import childsim
        namespace = self.namespaces.setdefault(block.page, {"__name__": "__docs__"})
        real, childsim.run = self._memo_run()
        tree = ast.parse(block.text)
        lines = block.text.splitlines()
        printed = [ARROW.search(line).group(1) for line in lines
                   if "print(" in line and ARROW.search(line)]
        stdout = io.StringIO()
        old = pathlib.Path.cwd()
        os.chdir(self.dir)
        try:
            with contextlib.redirect_stdout(stdout):
                for statement in tree.body:
                    source = ast.get_source_segment(block.text, statement)
                    line = lines[statement.end_lineno - 1]
                    arrow = ARROW.search(line)
                    if isinstance(statement, ast.Expr) and arrow and "print(" not in line:
                        value = eval(compile(ast.Expression(statement.value), block.name,
                                             "eval"), namespace)
                        if not text_matches(arrow.group(1).strip(), repr(value)):
                            return (f"line {block.line + statement.lineno}: {source.strip()}"
                                    f"\n  the page says: {arrow.group(1).strip()}"
                                    f"\n  the value is:  {value!r}")
                    else:
                        exec(compile(ast.Module([statement], []), block.name, "exec"),
                             namespace)
        finally:
            os.chdir(old)
            childsim.run = real
            import matplotlib.pyplot as plt
            plt.close("all")
        out = stdout.getvalue().replace(f"{self.dir}/", "")
        self.outputs[block.name] = out
        if printed and not text_matches("\n".join(printed), out):
            return "the page's `# →` lines:\n" + "\n".join(printed) + "\nwere printed as:\n" + out
        return None

    def _paths(self, block):
        missing, prefix = [], ""
        for line in block.text.splitlines():
            if not line.strip() or len(line) - len(line.lstrip()) > 8:
                continue  # a continued description
            token = line.split()[0]
            path = token if not line.startswith(" ") else prefix + token
            if not line.startswith(" ") and token.endswith("/"):
                prefix = token
            if not (ROOT / path).exists():
                missing.append(path)
        return f"paths that do not exist: {missing}" if missing else None

    def _usage(self, block):
        problems = []
        for line in block.text.splitlines():
            words = line.split("#", 1)[0].split()
            programs = [i for i, w in enumerate(words) if w in ("childsim", "childsim-mpi")]
            if not programs:
                continue
            i = programs[0]
            binary = str(pathlib.Path(cli_binary()).parent / words[i])
            rest = words[i + 1:]
            command = [binary]
            if rest and re.fullmatch(r"[a-z]+", rest[0]):
                command.append(rest[0])
            result = subprocess.run(command + ["--help"], capture_output=True, text=True,
                                    env=self.env, timeout=60)
            if result.returncode != 0:
                problems.append(f"{' '.join(words[i:i + 2])}: --help exits {result.returncode}")
                continue
            for word in rest:
                for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", word):
                    if option not in result.stdout:
                        problems.append(f"{line.strip()}: {option} is not in "
                                        f"`{' '.join(words[i:i + 2])} --help`")
        if "childsim --help" in block.text:  # the synopsis of every command: all are there
            listing = subprocess.run([str(cli_binary()), "--help"], capture_output=True,
                                     text=True, env=self.env, timeout=60).stdout
            commands = re.findall(r"^  ([a-z]+) ", listing.split("Subcommands:", 1)[-1], re.M)
            problems += [f"`childsim {c}` is not in the synopsis" for c in commands
                         if f"childsim {c} " not in block.text]
        return "\n".join(problems) or None


@pytest.fixture(scope="session")
def docs_runner(tmp_path_factory):
    if cli_binary() is None:
        pytest.skip("the childsim CLI is not built (set CHILDSIM_BINARY)")
    return Runner(tmp_path_factory.mktemp("docs-sandbox"))


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_docs_block(block, docs_runner):
    if block.kind == "skip":
        pytest.skip(block.argument)
    failure = docs_runner.result(block)
    assert failure is None, f"{block.name}: {failure}"


# Blocks that are not run have their reason written before them. Keep them few: a block is
# skipped only if it cannot run in a test (installs, builds, many MPI ranks, benchmarks, runs
# of many minutes); raising this number is a visible decision.
# A page skipped whole (skip-page) counts once.
MAX_SKIPPED = 22  # 22 since the clinic-siting example and childsim-mpi site (both run by tests at small size)


def test_docs_skipped_blocks_are_few():
    skipped = {b.name: b.argument for b in BLOCKS if b.kind == "skip"}
    assert all(skipped.values()), "a skip without a reason"
    listing = "\n".join(f"  {name}: {reason}" for name, reason in skipped.items())
    print(f"{len(skipped)} skipped block(s):\n{listing}")
    decisions = {(name.split(":")[0], reason) if reason.endswith("(the whole page)") else name
                 for name, reason in skipped.items()}
    assert len(decisions) <= MAX_SKIPPED, listing


def test_docs_blocks_cover_every_page():
    pages = {"README.md"} | {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")}
    assert set(PAGES) == pages
    assert any(b.kind == "output" for b in BLOCKS)


def test_docs_text_matches_rules():
    assert text_matches("a\n...\nd", "a\nb\nc\nd")
    assert text_matches("a ... d", "a b c d")
    assert not text_matches("a\nd", "a\nb\nd")
    assert not text_matches("a\n...", "b\na")
    assert excerpt_matches("b\nc", "a\nb\nc\nd")
    assert _without_comments("# a\nx: 1   # one\n\ny: '2'\n") == "x: 1\ny: '2'\n"
    assert not excerpt_matches("b\nd", "a\nb\nc\nd")


def _sample_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_readme_sample",
                                                  ROOT / "tools" / "make_readme_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_readme_sample_is_what_the_script_makes_of_the_quick_start(docs_runner):
    # tools/make_readme_sample.py writes both blocks from the baseline's printed summary; the
    # quick start's baseline run (made once by the runner) is that run, to the byte.
    tool = _sample_tool()
    status, output = docs_runner.quickstart[
        "./build/release/sim/childsim run scenarios/baseline.yaml -o out/baseline.h5"]
    assert status == 0, output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    fix = "out of date: run /usr/bin/python3 tools/make_readme_sample.py"
    assert tool.block_after(readme, tool.README_ANCHOR) == tool.readme_sample(output), fix
    # The guide's run writes baseline.h5 in the current directory.
    expected = tool.guide_sample(output.replace("Wrote out/baseline.h5", "Wrote baseline.h5"))
    assert tool.block_after(guide, tool.GUIDE_ANCHOR) == expected, fix


def test_docs_readme_sample_excerpt_rules():
    import doctest
    tool = _sample_tool()
    assert doctest.testmod(tool).failed == 0
