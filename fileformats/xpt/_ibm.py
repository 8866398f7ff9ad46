"""IBM System/360 hexadecimal doubles <-> IEEE 754 doubles, vectorised.

SAS TS-140: numbers in a transport file are IBM hexadecimal floating point, big-endian:
bit 63 the sign, bits 62-56 an excess-64 exponent of 16, bits 55-0 a fraction with the
radix point on its left, so value = (-1)**sign * 0.fraction * 16**(exponent - 64).
Zero is eight NUL bytes. A missing value is one byte (``.``, ``_`` or ``A``-``Z``)
followed by seven NUL bytes.

IEEE -> IBM is exact for every finite double in [16**-65, 16**63): the 53-bit IEEE
significand shifted left by 0-3 bits always fits the 56-bit IBM fraction, so no rounding
happens and the bytes equal those SAS writes. IBM -> IEEE rounds once, to nearest, when
a fraction uses more than 53 significant bits (never for files written from doubles).

All functions take and return native-order ``uint64`` bit patterns; callers convert to
big-endian bytes with ``.astype(">u8")``.
"""
from __future__ import annotations

import numpy as np

#: Smallest and (exclusive) largest magnitudes an IBM double can hold.
IBM_MIN = 2.0 ** -260   # 16**-65: fraction 1/16, exponent 0
IBM_MAX = 2.0 ** 252    # 16**63: just above fraction 1-2**-56, exponent 127

#: First byte of a missing value: ``.`` ordinary, ``_`` and ``A``-``Z`` special.
MISSING_BYTES = b"._ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_SIGN = np.uint64(1 << 63)
_FRACTION52 = np.uint64((1 << 52) - 1)
_HIDDEN_BIT = np.uint64(1 << 52)
_FRACTION56 = np.uint64((1 << 56) - 1)
_MISSING_TABLE = np.zeros(256, dtype=bool)
_MISSING_TABLE[list(MISSING_BYTES)] = True


def out_of_range(values: np.ndarray) -> np.ndarray:
    """Mask of non-zero values an IBM double cannot hold: |x| < 16**-65, >= 16**63 or infinite."""
    magnitude = np.abs(values)
    return (magnitude >= IBM_MAX) | ((magnitude < IBM_MIN) & (magnitude != 0))


def ieee_to_ibm(values: np.ndarray) -> np.ndarray:
    """IBM bit patterns of finite doubles inside the IBM range (checked by the caller).

    With ``x = f * 2**p`` (``f`` the 53-bit integer significand with its hidden bit,
    ``p = e - 1075`` for the biased IEEE exponent ``e``), the IBM exponent is
    ``floor(p / 4) + 78 = (e - 763) >> 2`` and the fraction ``f << (p mod 4)``, where
    ``p mod 4 = (e + 1) & 3``: shifting by the remainder aligns the binary exponent on a
    hexadecimal digit without losing a bit. Zero maps to zero; NaN lanes hold garbage for
    the caller to overwrite with a missing value. Operations are in place on one array.
    """
    x = np.ascontiguousarray(values, dtype=np.float64)
    bits = x.view(np.uint64)
    biased = bits >> np.uint64(52)
    biased &= np.uint64(0x7FF)
    shift = biased + np.uint64(1)
    shift &= np.uint64(3)
    biased -= np.uint64(763)       # wraps for zero and for values below the IBM range
    biased >>= np.uint64(2)
    biased <<= np.uint64(56)
    ibm = bits & _FRACTION52
    ibm |= _HIDDEN_BIT
    ibm <<= shift
    ibm |= biased
    ibm |= bits & _SIGN
    ibm[x == 0] = 0
    return ibm


def ibm_to_ieee(ibm: np.ndarray) -> np.ndarray:
    """Doubles of IBM bit patterns (missing values are not recognised here; see :func:`missing_mask`)."""
    fraction = (ibm & _FRACTION56).astype(np.int64).astype(np.float64)
    exponent = ((ibm >> np.uint64(56)) & np.uint64(0x7F)).astype(np.int32)
    magnitude = np.ldexp(fraction, 4 * (exponent - 64) - 56)
    return np.where((ibm & _SIGN) != 0, -magnitude, magnitude)


def missing_mask(ibm: np.ndarray) -> np.ndarray:
    """True where the 8 bytes are a SAS missing value: a missing byte then seven NULs."""
    first = (ibm >> np.uint64(56)).astype(np.uint8)
    return _MISSING_TABLE[first] & ((ibm & _FRACTION56) == 0)


def missing_pattern(code: int) -> np.uint64:
    """Bit pattern of the missing value whose first byte is ``code`` (e.g. ``ord('.')``)."""
    return np.uint64(code << 56)
