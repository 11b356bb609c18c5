"""`/`: each signed-in user goes to the workspace that fits their roles."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from services.workspaces import Workspace, workspace_for

LANDING = {
    Workspace.BOARD: "workspaces:board",
    Workspace.FOLLOW_UPS: "workspaces:follow-ups",
    Workspace.CENSUS: "dashboard:census",
}


@login_required
def home(request):
    landing = LANDING.get(workspace_for(request.user))
    if landing is None:
        return render(request, "workspaces/no_role.html", status=403)
    return redirect(landing)
