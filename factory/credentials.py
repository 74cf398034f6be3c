"""What a credential looks like: known key and token shapes, secret URL parts, variable names.

One list for the whole project: `lineage.secrets` scans lineage, reports and releases with it,
`factory.endpoints` strips it from every endpoint it shows, and the config refuses an API key
pasted where the *name* of an environment variable belongs (`env_name_problem`).

Example:
    >>> looks_like_credential("hf_" + "a1B2" * 9), looks_like_credential("max_tokens")
    (True, False)
    >>> redact_credentials("https://bob:hunter22@host/v1?api_key=k3y3k3y&n=1")
    'https://bob:***@host/v1?api_key=***&n=1'
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "CREDENTIAL_SHAPES",
    "REDACTED",
    "env_name_problem",
    "is_secret_parameter",
    "looks_like_credential",
    "redact_credentials",
]

REDACTED = "***"
"""What a credential is replaced with wherever it would be shown or recorded."""

CREDENTIAL_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:"  # a whole token: "disk-0123..." holds no "sk-" key
    r"hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|api_org_[A-Za-z0-9]{30,}"  # Hugging Face organization
    r"|sk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_\-]{20,}"  # OpenAI, Anthropic
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"  # GitLab
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"
    r"|npm_[A-Za-z0-9]{36}"  # npm
    r"|pypi-AgE[A-Za-z0-9_\-]{50,}"  # PyPI
    r"|(?:r8|gsk)_[A-Za-z0-9]{30,}"  # Replicate, Groq
    r"|xai-[A-Za-z0-9]{40,}"  # xAI
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"  # JWT
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r")"
)
"""Values shaped like a known API key, token or private key."""

_SECRET_WORD = r"(?:api[_-]?key|apikey|key|token|secret|password|passwd|pwd|sig|signature|auth)"
_SECRET_NAME = rf"(?:[a-z0-9]+[_-])*{_SECRET_WORD}"
_KEPT = r"(?!\*\*\*|\[REDACTED\])"  # a value already redacted is no secret
# (pattern, group holding the secret): only that group is redacted, the rest stays readable.
_SECRET_PARTS: tuple[tuple[re.Pattern[str], int], ...] = (
    (CREDENTIAL_SHAPES, 0),
    # user:password@ in any URL (https://, redis://, postgres://, ...)
    (re.compile(rf"(?i)\b[a-z][a-z0-9+.\-]*://[^\s/@:?#]*:({_KEPT}[^\s/?#]+)@"), 1),
    # ?api_key=... &access_token=... #token=...: every URL parameter named like a secret
    (re.compile(rf"(?i)[?&;#]{_SECRET_NAME}=({_KEPT}[^\s&;#'\"]+)"), 1),
    # password=... client_secret=... written as code (no spaces around `=`)
    (
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|client_secret|api_key|apikey|access_token"
            rf"|auth_token)=({_KEPT}[^\s&;,'\"]{{4,}})"
        ),
        1,
    ),
    # HTTP auth headers: a Bearer token, any Authorization value with a digit, x-api-key
    (re.compile(rf"(?i)\bbearer\s+({_KEPT}[A-Za-z0-9._~+/\-]{{16,}}=*)"), 1),
    (
        re.compile(
            r"(?i)\bauthorization['\"]?\s*[:=]\s*['\"]?(?:(?:bearer|token|apikey)\s+)?"
            rf"({_KEPT}(?=[^\s'\"]*[0-9])[A-Za-z0-9._~+/\-]{{8,}}=*)"
        ),
        1,
    ),
    (re.compile(rf"(?i)\bx-api-key['\"]?\s*[:=]\s*['\"]?({_KEPT}[^\s'\"]{{8,}})"), 1),
)
_BASIC = re.compile(r"(?i)\bbasic\s+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_secret_parameter(name: str) -> bool:
    """True for a URL query or form parameter named like a credential (`api_key`, `key`,
    `access_token`, `client_secret`, `X-Amz-Signature`, ...), not for `max_tokens` or `page`."""
    return re.fullmatch(_SECRET_NAME, name, flags=re.IGNORECASE) is not None


def _is_basic_credential(encoded: str) -> bool:
    """True when `encoded` is base64 of a printable `user:password` (an HTTP Basic header)."""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def looks_like_credential(text: str) -> bool:
    """True when `text` holds something shaped like a credential: a known key or token, a URL
    password, a secret query parameter, an Authorization header value, a JWT or a PEM key."""
    if any(pattern.search(text) for pattern, _ in _SECRET_PARTS):
        return True
    return any(_is_basic_credential(m.group(1)) for m in _BASIC.finditer(text))


def redact_credentials(text: str, replacement: str = REDACTED) -> str:
    """`text` with every credential-shaped part replaced by `replacement` (URLs keep their host,
    path and harmless parameters)."""
    for pattern, group in _SECRET_PARTS:
        text = pattern.sub(lambda m, g=group: _swap(m, g, replacement), text)
    return _BASIC.sub(
        lambda m: _swap(m, 1, replacement) if _is_basic_credential(m.group(1)) else m.group(0),
        text,
    )


def _swap(match: re.Match[str], group: int, replacement: str) -> str:
    """The text of `match` with its `group` replaced."""
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    whole = match.group(0)
    return whole[:start] + replacement + whole[end:]


def env_name_problem(value: str) -> str | None:
    """Why `value` cannot be the name of an environment variable, worded without repeating it
    (it is often the secret itself, pasted where its variable's name belongs); None when it is
    a plain name like `OPENAI_API_KEY`."""
    if _ENV_NAME.fullmatch(value) is None:
        got = "not a variable name (letters, digits and underscores, not starting with a digit)"
    elif looks_like_credential(value) or _looks_random(value):
        got = "shaped like an API key or token"
    else:
        return None
    return (
        "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not the secret "
        f"itself; got a {len(value)}-character value {got}; export the secret in a variable "
        "and give its name here"
    )


def _looks_random(value: str) -> bool:
    """Long, with both cases and a digit: a generated key rather than a variable's name."""
    cases = not value.isupper() and not value.islower()
    return len(value) >= 20 and cases and any(c.isdigit() for c in value)
