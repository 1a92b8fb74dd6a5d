from shared.infra.dsn import database_of, redact, user_of, with_parts


def test_dsn_parts() -> None:
    url = "postgresql://postgres:@/postgres?host=/tmp/sock"
    swapped = with_parts(url, user="iot", database="iotcloud")
    assert swapped == "postgresql://iot@/iotcloud?host=/tmp/sock"
    assert user_of(swapped) == "iot"
    assert database_of(swapped) == "iotcloud"
    assert with_parts("postgresql://a:pw@h:5/db", user="b") == "postgresql://b@h:5/db"
    assert redact("postgresql://a:pw@h/db") == "postgresql://a:***@h/db"
    assert with_parts(url, scheme="postgresql+psycopg").startswith("postgresql+psycopg://")
