"""HTTP only: parse and validate parameters, call the domain, shape the response."""
