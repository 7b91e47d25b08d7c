"""The PDF of an exceptional request, to print, sign by hand and post (guide II, "Télécharger le document"), in
French, Dutch or English."""

from __future__ import annotations

from fpdf import FPDF
from sqlalchemy.orm import Session

from admin_api.registration.service import POSTAL_ADDRESS
from admin_api.registry import person_name
from kernel.i18n import of_person
from kernel.identifiers import format_enterprise_number, format_niss
from store.models import Enterprise, RegistrationRequest

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Désignation d'un Gestionnaire d'Accès Principal",
        "procedure": "Procédure exceptionnelle", "ticket": "Numéro de ticket", "enterprise": "L'entreprise",
        "number": "Numéro d'entreprise", "enterprise_name": "Nom de l'entreprise", "address": "Adresse",
        "representative": "Représentant légal", "name": "Nom", "niss": "Numéro de registre national",
        "email": "E-mail", "phone": "Téléphone", "manager": "Gestionnaire d'Accès Principal",
        "conditions": "Conditions d'activation",
        "consent": "Je confirme que ces données sont complètes et correctes. En outre, je déclare par cette demande "
                   "être informé(e) des dispositions de la loi du 8 décembre 1992 relative à la protection de la vie "
                   "privée à l'égard des traitements de données à caractère personnel et satisfaire à toutes les "
                   "dispositions de cette loi. Je signalerai immédiatement tout changement de Gestionnaire d'Accès "
                   "Principal via la Gestion des accès de CSAM.",
        "signature": "Date : ____________________    Signature du représentant légal : ____________________",
        "sending": "Envoi",
        "post": "Imprimez ce document, signez-le manuellement et renvoyez-le par voie postale à :",
        "originals": "Seuls les formulaires originaux signés manuellement sont acceptés (pas de fax, copie ni "
                     "scan). Mentionnez le numéro de ticket dans toutes vos communications avec le Centre de "
                     "Contact.",
    },
    "nl": {
        "title": "Aanduiding van een Hoofdtoegangsbeheerder",
        "procedure": "Uitzonderingsprocedure", "ticket": "Ticketnummer", "enterprise": "De onderneming",
        "number": "Ondernemingsnummer", "enterprise_name": "Naam van de onderneming", "address": "Adres",
        "representative": "Wettelijk vertegenwoordiger", "name": "Naam", "niss": "Rijksregisternummer",
        "email": "E-mail", "phone": "Telefoon", "manager": "Hoofdtoegangsbeheerder",
        "conditions": "Activeringsvoorwaarden",
        "consent": "Ik bevestig dat deze gegevens volledig en juist zijn. Bovendien verklaar ik met deze aanvraag "
                   "op de hoogte te zijn van de bepalingen van de wet van 8 december 1992 tot bescherming van de "
                   "persoonlijke levenssfeer ten opzichte van de verwerking van persoonsgegevens en aan alle "
                   "bepalingen van deze wet te voldoen. Ik meld elke wijziging van Hoofdtoegangsbeheerder "
                   "onmiddellijk via het Toegangsbeheer van CSAM.",
        "signature": "Datum: ____________________    Handtekening van de wettelijk vertegenwoordiger: "
                     "____________________",
        "sending": "Verzending",
        "post": "Druk dit document af, onderteken het met de hand en stuur het per post naar:",
        "originals": "Alleen originele, met de hand ondertekende formulieren worden aanvaard (geen fax, kopie of "
                     "scan). Vermeld het ticketnummer in al uw contacten met het Contactcenter.",
    },
    "en": {
        "title": "Designation of a main access manager",
        "procedure": "Exceptional procedure", "ticket": "Ticket number", "enterprise": "The enterprise",
        "number": "Enterprise number", "enterprise_name": "Name of the enterprise", "address": "Address",
        "representative": "Legal representative", "name": "Name", "niss": "National register number",
        "email": "E-mail", "phone": "Phone", "manager": "Main access manager",
        "conditions": "Conditions of activation",
        "consent": "I confirm that these data are complete and correct. By this request I also declare that I am "
                   "aware of the provisions of the law of 8 December 1992 on the protection of privacy with "
                   "regard to the processing of personal data and that I comply with all of them. I will report "
                   "any change of main access manager at once through CSAM's access management.",
        "signature": "Date: ____________________    Signature of the legal representative: ____________________",
        "sending": "Sending",
        "post": "Print this document, sign it by hand and post it to:",
        "originals": "Only original forms signed by hand are accepted (no fax, copy or scan). Quote the ticket "
                     "number whenever you contact the Contact Centre.",
    },
}


def render(session: Session, request: RegistrationRequest, language: str = "fr") -> bytes:
    t = TEXTS[of_person(language)]
    enterprise = session.get(Enterprise, request.enterprise_number)
    pdf = FPDF(format="A4")
    pdf.set_title(f"{t['title']} - {t['ticket']} {request.ticket}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, f"{t['title']}\n{t['procedure']}")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, f"{t['ticket']} : {request.ticket}" if language == "fr" else f"{t['ticket']}: {request.ticket}",
             new_x="LMARGIN", new_y="NEXT")
    _section(pdf, t["enterprise"], [
        (t["number"], format_enterprise_number(request.enterprise_number)),
        (t["enterprise_name"], enterprise.name if enterprise else ""),
        (t["address"], enterprise.address if enterprise else ""),
    ])
    _section(pdf, t["representative"], [
        (t["name"], f"{request.requester_first_name} {request.requester_last_name}"),
        (t["niss"], format_niss(request.requester_niss)),
        (t["email"], request.requester_email), (t["phone"], request.requester_phone),
    ])
    _section(pdf, t["manager"], [
        (t["name"], person_name(session, request.manager_niss) or ""),
        (t["niss"], format_niss(request.manager_niss)),
        (t["email"], request.manager_email), (t["phone"], request.manager_phone),
    ])
    _paragraph(pdf, t["conditions"], t["consent"])
    pdf.ln(4)
    pdf.cell(0, 7, t["signature"], new_x="LMARGIN", new_y="NEXT")
    _paragraph(pdf, t["sending"], "\n".join((t["post"], *POSTAL_ADDRESS, t["originals"])))
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
