"""Request specs (YAML), their validation and risk pre-assessment.

Not to be confused with the HTTP library `requests`: this is `primex.requests`."""
