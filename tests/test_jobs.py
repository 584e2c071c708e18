"""The plan (generator/jobs.py): editions, output keys, and imports that run one way."""

import subprocess
import sys

from generator.config import EDITIONS
from generator.jobs import Edition, load_clinics, output_key, plan, shard


def test_editions_and_keys(project):
    assert tuple(Edition) == EDITIONS  # the clinic file's keys and the plan's editions agree
    jobs = plan(load_clinics(project, ["example"]), ["es"], ["iv"])
    assert {output_key(job) for job in jobs} == {
        "example/es/iv.pdf",
        "example/es/iv.large.pdf",
        "example/es/iv.es+en.pdf",
    }
    assert {job.edition for job in jobs} == set(Edition) and "large" in {job.edition for job in jobs}
    everything = plan(load_clinics(project))
    parts = [shard(everything, k, 3) for k in (1, 2, 3)]
    assert sorted(j.name for p in parts for j in p) == sorted(j.name for j in everything)


def test_the_plan_does_not_import_the_build():
    """manifest, index and jobs import Job from jobs.py: none of them pulls in build.py, so
    there is no import cycle (each module imports alone, in a fresh interpreter)."""
    code = (
        "import sys\n"
        "for name in ('jobs', 'manifest', 'index'):\n"
        "    __import__('generator.' + name)\n"
        "    assert 'generator.build' not in sys.modules, name\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
