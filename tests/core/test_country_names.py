from pavior.core.countries import COUNTRY_NAMES, country_name


def test_codes_read_as_the_names_geolite2_uses():
    assert country_name("US") == "United States"
    assert country_name("gb") == "United Kingdom"
    assert country_name("RU") == "Russia"
    assert country_name("KR") == "South Korea"


def test_unknown_codes_are_kept():
    assert country_name("XX") == "XX"


def test_every_iso_code_is_there():
    assert len(COUNTRY_NAMES) == 249
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_NAMES)
