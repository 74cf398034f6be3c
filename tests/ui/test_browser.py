"""The Dagster UI as a user drives it, in a real browser (Playwright + Debian's chromium).

`factory ui` starts `dagster dev` on a free loopback port with the project's instance in a
temporary home; its shard sensor registers the stdlib source as a shard and ingests it (the
`ingest` job), then the browser opens the `factory` job's asset graph, clicks "Materialize all"
on the small corpus (adding round `1` as the launch dialog asks), waits for the run to succeed,
then reads a quality check's observed value on `synthetic_samples` (it must equal the value the
instance stored) and opens the map picture on `semantic_map` (the image must have loaded).
Screenshots go to `test-artifacts/ui/` (or `$FACTORY_TEST_ARTIFACTS/ui/`); their paths are printed.
Playwright never downloads a browser here: it launches `/usr/bin/chromium` (`make deps`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.fixtures.network import free_port
from tests.fixtures.paths import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("FACTORY_TEST_ARTIFACTS", REPO / "test-artifacts")) / "ui"
LAYERS = ("corpus", "embeddings", "map", "gaps", "synthesis", "students", "release")
CHECK = "spread"  # a diversity check whose observed value is a plain ratio
TINY_RUN = {
    "home": "proj",
    "ingest": {
        "max_documents": 80,
        "watch": {"folder": "inbox", "license": "CC0-1.0", "interval_seconds": 5},
    },
    "execution": {"executor": "in_process"},  # one process per run: no per-step imports
    "map": {"n_neighbors": 10},
    "gaps": {"max_gaps": 3, "total_budget": 3, "anchors_per_gap": 3},
    "teacher": {"max_tokens": 40},
    "synthesis": {"candidates_per_target": 2, "examples_in_prompt": 2, "correction_rounds": 0},
    "student": {"max_steps": 2, "batch_size": 2, "max_length": 64, "eval_documents": 8},
    "checks": {"fluency_rows": 50, "fluency_max_tokens": 40},  # the fewest reference rows
}
SERVER_START_S = 180
SHARD_TIMEOUT_S = 300
RUN_TIMEOUT_S = 900

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"{CHROMIUM} is absent: `make deps` installs Debian's chromium"
)


@dataclass
class DagsterUI:
    url: str
    home: Path
    inbox: Path
    log: Path


@pytest.fixture
def dagster_ui(tmp_path: Path) -> Iterator[DagsterUI]:
    """`factory ui` on a free 127.0.0.1 port, its Dagster home inside tmp_path."""
    port = free_port()
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump(TINY_RUN))
    (tmp_path / "inbox").mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "dagster-dev.log"
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "FACTORY_CONFIG"}}
    with log.open("w") as out:
        command = [sys.executable, "-m", "assets.cli", "ui", "--config", str(config)]
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=tmp_path,
            env=env | {"PYTHONPATH": str(REPO)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
                    if b"dagster_webserver_version" in response.read():
                        break
            except OSError:
                pass
            assert proc.poll() is None, f"dagster dev exited; see {log}"
            assert time.monotonic() < deadline, f"dagster dev did not answer; see {log}"
            time.sleep(1)
        yield DagsterUI(url, tmp_path / "proj" / "dagster", tmp_path / "inbox", log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _stored_observed(home: Path, check: str) -> float | str:
    """The `observed` metadata of `check`'s latest evaluation, read from the instance."""
    import dagster as dg

    key = dg.AssetCheckKey(dg.AssetKey("synthetic_samples"), check)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
        record = records[key]
        evaluation = record.event.dagster_event.event_specific_data
        return evaluation.metadata["observed"].value


def _wait_for_sensor_ingest(home: Path, shards: set[str]) -> None:
    """Until the shard sensor's `ingest` runs of `shards` have finished; fails unless each
    succeeded."""
    import dagster as dg

    deadline = time.monotonic() + SHARD_TIMEOUT_S
    done = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
    while time.monotonic() < deadline:
        if (home / "storage").exists():
            with dg.DagsterInstance.from_config(str(home)) as instance:
                runs = instance.get_runs(dg.RunsFilter(job_name="ingest"))
                status = {run.tags.get("dagster/partition"): run.status for run in runs}
                if shards <= status.keys() and all(s in done for s in status.values()):
                    assert set(status.values()) == {dg.DagsterRunStatus.SUCCESS}, status
                    return
        time.sleep(2)
    pytest.fail(f"the shard sensor's ingest runs of {shards} did not finish in {SHARD_TIMEOUT_S} s")


