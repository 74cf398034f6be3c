"""The local Hub server, driven by the real huggingface_hub client and by `datasets`."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import httpx
import polars as pl
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from factory.hub_server import HubServer, serve_hub
from tests.conftest import HUB_TOKEN, REPO, run_python

pytestmark = pytest.mark.usefixtures("hub_client")


def _png() -> bytes:
    """A real 2x2 RGB PNG, built by hand (binary bytes with NULs and high bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([255, 0, 0, 0, 255, 0]) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with text, Parquet, PNG and every byte value, in a subfolder too."""
    out = tmp_path / "upload"
    (out / "data" / "nested").mkdir(parents=True)
    (out / "README.md").write_text("---\nlicense: mit\n---\n# tiny\n", encoding="utf-8")
    pl.DataFrame({"text": ["one", "two"], "n": [1, 2]}).write_parquet(out / "data" / "t.parquet")
    (out / "map.png").write_bytes(_png())
    (out / "data" / "nested" / "all-bytes.bin").write_bytes(bytes(range(256)) * 64)
    (out / "empty.txt").write_bytes(b"")
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _upload(api: HfApi, folder: Path, message: str = "add", repo_id: str = "org/tiny") -> str:
    """Commit `folder` to dataset `repo_id` with `message`; the commit id."""
    commit = api.upload_folder(
        repo_id=repo_id, folder_path=folder, repo_type="dataset", commit_message=message
    )
    return commit.oid


def _tiny_repo(endpoint: str, folder: Path, message: str = "add") -> tuple[HfApi, str]:
    """A client signed in at `endpoint`, and dataset org/tiny created there holding `folder`:
    (the client, the commit id)."""
    api = HfApi(endpoint=endpoint, token=HUB_TOKEN)
    api.create_repo("org/tiny", repo_type="dataset")
    return api, _upload(api, folder, message)


def test_upload_tag_and_snapshot_round_trip_every_byte(
    hub: HubServer, folder: Path, tmp_path: Path
) -> None:
    api = HfApi(endpoint=hub.url, token=HUB_TOKEN)
    url = api.create_repo("org/tiny", repo_type="dataset", private=True)
    assert (url.repo_id, url.repo_type) == ("org/tiny", "dataset")
    commit = _upload(api, folder)
    assert len(commit) == 40
    api.create_tag("org/tiny", tag="v-1", revision=commit, repo_type="dataset")

    refs = api.list_repo_refs("org/tiny", repo_type="dataset")
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v-1", commit)]
    assert [(b.name, b.target_commit) for b in refs.branches] == [("main", commit)]
    info = api.repo_info("org/tiny", repo_type="dataset")
    assert (info.private, info.sha) == (True, commit)
    assert sorted(s.rfilename for s in info.siblings or []) == sorted(_files(folder))

    for revision in ("v-1", "main", commit):
        got = snapshot_download(
            "org/tiny",
            repo_type="dataset",
            revision=revision,
            endpoint=hub.url,
            token=HUB_TOKEN,
            cache_dir=tmp_path / f"dl-{revision[:8]}",
        )
        assert _files(Path(got)) == _files(folder)


def test_a_second_commit_has_the_first_as_parent_and_unchanged_uploads_are_skipped(
    hub: HubServer, folder: Path
) -> None:
    api, first = _tiny_repo(hub.url, folder, "one")
    assert _upload(api, folder, "same") == first  # nothing changed: no empty commit
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# changed\n", encoding="utf-8")
    second = _upload(api, folder, "two")
    history = api.list_repo_commits("org/tiny", repo_type="dataset")
    assert [c.commit_id for c in history][:2] == [second, first]
    assert [c.title for c in history] == ["two", "one", "initial commit"]
    old = hf_hub_download(
        "org/tiny", "README.md", repo_type="dataset", revision=first, endpoint=hub.url
    )
    assert "# tiny" in Path(old).read_text(encoding="utf-8")


def test_tokens_private_repos_and_anonymous_reads(hub: HubServer, folder: Path) -> None:
    owner = HfApi(endpoint=hub.url, token=HUB_TOKEN)
    anonymous = HfApi(endpoint=hub.url, token=False)
    owner.create_repo("org/secret", repo_type="dataset", private=True)
    owner.create_repo("org/open", repo_type="dataset", private=False)

    assert anonymous.repo_info("org/open", repo_type="dataset").private is False
    with pytest.raises(RepositoryNotFoundError):
        anonymous.repo_info("org/secret", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        anonymous.list_repo_refs("org/secret", repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as wrong:
        HfApi(endpoint=hub.url, token="hf_wrong").repo_info("org/open", repo_type="dataset")
    assert wrong.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as unsigned:
        anonymous.create_repo("org/other", repo_type="dataset")
    assert unsigned.value.response.status_code == 401
    assert not (hub.root / "datasets" / "org" / "other").exists()


def test_missing_files_revisions_and_conflicts_are_the_clients_own_errors(
    hub: HubServer, folder: Path
) -> None:
    api, commit = _tiny_repo(hub.url, folder)
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(
            "org/tiny", "nope.txt", repo_type="dataset", endpoint=hub.url, token=HUB_TOKEN
        )
    with pytest.raises(RevisionNotFoundError):
        api.repo_info("org/tiny", repo_type="dataset", revision="no-such-branch")
    with pytest.raises(HfHubHTTPError) as again:
        api.create_repo("org/tiny", repo_type="dataset")
    assert again.value.response.status_code == 409
    api.create_repo("org/tiny", repo_type="dataset", exist_ok=True)
    api.create_tag("org/tiny", tag="v-1", revision=commit, repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as tag_again:
        api.create_tag("org/tiny", tag="v-1", repo_type="dataset")
    assert tag_again.value.response.status_code == 409


def test_tree_paths_info_and_visibility_settings(hub: HubServer, folder: Path) -> None:
    api, commit = _tiny_repo(hub.url, folder)
    top = {e.path: type(e).__name__ for e in api.list_repo_tree("org/tiny", repo_type="dataset")}
    assert top == {
        "data": "RepoFolder",
        "README.md": "RepoFile",
        "empty.txt": "RepoFile",
        "map.png": "RepoFile",
    }
    deep = api.list_repo_tree("org/tiny", "data", recursive=True, expand=True, repo_type="dataset")
    listed = {e.path: e for e in deep}
    assert sorted(listed) == ["data/nested", "data/nested/all-bytes.bin", "data/t.parquet"]
    last = listed["data/t.parquet"].last_commit
    assert last is not None
    assert (last.oid, last.title) == (commit, "add")
    found = api.get_paths_info("org/tiny", ["map.png", "data", "absent"], repo_type="dataset")
    assert [(e.path, type(e).__name__) for e in found] == [
        ("map.png", "RepoFile"),
        ("data", "RepoFolder"),
    ]
    assert found[0].size == len(_png())

    api.update_repo_settings("org/tiny", private=True, repo_type="dataset")
    assert api.repo_info("org/tiny", repo_type="dataset").private is True
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url, token=False).repo_info("org/tiny", repo_type="dataset")


def test_byte_ranges_and_download_headers(hub: HubServer, folder: Path) -> None:
    api, commit = _tiny_repo(hub.url, folder)
    url = f"{hub.url}/datasets/org/tiny/resolve/main/data/nested/all-bytes.bin"
    whole = (folder / "data" / "nested" / "all-bytes.bin").read_bytes()
    head = httpx.head(url)
    assert head.headers["X-Repo-Commit"] == commit
    assert head.headers["Content-Length"] == str(len(whole))
    info = api.repo_info("org/tiny", repo_type="dataset", files_metadata=True)
    blob_ids = {s.rfilename: s.blob_id for s in info.siblings or []}
    assert head.headers["ETag"] == f'"{blob_ids["data/nested/all-bytes.bin"]}"'
    part = httpx.get(url, headers={"Range": "bytes=250-261"})
    assert part.status_code == 206
    assert part.content == whole[250:262]
    assert part.headers["Content-Range"] == f"bytes 250-261/{len(whole)}"
    assert httpx.get(url, headers={"Range": f"bytes={len(whole)}-"}).status_code == 416


def test_repos_survive_a_restart_on_the_same_folder(tmp_path: Path, folder: Path) -> None:
    with serve_hub(tmp_path / "hub") as first:
        _, commit = _tiny_repo(first.url, folder)
    with serve_hub(tmp_path / "hub") as second:
        info = HfApi(endpoint=second.url, token=HUB_TOKEN).repo_info(
            "org/tiny", repo_type="dataset"
        )
        assert info.sha == commit


def test_datasets_load_dataset_ingests_a_hub_id_from_the_local_server(
    hub: HubServer, tmp_path: Path
) -> None:
    """`factory.corpus.readers.read_hub` (kind 'hub') through `datasets.load_dataset("org/id")`,
    pointed at the local server by HF_ENDPOINT in a fresh process (both libraries read it at
    import)."""
    src = tmp_path / "tiny-intents"
    (src / "data").mkdir(parents=True)
    texts = ["how do I freeze my card", "my top up failed", "where is my new card"]
    frame = pl.DataFrame({"text": texts, "intent": ["freeze", "top_up", "card_arrival"]})
    frame.write_parquet(src / "data" / "train.parquet")
    card = (
        "---\nlicense: cc-by-4.0\nconfigs:\n- config_name: default\n  data_files:\n"
        "  - split: train\n    path: data/train.parquet\n---\n# tiny intents\n"
    )
    (src / "README.md").write_text(card, encoding="utf-8")
    api = HfApi(endpoint=hub.url, token=HUB_TOKEN)
    api.create_repo("org/tiny-intents", repo_type="dataset", private=True)
    _upload(api, src, repo_id="org/tiny-intents")
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from factory.config import FactoryConfig\n"
        "from factory.corpus import ingest_corpus\n"
        "source = {'id': 'hub', 'kind': 'hub', 'dataset_id': 'org/tiny-intents',\n"
        "          'dataset_split': 'train', 'fields': {'intent': 'label'}}\n"
        "cfg = FactoryConfig.from_dict({'sources': [source]}, base_dir=Path(sys.argv[1]))\n"
        "docs = ingest_corpus(cfg).documents\n"
        "print(json.dumps(docs.select('text', 'label', 'source_uri').to_dicts()))\n"
    )
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": HUB_TOKEN,
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_CACHE": str(tmp_path / "hf-home" / "hub"),
        "HF_DATASETS_CACHE": str(tmp_path / "hf-home" / "datasets"),
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    run = run_python("-c", script, str(tmp_path), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    assert sorted(r["text"] for r in rows) == sorted(texts)
    assert {r["label"] for r in rows} == {"freeze", "top_up", "card_arrival"}
    assert all(r["source_uri"].startswith("hf://datasets/org/tiny-intents/train") for r in rows)


def test_hub_server_command_serves_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "assets.cli", "hub-server", str(tmp_path / "hub"), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        HfApi(endpoint=url, token="hf_any").create_repo("org/rehearsal", repo_type="dataset")
        assert (tmp_path / "hub" / "datasets" / "org" / "rehearsal" / "repo.json").is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "POST /api/repos/create 200" in out
