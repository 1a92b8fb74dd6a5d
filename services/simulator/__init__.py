"""The fleet simulator: virtual devices that poll, claim and finish jobs against the device API."""
