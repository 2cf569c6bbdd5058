"""The real huggingface_hub client against `HubStandIn`: uploads, downloads, authentication, errors."""

import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx2 as httpx  # huggingface_hub 2.x's own HTTP client, guaranteed installed
import pytest
from hub_standin import HubStandIn
from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, RepositoryNotFoundError

ALICE = "hf_alice_token"
BOB = "hf_bob_token"
BINARY_FILES = {"weights.safetensors", "replay.npz", "videos/episode-0.mp4"}
IGNORE_PATTERNS = ["logs/*", "*.tmp"]


def _safetensors(rng: random.Random) -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [512], "data_offsets": [0, 2048]}}).encode()
    return struct.pack("<Q", len(header)) + header + rng.randbytes(2048)


def _npz(rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("obs.npy", b"\x93NUMPY\x01\x00" + rng.randbytes(3000))
    return buffer.getvalue()


def _write_model_folder(folder: Path) -> dict[str, bytes]:
    """Fill `folder` with text and binary files; return those that survive IGNORE_PATTERNS."""
    rng = random.Random(0)
    kept = {
        "README.md": b"# Demo agent\n\nTrained with PPO.\n",
        "config.json": json.dumps({"env": "CartPole-v1", "gamma": 0.99}).encode(),
        "agent.py": b"def act(obs):\n    return 0\n",
        "eval/metrics.json": b'{"mean_return": 500.0}',
        "weights.safetensors": _safetensors(rng),
        "replay.npz": _npz(rng),
        "videos/episode-0.mp4": b"\x00\x00\x00\x18ftypmp42" + rng.randbytes(4000),
    }
    ignored = {"logs/train.log": b"step 1\n", "scratch.tmp": b"tmp"}
    for path, data in {**kept, **ignored}.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return kept


def _read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


@pytest.fixture
def api(hub_standin: HubStandIn) -> HfApi:
    return HfApi(endpoint=hub_standin.endpoint, token=ALICE)


@pytest.fixture
def pushed(api: HfApi, tmp_path: Path) -> dict[str, bytes]:
    """alice/demo holding the model folder; returns its expected files."""
    folder = tmp_path / "model"
    folder.mkdir()
    expected = _write_model_folder(folder)
    api.create_repo("alice/demo", exist_ok=True)
    api.upload_folder(
        folder_path=folder, repo_id="alice/demo", ignore_patterns=IGNORE_PATTERNS, commit_message="Push"
    )
    return expected


@pytest.fixture
def with_bob(hub_standin: HubStandIn) -> HubStandIn:
    hub_standin.users[BOB] = "bob"
    return hub_standin


def test_whoami_names_the_token_owner(hub_standin: HubStandIn, api: HfApi) -> None:
    assert api.whoami()["name"] == "alice"
    assert hub_standin.requests == [("GET", "/api/whoami-v2")]


def test_whoami_with_an_invalid_token_is_401(hub_standin: HubStandIn) -> None:
    with pytest.raises(HfHubHTTPError) as error:
        HfApi(endpoint=hub_standin.endpoint, token="hf_wrong").whoami()
    assert error.value.response.status_code == 401


def test_whoami_without_a_token(
    hub_standin: HubStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    with pytest.raises(LocalTokenNotFoundError):  # the client refuses before sending anything
        HfApi(endpoint=hub_standin.endpoint).whoami()
    assert hub_standin.requests == []

    response = httpx.get(f"{hub_standin.endpoint}/api/whoami-v2")
    assert response.status_code == 401
    assert "error" in response.json()


def test_create_repo_twice_with_exist_ok(hub_standin: HubStandIn, api: HfApi) -> None:
    first = api.create_repo("alice/demo", repo_type="model", exist_ok=True, private=False)
    second = api.create_repo("alice/demo", repo_type="model", exist_ok=True, private=False)
    assert first == second == f"{hub_standin.endpoint}/alice/demo"
    assert second.repo_id == "alice/demo"
    assert hub_standin.files("alice/demo") == {}
    with pytest.raises(HfHubHTTPError) as error:
        api.create_repo("alice/demo")
    assert error.value.response.status_code == 409


def test_upload_folder_stores_files_with_lfs_for_binaries(
    hub_standin: HubStandIn, api: HfApi, pushed: dict[str, bytes]
) -> None:
    assert hub_standin.files("alice/demo") == pushed
    lfs_puts = [path for method, path in hub_standin.requests if method == "PUT"]
    assert len(lfs_puts) == len(BINARY_FILES)
    assert ("POST", "/alice/demo.git/info/lfs/objects/batch") in hub_standin.requests
    siblings = api.model_info("alice/demo", files_metadata=True).siblings
    assert siblings is not None
    assert {sibling.rfilename for sibling in siblings if sibling.lfs is not None} == BINARY_FILES


def test_snapshot_download_returns_the_uploaded_bytes(
    hub_standin: HubStandIn, pushed: dict[str, bytes], tmp_path: Path
) -> None:
    snapshot = snapshot_download(
        "alice/demo", endpoint=hub_standin.endpoint, token=ALICE, cache_dir=tmp_path / "cache"
    )
    assert _read_tree(Path(snapshot)) == pushed  # ignored files are absent


def test_snapshot_download_with_allow_patterns(
    hub_standin: HubStandIn, pushed: dict[str, bytes], tmp_path: Path
) -> None:
    snapshot = snapshot_download(
        "alice/demo",
        endpoint=hub_standin.endpoint,
        token=ALICE,
        cache_dir=tmp_path / "cache",
        allow_patterns=["*.json"],
    )
    assert _read_tree(Path(snapshot)) == {
        path: data for path, data in pushed.items() if path.endswith(".json")
    }


@pytest.mark.parametrize("filename", ["config.json", "replay.npz"])
def test_hf_hub_download_fetches_one_file(
    hub_standin: HubStandIn, pushed: dict[str, bytes], tmp_path: Path, filename: str
) -> None:
    path = hf_hub_download(
        "alice/demo", filename, endpoint=hub_standin.endpoint, token=ALICE, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == pushed[filename]
    assert ("HEAD", f"/alice/demo/resolve/main/{filename}") in hub_standin.requests


def test_uploading_unchanged_files_makes_no_commit(
    hub_standin: HubStandIn, api: HfApi, pushed: dict[str, bytes], tmp_path: Path
) -> None:
    head = api.model_info("alice/demo").sha
    commit = api.upload_folder(
        folder_path=tmp_path / "model", repo_id="alice/demo", ignore_patterns=IGNORE_PATTERNS
    )
    assert commit.oid == head
    assert [path for _, path in hub_standin.requests].count("/api/models/alice/demo/commit/main") == 1


@pytest.mark.parametrize("token", [False, "hf_wrong"], ids=["no-token", "invalid-token"])
def test_writes_need_a_valid_token(
    hub_standin: HubStandIn, pushed: dict[str, bytes], tmp_path: Path, token: bool | str
) -> None:
    intruder = HfApi(endpoint=hub_standin.endpoint, token=token)
    with pytest.raises(HfHubHTTPError) as error:
        intruder.create_repo("alice/other")
    assert error.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as error:
        intruder.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="alice/demo")
    assert error.value.response.status_code == 401
    assert hub_standin.files("alice/demo") == pushed


def test_writing_into_another_namespace_is_403(with_bob: HubStandIn, api: HfApi, tmp_path: Path) -> None:
    with pytest.raises(HfHubHTTPError) as error:
        api.create_repo("bob/demo")
    assert error.value.response.status_code == 403

    HfApi(endpoint=with_bob.endpoint, token=BOB).create_repo("bob/demo")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(HfHubHTTPError) as error:
        api.upload_folder(folder_path=tmp_path, repo_id="bob/demo")
    assert error.value.response.status_code == 403
    assert with_bob.files("bob/demo") == {}


def test_missing_repo_raises_repository_not_found(
    hub_standin: HubStandIn, api: HfApi, tmp_path: Path
) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("alice/missing")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(
            "alice/missing", "config.json", endpoint=hub_standin.endpoint, token=ALICE, cache_dir=tmp_path
        )
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download("alice/missing", endpoint=hub_standin.endpoint, token=ALICE, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="alice/missing")


def test_private_repo_is_hidden_from_other_users(with_bob: HubStandIn, api: HfApi) -> None:
    HfApi(endpoint=with_bob.endpoint, token=BOB).create_repo("bob/secret", private=True)
    assert HfApi(endpoint=with_bob.endpoint, token=BOB).model_info("bob/secret").private
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("bob/secret")


def test_lfs_uploads_are_checked_against_their_sha256(hub_standin: HubStandIn, api: HfApi) -> None:
    api.create_repo("alice/demo")
    data = b"\0binary" * 100
    oid = hashlib.sha256(data).hexdigest()
    auth = {"Authorization": f"Bearer {ALICE}"}
    batch = httpx.post(
        f"{hub_standin.endpoint}/alice/demo.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(data)}]},
        headers=auth,
    )
    href = batch.json()["objects"][0]["actions"]["upload"]["href"]
    assert httpx.put(href, content=data[::-1]).status_code == 400

    commit = b"\n".join(
        json.dumps(line).encode()
        for line in [
            {"key": "header", "value": {"summary": "sneak", "description": ""}},
            {"key": "lfsFile", "value": {"path": "x.bin", "algo": "sha256", "oid": oid, "size": len(data)}},
        ]
    )
    commit_url = f"{hub_standin.endpoint}/api/models/alice/demo/commit/main"
    assert httpx.post(commit_url, content=commit, headers=auth).status_code == 400

    assert httpx.put(href, content=data).status_code == 200
    assert httpx.put(href, content=data).status_code == 403  # upload URLs are single-use
    assert httpx.post(commit_url, content=commit, headers=auth).status_code == 200
    assert hub_standin.files("alice/demo") == {"x.bin": data}


def test_client_in_a_subprocess_is_configured_by_environment_only(
    hub_standin: HubStandIn, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    expected = _write_model_folder(folder)
    script = f"""
import json, sys
from huggingface_hub import HfApi, snapshot_download
api = HfApi()
api.create_repo("alice/sub", exist_ok=True)
api.upload_folder(folder_path=sys.argv[1], repo_id="alice/sub", ignore_patterns={IGNORE_PATTERNS!r})
print(json.dumps({{"user": api.whoami()["name"], "snapshot": snapshot_download("alice/sub")}}))
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))}
    env |= hub_standin.client_env(ALICE) | {"HF_HOME": str(tmp_path / "hf_home")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["user"] == "alice"
    assert output["snapshot"].startswith(str(tmp_path / "hf_home" / "hub"))
    assert _read_tree(Path(output["snapshot"])) == expected == hub_standin.files("alice/sub")
