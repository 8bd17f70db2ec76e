"""The App Home tab: each person's own follow-ups (select.py), as a Block Kit view (view.py), published (publish.py)."""
