"""Phone numbers that follow each country's real numbering plan (valid E.164)."""

from __future__ import annotations

import numpy as np

# country -> (calling code, national prefixes, number of random digits after the prefix, spaced grouping)
NUMBERING_PLANS: dict[str, tuple[str, tuple[str, ...], int, tuple[int, ...]]] = {
    "ZA": ("27", ("82", "83", "84", "72", "73", "74", "76", "79", "71", "81", "11", "21", "31", "12"), 7, (2, 3, 4)),
    "KE": ("254", ("70", "71", "72", "79", "11"), 7, (3, 3, 3)),
    "UG": ("256", ("70", "71", "74", "75", "77", "78"), 7, (3, 6)),
    "TZ": ("255", ("71", "74", "75", "76", "78", "65", "68"), 7, (3, 3, 3)),
    "NG": ("234", ("803", "806", "813", "816", "703", "706", "810", "805", "807", "815", "802", "808"), 7,
           (3, 3, 4)),
    "GH": ("233", ("24", "54", "55", "20", "50", "27", "26"), 7, (2, 3, 4)),
    "DE": ("49", ("151", "152", "157", "160", "170", "171", "172", "175", "176", "177", "178", "179"), 8,
           (3, 8)),
    "FR": ("33", ("60", "61", "62", "64", "65", "66", "67", "68", "73", "75", "76", "77", "78"), 7,
           (1, 2, 2, 2, 2)),
    "NL": ("31", ("61", "62", "63", "64", "65"), 7, (1, 8)),
    "IE": ("353", ("83", "85", "86", "87", "89"), 7, (2, 3, 4)),
    "GB": ("44", ("771", "772", "773", "774", "775", "777", "780", "781", "784", "786", "788", "790",
                  "794", "795", "797", "798", "740", "741", "743", "746", "747", "749", "751", "753", "754"), 7,
           (4, 6)),
    "US": ("1", ("212", "312", "415", "617", "713", "202", "305", "404", "206", "512", "646", "718", "213",
                 "310", "303", "214", "480"), 7, (3, 3, 4)),
    "CA": ("1", ("416", "604", "514", "403", "613", "647", "587", "780", "905", "519"), 7, (3, 3, 4)),
}


def random_phones(rng: np.random.Generator, countries: list[str]) -> list[str]:
    """One valid E.164 number per entry of `countries`."""
    n = len(countries)
    prefix_pick = rng.random(n)
    digits = rng.integers(0, 10, size=(n, 8))
    out: list[str] = []
    for i, country in enumerate(countries):
        code, prefixes, n_digits, _ = NUMBERING_PLANS[country]
        prefix = prefixes[int(prefix_pick[i] * len(prefixes))]
        row = digits[i]
        if code == "1":
            row = row.copy()
            row[0] = 2 + row[0] % 8  # North American exchange codes start 2-9
        out.append("+" + code + prefix + "".join(map(str, row[:n_digits])))
    return out


def spaced_format(e164: str, country: str) -> str:
    """The same number written for humans, e.g. '+27 82 123 4567'."""
    code, _, _, groups = NUMBERING_PLANS[country]
    national = e164[1 + len(code):]
    parts, pos = [], 0
    for size in groups:
        parts.append(national[pos:pos + size])
        pos += size
    if pos < len(national):
        parts.append(national[pos:])
    return "+" + code + " " + " ".join(p for p in parts if p)
