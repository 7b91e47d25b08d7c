"""Messages in French, Dutch and English, like the guide's screens (French, the guide's language, by default).

``negotiate`` picks the caller's language from ``Accept-Language``; ``translate`` formats a message of the catalogue
by its stable key. Error codes have their sentence in ``kernel/errors.py``; this catalogue holds the sentences that
carry facts (which field, which domain), the confirmations, the field names, mails, the PDF and ACRF details.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

Language = Literal["fr", "nl", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "nl", "en")
DEFAULT: Language = "fr"


def negotiate(accept_language: str | None, default: Language = "fr") -> Language:
    """The most wanted of fr/nl/en in an ``Accept-Language`` header (``nl-BE;q=0.8, en;q=0.5``); an unknown
    language gives way to the next acceptable one; ``default`` (French) when none is (or for ``*``)."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:32]):  # a header is short; bound the work
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, index, tag.split("-")[0].strip().lower()))
    for _, _, primary in sorted(wanted):
        if primary in LANGUAGES:
            return primary  # type: ignore[return-value]
        if primary == "*":
            return default
    return default


def of_person(language: str | None) -> Language:
    """A person's stored language (users and contacts may say ``de``): French when it is not one we write."""
    return language if language in LANGUAGES else DEFAULT  # type: ignore[return-value]


def translate(key: str, language: str, **params: Any) -> str:
    """The message ``key`` in ``language`` (French when unknown), its ``{params}`` filled in. A list is written
    comma-separated; a ``fields`` param (field names) is written with each field's name in the language."""
    templates = MESSAGES[key]
    template = templates.get(language) or templates[DEFAULT]
    shown = {name: _show(value) for name, value in params.items()}
    if "fields" in params:
        names = [params["fields"]] if isinstance(params["fields"], str) else params["fields"]
        shown["fields"] = ", ".join(field_label(n, language) for n in names)
    return template.format(**shown)


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def field_label(path: str, language: str) -> str:
    """``main_access_manager.niss`` -> ``NISS (Gestionnaire d'Accès Principal)``: a field as a person names it."""
    parts = [p for p in path.split(".") if p and not p.isdigit()]
    if not parts:
        return _label("body", language)
    label = _label(parts[-1], language)
    parents = [_label(p, language) for p in parts[:-1] if p in FIELDS]
    return f"{label} ({', '.join(parents)})" if parents else label


def _label(name: str, language: str) -> str:
    labels = FIELDS.get(name)
    return (labels.get(language) or labels[DEFAULT]) if labels else name


def _t(fr: str, nl: str, en: str) -> dict[str, str]:
    return {"fr": fr, "nl": nl, "en": en}


