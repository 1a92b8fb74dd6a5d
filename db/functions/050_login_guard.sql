-- Operator login guard (the table: db/migrations/083_login_guard.sql). A login first asks
-- iotcloud.login_attempt, which refuses it while its account (e-mail) or its client address is locked out,
-- and otherwise counts it for both at once, before the password is checked: concurrent wrong guesses cannot
-- get past the limit together. A login that did not fail (it succeeded, or it was never judged) is taken back
-- with iotcloud.login_release. Both run as the owner (the runtime role has no privilege on the table).

-- NULL: go ahead (the attempt is counted for the e-mail and the address); else the seconds until the
-- account or the address is let in again (nothing is counted). Reaching a limit locks for p_window_seconds.
CREATE FUNCTION iotcloud.login_attempt(p_email text, p_address text, p_now timestamptz,
                                       p_account_max integer, p_address_max integer, p_window_seconds integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    v_window interval := make_interval(secs => p_window_seconds);
    v_until  timestamptz;
BEGIN
    -- a few stale rows go with each attempt, so the table holds only what is still being counted
    DELETE FROM login_attempts WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM login_attempts WHERE greatest(window_ends_at, locked_until) <= p_now
         LIMIT 10 FOR UPDATE SKIP LOCKED));
    -- both rows, locked in one order (account, then address) until commit: attempts on them queue up here;
    -- a row whose window and lockout are over starts a new window
    INSERT INTO login_attempts AS a (scope, key, attempts, window_ends_at)
    VALUES ('account', lower(p_email), 0, p_now + v_window), ('address', p_address, 0, p_now + v_window)
    ON CONFLICT (scope, key) DO UPDATE
       SET attempts = 0, window_ends_at = excluded.window_ends_at, locked_until = NULL
     WHERE greatest(a.window_ends_at, a.locked_until) <= p_now;
    SELECT max(a.locked_until) INTO v_until FROM login_attempts a
     WHERE ((a.scope, a.key) = ('account', lower(p_email)) OR (a.scope, a.key) = ('address', p_address))
       AND a.locked_until > p_now;
    IF v_until IS NOT NULL THEN
        RETURN greatest(1, ceil(extract(epoch FROM v_until - p_now)))::integer;
    END IF;
    UPDATE login_attempts a
       SET attempts = a.attempts + 1,
           locked_until = CASE WHEN a.attempts + 1 >= CASE a.scope WHEN 'account' THEN p_account_max
                                                                   ELSE p_address_max END
                               THEN p_now + v_window END
     WHERE (a.scope, a.key) = ('account', lower(p_email)) OR (a.scope, a.key) = ('address', p_address);
    RETURN NULL;
END
$fn$;

-- Takes back an attempt that did not fail: one less for the address and the e-mail (lifting a lockout that
-- it alone had reached), and, after a success, the e-mail's count is cleared.
CREATE FUNCTION iotcloud.login_release(p_email text, p_address text, p_succeeded boolean,
                                       p_account_max integer, p_address_max integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    UPDATE login_attempts a
       SET attempts = greatest(a.attempts - 1, 0),
           locked_until = CASE WHEN a.attempts - 1 >= CASE a.scope WHEN 'account' THEN p_account_max
                                                                   ELSE p_address_max END
                               THEN a.locked_until END
     WHERE (a.scope, a.key) = ('account', lower(p_email)) OR (a.scope, a.key) = ('address', p_address);
    DELETE FROM login_attempts a WHERE p_succeeded AND (a.scope, a.key) = ('account', lower(p_email));
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.login_attempt(text, text, timestamptz, integer, integer, integer)
    TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.login_release(text, text, boolean, integer, integer) TO iotcloud_app;
