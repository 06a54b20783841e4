"""An answer's body as bytes: read by a deadline, bounded in size, strictly decoded.

Split from :mod:`.transport`, which sends the request and decides what the answer means;
this module gets its body (:func:`read_body`), with three rules:

- **A deadline.** ``requests`` applies the read timeout to each socket read, so a server
  dripping its body a byte at a time could hold a call for minutes. The body is read here
  (``stream=True``, single reads), with the socket timeout shrunk to what is left of
  ``connect + read`` seconds since the attempt started; past that the connection is closed
  and the attempt is a timeout.

- **A bound.** No answer of the Integration API comes near :data:`DEFAULT_MAX_BODY_BYTES`
  (32 MiB); a body past ``TalonClient(max_body_bytes=...)`` is not read any further, and a
  compressed one is decompressed only up to the bound (a 1 MB "gzip bomb" inflating to
  1 GB stops at the bound, not after filling the memory). Exceeding it is
  :class:`BodyTooLargeError`, which the transport turns into the operation's error.
- **Strict decoding.** ``gzip`` and ``deflate`` are inflated here with :mod:`zlib`, whose
  stream says whether it ended: a truncated or corrupt stream is a ``DecodeError`` (a
  :class:`~.errors.TalonConnectionError` for the caller, "the answer never arrived whole"),
  where urllib3's decoder returned the part it could read, or ``b""`` for a broken header,
  which read as an empty, successful answer. Other codings (``br``, ``zstd`` when their
  packages are installed, lists of codings) go through urllib3's decoders, read in bounded
  pieces.
"""

from __future__ import annotations

import io
import time
import zlib
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from urllib3.exceptions import DecodeError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError as Urllib3SSLError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "BodyTooLargeError",
    "decode_content",
    "read_body",
    "redirect_hint",
]

#: The default of ``TalonClient(max_body_bytes=...)``: the largest (decoded) answer body read.
#: A page of 1000 customer profiles with many attributes is a few MiB; 32 MiB leaves room for
#: any real answer and still bounds what a broken proxy or a hostile server can make us hold.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

