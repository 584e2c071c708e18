"""A change WeasyPrint itself should make, applied in the benchmark's process only (never in
generator/, where the developers' guide forbids patching WeasyPrint's internals).

WeasyPrint 70's ``columns_layout`` lays out a group of columns twice: a trial pass at the full
page height, which balancing needs (does it all fit? then start from the average height),
then the real pass. With ``column-fill: auto`` on the last group of the box (``main`` of a
handout: ``templates/handout.css``), nothing is balanced: the trial pass only finds out
whether the content fits, and the real pass, at the same full height, finds that out again.
Skipping the trial there leaves the layout as it was (the benchmark checks the PDFs byte for
byte) and saves one column layout per page.

The patch edits the function's source (one ``while True:`` becomes ``while not skip:``) and
refuses to load on any WeasyPrint but the locked version, or if the source is not as expected.
"""

from __future__ import annotations

import inspect
import textwrap

LOCKED = "70.0"
TRIAL = """        while True:
            # Remove extra excluded shapes introduced during the previous loop
"""
SKIP = """        while not (
                style['column_fill'] == 'auto' and
                index == columns_and_blocks[-1][0] and
                context.current_footnote_area.height == 'auto'):
            # Remove extra excluded shapes introduced during the previous loop
"""


def apply() -> None:
    import weasyprint
    from weasyprint.layout import block, column

    if weasyprint.__version__ != LOCKED:
        raise SystemExit(f"column_patch is written for WeasyPrint {LOCKED}, not {weasyprint.__version__}")
    source = textwrap.dedent(inspect.getsource(column.columns_layout))
    if source.count(TRIAL) != 1:
        raise SystemExit("column_patch: WeasyPrint's columns_layout is not the one this patch was written for")
    namespace = dict(vars(column))
    exec(compile(source.replace(TRIAL, SKIP), column.__file__, "exec"), namespace)  # noqa: S102
    column.columns_layout = block.columns_layout = namespace["columns_layout"]
