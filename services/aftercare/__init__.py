"""Aftercare: the plan a client leaves with, a year of follow-ups, and the queue.

    plans       the aftercare plan and the client's consent to be contacted
    protocol    milestones, their site-local dates, whom follow-ups go to
    courses     a course of follow-ups opened at discharge or step-down to
                alumni, ended by readmission or death (below admissions and
                transfers: services/reactions.py calls it)
    queue       due, overdue, upcoming and completed follow-ups per site-local day
    follow_ups  attempts, outcomes and reassignment (above referrals: an
                outcome may refer the client back into care)

Import the module you need (`from services.aftercare import follow_ups`): this
package imports none of them, so that importing the low `courses` never loads
the high `follow_ups`. docs/aftercare.md has the whole story.
"""
