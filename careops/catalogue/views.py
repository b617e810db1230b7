"""Referential browser, and loading a new version from a YAML file (administrators)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from careops.catalogue import services
from careops.catalogue.models import ReferentialVersion
from careops.tenancy import scope

MAX_YAML_BYTES = 2 * 1024 * 1024


@login_required
def index(request):
    versions = ReferentialVersion.objects.order_by("domain", "-loaded_at")
    return render(
        request,
        "catalogue/index.html",
        {"versions": versions, "can_load": "administrator" in scope.roles(request.user)},
    )


@login_required
def version_detail(request, pk):
    # The referential is public programme data: every signed-in user may read it.
    version = get_object_or_404(ReferentialVersion, pk=pk)
    return render(
        request,
        "catalogue/version.html",
        {"version": version, "items": version.items.all(), "data": version.data},
    )


@login_required
def load(request):
    if "administrator" not in scope.roles(request.user):
        raise PermissionDenied
    problems: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            problems = [_("Choisissez un fichier YAML.")]
        elif upload.size > MAX_YAML_BYTES or not upload.name.endswith((".yaml", ".yml")):
            problems = [_("Le fichier doit être un .yaml de moins de 2 Mo.")]
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / Path(upload.name).name
                with path.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                try:
                    report = services.load_paths([path], actor=request.user)
                except services.LoadRefused as exc:
                    # name the uploaded file, never the server's temporary folder
                    problems = [p.replace(str(path), path.name) for p in exc.problems]
                else:
                    if report.created:
                        messages.success(
                            request, _("Version chargée : %(v)s") % {"v": ", ".join(report.created)}
                        )
                    else:
                        messages.info(request, _("Cette version est déjà chargée, à l'identique."))
                    return redirect("catalogue:index")
    return render(
        request, "catalogue/load.html", {"problems": problems}, status=422 if problems else 200
    )
