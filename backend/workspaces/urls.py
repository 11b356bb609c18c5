from django.urls import path

from backend.workspaces.views import board, clients, follow_ups, home, referrals, transfers

app_name = "workspaces"

urlpatterns = [
    path("", home.home, name="home"),
    path("board/", board.board, name="board"),
    path("board/counts/", board.board_counts, name="board-counts"),
    path("clients/new/", clients.client_register, name="client-register"),
    path("clients/<uuid:client_id>/", clients.client_page, name="client"),
    path("clients/<uuid:client_id>/admit/", clients.client_admit, name="client-admit"),
    path("clients/<uuid:client_id>/transfer/", clients.client_transfer, name="client-transfer"),
    path("clients/<uuid:client_id>/discharge/", clients.client_discharge, name="client-discharge"),
    path("transfers/", transfers.transfers_page, name="transfers"),
    path(
        "transfers/<uuid:transfer_id>/approve/", transfers.transfer_approve, name="transfer-approve"
    ),
    path(
        "transfers/<uuid:transfer_id>/decline/", transfers.transfer_decline, name="transfer-decline"
    ),
    path("transfers/<uuid:transfer_id>/cancel/", transfers.transfer_cancel, name="transfer-cancel"),
    path(
        "transfers/<uuid:transfer_id>/complete/",
        transfers.transfer_complete,
        name="transfer-complete",
    ),
    path(
        "handoffs/<uuid:handoff_id>/acknowledge/",
        transfers.handoff_acknowledge,
        name="handoff-acknowledge",
    ),
    path(
        "handoffs/<uuid:handoff_id>/items/<uuid:item_id>/tick/",
        transfers.handoff_item_tick,
        name="handoff-item-tick",
    ),
    path("referrals/", referrals.referrals_page, name="referrals"),
    path("referrals/<uuid:referral_id>/match/", referrals.referral_match, name="referral-match"),
    path(
        "referrals/<uuid:referral_id>/register/",
        referrals.referral_register,
        name="referral-register",
    ),
    path("referrals/<uuid:referral_id>/admit/", referrals.referral_admit, name="referral-admit"),
    path(
        "referrals/<uuid:referral_id>/decline/",
        referrals.referral_decline,
        name="referral-decline",
    ),
    path("follow-ups/", follow_ups.queue, name="follow-ups"),
    path(
        "follow-ups/<uuid:follow_up_id>/attempt/",
        follow_ups.follow_up_attempt,
        name="follow-up-attempt",
    ),
    path(
        "follow-ups/<uuid:follow_up_id>/outcome/",
        follow_ups.follow_up_outcome,
        name="follow-up-outcome",
    ),
    path(
        "follow-ups/<uuid:follow_up_id>/reassign/",
        follow_ups.follow_up_reassign,
        name="follow-up-reassign",
    ),
]
