"""The domain rules. The only code that changes clinical state.

Writes are `<noun>_<verb>` functions (`transfer_approve`), reads that need
rules are selectors (`clients_visible_to`). Each write runs in one
transaction, takes keyword-only arguments and an explicit acting user, and
writes its audit row. Nothing here imports DRF, a request or a task module.
"""
