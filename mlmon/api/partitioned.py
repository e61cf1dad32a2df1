"""A read in parts (`--engine dask`): each file read and accumulated on its own, the parts merged in order."""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from mlmon.api.selection import (
    Selection,
    _earlier,
    _later,
    _newest,
    _oldest,
    _Read,
    _Selector,
)
from mlmon.errors import MlmonError, OptionError
from mlmon.read import remote
from mlmon.read.reader import InputReport, Reader, ReadOptions, combine
from mlmon.read.records import TIMESTAMP, ReadPlan
from mlmon.read.sources import STDIN, Source


@dataclass
class Part:
    """What reading some files one after another gave: their accumulator and their report."""

    accumulator: Any
    report: InputReport
    filtered_out: int
    timed: int
    fed: int
    newest_read: int | None
    newest_selected: int | None
    oldest_selected: int | None


@dataclass(frozen=True)
class Failed:
    """A part that stopped with an error a user can act on (a bad file): raised as it would be
    locally, the first in reading order."""

    error: MlmonError


def read_part(
    source: Source, *, plan: ReadPlan, require: tuple[str, ...], options: ReadOptions,
    selection: Selection, template: Any,
) -> Part | Failed:
    """Read one file into a copy of the (empty) accumulator `template`."""
    acc = copy.deepcopy(template)
    selector = _Selector(selection)
    timed = fed = 0
    newest_read = newest_selected = oldest_selected = None
    try:
        reader = Reader([source], plan, require=require, options=options)
        reader.on_file_done = getattr(acc, "file_done", None)
        for table in reader.tables():
            ts = table.column(TIMESTAMP)
            timed += len(ts) - ts.null_count
            newest_read = _later(newest_read, _newest(table))
            for t in selector.feed(table):
                if t.num_rows:
                    newest_selected = _later(newest_selected, _newest(t))
                    oldest_selected = _earlier(oldest_selected, _oldest(t))
                    fed += t.num_rows
                    acc.update(t)
        report = reader.report()
    except MlmonError as exc:
        return Failed(exc)
    return Part(acc, report, selector.filtered_out, timed, fed, newest_read, newest_selected, oldest_selected)


def merge_parts(a: Part | Failed, b: Part | Failed, *, max_examples: int) -> Part | Failed:
    """The part of `a`'s files then `b`'s; `a` and `b` are left as they are (a task Dask runs
    again after a lost worker must find its inputs unchanged)."""
    if isinstance(a, Failed):
        return a
    if isinstance(b, Failed):
        return b
    acc = copy.deepcopy(a.accumulator)
    acc.merge(b.accumulator)
    return Part(
        acc,
        combine([a.report, b.report], max_examples=max_examples),
        a.filtered_out + b.filtered_out,
        a.timed + b.timed,
        a.fed + b.fed,
        _later(a.newest_read, b.newest_read),
        _later(a.newest_selected, b.newest_selected),
        _earlier(a.oldest_selected, b.oldest_selected),
    )


def read_parts(
    sources: list[Source], plan: ReadPlan, require: tuple[str, ...], options: ReadOptions,
    selection: Selection, accumulator: Any, left_out: list[tuple[str, str]],
) -> _Read:
    """Read `sources` on the engine `options.engine`, one task per file, and merge the parts into
    `accumulator` (empty): the same accumulator and report as reading them here in turn."""
    from mlmon.engine import dask

    if accumulator is None:
        raise OptionError(
            f"--engine {options.engine}: summary and drift read on a cluster (summary without "
            "--labels); this run reads with the local engine only"
        )
    if options.engine != "dask":
        raise OptionError(f"--engine {options.engine!r}: the engines are local and dask")
    if selection.window_rows is not None or (selection.last_ns is not None and selection.until_ns is None):
        raise OptionError(
            "--engine dask: --window-rows and --last without --until need all files' newest records "
            "first; give --since/--until (or --last with --until), or read with the local engine"
        )
    if any(s.path == STDIN for s in sources):
        raise OptionError("--engine dask reads files: standard input (-) cannot be sent to workers")
    # a worker opens the file by its absolute path; the name shown stays the one given
    located = [
        s if remote.is_url(s.path) else dataclasses.replace(s, location=os.path.abspath(s.path))
        for s in sources
    ]
    task = dask.bound(
        read_part, plan=plan, require=require, options=options, selection=selection,
        template=accumulator,
    )
    merge = dask.bound(merge_parts, max_examples=options.max_examples)
    got = dask.map_reduce(located, task, merge, scheduler=options.scheduler)
    if isinstance(got, Failed):
        raise got.error
    accumulator.merge(got.accumulator)
    report = got.report
    if left_out:
        report = dataclasses.replace(report, left_out=tuple(left_out))
    return _Read(report, got.filtered_out, got.timed, got.newest_read, got.newest_selected,
                 got.oldest_selected, fed=got.fed)


