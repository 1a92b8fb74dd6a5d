"""Infrastructure: settings, DSNs, the connection pool and tenant transactions, migrations."""
