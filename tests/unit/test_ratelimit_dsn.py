from shared.infra.dsn import database_of, redact, user_of, with_parts
from shared.web.ratelimit import FailureLimiter


def test_limiter_blocks_after_failures_and_forgets_after_window() -> None:
    lim = FailureLimiter(max_failures=3, window_seconds=10)
    for t in range(3):
        assert not lim.blocked("1.2.3.4", now=float(t))
        lim.fail("1.2.3.4", now=float(t))
    assert lim.blocked("1.2.3.4", now=3.0)
    assert not lim.blocked("5.6.7.8", now=3.0)
    assert not lim.blocked("1.2.3.4", now=20.0)


def test_limiter_memory_is_bounded() -> None:
    lim = FailureLimiter(max_failures=1, window_seconds=100, max_keys=10)
    for i in range(100):
        lim.fail(f"k{i}", now=1.0)
    assert lim.blocked("k99", now=2.0)
    assert not lim.blocked("k0", now=2.0)


def test_dsn_parts() -> None:
    url = "postgresql://postgres:@/postgres?host=/tmp/sock"
    swapped = with_parts(url, user="iot", database="iotcloud")
    assert swapped == "postgresql://iot@/iotcloud?host=/tmp/sock"
    assert user_of(swapped) == "iot"
    assert database_of(swapped) == "iotcloud"
    assert with_parts("postgresql://a:pw@h:5/db", user="b") == "postgresql://b@h:5/db"
    assert redact("postgresql://a:pw@h/db") == "postgresql://a:***@h/db"
    assert with_parts(url, scheme="postgresql+psycopg").startswith("postgresql+psycopg://")
