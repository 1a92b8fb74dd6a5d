"""Tenants, users and devices on any test database (not only the shared `services` one)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from shared.auth import Principal, issue_token
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant, upsert_user
from tests.integration.reliability.logwatch import WATCH
from tests.integration.reliability.tally import client
from tests.support.pg import TestDB

PASSWORD = "correct-horse-battery-42"


@dataclass
class Account:
    tenant_id: str
    user_id: str
    email: str
    role: str
    jwt: str
    tokens: dict[str, str] = field(default_factory=dict)  # device_id -> provision token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.jwt}"}


async def add_user(db: TestDB, tenant_id: str, role: str, secret: str) -> Account:
    app = await connect(db.app_url)
    try:
        async with app.transaction():
            await app.execute(SET_TENANT, tenant_id)
            email = f"{role}-{uuid.uuid4().hex[:6]}@{tenant_id}.test"
            user = await upsert_user(app, tenant_id, email, WATCH.secret(PASSWORD), role)
    finally:
        await app.close()
    principal = Principal(tenant_id=tenant_id, user_id=user["user_id"], email=email, role=role)
    jwt = WATCH.secret(issue_token(principal, secret, 3600))
    return Account(tenant_id, user["user_id"], email, role, jwt)


async def new_tenant(db: TestDB, secret: str, role: str = "admin") -> Account:
    tenant_id = f"t-{uuid.uuid4().hex[:10]}"
    owner = await connect(db.owner_url)
    try:
        await create_tenant(owner, tenant_id, tenant_id)
    finally:
        await owner.close()
    return await add_user(db, tenant_id, role, secret)


async def create_devices(account: Account, ui_url: str, n: int, prefix: str = "dev") -> list[str]:
    sem = asyncio.Semaphore(16)
    async with client(ui_url, headers=account.auth) as api:

        async def one(i: int) -> str:
            async with sem:
                r = await api.post("/customer/devices", json={"device_id": f"{prefix}-{i:05d}"})
            assert r.status_code == 201, r.text
            body = r.json()
            account.tokens[body["device_id"]] = WATCH.secret(body["provision_token"])
            return str(body["device_id"])

        return list(await asyncio.gather(*(one(i) for i in range(n))))
