"""Referrals into care.

    actions  open (from a follow-up), admit, cancel; tell the receiving team
             (above admissions and transfers, which it calls)
    endings  what closes a referral when an admission or a transfer happens
             (below them: services/reactions.py calls it)

This package imports neither, for the same reason as services/aftercare.
"""
