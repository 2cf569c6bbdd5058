"""A local stand-in for the Hugging Face Hub HTTP API, for tests.

`HubStandIn` serves, on ``127.0.0.1`` (random free port) from a background thread, the part of the
Hub API that the real ``huggingface_hub`` 2.4.0 client calls for:

* ``HfApi.whoami()``                          GET  /api/whoami-v2
* ``HfApi.create_repo(...)``                  POST /api/repos/create
* ``HfApi.upload_folder(...)``                POST /api/validate-yaml            (when README.md is uploaded)
                                              POST /api/models/{repo}/preupload/main
                                              POST /{repo}.git/info/lfs/objects/batch   (LFS files only)
                                              PUT  /lfs-storage/{ticket}                (LFS files only)
                                              POST /api/models/{repo}/commit/main       (NDJSON)
* ``HfApi.model_info`` / ``repo_info``        GET  /api/models/{repo}[/revision/{rev}]
* ``snapshot_download(...)``                  GET  /api/models/{repo}/revision/main, then
                                              GET  /api/models/{repo}/tree/{sha}?recursive=true, then
                                              per file:
* ``hf_hub_download(...)``                    HEAD + GET /{repo}/resolve/{rev}/{path}

Upload modes are decided like the real Hub, from the sample the client sends to ``preupload``: a file is
stored with Git LFS when it is larger than 10 MiB or when its first 512 bytes contain a NUL byte (binary:
``.npz``, ``.safetensors``, ``.mp4``, ...); other files (``README.md``, ``*.json``, ``*.py``) are
regular git blobs sent base64-encoded inside the commit. LFS uses the basic transfer: the batch endpoint
answers with a single-use upload URL on the stand-in (playing the part of a presigned storage URL, so the
PUT carries no token), the PUT is checked against the announced sha256 and size, and a commit may only
reference LFS objects that were uploaded that way. Downloads send the headers the client needs:
``X-Repo-Commit``, ``ETag`` (git blob id), ``Content-Length``, plus ``X-Linked-Etag`` (sha256) and
``X-Linked-Size`` for LFS files. Xet is never advertised (no ``X-Xet-*`` headers, no xet token route).

Authentication works like the Hub: ``users`` maps tokens to user names. A request carrying an unknown
token is answered 401 whatever it asks for; writes without a token are 401; writes into another user's
namespace are 403; reading a repo that does not exist (or someone else's private repo) is 404 with
``X-Error-Code: RepoNotFound``, a missing revision ``RevisionNotFound``, a missing file ``EntryNotFound``.
Error bodies are ``{"error": "..."}``, with the same text in ``X-Error-Message``.

Client environment. ``huggingface_hub`` reads its environment once, at import. A client in another
process needs:

* ``HF_ENDPOINT=<standin.endpoint>``: honoured by 2.4.0 (``constants.ENDPOINT``) for every call.
* ``HF_TOKEN=<token>``: the token, when the client passes none explicitly.
* ``HF_HUB_DISABLE_XET=1``: required for uploads of LFS files. With ``hf_xet`` installed, 2.4.0 sends
  every non-regular file through Xet storage without asking the server (``upload_folder`` even switches
  to a separate pipelined uploader), and the stand-in has no Xet storage.
* ``HF_HUB_DISABLE_TELEMETRY=1``: otherwise the client fetches ``{HF_ENDPOINT}/api/agent-harnesses`` once
  per process to build its user agent (answered 404 here, harmlessly; against the default endpoint this
  is a request to huggingface.co).
* ``HF_HOME=<tmp dir>``: keeps the cache and token file out of ``~/.cache``.

`HubStandIn.client_env` returns the first four. In this process, the `hub_standin` fixture patches the two
flags in ``huggingface_hub.constants``; clients must then pass ``endpoint=`` (and ``token=``) explicitly.

Not served: dataset/space repos, branches other than ``main``, pull requests, deletions, ``.gitignore``
rules, Xet. Unlike the real Hub, a new repo holds no ``.gitattributes`` file, listings come in one page,
the tree listing has no directory entries and files are served directly (no redirect to a CDN).
"""

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from huggingface_hub import constants

# Files above this size must go through LFS on the Hub.
_MAX_REGULAR_SIZE = 10 * 1024 * 1024
_MAIN = "main"
_REPO = r"(?P<repo_id>[^/]+/[^/]+)"
_REV = r"(?P<revision>[^/]+)"

