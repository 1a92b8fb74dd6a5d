"""Errors of the AWS-compatible API, rendered as AWS's REST-JSON errors: the status, a JSON body with
`message`, and the code in the `x-amzn-ErrorType` header, from which botocore picks the exception class
(`client.exceptions.<code>`)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from shared.web.http import FastJSONResponse


class AwsError(Exception):
    """An AWS error answer: e.g. AwsError(404, "ResourceNotFoundException", "Job j1 not found")."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra  # more members of the error shape (e.g. ConflictException's resourceId)


def aws_error_response(exc: AwsError) -> Response:
    return FastJSONResponse(
        {"message": exc.message, **exc.extra},
        status_code=exc.status,
        headers={"x-amzn-ErrorType": exc.code, "x-amzn-RequestId": str(uuid.uuid4())},
    )


async def aws_error_handler(request: Request, exc: Exception) -> Response:
    """`app.add_exception_handler(AwsError, aws_error_handler)`."""
    assert isinstance(exc, AwsError)
    return aws_error_response(exc)


# The errors every authenticated call can meet (services/aws_api/sigv4.py), as AWS words them.
def missing_auth() -> AwsError:
    return AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")


def unrecognized_client() -> AwsError:
    return AwsError(
        403, "UnrecognizedClientException", "The security token included in the request is invalid."
    )


def invalid_signature(message: str) -> AwsError:
    return AwsError(403, "InvalidSignatureException", message)


def forbidden(message: str) -> AwsError:
    return AwsError(403, "ForbiddenException", message)


def throttled(message: str = "Rate exceeded") -> AwsError:
    return AwsError(429, "ThrottlingException", message)


def unavailable(message: str = "Service unavailable, retry later") -> AwsError:
    return AwsError(503, "ServiceUnavailableException", message)
