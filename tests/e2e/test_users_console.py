"""The Users page in Debian's Chromium against the real `iotcloud up --demo`: the demo admin adds a user (the
generated password shown once), changes the user's role to viewer; the viewer signs in with that password and
has no Users in the navigation, and the page tells them it is for admins only."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import log_in, nav


async def test_admin_adds_a_user_and_changes_the_role(
    console_page: tuple[Page, Console], stack: Stack, browser: Browser
) -> None:
    page, console = console_page
    email = f"ops-{uuid.uuid4().hex[:8]}@demo.local"
    await log_in(page)
    await nav(page, "Users")
    await expect(page.get_by_role("heading", name="Users")).to_be_visible()
    users = page.get_by_role("table", name="users")
    await expect(users.locator('tr[data-user="admin@demo.local"]')).to_contain_text("(you)")

    form = page.get_by_role("form", name="add user")
    await form.get_by_label("E-mail").fill(email)
    await form.get_by_role("combobox", name="Role").click()
    await page.get_by_role("option", name="operator").click()
    await form.get_by_role("button", name="Add user").click()
    reveal = page.get_by_test_id("password-reveal")
    await expect(reveal).to_contain_text(email)
    password = (await reveal.get_by_test_id("new-password").inner_text()).strip()
    assert len(password) >= 12
    await shot(page, "users-01-password-once")
    await page.get_by_role("button", name="Done").click()
    await expect(reveal).to_have_count(0)

    row = users.locator(f'tr[data-user="{email}"]')
    await expect(row).to_contain_text("enabled")
    role = row.get_by_role("combobox", name=f"role of {email}")
    await expect(role).to_have_value("operator")
    await role.click()
    await page.get_by_role("option", name="viewer").click()
    await expect(page.get_by_text(f"{email}: viewer")).to_be_visible()  # the API's answer, notified
    await page.reload()
    await expect(users.locator(f'tr[data-user="{email}"]').get_by_role("combobox")).to_have_value("viewer")
    await shot(page, "users-02-role-changed")
    assert console.errors == []

    # The viewer signs in with the password they were given: no Users in their navigation.
    context = await browser.new_context(base_url=stack.ui, viewport={"width": 1366, "height": 900})
    try:
        viewer = await context.new_page()
        await viewer.goto("/")
        await expect(viewer).to_have_url(re.compile(r"/login\?next="))
        await viewer.get_by_label("E-mail").fill(email)
        await viewer.get_by_label("Password", exact=True).fill(password)
        await viewer.get_by_role("button", name="Sign in").click()
        nav_bar = viewer.get_by_role("navigation", name="main")
        await expect(nav_bar.get_by_role("link", name="Dashboard")).to_be_visible()
        await expect(viewer.get_by_test_id("who")).to_have_text(email)
        await expect(nav_bar.get_by_role("link", name="Users")).to_have_count(0)
        await viewer.goto("/users")
        await expect(viewer.get_by_test_id("admins-only")).to_contain_text("Only a tenant admin")
        await expect(viewer.get_by_role("table", name="users")).to_have_count(0)
        await shot(viewer, "users-03-viewer")
    finally:
        await context.close()
