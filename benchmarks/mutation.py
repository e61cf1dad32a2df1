"""Mutation testing of mlmon's core, where a wrong answer is silent: plant one small bug at a time
(mutmut 3) and see whether the tests that exercise the module notice.

    python benchmarks/mutation.py [MODULE...] [--minutes M] [--children N] [--list]
                                  [--out benchmarks/mutation-report.md]

MODULE is a key of MODULES below (`rules/alerts`, `escape`, `read/follow`, `stats/effects`, ...);
none means all of them, one after another (slow: hours on two cores). Each module runs in a scratch
copy of the project (build/mutation/<module>/, made anew each run, so the checkout is never
touched) under `nice -n 19`, with only the test files that exercise it, and stops after --minutes
(mutants not reached by then are reported as "not checked"). The scores and every surviving
mutant (its diff) go to benchmarks/mutation-report.md: a module's section is replaced, the others
are kept, so modules can be measured one at a time.

Score = killed / (mutants checked - equivalent). Killed includes a mutant that made the tests
time out. A survivor listed in benchmarks/mutation-equivalent.toml (by module, function and the
mutated line) is equivalent (no test can tell it from the original) and is reported with the
reason given there. The target is 90% per module.

This is not part of the test suite (`python -m pytest` never runs it): it takes minutes per module.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "build" / "mutation"
REPORT = ROOT / "benchmarks" / "mutation-report.md"
EQUIVALENT = ROOT / "benchmarks" / "mutation-equivalent.toml"
TARGET = 0.90


@dataclass(frozen=True)
class Module:
    """What to mutate and which tests must notice."""

    source: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()
    """Only the mutants of these functions (mutmut name globs after the module, `x_safe`,
    `xǁThresholdǁcrossed`); empty means every function in the file."""
    deselect: tuple[str, ...] = ()
    """Tests left out (pytest node ids), with the reason where it is set: a test failing on the
    unmutated code stops the whole run."""


MODULES: dict[str, Module] = {
    # rules: the alert decisions
    "rules/alerts": Module(
        "mlmon/rules/alerts.py",
        (
            "tests/rules/test_alerts.py", "tests/rules/test_alert_boundaries.py",
            "tests/rules/test_alert_messages.py", "tests/rules/test_alert_fields.py",
            "tests/stats/test_drift_verdicts.py", "tests/cli/test_gates.py",
        ),
        # runs `mlmon` in a subprocess, which never runs the mutant (and is slow)
        deselect=("tests/cli/test_gates.py::test_json_error_document_from_a_real_process",),
    ),
    # the check rules' verdicts: the rule functions called directly, and `mlmon check` in-process
    "rules/check": Module(
        "mlmon/rules/check.py",
        (
            "tests/rules/test_check_verdicts.py", "tests/cli/test_check.py", "tests/cli/test_gates.py",
            "tests/cli/test_check_groups.py", "tests/cli/test_shown_compared.py",
            "tests/rules/test_alert_boundaries.py", "tests/cli/test_group_labels.py",
            "tests/run/test_check_run.py", "tests/rules/test_state.py",
        ),
        # runs `mlmon` in a subprocess, which never runs the mutant (and is slow)
        deselect=("tests/cli/test_gates.py::test_json_error_document_from_a_real_process",),
    ),
    "rules/state": Module(
        "mlmon/rules/state.py", ("tests/rules/test_state.py", "tests/rules/test_state_file.py")
    ),
    "rules/persist": Module("mlmon/rules/persist.py", ("tests/rules/test_persist.py",)),
    "rules/config": Module(
        "mlmon/rules/config.py", ("tests/rules/test_config.py", "tests/rules/test_config_rules.py")
    ),
    "rules/configfile": Module(
        "mlmon/rules/configfile.py",
        ("tests/rules/test_configfile.py", "tests/cli/test_error_boundary.py::"
         "test_nesting_and_dotted_keys_in_strings_and_comments_are_not_counted"),
    ),
    "rules/identity": Module("mlmon/rules/identity.py", ("tests/rules/test_identity.py",)),
    "rules/guidance": Module("mlmon/rules/guidance.py", ("tests/rules/test_guidance.py",)),
    # the escapers every output of log text goes through
    "escape": Module(
        "mlmon/escape.py",
        (
            "tests/report/test_escapers.py", "tests/report/test_render.py",
            "tests/report/test_hostile_outputs.py",
        ),
        # fails on main: its check config's drift rules get no data (owner told)
        deselect=(
            "tests/report/test_hostile_outputs.py::"
            "test_every_output_holds_the_corpus_escaped_and_parses_with_its_consumer",
        ),
    ),
    # every exported metric: read back from the file
    "report/prometheus": Module(
        "mlmon/report/prometheus.py",
        (
            "tests/report/test_prometheus_direct.py",
            "tests/report/test_prometheus_readback.py", "tests/report/test_prometheus_features.py",
            "tests/report/test_prometheus.py::test_metrics_match_numpy",
        ),
    ),
    # reading: what --state follows, and every line counted once
    "read/follow": Module(
        "mlmon/read/follow.py",
        (
            "tests/read/test_follow_look.py", "tests/read/test_follow_plan.py", "tests/read/test_follow.py",
            "tests/read/test_follow_edges.py",
        ),
    ),
    "read/accounting": Module(
        "mlmon/read/reader.py",
        (
            "tests/read/test_budget_messages.py", "tests/read/test_reader.py", "tests/read/test_corpus.py",
            "tests/cli/test_cli.py::test_rows_rejected_after_parsing_show_their_own_line",
        ),
        (
            "xǁReaderǁ_account", "xǁReaderǁ_numbered", "xǁReaderǁreport", "xǁFileReportǁbad_lines",
            "x_check_budget",
        ),
    ),
    # statistics: the small pure modules first
    "stats/edgeslots": Module(
        "mlmon/stats/edgeslots.py", ("tests/stats/test_edgeslots.py", "tests/stats/test_edgeslots_inputs.py")
    ),
    "stats/effects": Module(
        "mlmon/stats/effects.py", ("tests/stats/test_effects_by_hand.py", "tests/stats/test_drift.py")
    ),
    "stats/weighted": Module("mlmon/stats/weighted.py", ("tests/stats/test_compare_approx.py",)),
    "stats/classes": Module("mlmon/stats/classes.py", ("tests/stats/test_classes.py",)),
    "stats/sketch": Module(
        "mlmon/stats/sketch.py", ("tests/stats/test_sketch.py", "tests/stats/test_compare_approx.py")
    ),
    # per-group accumulators and clock windows: called directly (the CLI's --by tests take a
    # second a mutant where these take milliseconds)
    "stats/grouped": Module("mlmon/stats/grouped.py", ("tests/stats/test_grouped.py",)),
    "stats/grouped_windows": Module("mlmon/stats/grouped_windows.py", ("tests/stats/test_grouped.py",)),
    "stats/windows": Module(
        "mlmon/stats/windows.py", ("tests/stats/test_windows.py", "tests/stats/test_windows_edges.py")
    ),
    # the baseline file: every field written, read back and checked
    "stats/baseline": Module(
        "mlmon/stats/baseline.py",
        (
            "tests/stats/test_baseline.py", "tests/stats/test_baseline_fields.py",
            "tests/stats/test_baseline_schema.py",
        ),
    ),
    "stats/baseline_schema": Module(
        "mlmon/stats/baseline_schema.py",
        ("tests/stats/test_baseline_schema.py", "tests/stats/test_baseline_fields.py"),
    ),
    "stats/prefetch": Module("mlmon/stats/prefetch.py", ("tests/stats/test_prefetch.py",)),
    "stats/compare": Module(
        "mlmon/stats/compare.py",
        (
            "tests/stats/test_compare.py", "tests/stats/test_compare_approx.py",
            "tests/stats/test_compare_fields.py",
        ),
    ),
    # drift's parts called directly first (seconds a mutant), then its runs on small logs
    "stats/drift": Module(
        "mlmon/stats/drift.py",
        (
            "tests/stats/test_drift_units.py", "tests/stats/test_drift_accumulator.py",
            "tests/stats/test_drift.py", "tests/stats/test_drift_verdicts.py",
        ),
        # slow (5 to 10 s each, a million values or thousands of Monte Carlo p-values): the same
        # p-values are checked against exact enumeration in test_drift_units.py
        deselect=tuple(f"tests/stats/test_drift_verdicts.py::{t}" for t in (
            "test_monte_carlo_p_is_calibrated_in_the_tail", "test_small_expected_counts_get_an_exact_p",
            "test_monte_carlo_p_never_falls_below_its_draws", "test_tiny_shift_at_huge_n_is_not_drift",
        )),
    ),
    "stats/summary": Module(
        "mlmon/stats/summary.py",
        (
            "tests/stats/test_summary.py", "tests/stats/test_summary_fields.py",
            "tests/stats/test_summary_shares.py",
            "tests/stats/test_percentile.py::test_bounds_are_interpolated_order_statistics_and_agree_for_counts",
        ),
    ),
    # the compiled pass's counts, against the pyarrow/numpy pass they must equal
    "stats/summaryshares": Module(
        "mlmon/stats/summaryshares.py",
        ("tests/stats/test_summary_shares.py", "tests/stats/test_summary_fields.py"),
    ),
    "stats/moments": Module("mlmon/stats/moments.py", ("tests/stats/test_moments.py",)),
    # the verdicts at a limit: a percentile's bounds, the data-quality and unseen-value tests
    "stats/percentile": Module("mlmon/stats/percentile.py", ("tests/stats/test_percentile.py",)),
    "stats/quality": Module("mlmon/stats/quality.py", ("tests/stats/test_quality.py",)),
    "stats/novelty": Module(
        "mlmon/stats/novelty.py",
        (
            "tests/stats/test_novelty.py", "tests/rules/test_alert_fields.py",
            "tests/stats/test_drift_verdicts.py",
            "tests/stats/test_drift.py::test_rare_and_unseen_categories",
        ),
    ),
    # what the report's plots draw, and the exact sums behind the summary's means
    "stats/distributions": Module("mlmon/stats/distributions.py", ("tests/stats/test_distributions.py",)),
    "stats/exactsum": Module("mlmon/stats/exactsum.py", ("tests/stats/test_exactsum.py",)),
    "stats/joint": Module("mlmon/stats/joint.py", ("tests/stats/test_joint.py",)),
    "stats/evidence": Module("mlmon/stats/evidence.py", ("tests/stats/test_evidence.py",)),
    "stats/labels": Module(
        "mlmon/stats/labels.py", ("tests/stats/test_labels.py", "tests/rules/test_state_file.py")
    ),
    "stats/performance": Module(
        "mlmon/stats/performance.py",
        ("tests/stats/test_performance.py", "tests/rules/test_check_verdicts.py"),
    ),
}

# Bugs planted by hand, beside mutmut's: mutmut changes code inside functions only, so a
# module-level table (a regex's character class, a map of values) is planted here. Each is
# (file, text, replacement, what it breaks); a bug whose text the code no longer has is reported
# as not applicable.
PLANTED: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "rules/alerts": (
        ("mlmon/rules/alerts.py", "(value > limit if upper else value < limit)",
         "(value >= limit if upper else value < limit)", "an upper limit fires at value == limit"),
        ("mlmon/rules/alerts.py", "(value > limit if upper else value < limit)",
         "(value > limit if upper else value <= limit)", "a lower limit fires at value == limit"),
    ),
    "escape": (
        ("mlmon/escape.py", "\\x00-\\x1f\\x7f-\\xa0", "\\x00-\\x1f\\x7f\\xa0",
         "C1 controls U+0080-009F not escaped"),
        ("mlmon/escape.py", "\\u2028-\\u202f", "\\u2028-\\u2029", "bidi overrides U+202A-202E not escaped"),
    ),
    "report/prometheus": (
        ("mlmon/api/counters.py", 'version, extra = rest.rsplit("|", 1)',
         'version, extra = rest.split("|", 1)',
         "the --state totals key split at the first | of a model_version"),
        ("mlmon/report/prometheus.py", "Status.WARNING: 1, Status.CRITICAL: 2",
         "Status.WARNING: 2, Status.CRITICAL: 1", "mlmon_rule_status warning and critical swapped"),
    ),
}

# what the scratch copy needs beside mlmon/ and tests/ (tests read the README and docs)
ALSO_COPY = ("README.md", "docs", "sample_logs")

# Added to the scratch copy's tests/conftest.py. mutmut runs the unmutated tests first and forks
# each mutant's run from that process, so a cache of mlmon's (functools.lru_cache, as on
# stats.percentile.bound_ranks) would hand every mutant the unmutated answers it already holds:
# each test starts with mlmon's caches empty.
FRESH_CACHES = """