# -- the API's fields, as the guide's screens name them -------------------------------------------------------------
FIELDS: dict[str, dict[str, str]] = {
    "body": _t("corps de la requête", "inhoud van de aanvraag", "request body"),
    "niss": _t("NISS", "INSZ", "NISS"),
    "email": _t("e-mail", "e-mail", "e-mail"),
    "local_email": _t("e-mail local", "lokaal e-mailadres", "local e-mail"),
    "emails": _t("e-mails", "e-mails", "e-mails"),
    "phone": _t("téléphone", "telefoon", "phone"),
    "fax": _t("fax", "fax", "fax"),
    "mobile": _t("GSM", "gsm", "mobile"),
    "first_name": _t("prénom", "voornaam", "first name"),
    "last_name": _t("nom", "naam", "last name"),
    "title": _t("titre", "aanspreking", "title"),
    "function": _t("fonction", "functie", "function"),
    "language": _t("langue", "taal", "language"),
    "username": _t("nom d'utilisateur", "gebruikersnaam", "username"),
    "password": _t("mot de passe", "wachtwoord", "password"),
    "enterprise_number": _t("numéro d'entreprise", "ondernemingsnummer", "enterprise number"),
    "identifier": _t("identifiant du domaine", "identificatie van het domein", "domain identifier"),
    "name": _t("nom", "naam", "name"),
    "applications": _t("applications", "toepassingen", "applications"),
    "application": _t("application", "toepassing", "application"),
    "add_applications": _t("applications à ajouter", "toe te voegen toepassingen", "applications to add"),
    "remove_applications": _t("applications à retirer", "te verwijderen toepassingen", "applications to remove"),
    "preferred_for": _t("canal préférentiel pour", "voorkeurkanaal voor", "preferred channel for"),
    "code": _t("code", "code", "code"),
    "preferred": _t("canal préférentiel", "voorkeurkanaal", "preferred channel"),
    "type": _t("type", "type", "type"),
    "certificate": _t("certificat", "certificaat", "certificate"),
    "add_certificate": _t("certificat à ajouter", "toe te voegen certificaat", "certificate to add"),
    "remove_certificate": _t("certificat à retirer", "te verwijderen certificaat", "certificate to remove"),
    "ssh_public_key": _t("clé publique SSH", "publieke SSH-sleutel", "SSH public key"),
    "technical_user": _t("utilisateur technique", "technische gebruiker", "technical user"),
    "technical_user_status": _t("statut de l'utilisateur technique", "status van de technische gebruiker",
                                "technical user status"),
    "plain_ftp": _t("FTP sans TLS", "FTP zonder TLS", "plain FTP"),
    "status": _t("statut", "status", "status"),
    "contact": _t("personne de contact", "contactpersoon", "contact person"),
    "main_access_manager": _t("Gestionnaire d'Accès Principal", "Hoofdtoegangsbeheerder", "main access manager"),
    "legal_representative": _t("représentant légal", "wettelijk vertegenwoordiger", "legal representative"),
    "confirm": _t("confirmation", "bevestiging", "confirmation"),
    "reason": _t("motif", "reden", "reason"),
    "action": _t("action", "actie", "action"),
    "users": _t("utilisateurs", "gebruikers", "users"),
    "channels": _t("canaux", "kanalen", "channels"),
    "address": _t("adresse IP", "IP-adres", "IP address"),
    "page": _t("page", "pagina", "page"),
    "domain_id": _t("numéro du domaine", "nummer van het domein", "domain number"),
    "transfer_id": _t("numéro du transfert", "nummer van de transfer", "transfer number"),
    "channel_type": _t("canal", "kanaal", "channel"),
    "ticket": _t("numéro de ticket", "ticketnummer", "ticket number"),
    "environment": _t("environnement", "omgeving", "environment"),
    "page_size": _t("taille de page", "paginagrootte", "page size"),
}

# -- validation problems (pydantic's error types), after the field's name --------------------------------------------
VALIDATION: dict[str, dict[str, str]] = {
    "missing": _t("ce champ est obligatoire", "dit veld is verplicht", "this field is required"),
    "string_too_short": _t("au moins {min_length} caractère(s)", "minstens {min_length} teken(s)",
                           "at least {min_length} character(s)"),
    "string_too_long": _t("au plus {max_length} caractère(s)", "hoogstens {max_length} teken(s)",
                          "at most {max_length} character(s)"),
    "too_short": _t("au moins {min_length} élément(s)", "minstens {min_length} element(en)",
                    "at least {min_length} item(s)"),
    "too_long": _t("au plus {max_length} élément(s)", "hoogstens {max_length} element(en)",
                   "at most {max_length} item(s)"),
    "string_pattern_mismatch": _t("n'a pas la forme attendue", "heeft niet de verwachte vorm",
                                  "does not have the expected form"),
    "string_type": _t("doit être du texte", "moet tekst zijn", "must be text"),
    "int_parsing": _t("doit être un nombre entier", "moet een geheel getal zijn", "must be a whole number"),
    "int_type": _t("doit être un nombre entier", "moet een geheel getal zijn", "must be a whole number"),
    "bool_parsing": _t("doit valoir true ou false", "moet true of false zijn", "must be true or false"),
    "bool_type": _t("doit valoir true ou false", "moet true of false zijn", "must be true or false"),
    "literal_error": _t("valeur non admise ; valeurs possibles : {expected}",
                        "waarde niet toegelaten; mogelijke waarden: {expected}",
                        "value not allowed; possible values: {expected}"),
    "enum": _t("valeur non admise ; valeurs possibles : {expected}",
               "waarde niet toegelaten; mogelijke waarden: {expected}",
               "value not allowed; possible values: {expected}"),
    "extra_forbidden": _t("champ inconnu", "onbekend veld", "unknown field"),
    "value_error": _t("valeur non valide", "ongeldige waarde", "invalid value"),
    "email": _t("n'est pas une adresse e-mail valide", "is geen geldig e-mailadres", "is not a valid e-mail address"),
    "greater_than_equal": _t("doit valoir au moins {ge}", "moet minstens {ge} zijn", "must be at least {ge}"),
    "less_than_equal": _t("doit valoir au plus {le}", "mag hoogstens {le} zijn", "must be at most {le}"),
    "greater_than": _t("doit être plus grand que {gt}", "moet groter zijn dan {gt}", "must be greater than {gt}"),
    "less_than": _t("doit être plus petit que {lt}", "moet kleiner zijn dan {lt}", "must be less than {lt}"),
    "json_invalid": _t("n'est pas du JSON valide", "is geen geldige JSON", "is not valid JSON"),
    "model_type": _t("doit être un objet", "moet een object zijn", "must be an object"),
    "dict_type": _t("doit être un objet", "moet een object zijn", "must be an object"),
    "model_attributes_type": _t("doit être un objet", "moet een object zijn", "must be an object"),
    "list_type": _t("doit être une liste", "moet een lijst zijn", "must be a list"),
    "phone": _t("6 à 20 chiffres, éventuellement précédés de +", "6 tot 20 cijfers, eventueel voorafgegaan door +",
                "6 to 20 digits, optionally starting with +"),
    "printable": _t("ne peut contenir ni caractère de contrôle ni caractère invisible (ici U+{code})",
                    "mag geen controleteken of onzichtbaar teken bevatten (hier U+{code})",
                    "may hold no control or invisible character (here U+{code})"),
    "other": _t("n'a pas la forme attendue", "heeft niet de verwachte vorm", "does not have the expected form"),
}

