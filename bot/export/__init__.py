"""The follow-ups CSV: built (`csv`), written by `g7bot export`, or sent by DM through Slack (`upload`)."""
