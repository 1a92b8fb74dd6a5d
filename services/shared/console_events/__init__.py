"""Console events: what changed in a tenant, from the database's notifications (db/functions/
100_console_events.sql) to the operator API's event stream (ui_iot/routes/events.py)."""
