"""Query cost, throttling and the usage ledger (issues 4 and 5); nothing here yet."""
