"""The audit record: who changed which follow-up (or reloaded, or posted a digest), when, from where, before -> after.

`models` says what an entry is (`Change` is what a caller knows, `AuditEntry` what is stored), `table` declares
the append-only `audit_log` table, `log` writes and reads it (`AuditLog`; `record_state_change` for the store).
"""

from bot.audit.models import AuditAction, AuditEntry, Change, Surface, admin_actor

__all__ = ["AuditAction", "AuditEntry", "Change", "Surface", "admin_actor"]
