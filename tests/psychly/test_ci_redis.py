"""The Redis that .ci/run starts is bounded as README tells production to bound it."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _redis_server_arguments():
    script = (ROOT / ".ci" / "run").read_text()
    match = re.search(r"^\s*redis-server (.*?)(?<!\\)$", script.replace("\\\n", " "), re.MULTILINE)
    assert match, ".ci/run no longer starts redis-server"
    return shlex.split(match.group(1))


def test_ci_redis_has_the_memory_bound_readme_documents():
    arguments = _redis_server_arguments()
    readme = (ROOT / "README.md").read_text()
    assert "--maxmemory 256mb" in readme.replace("\n", " ").replace("  ", " ")
    assert arguments[arguments.index("--maxmemory") + 1] == "256mb"
    assert arguments[arguments.index("--maxmemory-policy") + 1] == "allkeys-lru"