# -- what each action of admin_api/policy.py lets one do (a 403 says it in words) ------------------------------------
ACTIONS: dict[str, dict[str, str]] = {
    "register_enterprise": _t("enregistrer cette entreprise", "deze onderneming te registreren",
                              "register this enterprise"),
    "change_main_manager": _t("changer de Gestionnaire d'Accès Principal", "de Hoofdtoegangsbeheerder te wijzigen",
                              "change the main access manager"),
    "decide_registration": _t("approuver ou refuser une demande d'enregistrement",
                              "een registratieaanvraag goed te keuren of te weigeren",
                              "approve or reject a registration request"),
    "read_enterprise": _t("consulter cette entreprise", "deze onderneming te raadplegen", "read this enterprise"),
    "manage_co_main_managers": _t("désigner ou retirer des Co-Gestionnaires d'Accès Principaux",
                                  "co-Hoofdtoegangsbeheerders aan te duiden of te verwijderen",
                                  "designate or remove co main access managers"),
    "list_domains": _t("consulter les domaines de cette entreprise", "de domeinen van deze onderneming te raadplegen",
                       "list this enterprise's domains"),
    "create_domain": _t("créer un domaine", "een domein aan te maken", "create a domain"),
    "set_local_manager": _t("désigner le Gestionnaire d'Accès de ce domaine",
                            "de Toegangsbeheerder van dit domein aan te duiden",
                            "designate this domain's access manager"),
    "manage_co_local_managers": _t("désigner ou retirer des co-Gestionnaires d'Accès de ce domaine",
                                   "co-Toegangsbeheerders van dit domein aan te duiden of te verwijderen",
                                   "designate or remove this domain's co access managers"),
    "manage_users": _t("gérer les utilisateurs de ce domaine", "de gebruikers van dit domein te beheren",
                       "manage this domain's users"),
    "read_sender": _t("consulter l'expéditeur de ce domaine", "de afzender van dit domein te raadplegen",
                      "read this domain's sender"),
    "manage_sender": _t("gérer l'expéditeur de ce domaine", "de afzender van dit domein te beheren",
                        "manage this domain's sender"),
    "read_transfers": _t("consulter le journal des transferts", "het transferlogboek te raadplegen",
                         "read the transfer log"),
    "read_audit": _t("consulter le journal d'audit", "het auditlogboek te raadplegen", "read the audit trail"),
    "post_return": _t("déposer un fichier retour", "een retourbestand te plaatsen", "post a return file"),
    "manage_defender": _t("gérer les adresses bloquées", "de geblokkeerde adressen te beheren",
                          "manage banned addresses"),
}

