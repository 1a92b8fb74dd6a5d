"""The job page's series: its bucket width follows the job's age, within MAX_POINTS buckets."""

from datetime import UTC, datetime, timedelta

from shared.jobs.insights import MAX_POINTS, bucket_seconds, series_range

T0 = datetime(2032, 1, 1, tzinfo=UTC)


def test_bucket_width_grows_with_the_age_and_keeps_the_points_bounded() -> None:
    assert bucket_seconds(timedelta(0)) == 1
    assert bucket_seconds(timedelta(seconds=120)) == 1
    assert bucket_seconds(timedelta(seconds=121)) == 5
    assert bucket_seconds(timedelta(hours=2)) == 60
    assert bucket_seconds(timedelta(days=30)) == 6 * 3600
    for span in (timedelta(minutes=7), timedelta(days=3), timedelta(days=400), timedelta(days=5000)):
        assert span.total_seconds() / bucket_seconds(span) <= MAX_POINTS


def test_the_range_ends_when_the_job_ends_or_now() -> None:
    now = T0 + timedelta(days=2)
    assert series_range({"created_at": T0}, now) == (T0, now)
    done = {"created_at": T0, "completed_at": T0 + timedelta(minutes=5), "canceled_at": None}
    assert series_range(done, now) == (T0, T0 + timedelta(minutes=5))
    canceled = {"created_at": T0, "completed_at": None, "canceled_at": T0 + timedelta(hours=1)}
    assert series_range(canceled, now) == (T0, T0 + timedelta(hours=1))