# --- added by benchmarks/mutation.py: mlmon's caches emptied before each test (mutants are
# forked from a process that ran the unmutated code and filled them)
import pytest as _pytest


@_pytest.fixture(autouse=True)
def _mutation_fresh_caches() -> None:
    import sys as _sys

    for _name, _mod in list(_sys.modules.items()):
        if _name.startswith("mlmon.") and _mod is not None:
            for _v in list(vars(_mod).values()):
                if callable(getattr(_v, "cache_clear", None)) and hasattr(_v, "cache_info"):
                    _v.cache_clear()
"""


def _fresh_caches(dest: Path) -> None:
    conftest = dest / "tests" / "conftest.py"
    text = conftest.read_text() if conftest.exists() else ""
    if FRESH_CACHES not in text:
        conftest.write_text(text + FRESH_CACHES)


@dataclass
class Outcome:
    name: str
    module: Module
    counts: dict[str, int] = field(default_factory=dict)
    survivors: list[tuple[str, str, str]] = field(default_factory=list)
    """(mutant, diff, equivalence reason or "")."""
    planted: list[tuple[str, str]] = field(default_factory=list)
    """(what the planted bug breaks, killed / SURVIVED / not applicable)."""
    untested: dict[str, int] = field(default_factory=dict)
    """Functions no selected test calls, with their mutant counts (not killed)."""
    minutes: float = 0.0
    stopped: str = ""
    retested: bool = False
    """Its survivors were run again against newer tests (--retest)."""

    @property
    def equivalent(self) -> int:
        return sum(1 for *_, why in self.survivors if why)

    @property
    def killed(self) -> int:
        return sum(self.counts.get(k, 0) for k in ("killed", "timeout", "caught by type check"))

    @property
    def checked(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "not checked")

    @property
    def score(self) -> float | None:
        real = self.checked - self.equivalent
        return self.killed / real if real else None


def _copy_project(dest: Path, mod: Module) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "mlmon", dest / "mlmon", ignore=ignore)
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=ignore)
    for extra in ALSO_COPY:
        src = ROOT / extra
        if src.is_dir():
            shutil.copytree(src, dest / extra, ignore=ignore)
        elif src.exists():
            (dest / extra).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / extra)
    _fresh_caches(dest)
    _write_config(dest, mod)


def _write_config(dest: Path, mod: Module) -> None:
    """The scratch project's pyproject.toml: the project's, with mutmut set to the module."""
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text)
    tests = [t for t in mod.tests if (ROOT / t.split("::")[0]).exists()]
    deselect = [a for t in mod.deselect for a in ("--deselect", t)]
    text += (
        "\n[tool.mutmut]\n"
        'source_paths = ["mlmon"]\n'
        f"only_mutate = [{json.dumps(mod.source)}]\n"
        f"also_copy = {json.dumps(list(ALSO_COPY))}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        f"pytest_add_cli_args = {json.dumps(['-p', 'no:cacheprovider', *deselect])}\n"
        "use_git_change_detection = false\n"
    )
    (dest / "pyproject.toml").write_text(text)


def _mutmut(dest: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["nice", "-n", "19", sys.executable, "-m", "mutmut", *args]
    proc = subprocess.Popen(
        cmd, cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        return subprocess.CompletedProcess(cmd, -1, out, "")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


def _equivalents() -> list[dict[str, str]]:
    if not EQUIVALENT.exists():
        return []
    return list(tomllib.loads(EQUIVALENT.read_text()).get("equivalent", []))


def _mutated_lines(diff: str) -> list[str]:
    return [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]


def _function(mutant: str) -> str:
    return mutant.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]


def _removed_lines(diff: str) -> list[str]:
    return [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]


def _why_equivalent(name: str, mutant: str, diff: str) -> str:
    """The reason of the entry matching the mutant: its module, function and a mutated line, and
    (where the entry has `removed`, for a line as common as `None,`) a line the mutant removed."""
    lines, removed = _mutated_lines(diff), _removed_lines(diff)
    for e in _equivalents():
        # a mutant that only deletes a line matches an entry with line = "" and that line `removed`
        added = lines or [""]
        if (e.get("module") == name and e.get("function") == _function(mutant) and e.get("line") in added
                and e.get("removed", removed[0] if removed else "") in removed):
            return str(e.get("reason", "equivalent"))
    return ""


def run_planted(name: str, mod: Module, dest: Path, minutes: float) -> list[tuple[str, str]]:
    """Each bug of PLANTED[name] in its own copy of the scratch project, with the module's tests."""
    out = []
    tests = [t for t in mod.tests if (ROOT / t.split("::")[0]).exists()]
    for i, (path, old, new, what) in enumerate(PLANTED.get(name, ())):
        text = (ROOT / path).read_text()
        if text.count(old) != 1:
            out.append((what, "not applicable (the code changed)"))
            continue
        copy = dest / f"planted-{i}"
        if copy.exists():
            shutil.rmtree(copy)
        copy.mkdir()
        for part in ("mlmon", "tests", "pyproject.toml", *ALSO_COPY):
            src = dest / part
            if src.is_dir():
                shutil.copytree(src, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, copy / part)
        (copy / path).write_text(text.replace(old, new))
        cmd = ["nice", "-n", "19", sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
        cmd += [*tests, *(a for t in mod.deselect for a in ("--deselect", t))]
        try:
            done = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, timeout=minutes * 60)
            out.append((what, "killed" if done.returncode == 1 else "SURVIVED" if done.returncode == 0
                        else f"pytest exited {done.returncode}"))
        except subprocess.TimeoutExpired:
            out.append((what, "not finished"))
        shutil.rmtree(copy)
    return out


