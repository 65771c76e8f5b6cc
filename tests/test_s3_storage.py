"""Private evidence on S3-compatible storage: the storage built from the settings' own code
(`private_storage_settings` with AWS_STORAGE_BUCKET_NAME and AWS_S3_ENDPOINT_URL) against a real S3-compatible server
in its own process (moto's server, over HTTP on 127.0.0.1), driven through the enterprise's pages.

What the filesystem default is tested for elsewhere holds here too: the file lands in the bucket with the bytes sent,
private; it is served only after the permission check; a refused upload leaves no object behind."""

import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import quote

import boto3
import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import FileField
from django.urls import reverse

from backfill_portal.settings import private_storage_settings
from projects.models import Evidence, private_storage
from tests.builders import EXE_BYTES, PDF_BYTES, make_enterprise_user, make_project

pytestmark = pytest.mark.django_db

BUCKET = "backfill-private-test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """`python -m moto.server` on a free port, its own process; terminated after the module."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("s3") / "s3.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 30
    while True:
        try:
            opener.open(endpoint, timeout=1)
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"S3 server did not start:\n{log_path.read_text()}") from None
            time.sleep(0.1)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """The bucket, empty, and every private FileField of the portal on the S3 storage the settings build."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_lower(CREDENTIALS))
    if BUCKET in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    config = private_storage_settings(
        {
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": s3_endpoint,
            "AWS_S3_REGION_NAME": "us-east-1",
        }
    )
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    storage = storages.create_storage(config)
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and getattr(field, "_storage_callable", None) is private_storage:
                monkeypatch.setattr(field, "storage", storage)
    return client


def _lower(credentials):
    return {
        "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
    }


def objects(client) -> dict[str, bytes]:
    contents = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in contents
    }


@pytest.fixture
def world(authorities, open_windows):
    clerk = make_enterprise_user(username="s3-clerk")
    other = make_enterprise_user(username="s3-other")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"], evidence=False)
    return clerk, other, project


def upload(client, project, uploaded):
    url = reverse("projects:evidence_upload", kwargs={"pk": project.pk, "stage_code": "permit"})
    return client.post(url, {"file": uploaded, "description": "施工许可证扫描件"}, follow=True)


def test_evidence_is_stored_in_the_bucket_privately_and_served_only_after_the_permission_check(
    client, s3, world
):
    clerk, other, project = world
    client.force_login(clerk)

    response = upload(client, project, SimpleUploadedFile("施工许可证.pdf", PDF_BYTES, "application/pdf"))

    assert [str(m) for m in response.context["messages"]] == ["已上传“施工许可证.pdf”。"]
    evidence = Evidence.objects.get(project=project)
    stored = objects(s3)
    assert stored == {evidence.file.name: PDF_BYTES}
    assert "施工许可证" not in evidence.file.name  # the key carries no user input
    grants = s3.get_object_acl(Bucket=BUCKET, Key=evidence.file.name)["Grants"]
    assert all(grant["Grantee"].get("Type") == "CanonicalUser" for grant in grants)  # no public grant

    url = reverse("projects:evidence_view", kwargs={"pk": project.pk, "evidence_id": evidence.pk})
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"] == "inline; filename*=UTF-8''" + quote("施工许可证.pdf", safe="")
    assert served["X-Content-Type-Options"] == "nosniff" and served["Cache-Control"] == "private, no-store"
    assert b"".join(served.streaming_content) == PDF_BYTES

    client.force_login(other)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_a_refused_upload_leaves_no_object_in_the_bucket(client, s3, world):
    clerk, _other, project = world
    client.force_login(clerk)

    response = upload(client, project, SimpleUploadedFile("许可证.pdf", EXE_BYTES, "application/pdf"))

    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("上传失败：")
    assert not Evidence.objects.exists()
    assert objects(s3) == {}