# (methods, path pattern, name of the HubStandIn method answering it); patterns match the raw path.
_ROUTES: list[tuple[frozenset[str], re.Pattern[str], str]] = [
    (frozenset({"GET"}), re.compile(r"/api/whoami-v2"), "_whoami"),
    (frozenset({"POST"}), re.compile(r"/api/repos/create"), "_create_repo"),
    (frozenset({"POST"}), re.compile(r"/api/validate-yaml"), "_validate_yaml"),
    (frozenset({"GET"}), re.compile(rf"/api/models/{_REPO}(?:/revision/{_REV})?"), "_model_info"),
    (frozenset({"GET"}), re.compile(rf"/api/models/{_REPO}/tree/{_REV}(?:/(?P<folder>.*))?"), "_tree"),
    (frozenset({"POST"}), re.compile(rf"/api/models/{_REPO}/preupload/{_REV}"), "_preupload"),
    (frozenset({"POST"}), re.compile(rf"/api/models/{_REPO}/commit/{_REV}"), "_commit"),
    (frozenset({"POST"}), re.compile(rf"/{_REPO}\.git/info/lfs/objects/batch"), "_lfs_batch"),
    (frozenset({"PUT"}), re.compile(r"/lfs-storage/(?P<ticket>[0-9a-f]+)"), "_lfs_put"),
    (frozenset({"GET", "HEAD"}), re.compile(rf"/{_REPO}/resolve/{_REV}/(?P<path>.+)"), "_resolve"),
]


@dataclass(frozen=True)
class _Blob:
    """A file's content, stored either as a regular git blob or behind an LFS pointer."""

    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def pointer(self) -> bytes:
        """The LFS pointer file git stores in place of the content."""
        pointer = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.data)}\n"
        )
        return pointer.encode()

    @property
    def oid(self) -> str:
        """The git blob id: of the pointer for LFS files, of the content otherwise."""
        stored = self.pointer if self.lfs else self.data
        return hashlib.sha1(b"blob %d\0" % len(stored) + stored).hexdigest()

    def tree_entry(self, path: str) -> dict[str, Any]:
        """The file as the tree listing describes it."""
        entry: dict[str, Any] = {"type": "file", "path": path, "oid": self.oid, "size": len(self.data)}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": len(self.pointer)}
        return entry

    def sibling(self, path: str) -> dict[str, Any]:
        """The file as model info describes it when asked for blobs."""
        entry: dict[str, Any] = {"rfilename": path, "size": len(self.data), "blobId": self.oid}
        if self.lfs:
            entry["lfs"] = {"sha256": self.sha256, "size": len(self.data), "pointerSize": len(self.pointer)}
        return entry


@dataclass
class _Repo:
    owner: str
    private: bool
    head: str = ""
    snapshots: dict[str, dict[str, _Blob]] = field(default_factory=dict)  # commit sha -> path -> blob
    lfs_objects: dict[str, bytes] = field(default_factory=dict)  # sha256 -> content uploaded by LFS


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Call:
    """What a route needs from a request."""

    user: str | None
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise _HubError(400, "Request body is not valid JSON") from None


class _HubError(Exception):
    """An error answered the way the Hub does: JSON body, X-Error-Code / X-Error-Message headers."""

    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra

    def response(self, headers: Mapping[str, str] | None = None) -> _Response:
        error_headers = {"X-Error-Message": self.message, **(headers or {})}
        if self.code is not None:
            error_headers["X-Error-Code"] = self.code
        return _json({"error": self.message, **self.extra}, self.status, error_headers)


