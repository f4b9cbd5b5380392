"""The README's main command, as a user runs it: `python main.py demo` (what `make demo` calls)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_plays_the_whole_story_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "main.py", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "UNEXPECTED" not in out
    for step in range(1, 10):
        assert f"[{step}] " in out
    assert out.count("    ok: ") == 15  # every check the story makes
    assert "on the service: runway-route=conflict, holder runway-demo/catalog" in out
    assert "on the service: runway-route=unreachable" in out
    assert "HTTP 200: 5 services, changes: none" in out
    assert "'private': 3, 'published': 2" in out
    assert "*     /products        runway-demo/catalog" in out
    assert "Decisions by action" in out and "Route conflicts" in out and "Posture" in out
    assert "everything stopped" in out


@pytest.mark.slow
def test_the_organization_demo_plays_its_story_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "main.py", "demo", "--org"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "UNEXPECTED" not in out
    assert out.count("    ok: ") == 8  # every check the story makes
    assert "organizations/123456789012: projects ['data-a', 'runway-demo', 'team-a', 'team-b']" in out
    assert "delete backend_service runway-ledger-" in out and " in data-a" in out
    assert "event_ignored, project outsider is not under organizations/123456789012 (RUNWAY_SCOPE)" in out
    assert "*     /shop            team-a/shop" in out
    assert "\nProjects\n" in out and "total (2 projects)" in out
    assert "everything stopped" in out
