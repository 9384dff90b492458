"""Every optional package a test imports with importorskip is installed by CI (an extra or a dependency),
so no test is silently skipped there."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# imported under another name than the distribution, or installed by a dependency
PROVIDED_BY = {"pyarrow": "datasets", "distributed": "dask"}


def _requirement_names(reqs) -> set:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].strip().lower() for r in reqs}


def test_every_importorskip_package_is_installed_by_an_extra_or_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = _requirement_names(project["dependencies"])
    for reqs in project.get("optional-dependencies", {}).values():
        installed |= _requirement_names(reqs)
    wanted = set()
    for test in (ROOT / "tests").glob("*.py"):
        wanted |= set(re.findall(r"importorskip\(\"([A-Za-z_][\w]*)", test.read_text()))
    wanted -= {"corpus_stats", "scaling"}
    missing = {name for name in wanted if PROVIDED_BY.get(name, name).lower() not in installed}
    assert not missing, f"tests importorskip {sorted(missing)}, which no extra of pyproject.toml installs"
