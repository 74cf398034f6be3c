"""A small Hugging Face Hub-compatible HTTP server over a folder, for tests and publish rehearsals.

Stdlib only (`http.server.ThreadingHTTPServer`). It speaks enough of the Hub API for the real
`huggingface_hub` client and `datasets.load_dataset("org/name")`: create a repo (public or
private), upload files (`preupload` answers `regular` for every file, so content travels base64
in the `commit` call and binary files round-trip byte-exact; no LFS, no Xet), tag, list refs,
repo info with `sha`, `private` and `siblings`, tree listings, `paths-info`, commit history and
`resolve` downloads (with `ETag`, `X-Repo-Commit`, `Content-Length` and byte ranges).

On disk, under `root/<type>s/<org>/<name>/`: `repo.json` (visibility, branches, tags),
`commits/<id>.json` (parents, file tree, message) and `blobs/<git blob sha1>`. A commit id is
the SHA-1 of its parents, tree, message and date, like a git object id; a revision is a branch,
a tag or a full commit id.

Started with a `token`, every request that sends `Authorization: Bearer ...` must send that
token (any other gets 401) and writes need it; without one, any bearer counts as signed in.
Private repos are hidden (404 `RepoNotFound`) from requests without a bearer token. Request
lines are logged only when a `log` callable is given; headers (and so tokens) never are.

Example:
    >>> with serve_hub(tmp / "hub", token="hf_local") as hub:  # doctest: +SKIP
    ...     HfApi(endpoint=hub.url, token="hf_local").create_repo("org/d", repo_type="dataset")
    ...     hub.url
    'http://127.0.0.1:41234'
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from factory.errors import FactoryError

__all__ = ["HubServer", "HubStore", "serve_hub", "serve_hub_forever"]

_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
_COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")
_MAX_BODY_BYTES = 2 * 1024**3
_READ_TIMEOUT_S = 60.0
_JsonReply = tuple[int, Any]


class HubError(Exception):
    """An API error: HTTP status, message and the `X-Error-Code` the client maps to an error."""

    def __init__(
        self, status: int, message: str, code: str | None = None, commit: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.commit = status, message, code, commit


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _git_blob_id(data: bytes) -> str:
    """The git object id of a blob holding `data` (what the Hub reports as a file's `oid`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _check_path(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        msg = f"file path {path!r} is invalid: use a relative POSIX path without '.' or '..'"
        raise HubError(400, msg)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class HubStore:
    """Repos, commits and blobs in a folder; every method is safe to call from many threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    def _dir(self, repo_type: str, repo_id: str) -> Path:
        org, _, name = repo_id.partition("/")
        if not (_NAME.match(org) and _NAME.match(name)) or ".." in repo_id:
            msg = f"repo id {repo_id!r} is invalid: use ORG/NAME (letters, digits, '.', '_', '-')"
            raise HubError(400, msg)
        return self.root / f"{repo_type}s" / org / name

    def meta(self, repo_type: str, repo_id: str) -> dict[str, Any] | None:
        """The repo's `repo.json` (visibility, branches, tags), or None when it does not exist."""
        path = self._dir(repo_type, repo_id) / "repo.json"
        with self._lock:
            return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def _save_meta(self, repo_type: str, repo_id: str, meta: dict[str, Any]) -> None:
        data = json.dumps(meta, indent=1, sort_keys=True).encode()
        _write_atomic(self._dir(repo_type, repo_id) / "repo.json", data)

    def create(self, repo_type: str, repo_id: str, private: bool) -> bool:
        """Create an empty repo (one commit, no files) on `main`; False when it already exists."""
        with self._lock:
            if self.meta(repo_type, repo_id) is not None:
                return False
            folder = self._dir(repo_type, repo_id)
            (folder / "blobs").mkdir(parents=True, exist_ok=True)
            first = self._write_commit(repo_type, repo_id, [], {}, "initial commit", "")
            meta = {
                "private": private,
                "created_at": _now(),
                "branches": {"main": first},
                "tags": {},
            }
            self._save_meta(repo_type, repo_id, meta)
            return True

    def set_private(self, repo_type: str, repo_id: str, private: bool) -> None:
        """Change a repo's visibility."""
        with self._lock:
            meta = self.require(repo_type, repo_id)
            meta["private"] = private
            self._save_meta(repo_type, repo_id, meta)

    def require(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        """The repo's metadata; 404 `RepoNotFound` when it does not exist."""
        meta = self.meta(repo_type, repo_id)
        if meta is None:
            raise HubError(404, f"{repo_type} repo {repo_id!r} not found", "RepoNotFound")
        return meta

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> str:
        """The commit id `revision` (branch, tag, `refs/heads/..`, `refs/tags/..`, id) names."""
        meta = self.require(repo_type, repo_id)
        name = revision.removeprefix("refs/heads/").removeprefix("refs/tags/")
        if name in meta["branches"]:
            return str(meta["branches"][name])
        if name in meta["tags"]:
            return str(meta["tags"][name]["commit"])
        if _COMMIT_ID.match(revision) and self._commit_path(repo_type, repo_id, revision).is_file():
            return revision
        msg = f"revision {revision!r} not found in {repo_id!r} (no such branch, tag or commit)"
        raise HubError(404, msg, "RevisionNotFound")

    def _commit_path(self, repo_type: str, repo_id: str, commit_id: str) -> Path:
        return self._dir(repo_type, repo_id) / "commits" / f"{commit_id}.json"

    def commit_record(self, repo_type: str, repo_id: str, commit_id: str) -> dict[str, Any]:
        """The stored commit: id, parents, tree {path: [blob id, size]}, title, message, date."""
        path = self._commit_path(repo_type, repo_id, commit_id)
        return json.loads(path.read_text(encoding="utf-8"))

    def history(self, repo_type: str, repo_id: str, commit_id: str) -> list[dict[str, Any]]:
        """Commits from `commit_id` back to the first, newest first (first parents)."""
        out = []
        current: str | None = commit_id
        while current is not None:
            record = self.commit_record(repo_type, repo_id, current)
            out.append(record)
            current = record["parents"][0] if record["parents"] else None
        return out

    def blob(self, repo_type: str, repo_id: str, blob_id: str) -> bytes:
        """The bytes of a stored blob."""
        return (self._dir(repo_type, repo_id) / "blobs" / blob_id).read_bytes()

    def _write_commit(
        self,
        repo_type: str,
        repo_id: str,
        parents: list[str],
        tree: dict[str, list[Any]],
        title: str,
        message: str,
    ) -> str:
        record: dict[str, Any] = {
            "parents": parents,
            "tree": dict(sorted(tree.items())),
            "title": title,
            "message": message,
            "date": _now(),
        }
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        record["id"] = hashlib.sha1(canonical).hexdigest()
        path = self._commit_path(repo_type, repo_id, record["id"])
        _write_atomic(path, json.dumps(record, indent=1, sort_keys=True).encode())
        return str(record["id"])

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        branch: str,
        files: dict[str, bytes],
        deletions: list[str],
        title: str,
        message: str = "",
        parent: str | None = None,
    ) -> str:
        """Commit `files` (path: bytes) and `deletions` (paths; a trailing '/' is a folder) on
        `branch`; returns the new commit id."""
        with self._lock:
            meta = self.require(repo_type, repo_id)
            if branch not in meta["branches"]:
                msg = f"branch {branch!r} not found in {repo_id!r}: commit to one of " + str(
                    sorted(meta["branches"])
                )
                raise HubError(404, msg, "RevisionNotFound")
            head = str(meta["branches"][branch])
            if parent is not None and parent != head:
                msg = f"parent commit {parent} is not the head of {branch!r} ({head}); pull first"
                raise HubError(412, msg)
            tree = dict(self.commit_record(repo_type, repo_id, head)["tree"])
            for path in deletions:
                prefix = path if path.endswith("/") else None
                gone = [p for p in tree if p.startswith(prefix)] if prefix else [path]
                if not prefix and path not in tree:
                    msg = f"A file with this name doesn't exist: {path!r}"
                    raise HubError(404, msg, "EntryNotFound")
                for name in gone:
                    tree.pop(name, None)
            blobs = self._dir(repo_type, repo_id) / "blobs"
            for path, data in files.items():
                blob_id = _git_blob_id(data)
                if not (blobs / blob_id).is_file():
                    _write_atomic(blobs / blob_id, data)
                tree[_check_path(path)] = [blob_id, len(data)]
            commit_id = self._write_commit(repo_type, repo_id, [head], tree, title, message)
            meta["branches"][branch] = commit_id
            self._save_meta(repo_type, repo_id, meta)
            return commit_id

    def tag(self, repo_type: str, repo_id: str, tag: str, revision: str, message: str) -> str:
        """Point the new tag `tag` at `revision`'s commit; 409 when the tag exists."""
        with self._lock:
            commit_id = self.resolve(repo_type, repo_id, revision)
            meta = self.require(repo_type, repo_id)
            if not _REF.match(tag) or ".." in tag or tag.endswith((".", "/")):
                msg = f"tag name {tag!r} is invalid: use letters, digits, '.', '_', '-' and '/'"
                raise HubError(400, msg)
            if tag in meta["tags"] or tag in meta["branches"]:
                raise HubError(409, f"tag {tag!r} already exists in {repo_id!r}")
            meta["tags"][tag] = {"commit": commit_id, "message": message}
            self._save_meta(repo_type, repo_id, meta)
            return commit_id


def _entries(tree: dict[str, list[Any]], folder: str, recursive: bool) -> list[dict[str, Any]]:
    """Tree-listing entries (files and directories) under `folder` ("" for the root)."""
    prefix = f"{folder}/" if folder else ""
    files = {p: v for p, v in tree.items() if p.startswith(prefix)}
    dirs: dict[str, list[str]] = {}
    for path, (blob_id, _) in files.items():
        parts = path[len(prefix) :].split("/")
        for depth in range(1, len(parts)):
            dirs.setdefault(prefix + "/".join(parts[:depth]), []).append(f"{path} {blob_id}")
    out: list[dict[str, Any]] = []
    for path, lines in sorted(dirs.items()):
        if recursive or "/" not in path[len(prefix) :]:
            oid = hashlib.sha1("\n".join(sorted(lines)).encode()).hexdigest()
            out.append({"type": "directory", "oid": oid, "size": 0, "path": path})
    for path, (blob_id, size) in sorted(files.items()):
        if recursive or "/" not in path[len(prefix) :]:
            out.append({"type": "file", "oid": blob_id, "size": size, "path": path})
    return out


def _last_commit(history: list[dict[str, Any]], path: str) -> dict[str, str]:
    """The newest commit in `history` that changed `path` (a file, or anything below a folder)."""

    def state(tree: dict[str, list[Any]]) -> list[Any]:
        return [v for p, v in sorted(tree.items()) if p == path or p.startswith(f"{path}/")]

    for record, older in zip(history, [*history[1:], None], strict=True):
        if older is None or state(record["tree"]) != state(older["tree"]):
            return {"id": record["id"], "title": record["title"], "date": record["date"]}
    return {"id": history[0]["id"], "title": history[0]["title"], "date": history[0]["date"]}


def _flag(values: dict[str, list[str]], name: str) -> bool:
    """A true/false query or form field (`1`/`true`, any case); absent is false."""
    return values.get(name, ["false"])[0].lower() in ("1", "true")


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a `Range: bytes=...` header; None for the whole file."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if match is None or not (match.group(1) or match.group(2)):
        raise HubError(416, f"unsupported Range header {header!r}; use bytes=START-END")
    first, last = match.group(1), match.group(2)
    if not first:
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(size - 1, int(last)) if last else size - 1
    if start >= size or start > end:
        raise HubError(416, f"range {header!r} is outside the file ({size} bytes)")
    return start, end


class _Handler(BaseHTTPRequestHandler):
    """Routes one request to the store; `server` is a `_Server`."""

    protocol_version = "HTTP/1.1"
    timeout = _READ_TIMEOUT_S
    server: _Server

    # -- plumbing -------------------------------------------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log the method, path and status through the server's `log`, never the headers."""
        if self.server.log is not None:
            self.server.log(f"{self.command} {urlsplit(self.path).path} {code}")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the stdlib's own messages (timeouts, bad request lines) off stderr."""

    def _base(self) -> str:
        return f"http://{self.headers.get('Host') or self.server.address}"

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(value).encode()
        self._send(status, body, {"Content-Type": "application/json", **(headers or {})})

    def _fail(self, error: HubError, headers: dict[str, str] | None = None) -> None:
        extra = {"X-Error-Message": error.message.encode("ascii", "replace").decode()}
        if error.code:
            extra["X-Error-Code"] = error.code
        if error.status == 401:
            extra["WWW-Authenticate"] = 'Bearer realm="local hub"'
        self._json(error.status, {"error": error.message}, {**extra, **(headers or {})})

    def _body(self) -> bytes:
        self._consumed = True
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(len(p) for p in parts) > _MAX_BODY_BYTES:
                    raise HubError(413, f"request body is over {_MAX_BODY_BYTES} bytes")
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY_BYTES:
            raise HubError(413, f"request body of {length} bytes is over {_MAX_BODY_BYTES}")
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> Any:
        raw = self._body()
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise HubError(400, f"request body is not JSON ({exc})") from exc

    def _signed_in(self) -> bool:
        """Whether the request carries a valid bearer token (401 for a wrong one)."""
        header = self.headers.get("Authorization")
        if not header:
            return False
        scheme, _, given = header.partition(" ")
        expected = self.server.token
        if scheme.lower() != "bearer" or not given.strip():
            raise HubError(401, "Invalid credentials in Authorization header")
        if expected is not None and not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            raise HubError(401, "Invalid credentials in Authorization header")
        return True

    def _writer(self) -> None:
        if not self._signed_in() and self.server.token is not None:
            raise HubError(401, "authentication required: send Authorization: Bearer <token>")

    def _visible(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        meta = self.server.store.require(repo_type, repo_id)
        if meta["private"] and not self._signed_in():
            raise HubError(404, f"{repo_type} repo {repo_id!r} not found", "RepoNotFound")
        return meta

    # -- dispatch -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        """Dispatch a GET."""
        self._dispatch()

    def do_HEAD(self) -> None:
        """Dispatch a HEAD (resolve only)."""
        self._dispatch()

    def do_POST(self) -> None:
        """Dispatch a POST."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Dispatch a PUT (repo settings)."""
        self._dispatch()

    def _dispatch(self) -> None:
        self._consumed = False
        split = urlsplit(self.path)
        segments = [unquote(s) for s in split.path.split("/")[1:]]
        query = parse_qs(split.query)
        try:
            self._signed_in()  # a wrong token is refused on every route, public reads included
            if segments[:1] == ["api"]:
                self._api(segments[1:], query)
            else:
                self._resolve(segments)
        except HubError as error:
            if self.command in ("POST", "PUT") and not self._consumed:
                self.close_connection = True  # the unread body would be taken for a request
            self._fail(error, {"X-Repo-Commit": error.commit} if error.commit else None)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug here: answer 500 rather than drop the connection
            self.close_connection = True
            self._fail(HubError(500, f"local hub error: {type(exc).__name__}: {exc}"))

    def _api(self, seg: list[str], query: dict[str, list[str]]) -> None:
        method = self.command
        if seg == ["agent-harnesses"] and method == "GET":
            return self._json(200, {"standardEnvVars": [], "harnesses": {}})
        if seg == ["whoami-v2"] and method == "GET":
            if not self._signed_in():
                raise HubError(401, "authentication required: send Authorization: Bearer <token>")
            return self._json(200, {"type": "user", "name": "local", "orgs": [], "auth": {}})
        if seg == ["validate-yaml"] and method == "POST":
            self._json_body()
            return self._json(200, {"errors": [], "warnings": []})
        if seg == ["repos", "create"] and method == "POST":
            return self._create_repo()
        if len(seg) < 3 or seg[0] not in _TYPES:
            raise HubError(404, f"no such API route: /api/{'/'.join(seg)}")
        repo_type, repo_id, rest = _TYPES[seg[0]], f"{seg[1]}/{seg[2]}", seg[3:]
        action = rest[0] if rest else ""
        routes: dict[tuple[str, str], Callable[[str, str, list[str], dict[str, Any]], None]] = {
            ("GET", ""): self._info,
            ("GET", "revision"): self._info,
            ("GET", "refs"): self._refs,
            ("GET", "tree"): self._tree,
            ("GET", "commits"): self._commits,
            ("POST", "paths-info"): self._paths_info,
            ("POST", "preupload"): self._preupload,
            ("POST", "commit"): self._commit,
            ("POST", "tag"): self._tag,
            ("PUT", "settings"): self._settings,
        }
        handler = routes.get((method, action))
        if handler is None:
            raise HubError(404, f"no such API route: {method} /api/{'/'.join(seg)}")
        return handler(repo_type, repo_id, rest[1:], query)

    # -- repos ----------------------------------------------------------------------------------

    def _create_repo(self) -> None:
        self._writer()
        body = self._json_body()
        repo_type = body.get("type") or "model"
        if repo_type not in _URL_PREFIX:
            raise HubError(400, f"repo type {repo_type!r} is not one of {sorted(_URL_PREFIX)}")
        org, name = body.get("organization"), body.get("name")
        if not org or not name:
            msg = f"repo {name!r} has no organization: create it as ORG/NAME"
            raise HubError(400, msg)
        repo_id = f"{org}/{name}"
        private = body.get("visibility") == "private" or body.get("private") is True
        url = f"{self._base()}/{_URL_PREFIX[repo_type]}{repo_id}"
        if not self.server.store.create(repo_type, repo_id, private):
            msg = f"You already created this {repo_type} repo: {repo_id}"
            return self._json(409, {"error": msg, "url": url}, {"X-Error-Message": msg})
        return self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _settings(self, repo_type: str, repo_id: str, _: list[str], __: dict[str, Any]) -> None:
        self._writer()
        body = self._json_body()
        self._visible(repo_type, repo_id)
        if "visibility" in body or "private" in body:
            private = body.get("visibility") == "private" or body.get("private") is True
            self.server.store.set_private(repo_type, repo_id, private)
        self._json(200, {})

    def _revision(self, rest: list[str]) -> tuple[str, list[str]]:
        return ("/".join(rest[:1]) or "main"), rest[1:]

    def _info(self, repo_type: str, repo_id: str, rest: list[str], _: dict[str, Any]) -> None:
        meta = self._visible(repo_type, repo_id)
        revision = "/".join(rest) or "main"
        store = self.server.store
        commit_id = store.resolve(repo_type, repo_id, revision)
        record = store.commit_record(repo_type, repo_id, commit_id)
        siblings = [
            {"rfilename": path, "size": size, "blobId": blob_id}
            for path, (blob_id, size) in record["tree"].items()
        ]
        info = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0],
            "sha": commit_id,
            "private": bool(meta["private"]),
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "createdAt": meta["created_at"],
            "lastModified": record["date"],
            "siblings": siblings,
            "usedStorage": sum(size for _, size in record["tree"].values()),
        }
        self._json(200, info)

    def _refs(self, repo_type: str, repo_id: str, _: list[str], __: dict[str, Any]) -> None:
        meta = self._visible(repo_type, repo_id)

        def ref(kind: str, name: str, commit_id: str) -> dict[str, str]:
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": commit_id}

        branches = [ref("heads", n, c) for n, c in sorted(meta["branches"].items())]
        tags = [ref("tags", n, t["commit"]) for n, t in sorted(meta["tags"].items())]
        self._json(200, {"branches": branches, "converts": [], "tags": tags, "pullRequests": []})

    def _tree(self, repo_type: str, repo_id: str, rest: list[str], query: dict[str, Any]) -> None:
        self._visible(repo_type, repo_id)
        revision, path_parts = self._revision(rest)
        store = self.server.store
        commit_id = store.resolve(repo_type, repo_id, revision)
        record = store.commit_record(repo_type, repo_id, commit_id)
        folder = "/".join(path_parts).strip("/")
        entries = _entries(record["tree"], folder, _flag(query, "recursive"))
        if folder and not entries:
            msg = f"folder {folder!r} not found at {revision}"
            raise HubError(404, msg, "EntryNotFound", commit_id)
        self._send_entries(repo_type, repo_id, commit_id, entries, _flag(query, "expand"))

    def _paths_info(self, repo_type: str, repo_id: str, rest: list[str], _: dict[str, Any]) -> None:
        raw = self._body().decode("utf-8", "replace")
        self._visible(repo_type, repo_id)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form = json.loads(raw or "{}")
            paths, expand = list(form.get("paths", [])), bool(form.get("expand"))
        else:
            fields = parse_qs(raw)
            paths, expand = fields.get("paths", []), _flag(fields, "expand")
        store = self.server.store
        commit_id = store.resolve(repo_type, repo_id, "/".join(rest) or "main")
        record = store.commit_record(repo_type, repo_id, commit_id)
        everything = {e["path"]: e for e in _entries(record["tree"], "", recursive=True)}
        found = [everything[p.strip("/")] for p in paths if p.strip("/") in everything]
        self._send_entries(repo_type, repo_id, commit_id, found, expand)

    def _send_entries(
        self,
        repo_type: str,
        repo_id: str,
        commit_id: str,
        entries: list[dict[str, Any]],
        expand: bool,
    ) -> None:
        """Reply with tree `entries`; with `expand`, each gets its last commit up to `commit_id`."""
        if expand:
            history = self.server.store.history(repo_type, repo_id, commit_id)
            for entry in entries:
                entry["lastCommit"] = _last_commit(history, entry["path"])
        self._json(200, entries)

    def _commits(self, repo_type: str, repo_id: str, rest: list[str], _: dict[str, Any]) -> None:
        self._visible(repo_type, repo_id)
        store = self.server.store
        commit_id = store.resolve(repo_type, repo_id, "/".join(rest) or "main")
        items = [
            {
                "id": c["id"],
                "title": c["title"],
                "message": c["message"],
                "date": c["date"],
                "authors": [{"user": "local"}],
            }
            for c in store.history(repo_type, repo_id, commit_id)
        ]
        self._json(200, items)

    # -- writes ---------------------------------------------------------------------------------

    def _preupload(
        self, repo_type: str, repo_id: str, rest: list[str], query: dict[str, Any]
    ) -> None:
        self._writer()
        body = self._json_body()
        self._visible(repo_type, repo_id)
        if query.get("create_pr"):
            raise HubError(400, "pull requests are not supported by this local hub")
        store = self.server.store
        commit_id = store.resolve(repo_type, repo_id, "/".join(rest) or "main")
        tree = store.commit_record(repo_type, repo_id, commit_id)["tree"]
        files = []
        for item in body.get("files", []):
            path = _check_path(str(item.get("path", "")))
            entry: dict[str, Any] = {"path": path, "uploadMode": "regular", "shouldIgnore": False}
            if path in tree:
                entry["oid"] = tree[path][0]
            files.append(entry)
        self._json(200, {"files": files, "commitOid": commit_id})

    def _commit(self, repo_type: str, repo_id: str, rest: list[str], query: dict[str, Any]) -> None:
        self._writer()
        raw = self._body()
        self._visible(repo_type, repo_id)
        if query.get("create_pr"):
            raise HubError(400, "pull requests are not supported by this local hub")
        header: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        deletions: list[str] = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key, value = item["key"], item["value"]
            except (ValueError, KeyError, TypeError) as exc:
                raise HubError(400, f"commit payload line {number} is malformed ({exc})") from exc
            if key == "header":
                header = value
            elif key == "file":
                content = value.get("content", "")
                is_b64 = value.get("encoding") == "base64"
                data = base64.b64decode(content, validate=True) if is_b64 else content.encode()
                files[_check_path(value["path"])] = data
            elif key == "deletedFile":
                deletions.append(_check_path(value["path"]))
            elif key == "deletedFolder":
                deletions.append(_check_path(value["path"].rstrip("/")) + "/")
            elif key == "lfsFile":
                msg = (
                    f"{value.get('path')!r} was sent as an LFS pointer: this local hub stores "
                    "regular files only (its preupload answers 'regular')"
                )
                raise HubError(400, msg)
            else:
                raise HubError(400, f"commit payload line {number} has unknown key {key!r}")
        title = str(header.get("summary") or "").strip()
        if not title:
            raise HubError(400, "the commit has no summary (commit message)")
        branch = "/".join(rest).removeprefix("refs/heads/") or "main"
        commit_id = self.server.store.commit(
            repo_type,
            repo_id,
            branch,
            files,
            deletions,
            title,
            str(header.get("description") or ""),
            header.get("parentCommit"),
        )
        url = f"{self._base()}/{_URL_PREFIX[repo_type]}{repo_id}/commit/{commit_id}"
        reply = {"success": True, "commitOid": commit_id, "commitUrl": url, "hookOutput": ""}
        self._json(200, {**reply, "pullRequestUrl": None})

    def _tag(self, repo_type: str, repo_id: str, rest: list[str], _: dict[str, Any]) -> None:
        self._writer()
        body = self._json_body()
        self._visible(repo_type, repo_id)
        tag = str(body.get("tag") or "")
        revision = "/".join(rest) or "main"
        commit_id = self.server.store.tag(
            repo_type, repo_id, tag, revision, str(body.get("message") or "")
        )
        self._json(200, {"name": tag, "ref": f"refs/tags/{tag}", "targetCommit": commit_id})

    # -- downloads ------------------------------------------------------------------------------

    def _resolve(self, seg: list[str]) -> None:
        if self.command not in ("GET", "HEAD"):
            raise HubError(405, f"{self.command} is not allowed on {'/'.join(seg)}")
        repo_type = "model"
        if seg and seg[0] in ("datasets", "spaces"):
            repo_type, seg = _TYPES[seg[0]], seg[1:]
        if len(seg) < 5 or seg[2] != "resolve":
            raise HubError(404, f"no such route: /{'/'.join(seg)}")
        repo_id, revision, path = f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:])
        self._visible(repo_type, repo_id)
        store = self.server.store
        commit_id = store.resolve(repo_type, repo_id, revision)
        tree = store.commit_record(repo_type, repo_id, commit_id)["tree"]
        if path not in tree:
            raise HubError(404, f"{path!r} not found at {revision}", "EntryNotFound", commit_id)
        blob_id, size = tree[path]
        headers = {
            "ETag": f'"{blob_id}"',
            "X-Repo-Commit": commit_id,
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'inline; filename="{path.rsplit("/", 1)[-1]}"',
        }
        span = _byte_range(self.headers.get("Range"), size)
        data = (
            b""
            if self.command == "HEAD" and span is None
            else store.blob(repo_type, repo_id, blob_id)
        )
        if span is None:
            self._send(200, data, {**headers, "Content-Length": str(size)})
            return
        start, end = span
        part = data[start : end + 1]
        ranged = {"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(len(part))}
        self._send(206, part, {**headers, **ranged})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        store: HubStore,
        token: str | None,
        log: Callable[[str], None] | None,
    ) -> None:
        super().__init__(address, _Handler)
        self.store, self.token, self.log = store, token, log

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"


