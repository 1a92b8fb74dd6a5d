"""The console's Access keys page in Chromium against the real `iotcloud up --demo`: a key created in the
page (its secret shown once) signs boto3 requests that the AWS-compatible API verifies; revoked in the page,
the same key is refused at once."""

from __future__ import annotations

import asyncio

import boto3
import pytest
from botocore.exceptions import ClientError
from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import log_in, nav


def _error_code(stack: Stack, key_id: str, secret: str) -> str:
    jobs = boto3.client(
        "iot-jobs-data", endpoint_url=stack.aws, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
    )  # fmt: skip
    with pytest.raises(ClientError) as err:
        jobs.get_pending_job_executions(thingName="demo:demo-device-01")
    return str(err.value.response["Error"]["Code"])


async def test_create_use_and_revoke_an_access_key(console_page: tuple[Page, Console], stack: Stack) -> None:
    page, _ = console_page
    await log_in(page)
    await nav(page, "Access keys")
    await expect(page.get_by_role("heading", name="Access keys")).to_be_visible()
    await page.get_by_role("button", name="Create access key").click()
    reveal = page.get_by_test_id("key-reveal")
    await expect(reveal).to_contain_text("only time the secret access key is shown")
    key_id = (await reveal.get_by_test_id("aws_access_key_id").inner_text()).strip()
    secret = (await reveal.get_by_test_id("aws_secret_access_key").inner_text()).strip()
    assert key_id.startswith("AKIA") and len(secret) == 40
    await shot(page, "30-access-key-created")
    await page.get_by_role("button", name="Done").click()
    table = page.get_by_role("table", name="access keys")
    await expect(table).to_contain_text(key_id)
    await expect(table).not_to_contain_text(secret)
    # signed right: past the signature, the data plane is for devices
    assert await asyncio.to_thread(_error_code, stack, key_id, secret) == "ForbiddenException"

    await table.get_by_role("row").filter(has_text=key_id).get_by_role("button", name="Revoke").click()
    await page.get_by_role("button", name="Revoke key").click()
    await expect(table.get_by_role("row").filter(has_text=key_id)).to_contain_text("revoked")
    await shot(page, "31-access-key-revoked")
    assert await asyncio.to_thread(_error_code, stack, key_id, secret) == "UnrecognizedClientException"
