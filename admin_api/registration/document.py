"""The PDF of an exceptional request, to print, sign by hand and post (guide II, "Télécharger le document")."""

from __future__ import annotations

from fpdf import FPDF
from sqlalchemy.orm import Session

from admin_api.registration.service import POSTAL_ADDRESS
from admin_api.registry import person_name
from kernel.identifiers import format_enterprise_number, format_niss
from store.models import Enterprise, RegistrationRequest

CONSENT = ("Je confirme que ces données sont complètes et correctes. En outre, je déclare par cette demande être "
           "informé(e) des dispositions de la loi du 8 décembre 1992 relative à la protection de la vie privée à "
           "l'égard des traitements de données à caractère personnel et satisfaire à toutes les dispositions de "
           "cette loi. Je signalerai immédiatement tout changement de Gestionnaire d'Accès Principal via la "
           "Gestion des accès de CSAM.")


def render(session: Session, request: RegistrationRequest) -> bytes:
    enterprise = session.get(Enterprise, request.enterprise_number)
    pdf = FPDF(format="A4")
    pdf.set_title(f"Désignation d'un Gestionnaire d'Accès Principal - ticket {request.ticket}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, "Désignation d'un Gestionnaire d'Accès Principal\nProcédure exceptionnelle")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, f"Numéro de ticket : {request.ticket}", new_x="LMARGIN", new_y="NEXT")
    _section(pdf, "L'entreprise", [
        ("Numéro d'entreprise", format_enterprise_number(request.enterprise_number)),
        ("Nom de l'entreprise", enterprise.name if enterprise else ""),
        ("Adresse", enterprise.address if enterprise else ""),
    ])
    _section(pdf, "Représentant légal", [
        ("Nom", f"{request.requester_first_name} {request.requester_last_name}"),
        ("Numéro de registre national", format_niss(request.requester_niss)),
        ("E-mail", request.requester_email), ("Téléphone", request.requester_phone),
    ])
    _section(pdf, "Gestionnaire d'Accès Principal", [
        ("Nom", person_name(session, request.manager_niss) or ""),
        ("Numéro de registre national", format_niss(request.manager_niss)),
        ("E-mail", request.manager_email), ("Téléphone", request.manager_phone),
    ])
    _paragraph(pdf, "Conditions d'activation", CONSENT)
    pdf.ln(4)
    pdf.cell(0, 7, "Date : ____________________    Signature du représentant légal : ____________________",
             new_x="LMARGIN", new_y="NEXT")
    _paragraph(pdf, "Envoi", "Imprimez ce document, signez-le manuellement et renvoyez-le par voie postale à :\n"
               + "\n".join(POSTAL_ADDRESS) + "\nSeuls les formulaires originaux signés manuellement sont acceptés "
               "(pas de fax, copie ni scan). Mentionnez le numéro de ticket dans toutes vos communications avec "
               "le Centre de Contact.")
    return bytes(pdf.output())


def _section(pdf: FPDF, title: str, rows: list[tuple[str, str]]) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for label, value in rows:
        pdf.cell(70, 6, label)
        pdf.multi_cell(0, 6, value or "-", new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, title: str, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, text)
