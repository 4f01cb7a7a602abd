"""OpenAI's error shape: {"error": {"message", "type", "param", "code"}} with the HTTP status the
OpenAI API uses for the same failure, so clients raise their usual exception classes."""
from __future__ import annotations

from typing import Optional

from starlette.responses import JSONResponse

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          405: "invalid_request_error", 413: "invalid_request_error", 500: "server_error", 503: "server_error"}


class APIError(Exception):
    def __init__(self, status: int, message: str, param: Optional[str] = None, code: Optional[str] = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": _TYPES.get(self.status, "invalid_request_error"),
                          "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def bad_request(message: str, param: Optional[str] = None, code: Optional[str] = None) -> APIError:
    return APIError(400, message, param, code)


def unsupported(param: str, why: str = "") -> APIError:
    return APIError(400, f"{param} is not supported by this server{': ' + why if why else ''}", param, "unsupported_parameter")
