"""Artifacts: tenants' OTA files, stored content-addressed, referenced from job documents and downloaded by
devices through signed, expiring URLs with HTTP Range support."""