def _json(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Response:
    return _Response(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the stand-in. HTTP/1.0: one request per connection, so stopping is prompt."""

    def __init__(self, hub: "HubStandIn", *args: Any) -> None:
        self.hub = hub
        super().__init__(*args)

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        response = self.hub._handle(self.command, self.path, self.headers.get("Authorization"), body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; `HubStandIn.requests` records the traffic."""


class HubStandIn:
    """In-memory Hub on a local port. Use as a context manager: entering starts it, exiting stops it."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = dict(users) if users is not None else {"hf_alice_token": "alice"}  # token -> user name
        self.requests: list[tuple[str, str]] = []  # (method, raw path without query), in arrival order
        self._repos: dict[str, _Repo] = {}
        self._uploads: dict[str, tuple[str, str, int]] = {}  # ticket -> (repo_id, sha256, size)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """Base URL of the running stand-in, e.g. ``http://127.0.0.1:54321``."""
        if self._server is None:
            raise RuntimeError("HubStandIn is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> "HubStandIn":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *args: _Handler(self, *args))
        # A short poll interval lets `shutdown()` return promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="hub-standin", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def files(self, repo_id: str) -> dict[str, bytes]:
        """Content of every file of `repo_id` at the head of ``main``; KeyError if the repo does not exist."""
        with self._lock:
            repo = self._repos[repo_id]
            return {path: blob.data for path, blob in repo.snapshots[repo.head].items()}

    def client_env(self, token: str | None = None) -> dict[str, str]:
        """Environment variables pointing a ``huggingface_hub`` client in another process at the stand-in."""
        env = {"HF_ENDPOINT": self.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    # ------------------------------------------------------------------ dispatch

    def _handle(self, method: str, raw_path: str, authorization: str | None, body: bytes) -> _Response:
        url = urlsplit(raw_path)
        with self._lock:
            self.requests.append((method, url.path))
            try:
                call = _Call(self._authenticate(authorization), _single_values(url.query), body)
                for methods, pattern, name in _ROUTES:
                    match = pattern.fullmatch(url.path)
                    if match and method in methods:
                        params = {key: unquote(value) for key, value in match.groupdict().items() if value}
                        route: Callable[..., _Response] = getattr(self, name)
                        return route(call, **params)
                raise _HubError(404, f"The Hub stand-in does not serve {method} {url.path}")
            except _HubError as error:
                return error.response()
            except (
                KeyError,
                TypeError,
                ValueError,
            ) as error:  # a payload missing fields or of the wrong shape
                return _HubError(400, f"Malformed request: {error!r}").response()

    def _authenticate(self, authorization: str | None) -> str | None:
        """The user owning the bearer token, None without a token; 401 for an unknown token."""
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token not in self.users:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return self.users[token]

    def _readable(self, repo_id: str, user: str | None) -> _Repo:
        repo = self._repos.get(repo_id)
        if repo is None or (repo.private and repo.owner != user):
            raise _HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _writable(self, repo_id: str, user: str | None, revision: str) -> _Repo:
        if user is None:
            raise _HubError(401, "You must be authenticated to write to a repository")
        repo = self._readable(repo_id, user)
        if repo.owner != user:
            raise _HubError(403, f"You don't have write access to {repo_id}")
        if revision != _MAIN:
            raise _HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return repo

    @staticmethod
    def _snapshot(repo: _Repo, revision: str) -> tuple[str, dict[str, _Blob]]:
        """Commit sha and files of `revision`: ``main`` or a full commit sha."""
        sha = repo.head if revision == _MAIN else revision
        if sha not in repo.snapshots:
            raise _HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return sha, repo.snapshots[sha]

    def _add_commit(self, repo_id: str, repo: _Repo, summary: str, files: dict[str, _Blob]) -> str:
        listing = sorted((path, blob.oid) for path, blob in files.items())
        seed = json.dumps([repo_id, repo.head, len(repo.snapshots), summary, listing])
        sha = hashlib.sha1(seed.encode()).hexdigest()
        repo.snapshots[sha] = files
        repo.head = sha
        return sha

    # ------------------------------------------------------------------ routes

    def _whoami(self, call: _Call) -> _Response:
        if call.user is None:
            raise _HubError(401, "You must be authenticated to call whoami")
        access_token = {"displayName": "hub-standin", "role": "write"}
        return _json(
            {
                "type": "user",
                "name": call.user,
                "fullname": call.user,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": access_token},
            }
        )

    def _create_repo(self, call: _Call) -> _Response:
        if call.user is None:
            raise _HubError(401, "You must be authenticated to create a repository")
        payload = call.json()
        if payload.get("type", "model") != "model":
            raise _HubError(400, "The Hub stand-in only serves model repos")
        namespace = payload.get("organization") or call.user
        if namespace != call.user:
            raise _HubError(
                403, f'You don\'t have the rights to create a model under the namespace "{namespace}"'
            )
        repo_id = f"{namespace}/{payload['name']}"
        url = f"{self.endpoint}/{repo_id}"
        if repo_id in self._repos:
            raise _HubError(409, "You already created this model repo", url=url)
        repo = _Repo(owner=call.user, private=payload.get("visibility") == "private")
        self._add_commit(repo_id, repo, "initial commit", {})
        self._repos[repo_id] = repo
        return _json({"url": url, "name": repo_id})

    def _validate_yaml(self, call: _Call) -> _Response:
        """Accepts every README.md: the stand-in does not check model card metadata."""
        return _json({"errors": [], "warnings": []})

    def _model_info(self, call: _Call, repo_id: str, revision: str = _MAIN) -> _Response:
        repo = self._readable(repo_id, call.user)
        sha, files = self._snapshot(repo, revision)
        with_blobs = call.query.get("blobs", "").lower() == "true"
        siblings = [
            blob.sibling(path) if with_blobs else {"rfilename": path} for path, blob in sorted(files.items())
        ]
        return _json(
            {
                "id": repo_id,
                "modelId": repo_id,
                "author": repo.owner,
                "sha": sha,
                "private": repo.private,
                "disabled": False,
                "gated": False,
                "tags": [],
                "siblings": siblings,
            }
        )

    def _tree(self, call: _Call, repo_id: str, revision: str, folder: str = "") -> _Response:
        _, files = self._snapshot(self._readable(repo_id, call.user), revision)
        prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
        recursive = call.query.get("recursive", "").lower() == "true"
        return _json(
            [
                blob.tree_entry(path)
                for path, blob in sorted(files.items())
                if path.startswith(prefix) and (recursive or "/" not in path[len(prefix) :])
            ]
        )

    def _preupload(self, call: _Call, repo_id: str, revision: str) -> _Response:
        _reject_pull_requests(call)
        repo = self._writable(repo_id, call.user, revision)
        head = repo.snapshots[repo.head]
        answers = []
        for file in call.json()["files"]:
            is_lfs = file["size"] > _MAX_REGULAR_SIZE or b"\0" in base64.b64decode(file["sample"])
            remote = head.get(file["path"])
            remote_oid = None if remote is None else remote.sha256 if remote.lfs else remote.oid
            answers.append(
                {
                    "path": file["path"],
                    "uploadMode": "lfs" if is_lfs else "regular",
                    "shouldIgnore": False,
                    "oid": remote_oid,
                }
            )
        return _json({"files": answers, "commitOid": repo.head})

    def _lfs_batch(self, call: _Call, repo_id: str) -> _Response:
        payload = call.json()
        repo = self._writable(repo_id, call.user, payload.get("ref", {}).get("name", _MAIN))
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise _HubError(400, "The Hub stand-in only serves basic LFS uploads")
        objects = []
        for obj in payload["objects"]:
            answer = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in repo.lfs_objects:
                ticket = secrets.token_hex(16)
                self._uploads[ticket] = (repo_id, obj["oid"], obj["size"])
                answer["actions"] = {
                    "upload": {"href": f"{self.endpoint}/lfs-storage/{ticket}", "expires_in": 3600}
                }
            objects.append(answer)
        return _Response(
            200,
            json.dumps({"transfer": "basic", "objects": objects}).encode(),
            {"Content-Type": "application/vnd.git-lfs+json"},
        )

    def _lfs_put(self, call: _Call, ticket: str) -> _Response:
        if ticket not in self._uploads:
            raise _HubError(403, "Unknown or already used upload URL")
        repo_id, oid, size = self._uploads[ticket]
        if len(call.body) != size or hashlib.sha256(call.body).hexdigest() != oid:
            raise _HubError(400, f"Uploaded content does not match sha256 {oid} and size {size}")
        del self._uploads[ticket]
        self._repos[repo_id].lfs_objects[oid] = call.body
        return _Response(200)

    def _commit(self, call: _Call, repo_id: str, revision: str) -> _Response:
        _reject_pull_requests(call)
        repo = self._writable(repo_id, call.user, revision)
        try:
            lines = [json.loads(line) for line in call.body.splitlines() if line.strip()]
        except ValueError:
            raise _HubError(400, "Commit payload is not valid NDJSON") from None
        if not lines or lines[0].get("key") != "header":
            raise _HubError(400, "Commit payload must start with a header line")
        files = dict(repo.snapshots[repo.head])
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            if key == "file" and value.get("encoding") == "base64":
                files[value["path"]] = _Blob(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                if value["oid"] not in repo.lfs_objects:
                    raise _HubError(400, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                files[value["path"]] = _Blob(repo.lfs_objects[value["oid"]], lfs=True)
            else:
                raise _HubError(400, f"The Hub stand-in does not serve commit operation {key!r}")
        sha = self._add_commit(repo_id, repo, lines[0]["value"]["summary"], files)
        return _json(
            {"success": True, "commitOid": sha, "commitUrl": f"{self.endpoint}/{repo_id}/commit/{sha}"}
        )

    def _resolve(self, call: _Call, repo_id: str, revision: str, path: str) -> _Response:
        sha, files = self._snapshot(self._readable(repo_id, call.user), revision)
        commit_header = {"X-Repo-Commit": sha}
        blob = files.get(path)
        if blob is None:
            return _HubError(404, "Entry not found", "EntryNotFound").response(commit_header)
        headers = {**commit_header, "Content-Type": "application/octet-stream", "ETag": f'"{blob.oid}"'}
        if blob.lfs:
            headers |= {"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(len(blob.data))}
        return _Response(200, blob.data, headers)


def _single_values(query: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(query).items()}


def _reject_pull_requests(call: _Call) -> None:
    if "create_pr" in call.query:
        raise _HubError(501, "The Hub stand-in does not serve pull requests")


@pytest.fixture
def hub_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubStandIn]:
    """A running `HubStandIn` with the default users; in-process clients take the classic (non-Xet) path."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    with HubStandIn() as standin:
        yield standin