def _wait_for_run(home: Path, run_id: str) -> None:
    """Until run `run_id` has finished (any outcome; the page then says which)."""
    import dagster as dg

    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            run = instance.get_run_by_id(run_id)
            assert run is not None, f"no run {run_id} in the instance"
            if run.is_finished:
                return
        time.sleep(3)
    pytest.fail(f"run {run_id} did not finish in {RUN_TIMEOUT_S} s")


def test_materialize_all_from_the_ui_shows_checks_and_the_map(dagster_ui: DagsterUI) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots: list[Path] = []

    def shot(page: object, name: str) -> None:
        path = ARTIFACTS / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        shots.append(path)

    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)

            # The daemon's sensor registers the stdlib source as a shard and ingests it on its
            # own (a file dropped into the watched folder takes the same road: test_shards.py).
            _wait_for_sensor_ingest(dagster_ui.home, {"python-stdlib"})
            page.goto(f"{dagster_ui.url}/assets/shard_documents?view=partitions")
            page.get_by_text("python-stdlib").first.click()
            expect(page.get_by_text("input_fingerprint").first).to_be_visible()
            shot(page, "shard-partitions")

            # The pipeline job's asset graph; its "Materialize all" leaves the experiment out.
            page.goto(f"{dagster_ui.url}/locations/assets.definitions/jobs/factory")
            materialize = page.get_by_role("button", name="Materialize all")
            expect(materialize).to_be_enabled()
            shot(page, "asset-graph")
            page.get_by_role("button", name="panel_show_left").click()  # the groups' tree
            for group in LAYERS:
                expect(page.get_by_role("button", name=f"asset_group {group}")).to_be_visible()
            shot(page, "asset-groups")
            materialize.click()

            # Rounds are dynamic partitions: a fresh project adds round 1 in the dialog.
            dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
            expect(dialog).to_be_visible()
            dialog.get_by_text("Add a partition").click()
            add = page.get_by_role("dialog").filter(has_text="Add a partition for")
            add.get_by_role("textbox", name="name").fill("1")
            add.get_by_role("button", name="Save", exact=True).click()
            expect(add).to_be_hidden()
            dialog.get_by_role("button", name="All", exact=True).click()  # select round 1
            launch = dialog.get_by_role("button", name="Launch 1 run")
            expect(launch).to_be_enabled()
            shot(page, "launch-dialog")
            launch.click()

            page.get_by_role("link", name="View", exact=True).click()
            expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]+"))
            run_url = page.url
            # A run page streams its event log: on 2 cores, rendering it live slowed the run
            # itself 2-5x. Wait on the instance with a blank page, then look at the run.
            page.goto("about:blank")
            _wait_for_run(dagster_ui.home, run_url.rsplit("/", 1)[-1].split("?")[0])
            page.goto(run_url)
            status = page.get_by_text("Success", exact=True).or_(
                page.get_by_text("Failure", exact=True)
            )
            expect(status.first).to_be_visible()
            shot(page, "run")
            assert page.get_by_text("Success", exact=True).first.is_visible(), (
                f"the run failed; see {dagster_ui.log} and {shots[-1]}"
            )

            # The check's observed value, as shown and as stored.
            stored = _stored_observed(dagster_ui.home, CHECK)
            assert isinstance(stored, float), stored
            shown = page.evaluate("x => String(x)", stored)
            page.goto(f"{dagster_ui.url}/assets/synthetic_samples?view=checks")
            page.get_by_text(CHECK, exact=True).first.click()
            metadata = page.get_by_role("row").filter(has_text="observed")
            expect(metadata.first).to_contain_text(shown)
            shot(page, f"check-{CHECK}")

            # The map picture on semantic_map: an inline PNG that must have loaded.
            page.goto(f"{dagster_ui.url}/assets/semantic_map")
            map_cell = page.get_by_role("cell", name="map", exact=True)
            map_row = page.get_by_role("row").filter(has=map_cell)
            map_row.get_by_text("[Show Markdown]").click()
            image = page.get_by_role("dialog").get_by_role("img", name="semantic map")
            expect(image).to_be_visible()
            width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
            shot(page, "semantic-map")
            assert width > 0
        finally:
            browser.close()
    for path in shots:
        print(f"screenshot: {path}")
    print(f"browser test: {time.monotonic() - started:.0f} s after dagster dev answered")
