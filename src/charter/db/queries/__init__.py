"""SQL, one module per area. Functions take a Connection and return plain values."""