def retest(name: str, mod: Module, minutes: float, children: int) -> str:
    """Run the last run's surviving mutants again against the tests as they are now (new tests
    written to kill them), and the mutants it did not reach before --minutes stopped it, in the
    same scratch copy; the module's code must be unchanged since.
    Returns "" or why it could not."""
    dest = SCRATCH / name.replace("/", "-")
    meta = dest / "mutants" / (mod.source + ".meta")
    if not meta.exists():
        return "no earlier run to retest"
    if (dest / mod.source).read_bytes() != (ROOT / mod.source).read_bytes():
        return f"{mod.source} changed since the last run: run the module again"
    before = (dest / "pyproject.toml").read_text()
    _write_config(dest, mod)
    if (dest / "pyproject.toml").read_text() != before:
        # mutmut drops every result when its configuration (the test list) changes
        (dest / "pyproject.toml").write_text(before)
        return "the module's test list changed since the last run: run the module again"
    from mutmut.stats import status_by_exit_code

    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    # the survivors, the mutants a run stopped by --minutes did not reach (a retest goes on), and
    # those of functions no test called ("no tests": mutmut finds which functions new tests call
    # before it runs the mutants)
    again = ("survived", "suspicious", "segfault", "not checked", "no tests")
    names = [m for m, c in codes.items() if status_by_exit_code[c] in again]
    # a module measured on some functions only (`functions`): the other functions' mutants are
    # never run, so they stay "not checked" and are not the module's
    prefix = mod.source[:-3].replace("/", ".")
    globs = [f"{prefix}.{f}__mutmut_*" for f in mod.functions]
    names = [m for m in names if not globs or any(fnmatch.fnmatchcase(m, g) for g in globs)]
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    def listed(mutant: str) -> bool:  # an equivalent survivor: no test can kill it, so not run again
        if status_by_exit_code[codes[mutant]] == "not checked":
            return False
        diff = get_diff_for_mutant(mutant, path=mod.source)
        return bool(_why_equivalent(name, mutant, "\n".join(diff.splitlines()[2:])))

    here = Path.cwd()
    os.chdir(dest)
    try:
        names = [m for m in names if not listed(m)]
    finally:
        os.chdir(here)
    if not names:
        return ""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("tests", *ALSO_COPY):
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, dest / part)
    _fresh_caches(dest)
    done = _mutmut(dest, "run", "--max-children", str(children), *names, timeout=minutes * 60)
    (dest / "mutmut-retest.log").write_text(done.stdout)
    return "" if done.returncode == 0 else f"mutmut exited {done.returncode}: see {dest}/mutmut-retest.log"


