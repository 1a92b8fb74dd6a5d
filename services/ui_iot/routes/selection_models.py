"""A selection of devices in a request body (shared/selection.py): listed ids, or every device matching the
devices list's filters. Used by group membership (routes/groups.py) and a job's target (job_models.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.selection import MAX_DEVICE_IDS, Selection
from shared.web.validation import STRICT_BODY, Identifier

DeviceIds = Annotated[list[Identifier], Field(min_length=1, max_length=MAX_DEVICE_IDS)]

# Exactly one of the two, said with `not` so generated clients keep the plain type.
ONE_WAY: dict[str, Any] = {
    "description": "exactly one of device_ids or matching",
    "not": {
        "anyOf": [
            {"required": ["device_ids", "matching"]},
            {"properties": {"device_ids": {"type": "null"}, "matching": {"type": "null"}}},
        ]
    },
}


class DeviceMatch(BaseModel):
    """The filters of GET /customer/devices: `q` (search text in id or name) and `status`; neither: every
    device."""

    model_config = STRICT_BODY
    q: Annotated[str | None, Field(max_length=100)] = None
    status: Literal["ACTIVE", "REVOKED"] | None = None


class DeviceSelection(BaseModel):
    model_config = ConfigDict(**STRICT_BODY, json_schema_extra=ONE_WAY)
    device_ids: DeviceIds | None = None
    matching: DeviceMatch | None = None

    @model_validator(mode="after")
    def _one_way(self) -> DeviceSelection:
        if (self.device_ids is None) == (self.matching is None):
            raise ValueError("give exactly one of device_ids or matching")
        return self

    def selection(self) -> Selection:
        if self.device_ids is not None:
            return Selection(device_ids=self.device_ids)
        assert self.matching is not None
        return Selection(q=self.matching.q or None, status=self.matching.status)
