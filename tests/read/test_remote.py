"""Logs in object storage: mlmon reads s3:// URLs from an S3-compatible server (moto's server mode)
on 127.0.0.1, started for this module and stopped after, through the real CLI in a subprocess."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from services import free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "predictions.jsonl"
BUCKET = "logs"
pytest.importorskip("s3fs", reason="pip install -e '.[test]' installs s3fs (the s3 extra)")


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    """An S3-compatible server on 127.0.0.1 holding a bucket of logs; the environment that
    reaches it (credentials and endpoint as the AWS tools take them)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "mlmon-test",
        "AWS_SECRET_ACCESS_KEY": "mlmon-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
        "NO_COLOR": "1",
    }
    env.pop("AWS_PROFILE", None)
    try:
        wait_http(endpoint + "/", proc)
        import boto3

        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="mlmon-test", aws_secret_access_key="mlmon-test-secret",
        )
        client.create_bucket(Bucket=BUCKET)
        data = SAMPLE.read_bytes()
        lines = data.splitlines(keepends=True)
        client.put_object(Bucket=BUCKET, Key="day1/preds.jsonl", Body=data)
        client.put_object(Bucket=BUCKET, Key="day2/preds.jsonl.gz", Body=gzip.compress(b"".join(lines[:700])))
        client.put_object(Bucket=BUCKET, Key="day2/.hidden.jsonl", Body=b"not a log\n")
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [json.loads(x) for x in lines[:300]]
        table = pa.table({
            "timestamp": [r["timestamp"] for r in rows],
            "latency_ms": [r["latency_ms"] for r in rows],
            "status": [r["status"] for r in rows],
        })
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        client.put_object(Bucket=BUCKET, Key="tables/preds.parquet", Body=sink.getvalue().to_pybytes())
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def mlmon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlmon", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _without_sources(doc: dict[str, object]) -> dict[str, object]:
    doc = json.loads(json.dumps(doc))
    for f in doc["input"]["files"]:  # type: ignore[index]
        f.pop("source")
    return doc


@pytest.mark.parametrize("reader", ["native", "python"])
def test_an_object_reads_as_the_same_file_does_with_both_readers(s3: dict[str, str], reader: str) -> None:
    env = {**s3, "MLMON_READER": reader}
    remote = mlmon(env, "summary", f"s3://{BUCKET}/day1/preds.jsonl", "-f", "json")
    local = mlmon(env, "summary", str(SAMPLE), "-f", "json")
    assert remote.returncode == local.returncode == 0, remote.stderr
    got, want = json.loads(remote.stdout), json.loads(local.stdout)
    assert got["input"]["files"][0]["source"] == f"s3://{BUCKET}/day1/preds.jsonl"
    assert _without_sources(got) == _without_sources(want)
    assert got["records"] == len(SAMPLE.read_bytes().splitlines())


def test_a_glob_and_a_prefix_list_the_objects_in_order_compressed_ones_too(s3: dict[str, str]) -> None:
    by_glob = mlmon(s3, "summary", f"s3://{BUCKET}/**/*.jsonl*", "-f", "json")
    assert by_glob.returncode == 0, by_glob.stderr
    files = json.loads(by_glob.stdout)["input"]["files"]
    assert [f["source"] for f in files] == [f"s3://{BUCKET}/day1/preds.jsonl", f"s3://{BUCKET}/day2/preds.jsonl.gz"]
    assert [f["compression"] for f in files] == ["none", "gzip"]
    assert files[1]["records"] == 700
    by_prefix = mlmon(s3, "summary", f"s3://{BUCKET}/day2/", "-f", "json")
    assert by_prefix.returncode == 0, by_prefix.stderr
    # the hidden object is left out of a folder, as a hidden file is locally
    assert [f["source"] for f in json.loads(by_prefix.stdout)["input"]["files"]] == [
        f"s3://{BUCKET}/day2/preds.jsonl.gz"
    ]


def test_a_parquet_object_is_read(s3: dict[str, str]) -> None:
    got = mlmon(s3, "summary", f"s3://{BUCKET}/tables/preds.parquet", "-f", "json")
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert doc["records"] == 300 and doc["input"]["files"][0]["format"] == "parquet"


@pytest.mark.parametrize(
    "url",
    [f"s3://{BUCKET}/day1/nothing.jsonl", "s3://no-such-bucket/preds.jsonl", f"s3://{BUCKET}/day9/*.jsonl"],
)
def test_a_missing_object_bucket_or_match_is_no_input(s3: dict[str, str], url: str) -> None:
    got = mlmon(s3, "summary", url)
    assert got.returncode == 66, got.stderr
    assert got.stderr.startswith("mlmon: error: no input:") and url in got.stderr
    assert "Traceback" not in got.stderr and len(got.stderr.strip().splitlines()) == 1


def test_an_unreachable_endpoint_is_the_environment_not_a_hang_nor_a_traceback(s3: dict[str, str]) -> None:
    env = {**s3, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "MLMON_REMOTE_CONNECT_TIMEOUT": "2"}
    got = mlmon(env, "summary", f"s3://{BUCKET}/day1/preds.jsonl", "-f", "json")
    assert got.returncode == 71
    doc = json.loads(got.stdout)
    assert doc["exit_code"] == 71 and "cannot reach the store" in doc["error"]["message"]
    assert "Traceback" not in got.stderr


def test_no_credentials_is_a_clear_error(s3: dict[str, str]) -> None:
    env = {k: v for k, v in s3.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    got = mlmon(env, "summary", f"s3://{BUCKET}/day1/preds.jsonl")
    assert got.returncode == 66
    assert "no credentials found" in got.stderr and "AWS_ACCESS_KEY_ID" in got.stderr
    assert "Traceback" not in got.stderr


def test_credentials_and_endpoint_from_the_aws_config_files(s3: dict[str, str], tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("[logs]\naws_access_key_id = from-file\naws_secret_access_key = from-file-secret\n")
    config = tmp_path / "config"
    config.write_text(f"[profile logs]\nregion = us-east-1\nendpoint_url = {s3['AWS_ENDPOINT_URL']}\n")
    env = {k: v for k, v in s3.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_CONFIG_FILE=str(config), AWS_PROFILE="logs",
               AWS_EC2_METADATA_DISABLED="true")
    got = mlmon(env, "summary", f"s3://{BUCKET}/day1/preds.jsonl", "-f", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["records"] == len(SAMPLE.read_bytes().splitlines())


def test_state_on_an_object_is_refused_and_keeps_no_state(s3: dict[str, str], tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = tmp_path / "mlmon.toml"
    config.write_text('[[rules]]\nmetric = "records"\nwarning = 100\ncritical = 1\n')
    got = mlmon(s3, "check", "--config", str(config), "--state", str(state), f"s3://{BUCKET}/day1/preds.jsonl")
    assert got.returncode == 2, got.stderr
    assert "--state follows local files" in got.stderr
    assert not state.exists()


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """A plain web server on 127.0.0.1 serving sample_logs/ (Python's http.server: no ranged GETs)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(SAMPLE.parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_log_on_a_web_server_reads_as_the_file_does(web: str) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    remote = mlmon(env, "summary", f"{web}/predictions.jsonl", "-f", "json")
    local = mlmon(env, "summary", str(SAMPLE), "-f", "json")
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert _without_sources(json.loads(remote.stdout)) == _without_sources(json.loads(local.stdout))
    missing = mlmon(env, "summary", f"{web}/nothing.jsonl")
    assert missing.returncode == 66 and "does not exist" in missing.stderr