def run_module(
    name: str, mod: Module, minutes: float, children: int, *, again: bool = True, planted_only: bool = False
) -> Outcome:
    """Mutate and test one module (`again` False: only read the last run's results; `planted_only`:
    only the bugs of PLANTED, keeping the last mutmut run's results)."""
    dest = SCRATCH / name.replace("/", "-")
    if planted_only:
        scratch = SCRATCH / (name.replace("/", "-") + "-planted")
        _copy_project(scratch, mod)
        planted = run_planted(name, mod, scratch, min(minutes, 10.0))
        shutil.rmtree(scratch)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "planted.json").write_text(json.dumps(planted))
        again = False
    prefix = mod.source[:-3].replace("/", ".")
    globs = [f"{prefix}.{f}__mutmut_*" for f in mod.functions]
    log = dest / "mutmut-run.log"
    if again:
        _copy_project(dest, mod)
        start = time.monotonic()
        done = _mutmut(dest, "run", "--max-children", str(children), *globs, timeout=minutes * 60)
        log.write_text(done.stdout)
        took = (time.monotonic() - start) / 60
        (dest / "mutmut-run.rc").write_text(f"{done.returncode} {took:.2f} {minutes:g}\n")
        planted = run_planted(name, mod, dest, min(minutes, 10.0))
        (dest / "planted.json").write_text(json.dumps(planted))
    rc_file = dest / "mutmut-run.rc"
    rc, took, cap = rc_file.read_text().split() if rc_file.exists() else ("?", "0", "?")
    out = Outcome(name, mod, minutes=float(took), retested=(dest / "mutmut-retest.log").exists())
    if (dest / "planted.json").exists():
        out.planted = [tuple(x) for x in json.loads((dest / "planted.json").read_text())]  # type: ignore[misc]
    if rc == "-1":
        out.stopped = f"stopped after {cap} min"
    elif rc != "0":
        out.stopped = f"mutmut exited {rc}: see {dest.relative_to(ROOT)}/mutmut-run.log"
    meta = dest / "mutants" / (mod.source + ".meta")
    if not meta.exists():
        out.stopped = out.stopped or "no mutants generated"
        return out
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    here = Path.cwd()
    os.chdir(dest)
    try:
        for mutant, code in sorted(codes.items(), key=lambda kv: _order(kv[0])):
            if globs and not any(fnmatch.fnmatchcase(mutant, g) for g in globs):
                continue
            status = status_by_exit_code[code]
            out.counts[status] = out.counts.get(status, 0) + 1
            if status == "no tests":
                out.untested[_function(mutant)] = out.untested.get(_function(mutant), 0) + 1
            elif status in ("survived", "suspicious", "segfault"):
                diff = get_diff_for_mutant(mutant, path=mod.source)
                diff = "\n".join(ln for ln in diff.splitlines()[2:] if ln[:1] in "+-")
                out.survivors.append((mutant, f"{status}\n{diff}", _why_equivalent(name, mutant, diff)))
    finally:
        os.chdir(here)
    return out