#: Bytes asked of urllib3's decoders per read (each read inflates at most this much).
_PIECE = 1 << 16
#: Bytes asked for per read of a body: one ``recv`` at most (``read1``), so the deadline is
#: checked between reads that each wait at most what is left of it.
_READ_SIZE = 1 << 16
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class BodyTooLargeError(Exception):
    """The body (once decoded) is longer than the limit; ``limit`` is that limit in bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer's body is larger than {limit} bytes (max_body_bytes)")
        self.limit = limit


def read_body(
    response: requests.Response,
    *,
    deadline: float,
    budget: float,
    read_timeout: float,
    limit: int,
) -> None:
    """Read the whole (decoded) body of ``response`` into it, by ``deadline``.

    ``deadline`` is ``time.monotonic`` seconds, ``budget`` the attempt's ``connect + read``
    seconds (for the message). Why not ``response.content``: ``requests`` gives each socket
    read the read timeout, so a body dripped a byte per second has no bound at all. Here
    each read is a single ``recv`` (urllib3's ``read1``, undecoded), the deadline is checked
    before each, and the socket's timeout is shrunk to what is left once that is less than
    the read timeout (never in the normal case, which costs one read and no system call
    more). Past the deadline the connection is closed (it is mid-answer, useless to the
    pool) and ``requests.ReadTimeout`` raised, which the transport makes a
    ``TalonTimeoutError`` (retried like any timeout, each attempt with its own deadline). A
    complete body leaves the connection in the pool. Other failures while reading are the
    ``requests`` exceptions ``response.content`` would raise.

    A body longer than ``limit`` (by its ``Content-Length``, as read, or once decoded)
    raises :class:`BodyTooLargeError`; the connection is closed when the rest was not read.

    The status line and headers are still read by ``http.client`` under the per-read
    timeout alone; a server dripping *those* is not bounded by the deadline.

    A response not read from a urllib3 connection (a test adapter's), or whose body a
    session hook has already read, is taken as it is (the size bound still applies).
    """
    raw = response.raw
    if not isinstance(raw, urllib3.HTTPResponse) or getattr(response, "_content_consumed", True):
        if len(response.content or b"") > limit:
            raise BodyTooLargeError(limit)
        return
    _check_announced(response, raw, limit)
    parts: list[bytes] = []
    received = 0
    left = budget
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                response.close()
                raise _timed_out(parts, read_timeout, budget, deadline_passed=True)
            if left < read_timeout:
                _shrink_timeout(raw, left)
            part = raw.read1(_READ_SIZE, decode_content=False)
            if not part:
                break
            received += len(part)
            if received > limit:
                response.close()
                raise BodyTooLargeError(limit)
            parts.append(part)
            if raw.isclosed():  # all of it (the connection is back in the pool)
                break
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        encoding = raw.headers.get("content-encoding")
        if encoding:
            content = decode_content(content, encoding, limit)
    except ReadTimeoutError:
        response.close()  # urllib3 has closed the connection already; the response too
        deadline_passed = left < read_timeout  # that read had the deadline's timeout
        raise _timed_out(parts, read_timeout, budget, deadline_passed) from None
    except requests.RequestException:  # the deadline's own (an OSError too): as it is
        raise
    except (Urllib3Error, OSError) as exc:
        response.close()
        raise _requests_error(exc) from None
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]


def _check_announced(response: requests.Response, raw: urllib3.HTTPResponse, limit: int) -> None:
    """:class:`BodyTooLargeError` at once for a ``Content-Length`` past ``limit`` (nothing read)."""
    announced = raw.headers.get("content-length", "")
    if announced.isascii() and announced.isdigit() and int(announced[:20]) > limit:
        response.close()
        raise BodyTooLargeError(limit)


def _shrink_timeout(raw: urllib3.HTTPResponse, seconds: float) -> None:
    """Let the next read of ``raw`` wait at most ``seconds``. The connection's socket is only
    touched while ``raw`` holds it (not once it is back in the pool)."""
    connection = raw.connection
    sock = connection.sock if connection is not None else None
    if sock is not None:
        sock.settimeout(seconds)


def _timed_out(
    parts: list[bytes], read_timeout: float, budget: float, deadline_passed: bool
) -> requests.ReadTimeout:
    """The timeout of a body read, saying which bound ran out and how far the body got."""
    received = sum(map(len, parts))
    if deadline_passed:
        what = f"the answer was not complete within {budget:g} s (connect + read timeout)"
    else:
        what = f"no body bytes arrived for {read_timeout:g} s (read timeout)"
    return requests.ReadTimeout(f"{what}; {received} body bytes received")


def _requests_error(exc: BaseException) -> requests.RequestException:
    """The ``requests`` exception ``response.content`` raises for a urllib3 error met while
    reading a body, so the transport treats both alike."""
    if isinstance(exc, DecodeError):
        return requests.exceptions.ContentDecodingError(str(exc))
    if isinstance(exc, Urllib3SSLError):
        return requests.exceptions.SSLError(str(exc))
    return requests.exceptions.ChunkedEncodingError(str(exc))


def decode_content(content: bytes, encoding: str, limit: int) -> bytes:
    """``content`` decoded for its ``Content-Encoding`` (see the module docstring).

    Raises :class:`BodyTooLargeError` past ``limit`` decoded bytes and urllib3's
    ``DecodeError`` for a stream that is corrupt or ends early.
    """
    coding = encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return _inflate(content, _GZIP_WBITS, limit, "gzip")
    if coding == "deflate":
        # RFC 9110 says zlib-wrapped; some servers send raw deflate (urllib3 accepts both).
        wbits = zlib.MAX_WBITS if _zlib_header(content) else -zlib.MAX_WBITS
        return _inflate(content, wbits, limit, "deflate")
    if coding in ("", "identity"):
        if len(content) > limit:
            raise BodyTooLargeError(limit)
        return content
    return _other(content, encoding, limit)


def _zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib header (RFC 1950: CM 8, FCHECK)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def _inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    """Every gzip member (or the one deflate stream) of ``data``, at most ``limit`` bytes.

    An empty body stays empty (a 204 may still name its coding)."""
    if not data:
        return b""
    out = bytearray()
    try:
        while True:
            stream = zlib.decompressobj(wbits)
            pending = data
            while pending and not stream.eof:
                out += stream.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    raise BodyTooLargeError(limit)
                if len(stream.unconsumed_tail) == len(pending):
                    break  # no progress: the stream wants input that is not there
                pending = stream.unconsumed_tail
            if not stream.eof:
                raise DecodeError(f"the {name} body ends before its compressed stream does")
            data = stream.unused_data
            if not data.strip(b"\x00"):  # the end (gzip allows zero padding)
                return bytes(out)
            if name != "gzip":
                raise DecodeError(f"{len(data)} bytes follow the end of the {name} stream")
            # another gzip member: decoded like the first (RFC 1952 2.2)
    except zlib.error as exc:
        raise DecodeError(f"the body is not valid {name}: {exc}") from None


def _other(content: bytes, encoding: str, limit: int) -> bytes:
    """Codings urllib3 decodes (``br``, ``zstd``, lists of codings), read in pieces so that
    each read inflates at most :data:`_PIECE` bytes; an unknown coding stays as it is."""
    wrapper = urllib3.HTTPResponse(
        body=io.BytesIO(content),
        headers={"content-encoding": encoding},
        preload_content=False,
        decode_content=True,
    )
    parts: list[bytes] = []
    total = 0
    while True:
        part = wrapper.read(_PIECE)
        if not part:
            return b"".join(parts)
        total += len(part)
        if total > limit:
            raise BodyTooLargeError(limit)
        parts.append(part)


def redirect_hint(location: str | None, base_url: str) -> str:
    """What a 3xx error says: where it pointed (query string hidden: it may carry a token)
    and that ``base_url`` is the likely cause (the API itself does not redirect)."""
    advice = (
        f"the client does not follow redirects (the API key would go along): check base_url "
        f"{base_url!r} (https://, the host, no path after it)"
    )
    if not location:
        return f"a redirect without a Location; {advice}"
    try:
        parts = urlsplit(location.strip())
        shown = urlunsplit(parts._replace(query="***" if parts.query else "", fragment=""))
    except ValueError:  # not a URL at all (urlsplit refuses e.g. a bad IPv6 host)
        shown = "an unreadable Location"
    if len(shown) > 300:
        shown = shown[:300] + "..."
    return f"redirected to {shown}; {advice}"
