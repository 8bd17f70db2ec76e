"""Follow-ups: commitments and the schedule file, what is due at `now`, the delivery log, posting."""