class HubServer:
    """A running local hub: its `url`, its `root` folder and its store; `close()` stops it."""

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        root = Path(root)
        if root.exists() and not root.is_dir():
            msg = f"hub root {str(root)!r} is a file; give a folder to hold the repos"
            raise FactoryError(msg)
        if token is not None and not token.strip():
            msg = "the hub token is empty; pass token=None to accept any bearer token"
            raise FactoryError(msg)
        self.root = root
        self.store = HubStore(root)
        try:
            self._server = _Server((host, port), self.store, token, log)
        except OSError as exc:
            msg = f"cannot listen on {host}:{port} ({exc}); pick another --port or 0 for any"
            raise FactoryError(msg) from exc
        self.url = f"http://{self._server.address}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="local-hub", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"HubServer(url={self.url!r}, root={str(self.root)!r})"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


@contextlib.contextmanager
def serve_hub(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator[HubServer]:
    """Serve the repos under `root` on `host:port` (0: any free port) while the block runs."""
    server = HubServer(root, host, port, token, log)
    try:
        yield server
    finally:
        server.close()


def serve_hub_forever(
    root: Path, port: int, token: str | None, log: Callable[[str], None] | None = print
) -> None:
    """Serve the repos under `root` on 127.0.0.1 until Ctrl-C, printing the URL first."""
    with serve_hub(root, port=port, token=token, log=log) as hub:
        print(hub.url, flush=True)
        print(f"repos in {root}; rehearse with: export HF_ENDPOINT={hub.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1.0)
