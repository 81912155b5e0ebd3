"""A seeded N-row x 10-column people CSV: id, email, name, phone, city, country,
two custom strings, a number and a date.

    python bench/imports/make_file.py 1000000 /tmp/people-1m.csv
"""

from __future__ import annotations

import csv
import random
import sys

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jon"]
LAST = ["Lee", "Martin", "Nguyen", "Okafor", "Petit", "Quinn", "Rossi", "Schmidt", "Tanaka"]
CITIES = [
    ("Paris", "France"),
    ("Lyon", "France"),
    ("Berlin", "Germany"),
    ("Austin", "USA"),
    ("Osaka", "Japan"),
    ("Lagos", "Nigeria"),
    ("Lima", "Peru"),
    ("Oslo", "Norway"),
]
PLANS = ["free", "pro", "team", "enterprise"]
SOURCES = ["ads", "organic", "referral", "partner", "event"]


def main(n: int, path: str, seed: int = 42) -> None:
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "email",
                "name",
                "phone",
                "city",
                "country",
                "plan",
                "source",
                "seats",
                "renewal_on",
            ]
        )
        for i in range(n):
            city, country = CITIES[rnd.randrange(len(CITIES))]
            w.writerow(
                [
                    f"user-{i}",
                    f"user{i}@example.com",
                    f"{FIRST[rnd.randrange(10)]} {LAST[rnd.randrange(9)]}",
                    f"+33{rnd.randrange(10**8, 10**9)}",
                    city,
                    country,
                    PLANS[rnd.randrange(4)],
                    SOURCES[rnd.randrange(5)],
                    rnd.randrange(1, 500),
                    f"2025-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}",
                ]
            )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
