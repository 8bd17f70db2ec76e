"""How requests reach the one Bolt app: HTTP (uvicorn), Socket Mode, and the local console."""