def _order(mutant: str) -> tuple[str, int]:
    head, _, n = mutant.rpartition("__mutmut_")
    return head, int(n) if n.isdigit() else 0


def _section(o: Outcome) -> str:
    score = "n/a" if o.score is None else f"{o.score:.1%}"
    held = o.score is not None and o.score >= TARGET
    verdict = "" if o.score is None else (" (target held)" if held else " (BELOW the 90% target)")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(o.counts.items()))
    funcs = f", functions {', '.join(o.module.functions)}" if o.module.functions else ""
    lines = [
        f"## {o.name}",
        "",
        f"`{o.module.source}`{funcs}; tests: {', '.join(f'`{t}`' for t in o.module.tests)}.",
        "",
        f"**Score {score}**{verdict}: {o.killed} killed of {o.checked - o.equivalent} non-equivalent "
        f"mutants checked ({counts}; {o.equivalent} equivalent); {o.minutes:.1f} min"
        + (f"; {o.stopped}" if o.stopped else "")
        + ("; its survivors run again against the current tests (--retest)" if o.retested else "")
        + ".",
        "",
    ]
    if o.planted:
        lines += ["Bugs planted by hand (benchmarks/mutation.py PLANTED):", ""]
        lines += [f"- {what}: {verdict}" for what, verdict in o.planted] + [""]
    live = [(m, d) for m, d, why in o.survivors if not why]
    same = [(m, why) for m, _, why in o.survivors if why]
    if live:
        lines += ["Surviving mutants:", ""]
        for m, d in live:
            lines += [f"- `{m}`", "", "```diff", d, "```", ""]
    if o.untested:
        lines += ["No selected test calls these functions (their mutants count as not killed):", ""]
        lines += [f"- `{f}`: {n}" for f, n in sorted(o.untested.items())] + [""]
    if same:
        lines += ["Equivalent (no test can tell them from the original):", ""]
        lines += [f"- `{m}`: {why}" for m, why in same] + [""]
    return "\n".join(lines)


