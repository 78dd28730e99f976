"""A real S3 API server for the tests: moto's server mode on 127.0.0.1, in its own process,
with IAM checks on, so wrong credentials are refused as AWS refuses them.

The server starts open, gets one IAM user allowed everything on S3 and an access key for
it, then turns authentication on (moto's ``reset-auth``): from then on every request must
be signed with that key.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class S3Server:
    def __init__(self) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **self.isolation()},
        )
        try:
            self._wait()
            self.key_id, self.secret = self._make_user()
            self._post("/moto-api/reset-auth", b"0")  # authentication on from here
        except BaseException:
            self.stop()
            raise
        self._buckets = 0

    @staticmethod
    def isolation() -> dict[str, str]:
        """No credentials or config from this machine, and no instance-metadata probing."""
        return {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": REGION,
        }

    def env(self, secret: str | None = None) -> dict[str, str]:
        """What a client needs to reach the server (with another secret, to be refused)."""
        return {
            **self.isolation(),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": secret or self.secret,
        }

    def client(self, service: str = "s3", **credentials: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=credentials.get("key_id", getattr(self, "key_id", "setup")),
            aws_secret_access_key=credentials.get("secret", getattr(self, "secret", "setup")),
        )

    def bucket(self) -> str:
        """A new, empty bucket."""
        self._buckets += 1
        name = f"bucket-{self._buckets}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every object in `bucket`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def unfinished_uploads(self, bucket: str) -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        uploads = self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted(upload["Key"] for upload in uploads)

    def get(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2).close()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto S3 server did not start") from None
                time.sleep(0.1)

    def _post(self, path: str, data: bytes) -> None:
        request = urllib.request.Request(
            self.endpoint + path, data=data, method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request, timeout=10).close()

    def _make_user(self) -> tuple[str, str]:
        iam = self.client("iam")
        iam.create_user(UserName="mira")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="mira", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="mira")["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]
