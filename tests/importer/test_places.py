"""A visit to two places in one sentence: the model holds one place, so the first is kept and the second reported."""

from __future__ import annotations

from tests.importer.helpers import fixture, japanese_values, run


def test_two_places_keep_the_first_and_report_the_second() -> None:
    result = run(fixture("visit_two_places.txt"))
    assert result.release is not None, result.errors
    trip = result.release.trip
    assert trip is not None and trip.country is not None and trip.city is not None
    # 「サウジアラビア王国のリヤド及びアラブ首長国連邦のアブダビを訪問し」: not 「リヤド及びアラブ首長国連邦」.
    assert (trip.country.ja, trip.city.ja) == ("サウジアラビア王国", "リヤド")
    assert trip.country.en == "Saudi Arabia"
    not_read = [w for s, w in result.report.problems if s == "visit"]
    assert len(not_read) == 1 and "アラブ首長国連邦のアブダビ" in not_read[0], result.report.problems
    assert "line 9" in not_read[0]


def test_no_place_value_joins_two_places() -> None:
    result = run(fixture("visit_two_places.txt"))
    assert result.data is not None
    for path, ja in japanese_values(result.data):
        if path.startswith("trip."):
            assert ja in result.source_text, path
            assert "及び" not in ja, (path, ja)


def test_a_joined_country_is_reported_not_written() -> None:
    # 「サウジアラビア王国及びアラブ首長国連邦のアブダビ」: which country the city is in cannot be told from the text.
    text = fixture("visit_two_places.txt").replace(
        "サウジアラビア王国のリヤド及びアラブ首長国連邦のアブダビを訪問し",
        "サウジアラビア王国及びアラブ首長国連邦のアブダビを訪問し",
    )
    result = run(text)
    assert result.data is not None
    trip = result.data["trip"]
    assert "city" not in trip and "country" not in trip, trip
    not_read = [w for s, w in result.report.problems if s == "visit"]
    assert any("サウジアラビア王国及びアラブ首長国連邦のアブダビ" in w for w in not_read), not_read