MESSAGES: dict[str, dict[str, str]] = {
    # -- refusals with their facts (the code's sentence in kernel/errors.py when there are none) ---------------------
    "validation.field": _t("{field} : {problem}", "{field}: {problem}", "{field}: {problem}"),
    "validation.errors": _t("{first}", "{first}", "{first}"),  # the first field's message, already in the language
    "validation.required": _t("Nouvelle personne : {fields} requis.", "Nieuwe persoon: {fields} verplicht.",
                              "New person: {fields} required."),
    "validation.applications": _t("Applications : indiquez au moins un code.",
                                  "Toepassingen: geef minstens één code op.", "Applications: give at least one code."),
    "validation.channel_type": _t("Type : nommez le canal (FTP, SFTP ou WS).",
                                  "Type: geef het kanaal op (FTP, SFTP of WS).",
                                  "Type: name the channel (FTP, SFTP or WS)."),
    "validation.nul": _t("Un texte envoyé contient un caractère nul (0x00), qui n'est pas admis.",
                         "Een verzonden tekst bevat een nulteken (0x00), dat niet is toegestaan.",
                         "A text sent contains a NUL character (0x00), which is not allowed."),
    "validation.ip_address": _t("Ce n'est pas une adresse IP.", "Dit is geen IP-adres.", "Not an IP address."),
    "not_found.domain": _t("Le domaine {domain_id} n'existe pas.", "Domein {domain_id} bestaat niet.",
                           "No domain {domain_id}."),
    "not_found.enterprise": _t("L'entreprise {enterprise_number} n'est pas connue ici.",
                               "Onderneming {enterprise_number} is hier niet bekend.",
                               "No enterprise {enterprise_number}."),
    "not_found.ticket": _t("Aucune demande ne porte le numéro de ticket {ticket}.",
                           "Er is geen aanvraag met ticketnummer {ticket}.", "No request with ticket {ticket}."),
    "not_found.form": _t("La demande {ticket} a été faite par la procédure standard (eID) : elle n'a pas de "
                         "formulaire à signer.",
                         "Aanvraag {ticket} werd via de standaardprocedure (eID) gedaan: er is geen formulier "
                         "te ondertekenen.",
                         "Request {ticket} was made by the standard procedure (eID): it has no form to sign."),
    "not_found.transfer": _t("Le transfert {transfer_id} n'existe pas.", "Transfer {transfer_id} bestaat niet.",
                             "No transfer {transfer_id}."),
    "not_found.submission": _t("Aucune soumission ne porte le numéro de ticket {ticket}.",
                               "Er is geen indiening met ticketnummer {ticket}.",
                               "No submission with ticket {ticket}."),
    "not_found.co_main_manager": _t("Cette personne n'est pas Co-Gestionnaire d'Accès Principal.",
                                    "Deze persoon is geen co-Hoofdtoegangsbeheerder.",
                                    "This person is not a co main access manager."),
    "not_found.co_local_manager": _t("Cette personne n'est pas co-Gestionnaire d'Accès de ce domaine.",
                                     "Deze persoon is geen co-Toegangsbeheerder van dit domein.",
                                     "This person is not a co access manager of the domain."),
    "not_found.user": _t("Ce domaine n'a pas d'utilisateur {username}.", "Dit domein heeft geen gebruiker {username}.",
                         "No user {username} in this domain."),
    "not_found.ban": _t("L'adresse {address} n'est pas bloquée.", "Het adres {address} is niet geblokkeerd.",
                        "{address} is not banned."),
    "not_found.route": _t("Cette adresse n'existe pas dans l'API.", "Dit adres bestaat niet in de API.",
                          "No such path in the API."),
    "forbidden": _t("Vos rôles ici ne vous permettent pas de {action}.",
                    "Uw rollen hier laten niet toe om {action}.",
                    "Your roles here do not allow you to {action}."),
    "unauthenticated.scheme": _t("Utilisez « Authorization: Bearer <jeton> ».",
                                 "Gebruik 'Authorization: Bearer <token>'.", "Use 'Authorization: Bearer <token>'."),
    "unauthenticated.token": _t("Jeton refusé : il n'est pas valide ou a expiré.",
                                "Token geweigerd: het is ongeldig of verlopen.",
                                "Token refused: it is invalid or has expired."),
    "internal_error": _t("Erreur inattendue ; elle a été journalisée sous la référence {reference}.",
                         "Onverwachte fout; ze werd gelogd onder referentie {reference}.",
                         "Unexpected failure; it was logged with reference {reference}."),
    "internal_error.no_gateway": _t("La passerelle de fichiers ne tourne pas dans ce processus.",
                                    "De bestandsgateway draait niet in dit proces.",
                                    "The file gateway does not run in this process."),
    "body_too_large.return": _t("Les fichiers retour sont limités à {limit_mb} Mio (GGA_RETURN_MAX_MB).",
                                "Retourbestanden zijn beperkt tot {limit_mb} MiB (GGA_RETURN_MAX_MB).",
                                "Return files are limited to {limit_mb} MiB (GGA_RETURN_MAX_MB)."),
    "address_banned": _t("Trop de connexions échouées depuis {address} : refusé jusqu'à {until}.",
                         "Te veel mislukte aanmeldingen vanaf {address}: geweigerd tot {until}.",
                         "Too many failed logins from {address}: refused until {until}."),
    "application_unknown": _t("Ces codes d'application ne sont pas dans le catalogue : {applications}.",
                              "Deze toepassingscodes staan niet in de catalogus: {applications}.",
                              "Not application codes of the catalogue: {applications}."),
    "application_not_in_domain": _t("Ces applications ne sont pas proposées dans ce domaine : {applications}.",
                                    "Deze toepassingen worden in dit domein niet aangeboden: {applications}.",
                                    "Not offered in this domain: {applications}."),
    "domain_kind_unknown": _t("Ce type de domaine n'existe pas ; types possibles : {kinds}.",
                              "Dit soort domein bestaat niet; mogelijke soorten: {kinds}.",
                              "No such domain kind; the kinds are: {kinds}."),
    "enterprise_unknown": _t("L'entreprise {enterprise_number} n'est pas dans la Banque-Carrefour des Entreprises.",
                             "Onderneming {enterprise_number} staat niet in de Kruispuntbank van Ondernemingen.",
                             "Enterprise {enterprise_number} is not in the enterprise register."),
    "enterprise_already_registered.anonymous": _t(
        "Cette entreprise est déjà enregistrée dans CSAM : un représentant légal connecté avec son eID peut changer "
        "son Gestionnaire d'Accès Principal.",
        "Deze onderneming is al geregistreerd in CSAM: een wettelijke vertegenwoordiger die met zijn eID is "
        "aangemeld, kan haar Hoofdtoegangsbeheerder wijzigen.",
        "This enterprise is already registered in CSAM: a legal representative logged in with eID can change its "
        "main access manager."),
    "enterprise_already_registered": _t(
        "Cette entreprise est déjà enregistrée dans CSAM ; son Gestionnaire d'Accès Principal est "
        "{main_access_manager}.",
        "Deze onderneming is al geregistreerd in CSAM; haar Hoofdtoegangsbeheerder is {main_access_manager}.",
        "This enterprise is already registered in CSAM; its main access manager is {main_access_manager}."),
    "already_main_manager.other": _t("Cette personne est déjà Gestionnaire d'Accès Principal.",
                                     "Deze persoon is al Hoofdtoegangsbeheerder.",
                                     "This person is already the main access manager."),
    "already_local_manager": _t("Cette personne est déjà le Gestionnaire d'Accès du domaine.",
                                "Deze persoon is al de Toegangsbeheerder van het domein.",
                                "This person already is the domain's access manager."),
    "already_co_local_manager": _t("Cette personne est déjà co-Gestionnaire d'Accès du domaine.",
                                   "Deze persoon is al co-Toegangsbeheerder van het domein.",
                                   "This person already is a co-access manager of the domain."),
    "manager_blocked": _t("Cette personne est bloquée : débloquez-la d'abord.",
                          "Deze persoon is geblokkeerd: deblokkeer haar eerst.",
                          "This person is blocked: unblock them first."),
    "user_is_local_manager": _t("Cette personne est le Gestionnaire d'Accès du domaine.",
                                "Deze persoon is de Toegangsbeheerder van het domein.",
                                "This person is the domain's access manager."),
    "channel.each_once": _t("Chaque type de canal une seule fois.", "Elk soort kanaal één keer.",
                            "Each channel type once."),
    "channel.applications_needed": _t("Le canal {channel} a besoin d'au moins une application.",
                                      "Het {channel}-kanaal heeft minstens één toepassing nodig.",
                                      "The {channel} channel needs at least one application."),
    "domain.applications_needed": _t("Un domaine a besoin d'au moins une application.",
                                     "Een domein heeft minstens één toepassing nodig.",
                                     "A domain needs at least one application."),
    "channel.ssh_needed": _t("Le canal SFTP a besoin d'une clé publique SSH.",
                             "Het SFTP-kanaal heeft een publieke SSH-sleutel nodig.",
                             "The SFTP channel needs an SSH public key."),
    "channel.ssh_kept": _t("Clé publique SSH : le canal SFTP en a besoin, elle ne peut pas être effacée.",
                           "Publieke SSH-sleutel: het SFTP-kanaal heeft er een nodig, ze kan niet gewist worden.",
                           "SSH public key: the SFTP channel needs one, it cannot be cleared."),
    "channel.ssh_only_sftp": _t("Seul le canal SFTP a une clé SSH.", "Alleen het SFTP-kanaal heeft een SSH-sleutel.",
                                "Only the SFTP channel has an SSH key."),
    "domain.onss_taken": _t("Ce numéro ONSS est celui d'une autre entreprise : un numéro ONSS n'appartient qu'à un "
                            "employeur.",
                            "Dit RSZ-nummer is dat van een andere onderneming: een RSZ-nummer hoort bij één werkgever.",
                            "This ONSS number is another enterprise's: an ONSS number belongs to one employer."),
    "co_gap.is_gap": _t("Cette personne est le Gestionnaire d'Accès Principal : elle a déjà tous les droits d'un "
                        "Co-Gestionnaire.",
                        "Deze persoon is de Hoofdtoegangsbeheerder: ze heeft al alle rechten van een "
                        "co-Hoofdtoegangsbeheerder.",
                        "This person is the main access manager: they already hold every right of a co main access "
                        "manager."),
    "body.too_large": _t("Le corps de la requête peut faire au plus {limit_kb} Kio ici.",
                         "De inhoud van de aanvraag mag hier hoogstens {limit_kb} KiB zijn.",
                         "The request body may have at most {limit_kb} KiB here."),
    "channel.plain_ftp_only_ftp": _t("Seul le canal FTP peut être ouvert au FTP sans TLS.",
                                     "Alleen het FTP-kanaal kan zonder TLS opengesteld worden.",
                                     "Only the FTP channel can be opened to FTP without TLS."),
    "certificate.expired": _t("Le certificat a expiré le {expires} : aucun fichier signé avec lui ne serait accepté.",
                              "Het certificaat is verlopen op {expires}: geen bestand dat ermee ondertekend is, zou "
                              "aanvaard worden.",
                              "The certificate expired on {expires}: no file signed with it would be accepted."),
    "not_found.certificate": _t("Le canal n'a pas de certificat avec cette empreinte.",
                                "Het kanaal heeft geen certificaat met deze vingerafdruk.",
                                "No certificate with this fingerprint on the channel."),
    "channel.last_certificate": _t("Un canal garde au moins un certificat : ajoutez d'abord le nouveau.",
                                   "Een kanaal houdt minstens één certificaat: voeg eerst het nieuwe toe.",
                                   "A channel keeps at least one certificate: add the new one first."),
    "channel.last": _t("Un expéditeur garde au moins un canal ; supprimez plutôt l'expéditeur.",
                       "Een afzender houdt minstens één kanaal; verwijder in de plaats de afzender.",
                       "A sender keeps at least one channel; delete the sender instead."),
    "channel.orphans": _t("Seul le canal {channel} porte {applications} : autorisez d'abord cette ou ces "
                          "application(s) sur un autre canal.",
                          "Alleen het kanaal {channel} draagt {applications}: sta die toepassing(en) eerst op een "
                          "ander kanaal toe.",
                          "Only the {channel} channel carries {applications}: authorise that application or those "
                          "applications on another channel first."),
    "channel.applications_replaced": _t(
        "applications : une modification ne change que ce qu'elle nomme ; utilisez add_applications, "
        "remove_applications et preferred_for.",
        "applications: een wijziging verandert enkel wat ze noemt; gebruik add_applications, remove_applications "
        "en preferred_for.",
        "applications: a PATCH changes only what it names; use add_applications, remove_applications and "
        "preferred_for."),
    "channel.add_and_remove": _t(
        "add_applications et remove_applications nomment la même application : {applications}.",
        "add_applications en remove_applications noemen dezelfde toepassing: {applications}.",
        "add_applications and remove_applications name the same application: {applications}."),
    "password_required": _t("Un mot de passe est requis.", "Een wachtwoord is verplicht.", "A password is required."),
    # -- confirmations (the guide's wording) ----------------------------------------------------------------------
    "local_manager.designated": _t("La personne a été désignée comme Gestionnaire d'Accès.",
                                   "De persoon werd aangeduid als Toegangsbeheerder.",
                                   "The person has been designated as access manager."),
    "local_manager.changed": _t("Le Gestionnaire d'Accès a été modifié.", "De Toegangsbeheerder werd gewijzigd.",
                                "The access manager has been changed."),
    "co_local_manager.designated": _t("La personne a été désignée comme co-Gestionnaire d'Accès.",
                                      "De persoon werd aangeduid als co-Toegangsbeheerder.",
                                      "The person has been designated as co access manager."),
    "user.saved": _t("Les données de l'utilisateur ont bien été enregistrées",
                     "De gegevens van de gebruiker werden opgeslagen", "The user's data have been saved"),
    "bulk.add_applications": _t(
        "Les applications que vous avez sélectionnées ont été ajoutées aux utilisateurs que vous avez sélectionnés.",
        "De toepassingen die u selecteerde werden toegevoegd aan de gebruikers die u selecteerde.",
        "The applications you selected have been added to the users you selected."),
    "bulk.remove_applications": _t(
        "Les applications que vous avez sélectionnées ont été enlevées aux utilisateurs que vous avez sélectionnés.",
        "De toepassingen die u selecteerde werden verwijderd bij de gebruikers die u selecteerde.",
        "The applications you selected have been removed from the users you selected."),
    "bulk.block": _t("Le blocage du ou des utilisateur(s) a réussi", "De gebruiker(s) werd(en) geblokkeerd",
                     "The user(s) have been blocked"),
    "bulk.unblock": _t("Le déblocage du ou des utilisateur(s) a réussi", "De gebruiker(s) werd(en) gedeblokkeerd",
                       "The user(s) have been unblocked"),
    "bulk.delete": _t("La suppression du ou des utilisateur(s) a réussi", "De gebruiker(s) werd(en) verwijderd",
                      "The user(s) have been deleted"),
    "registration.superseded": _t(
        "L'entreprise a été enregistrée entre-temps par une autre demande : celle-ci n'a plus d'objet.",
        "De onderneming werd intussen via een andere aanvraag geregistreerd: deze aanvraag is niet meer nodig.",
        "The enterprise was registered meanwhile by another request: this one is no longer needed."),
    "token.must_be": _t("{field} doit valoir {expected}.", "{field} moet {expected} zijn.",
                        "{field} must be {expected}."),
    "sender.returns_waiting": _t(
        "Des fichiers retour attendent dans les dossiers de l'expéditeur, ou y sont en cours de livraison : faites-les "
        "retirer avant de le supprimer (son utilisateur technique s'en va avec lui).",
        "Er wachten retourbestanden in de mappen van de afzender, of ze worden er net afgeleverd: laat ze ophalen "
        "voor u hem verwijdert (zijn technische gebruiker verdwijnt met hem).",
        "Return files wait in the sender's folders, or are being delivered there: have them picked up before deleting "
        "it (its technical user goes with it)."),
    "bulk.partial": _t("Action effectuée pour {done} utilisateur(s) ; {left} refusé(s) ou introuvable(s), laissé(s) "
                       "tel(s) quel(s) : voir le résultat de chacun.",
                       "Actie uitgevoerd voor {done} gebruiker(s); {left} geweigerd of niet gevonden en ongewijzigd "
                       "gelaten: zie het resultaat van elk.",
                       "Done for {done} user(s); {left} refused or not found, left as they were: see each one's "
                       "result."),
    "sender.created": _t("L'expéditeur a bien été créé.", "De afzender werd aangemaakt.",
                         "The sender has been created."),
    "sender.updated": _t("Les données de l'expéditeur ont bien été enregistrées.",
                         "De gegevens van de afzender werden opgeslagen.", "The sender has been updated."),
    "sender.deleted": _t("L'expéditeur a bien été supprimé.", "De afzender werd verwijderd.",
                         "The sender has been deleted."),
    "channel.added": _t("Le canal a bien été ajouté.", "Het kanaal werd toegevoegd.", "The channel has been added."),
    "channel.updated": _t("Le canal a bien été modifié.", "Het kanaal werd gewijzigd.",
                          "The channel has been updated."),
    "channel.removed": _t("Le canal a bien été supprimé.", "Het kanaal werd verwijderd.",
                          "The channel has been removed."),
    "registration.requested": _t(
        "Votre demande a été enregistrée avec succès dans le système sous le numéro de ticket {ticket}. Téléchargez "
        "le document, imprimez le PDF, signez-le manuellement et renvoyez-le par voie postale à : {address}.",
        "Uw aanvraag werd met succes geregistreerd onder ticketnummer {ticket}. Download het document, druk de PDF "
        "af, onderteken hem met de hand en stuur hem per post naar: {address}.",
        "Your request has been recorded under ticket number {ticket}. Download the document, print the PDF, sign "
        "it by hand and post it to: {address}."),
    "registration.done.self": _t(
        "Votre entreprise, {enterprise}, est maintenant activée dans CSAM. Vous vous êtes vous-même désigné(e) "
        "comme Gestionnaire d'Accès Principal. Un e-mail de confirmation contenant les instructions sera envoyé "
        "à {email}",
        "Uw onderneming, {enterprise}, is nu geactiveerd in CSAM. U hebt uzelf aangeduid als "
        "Hoofdtoegangsbeheerder. Een bevestigingsmail met de instructies wordt verstuurd naar {email}",
        "Your enterprise, {enterprise}, is now activated in CSAM. You designated yourself as main access manager. "
        "A confirmation e-mail with the instructions will be sent to {email}"),
    "registration.done.other": _t(
        "Votre entreprise, {enterprise}, est maintenant activée dans CSAM. Vous avez désigné {manager} comme "
        "Gestionnaire d'Accès Principal. Un e-mail de confirmation contenant les instructions sera envoyé à {email}",
        "Uw onderneming, {enterprise}, is nu geactiveerd in CSAM. U hebt {manager} aangeduid als "
        "Hoofdtoegangsbeheerder. Een bevestigingsmail met de instructies wordt verstuurd naar {email}",
        "Your enterprise, {enterprise}, is now activated in CSAM. You designated {manager} as main access manager. "
        "A confirmation e-mail with the instructions will be sent to {email}"),
    # -- mails -------------------------------------------------------------------------------------------------------
    "mail.rejected.subject": _t("CSAM: demande {ticket} refusée", "CSAM: aanvraag {ticket} geweigerd",
                                "CSAM: request {ticket} rejected"),
    "mail.rejected.body": _t(
        "Votre demande {ticket} pour l'entreprise {enterprise_number} a été refusée.\nMotif : {reason}\n",
        "Uw aanvraag {ticket} voor onderneming {enterprise_number} werd geweigerd.\nReden: {reason}\n",
        "Your request {ticket} for enterprise {enterprise_number} has been rejected.\nReason: {reason}\n"),
    "mail.main_manager.subject": _t("CSAM: vous êtes Gestionnaire d'Accès Principal",
                                    "CSAM: u bent Hoofdtoegangsbeheerder", "CSAM: you are main access manager"),
    "mail.main_manager.body": _t(
        "Vous avez été désigné(e) comme Gestionnaire d'Accès Principal de {enterprise} ({enterprise_number}).\n"
        "Vous pouvez désigner des Gestionnaires d'Accès et des Co-Gestionnaires d'Accès Principaux, et gérer les "
        "accès de vos collaborateurs.\n",
        "U werd aangeduid als Hoofdtoegangsbeheerder van {enterprise} ({enterprise_number}).\n"
        "U kunt Toegangsbeheerders en co-Hoofdtoegangsbeheerders aanduiden en de toegang van uw medewerkers "
        "beheren.\n",
        "You have been designated as main access manager of {enterprise} ({enterprise_number}).\n"
        "You may designate access managers and co main access managers, and manage your colleagues' access.\n"),
    "mail.designated.subject": _t("CSAM: Gestionnaire d'Accès Principal désigné",
                                  "CSAM: Hoofdtoegangsbeheerder aangeduid", "CSAM: main access manager designated"),
    "mail.designated.body": _t(
        "Vous avez désigné {manager} comme Gestionnaire d'Accès Principal de {enterprise} ({enterprise_number}).\n",
        "U hebt {manager} aangeduid als Hoofdtoegangsbeheerder van {enterprise} ({enterprise_number}).\n",
        "You designated {manager} as main access manager of {enterprise} ({enterprise_number}).\n"),
}


def _forbidden_messages(actions: Iterable[str]) -> dict[str, dict[str, str]]:
    """``forbidden.<action>``: the 403 sentence naming, in words, what the roles do not allow."""
    return {f"forbidden.{a}": {lang: _elided(MESSAGES["forbidden"][lang].format(action=ACTIONS[a][lang]), lang)
                               for lang in LANGUAGES} for a in actions}


def _elided(sentence: str, lang: str) -> str:
    """French elision: "de approuver" is "d'approuver" (before a vowel or a mute h; Dutch "de" stays)."""
    return re.sub(r"\bde ([aeiouyhàâéèêîôûAEIOUYH])", r"d'\1", sentence) if lang == "fr" else sentence


MESSAGES |= _forbidden_messages(ACTIONS)
