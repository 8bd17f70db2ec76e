"""g7bot: a Slack bot for the G7 Industry, Digital and Technology Ministers' Meeting release."""

__version__ = "0.1.0"
