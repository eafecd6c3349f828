"""Business rules, independent of HTTP. Functions take a Connection inside a transaction."""
