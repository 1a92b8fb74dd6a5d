"""`iotcloud create-access-key`: an AWS access key for an operator (docs/aws-compat.md), printed once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from iotcloud.context import console, load_settings, open_db
from shared import audit
from shared.access_keys import create_key
from shared.infra.db import SET_TENANT, connect
from shared.tenants import current_role, principal_for_email


def create_access_key(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    email: Annotated[str, typer.Option(help="the operator whose key it is (the key gets their role)")],
) -> None:
    """Create an AWS access key for boto3 against the AWS-compatible API; the secret is shown this once."""
    settings = load_settings()
    db = open_db()

    async def go() -> dict[str, Any] | str:
        owner = await connect(db.owner_url)
        try:
            principal = await principal_for_email(owner, email)
        finally:
            await owner.close()
        if principal is None or principal.tenant_id != tenant:
            return f"no user {email} in tenant {tenant}"
        conn = await connect(db.app_url)
        try:
            async with conn.transaction():
                await conn.execute(SET_TENANT, tenant)
                role = await current_role(conn, principal)
                if role is None:
                    return f"user {email} is disabled"
                now = datetime.now(UTC)
                key = await create_key(conn, settings.signing_secret(), principal.user_id, role, email, now)
                details = {"role": role, "for": email}
                await audit.record(
                    conn, audit.CLI, "access_key.created", "access_key", key["access_key_id"], details
                )
                return key
        finally:
            await conn.close()

    try:
        result = asyncio.run(go())
    finally:
        db.close()
    if isinstance(result, str):
        console.print(f"[red]{result}[/red]")
        raise typer.Exit(1)
    print(f"aws_access_key_id = {result['access_key_id']}")
    print(f"aws_secret_access_key = {result['secret_access_key']}")
    console.print(f"role {result['role']}; the secret is not shown again (revoke: the console or the API)")