def write_report(outcomes: list[Outcome], path: Path) -> None:
    sections: dict[str, str] = {}
    if path.exists():
        for chunk in re.split(r"(?m)^(?=## )", path.read_text()):
            if chunk.startswith("## "):
                sections[chunk.split("\n", 1)[0][3:].strip()] = chunk.rstrip() + "\n"
    for o in outcomes:
        sections[o.name] = _section(o)
    ordered = [k for k in MODULES if k in sections]  # a module no longer listed is dropped
    head = [
        "# Mutation testing report",
        "",
        "Written by `python benchmarks/mutation.py [MODULE...]` (see docs/testing.md); each section",
        "is the latest run of that module. Score = killed / non-equivalent mutants checked; target 90%.",
        "",
        "| module | score | killed | non-equivalent | equivalent | not checked |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k in ordered:
        m = re.search(
            r"\*\*Score (\S+)\*\*.*?: (\d+) killed of (\d+) non-equivalent.*?; (\d+) equivalent\)",
            sections[k],
            re.S,
        )
        nc = re.search(r"not checked (\d+)", sections[k])
        if m:
            head.append(f"| {k} | {m[1]} | {m[2]} | {m[3]} | {m[4]} | {nc[1] if nc else 0} |")
    path.write_text("\n".join(head) + "\n\n" + "\n".join(sections[k] for k in ordered))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", help="keys of MODULES (default: all)")
    ap.add_argument("--minutes", type=float, default=20.0, help="cap per module (default 20)")
    ap.add_argument("--children", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--out", type=Path, default=REPORT)
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from the last runs")
    ap.add_argument("--planted-only", action="store_true", help="run only the bugs planted by hand")
    ap.add_argument("--retest", action="store_true",
                    help="run the last run's survivors (and the mutants it did not reach) again, "
                    "against the current tests")
    ap.add_argument("--list", action="store_true", help="list the modules and their tests")
    a = ap.parse_args()
    if a.list:
        for k, m in MODULES.items():
            print(f"{k:18} {m.source} {' '.join(m.functions)}\n{'':18} tests: {' '.join(m.tests)}")
        return 0
    unknown = [m for m in a.modules if m not in MODULES]
    if unknown:
        ap.error(f"unknown module(s) {', '.join(unknown)}; --list shows them")
    outcomes = []
    for name in a.modules or list(MODULES):
        if a.retest:
            why = retest(name, MODULES[name], a.minutes, a.children)
            if why:
                print(f"{name}: not retested: {why}")
        o = run_module(name, MODULES[name], a.minutes, a.children, again=not (a.report_only or a.retest),
                       planted_only=a.planted_only)
        score = "n/a" if o.score is None else f"{o.score:.1%}"
        stopped = f" {o.stopped}" if o.stopped else ""
        print(f"{name}: {score} ({o.killed} killed / {o.checked - o.equivalent}){stopped}")
        outcomes.append(o)
        write_report(outcomes, a.out)
    return 0 if all(o.score is not None and o.score >= TARGET for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
