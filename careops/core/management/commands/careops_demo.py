"""``careops demo``: seed a demo GHT with its entities, users of every role and some evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction

from careops.catalogue.models import ReferentialVersion
from careops.compliance import services
from careops.compliance.models import Evidence
from careops.tenancy import finess
from careops.tenancy.choices import REGIONS
from careops.tenancy.models import Organisation, RoleAssignment

DEMO_PASSWORD = "careops-demo-2026"  # noqa: S105 — demo accounts only, printed to the operator

USERS = [
    ("admin", "administrator", "ans", "Administrateur du programme (TOTP exigé)"),
    ("ans", "ans_instructor", "ans", "Instructeur ANS (TOTP exigé)"),
    ("ars.idf", "ars_instructor", "ars-11", "Instructeur ARS Île-de-France (TOTP exigé)"),
    ("ars.ara", "ars_instructor", "ars-84", "Instructeur ARS Auvergne-Rhône-Alpes (TOTP exigé)"),
    ("rssi.ght", "ght_rssi", "ght", "RSSI du GHT démo"),
    ("rssi.chb", "es_rssi", "ej-b", "RSSI du CH de Boulogne-Démo"),
    ("contrib", "contributor", "ej-a", "Contributeur du CH d'Antony-Démo"),
    ("lecteur", "reader", "ght", "Lecteur du GHT"),
    ("rssi.ehpad", "es_rssi", "esms", "RSSI de l'EHPAD démo (membre de la mutualisation démo)"),
]
POOLED_CISO = "rssi.mutualise"  # holds its role through the demo pool, not a role on a node


POOLED_LABEL = "RSSI mutualisé de la mutualisation démo (rôle sur chacun de ses membres)"


def _node(parent, kind, name, finess8=None, **extra) -> Organisation:
    number = finess.with_key(finess8) if finess8 else None
    lookup = {"finess": number} if number else {"parent": parent, "name": name}
    node = Organisation.objects.filter(**lookup).first()
    if node is None:
        node = Organisation(parent=parent, kind=kind, name=name, finess=number, **extra)
        node.full_clean()
        node.save()
    return node


class Command(BaseCommand):
    help = "Crée l'organisation de démonstration (idempotent) et affiche les identifiants."

    @transaction.atomic
    def handle(self, *args, **options):
        ans = Organisation.objects.filter(kind="ans").first() or _node(
            None, "ans", "Agence du numérique en santé", category="regulator"
        )
        regions = {}
        for code, name in REGIONS:
            regions[code] = _node(ans, "ars", f"ARS {name}", region_code=code, category="regulator")
        ght = _node(regions["11"], "ght", "GHT Démo Hauts-de-Seine", category="ght")
        ej_a = _node(
            ght,
            "ej",
            "CH d'Antony-Démo",
            "92099001",
            category="public",
            activity_weight=Decimal("62000"),
            activity_unit="activité combinée",
        )
        ej_b = _node(
            ght,
            "ej",
            "CH de Boulogne-Démo",
            "92099002",
            category="public",
            activity_weight=Decimal("38000"),
            activity_unit="activité combinée",
        )
        _node(ej_a, "eg", "CH d'Antony-Démo — site principal", "92099011")
        _node(ej_a, "eg", "CH d'Antony-Démo — hôpital de jour", "92099012")
        _node(ej_b, "eg", "CH de Boulogne-Démo — site", "92099021")
        esms = _node(
            regions["11"], "esms", "EHPAD Démo Les Tilleuls", "92099031", category="medico_social"
        )
        clinic = _node(
            regions["84"],
            "ej",
            "Clinique Démo du Rhône",
            "69099001",
            category="private_forprofit",
            activity_weight=Decimal("15000"),
            activity_unit="activité combinée",
        )
        _node(clinic, "eg", "Clinique Démo du Rhône — site", "69099011")
        anchors = {
            "ans": ans,
            "ars-11": regions["11"],
            "ars-84": regions["84"],
            "ght": ght,
            "ej-a": ej_a,
            "ej-b": ej_b,
            "esms": esms,
        }

        User = get_user_model()
        for username, role, anchor, _label in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username, email=f"{username}@demo.careops.test", password=DEMO_PASSWORD
                )
            RoleAssignment.objects.get_or_create(
                user=user,
                organisation=anchors[anchor],
                role=role,
                defaults={"include_subtree": True},
            )

        d2 = ReferentialVersion.objects.filter(domain="D2", is_current=True).first()
        if d2 is not None:
            assessment = services.open_assessment(
                None,
                ght,
                d2,
                candidacy_date=dt.date(2025, 10, 20),
                facts={"dedicated_backup_ad": False},
            )
            if not Evidence.objects.filter(organisation=ght).exists():
                pdf = SimpleUploadedFile(
                    "pssi-2022.pdf", b"%PDF-1.4\n% PSSI du GHT (demo)\n", "application/pdf"
                )
                services.create_evidence(
                    None,
                    ght,
                    "pssi",
                    "PSSI du GHT (version 2022)",
                    services.RevisionInput(
                        effective_date=dt.date(2022, 7, 10),
                        validated_by="legal_representative",
                        files=[pdf],
                    ),
                    item_codes=["D2.P1"],
                )
            self.stdout.write(f"Évaluation D2 du GHT démo : /evaluations/{assessment.pk}/")
            self._candidacy(ght, d2)
        self._continuity(ej_a)
        self._remote_access(ej_a)
        self._aapms(regions["11"], esms)

        self.stdout.write(self.style.SUCCESS("Comptes de démonstration (mot de passe commun) :"))
        self.stdout.write(f"  mot de passe : {DEMO_PASSWORD}")
        for username, _role, _anchor, label in USERS:
            self.stdout.write(f"  {username:<14} {label}")
        # the pooled RSSI has no grant of its own: its role on each member comes from the pool
        self.stdout.write(f"  {POOLED_CISO:<14} {POOLED_LABEL}")

    def _aapms(self, region, esms) -> None:
        """A pool (convention in force, the EHPAD a member) and the EHPAD's proposed pathway."""
        from careops.compliance.services import today_in_paris
        from careops.maturity import pools, services
        from careops.maturity.models import Pool

        if Pool.objects.filter(name="RSSI mutualisé démo 92").exists():
            return
        User = get_user_model()
        ars, rssi = User.objects.get(username="ars.idf"), User.objects.get(username="rssi.ehpad")
        pooled = User.objects.filter(username=POOLED_CISO).first()
        if pooled is None:
            pooled = User.objects.create_user(
                POOLED_CISO, email=f"{POOLED_CISO}@demo.careops.test", password=DEMO_PASSWORD
            )
        pool = pools.create_pool(ars, region, "RSSI mutualisé démo 92", "rssi", "GHT Démo")
        pools.add_staff(ars, pool, pooled.username)
        today = today_in_paris()
        pdf = SimpleUploadedFile("convention-demo.pdf", b"%PDF-1.4\n% convention (demo)\n")
        pools.add_convention(
            ars, pool, pdf, today - dt.timedelta(days=30), today + dt.timedelta(days=45)
        )
        pools.answer(rssi, pools.invite(ars, pool, esms), accept=True)
        campaign = services.open_campaign(rssi, esms, "diagnostic-ms")
        questionnaire = services.questionnaire_of(campaign)
        answers = {q.id: ("partiel" if q.scored else "non") for q in questionnaire.questions}
        shown = {
            q.id: v
            for q in questionnaire.questions
            if questionnaire.shown(q, answers)
            for v in [answers[q.id]]
        }
        services.save_answers(rssi, campaign, shown)
        services.close_campaign(rssi, campaign)
        self.stdout.write(
            f"AAP MS : parcours proposé à confirmer par ars.idf : /maturite/structures/{esms.pk}/ ; "
            f"mutualisation : /maturite/mutualisations/{pool.pk}/ (RSSI mutualisé : rssi.mutualise)"
        )

    def _continuity(self, entity) -> None:
        """A draft BIA campaign for one hospital, filled from the example workbook."""
        import io

        from careops.continuity import services as continuity
        from careops.continuity.engine.example import example_bia
        from careops.continuity.engine.workbook import write_workbook
        from careops.continuity.models import Campaign

        if Campaign.objects.filter(organisation=entity).exists():
            return
        campaign = continuity.create_campaign(None, entity, "BIA 2026 (démonstration)")
        buffer = io.BytesIO()
        write_workbook(example_bia(entity.finess, entity.name), buffer)
        buffer.seek(0)
        continuity.import_workbook(None, campaign, buffer)
        self.stdout.write(f"Campagne BIA démo : /continuite/campagnes/{campaign.pk}/")

    def _remote_access(self, entity) -> None:
        """Two remote access paths reaching BIA resources (D3 workspace), not yet reviewed."""
        from careops.continuity.models import Resource
        from careops.remote_access.models import AccessPath

        if AccessPath.objects.filter(organisation=entity).exists():
            return
        vendor = AccessPath.objects.create(
            organisation=entity,
            ref="RA-BIO-01",
            name="Télémaintenance IRM",
            population="biomedical_vendor",
            vendor="Imagerie SA",
            technology="ipsec_vpn",
            entry_point="vpn.demo.invalid",
            internet_exposed=True,
            auth_factors=["password"],
            account_model="shared",
            accounts=["presta.irm"],
            directory="prod_ad",
            activation="permanent",
            business_owner="Chef de service imagerie",
        )
        staff = AccessPath.objects.create(
            organisation=entity,
            ref="RA-TT-01",
            name="Télétravail administratif",
            population="staff_remote_work",
            technology="tls_vpn",
            internet_exposed=True,
            auth_factors=["password", "totp"],
            account_model="nominative",
            directory="prod_ad",
            managed_devices_only=True,
            admin_rights_from_remote=False,
            business_owner="DRH",
            technical_owner="DSI",
            justification="Télétravail",
        )
        resources = Resource.objects.filter(campaign__organisation=entity)
        vendor.targets.set(resources.filter(code="DPI"))
        staff.targets.set(resources.filter(code="LOGPAIE"))
        self.stdout.write("Accès distants démo : /acces-distants/")

    def _candidacy(self, ght, d2) -> None:
        """The GHT applied to D2 in October 2025 and the ARS validated it: it can now declare."""
        import datetime as dt
        from zoneinfo import ZoneInfo

        from careops.declarations import services as declarations
        from careops.declarations.models import Candidacy

        if Candidacy.objects.filter(candidate=ght, domain=d2.domain).exists():
            return
        User = get_user_model()
        paris = ZoneInfo("Europe/Paris")
        candidacy = declarations.apply(
            User.objects.get(username="rssi.ght"),
            ght,
            d2,
            now=dt.datetime(2025, 10, 20, 10, 0, tzinfo=paris),
        )
        declarations.validate_candidacy(
            User.objects.get(username="ars.idf"),
            candidacy,
            250000,
            "Candidature complète (démonstration).",
            now=dt.datetime(2025, 11, 5, 10, 0, tzinfo=paris),
        )
        self.stdout.write(f"Candidature D2 du GHT démo validée : /declarations/{candidacy.pk}/")
