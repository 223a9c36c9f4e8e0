"""Pure domain logic: streaks, pain scores, reminder times, the session state machine (no I/O, no clock)."""
