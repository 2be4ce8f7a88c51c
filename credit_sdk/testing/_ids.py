"""Synthetic identifiers, so that tests never carry a real person's or company's number.

Both generators compute the check character of their standard (GB 11643 for resident ID
numbers, GB 32100 for unified social credit codes), so the numbers pass the SDK's validation,
and both carry a marker that no real number has:

* resident ID numbers are born in 1900 by default: nobody alive holds such a number;
* unified social credit codes carry ``FAKE`` where the organisation code begins (positions
  9-12); real codes are assigned by the registration authority and never read like a word.

The same ``n`` always gives the same number, so a test can name its subjects by number:

>>> fake_uscc(1) == fake_uscc(1), fake_uscc(1) == fake_uscc(2)
(True, False)
>>> fake_resident_id(1)[6:10]
'1900'
"""

from __future__ import annotations

import datetime as dt
import random

__all__ = ["fake_resident_id", "fake_uscc"]

# GB 11643: weights of the 17 body digits (2^(17-i) mod 11); check = (12 - sum mod 11) mod 11.
_RESIDENT_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
# GB 32100: 31 code characters (no I, O, S, V, Z), weights 3^i mod 31; check = 31 - sum mod 31.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_MARKER = "FAKE"
_FIRST_BIRTH = dt.date(1900, 1, 1)


def _rng(n: int | None) -> random.Random:
    # A seeded generator when the caller names the subject, else a fresh one: tests that need
    # stable numbers pass n; tests that only need "some company" do not care.
    return random.Random(n) if n is not None else random.Random()  # noqa: S311 (not secrets)


def fake_uscc(n: int | None = None, *, region: str = "230100", authority: str = "91") -> str:
    """A synthetic unified social credit code (统一社会信用代码, GB 32100) that validates.

    ``authority`` is positions 1-2 (``"91"``: a company registered by market regulation);
    ``region`` is the six-digit division code (default Harbin, 230100).

    >>> from credit_sdk import Uscc
    >>> Uscc(fake_uscc(7)).masked == Uscc(fake_uscc(7)).masked
    True
    >>> fake_uscc(7)[8:12]
    'FAKE'
    """
    if len(authority) != 2 or len(region) != 6 or not region.isdigit():
        raise ValueError("authority is two characters and region six digits")
    rng = _rng(n)
    tail = "".join(rng.choice(_USCC_CHARS) for _ in range(5))
    body = f"{authority}{region}{_MARKER}{tail}".upper()
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def fake_resident_id(
    n: int | None = None,
    *,
    birth_date: dt.date | None = None,
    region: str = "230102",
) -> str:
    """A synthetic resident ID number (居民身份证号码, GB 11643) that validates.

    Born on a day of 1900 unless ``birth_date`` is given (give one when a test needs an age;
    the number is still synthetic, but then it is an ordinary-looking one).

    >>> from credit_sdk import ResidentId
    >>> ResidentId(fake_resident_id(3)).birth_date.year
    1900
    """
    if len(region) != 6 or not region.isdigit():
        raise ValueError("region is a six-digit division code")
    rng = _rng(n)
    born = birth_date or _FIRST_BIRTH + dt.timedelta(days=rng.randrange(365))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(c) * w for c, w in zip(body, _RESIDENT_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]
