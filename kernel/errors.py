"""Every error code of the product, in one place.

The same code reaches the HTTP API (``{"error": {"code": ...}}``), the JSON log line and, for batch files, the
``Error/ErrorID`` of the ACRF acknowledgement (as the real channel's ``ACRF-nnn`` where it has one).
``docs/errors.md`` is generated from this table (``python -m kernel.errors``) and a test keeps them in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kernel.i18n import field_label, translate


class ErrorCode(StrEnum):
    # generic
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    CONFLICT = "CONFLICT"
    # identifiers
    INVALID_NISS = "INVALID_NISS"
    INVALID_ENTERPRISE_NUMBER = "INVALID_ENTERPRISE_NUMBER"
    INVALID_ONSS_NUMBER = "INVALID_ONSS_NUMBER"
    # registration (guide I, II)
    EID_REQUIRED = "EID_REQUIRED"
    ENTERPRISE_UNKNOWN = "ENTERPRISE_UNKNOWN"
    NOT_LEGAL_REPRESENTATIVE = "NOT_LEGAL_REPRESENTATIVE"
    LEGAL_REPRESENTATIVE_NAME_MISMATCH = "LEGAL_REPRESENTATIVE_NAME_MISMATCH"
    ENTERPRISE_ALREADY_REGISTERED = "ENTERPRISE_ALREADY_REGISTERED"
    ALREADY_MAIN_ACCESS_MANAGER = "ALREADY_MAIN_ACCESS_MANAGER"
    ENTERPRISE_NOT_REGISTERED = "ENTERPRISE_NOT_REGISTERED"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    REQUEST_ALREADY_DECIDED = "REQUEST_ALREADY_DECIDED"
    # managers, domains, users (guide III, IV, V)
    CO_MAIN_MANAGER_EXISTS = "CO_MAIN_MANAGER_EXISTS"
    DOMAIN_KIND_UNKNOWN = "DOMAIN_KIND_UNKNOWN"
    DOMAIN_EXISTS = "DOMAIN_EXISTS"
    APPLICATION_UNKNOWN = "APPLICATION_UNKNOWN"
    APPLICATION_NOT_IN_DOMAIN = "APPLICATION_NOT_IN_DOMAIN"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    USER_EXISTS = "USER_EXISTS"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"  # noqa: S105 (a code, not a password)
    LOCAL_MANAGER_NOT_DELETABLE = "LOCAL_MANAGER_NOT_DELETABLE"
    # senders (guide VI)
    SENDER_EXISTS = "SENDER_EXISTS"
    NO_ACTIVE_SENDER = "NO_ACTIVE_SENDER"
    TECHNICAL_USER_INVALID = "TECHNICAL_USER_INVALID"
    TECHNICAL_USER_TAKEN = "TECHNICAL_USER_TAKEN"
    CHANNEL_EXISTS = "CHANNEL_EXISTS"
    CHANNEL_UNKNOWN = "CHANNEL_UNKNOWN"
    CHANNEL_REQUIRED = "CHANNEL_REQUIRED"
    PREFERRED_CHANNEL_INVALID = "PREFERRED_CHANNEL_INVALID"
    APPLICATION_LAST_CHANNEL = "APPLICATION_LAST_CHANNEL"
    CERTIFICATE_MALFORMED = "CERTIFICATE_MALFORMED"
    CERTIFICATE_REQUIRED = "CERTIFICATE_REQUIRED"
    RETURNS_WAITING = "RETURNS_WAITING"
    SSH_KEY_INVALID = "SSH_KEY_INVALID"
    SSH_KEY_TOO_WEAK = "SSH_KEY_TOO_WEAK"
    CERTIFICATE_WEAK = "CERTIFICATE_WEAK"
    # signatures (keys/)
    SIGNATURE_MALFORMED = "SIGNATURE_MALFORMED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SIGNER_NOT_REGISTERED = "SIGNER_NOT_REGISTERED"
    CERTIFICATE_EXPIRED = "CERTIFICATE_EXPIRED"
    CERTIFICATE_NOT_YET_VALID = "CERTIFICATE_NOT_YET_VALID"
    DIGEST_TOO_WEAK = "DIGEST_TOO_WEAK"
    CHAIN_UNTRUSTED = "CHAIN_UNTRUSTED"
    CERTIFICATE_REVOKED = "CERTIFICATE_REVOKED"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    # batch files (gateway)
    FILE_NAME_INVALID = "FILE_NAME_INVALID"
    PATH_NOT_ALLOWED = "PATH_NOT_ALLOWED"
    FILE_ALREADY_RECEIVED = "FILE_ALREADY_RECEIVED"
    FILE_NOT_FOUND = "FILE_NOT_FOUND"
    UPLOAD_INCOMPLETE = "UPLOAD_INCOMPLETE"
    LOGIN_FAILED = "LOGIN_FAILED"
    TLS_REQUIRED = "TLS_REQUIRED"
    SENDER_BLOCKED = "SENDER_BLOCKED"
    CHANNEL_NOT_REGISTERED = "CHANNEL_NOT_REGISTERED"
    SENDER_NUMBER_MISMATCH = "SENDER_NUMBER_MISMATCH"
    ENVIRONMENT_INVALID = "ENVIRONMENT_INVALID"
    PRODUCTION_FILE_IN_TEST_FOLDER = "PRODUCTION_FILE_IN_TEST_FOLDER"
    TEST_FILE_IN_WRONG_FOLDER = "TEST_FILE_IN_WRONG_FOLDER"
    APPLICATION_CONTENT_MISMATCH = "APPLICATION_CONTENT_MISMATCH"
    GO_MISSING = "GO_MISSING"
    APPLICATION_NOT_AUTHORISED = "APPLICATION_NOT_AUTHORISED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    PARTS_INCOMPLETE = "PARTS_INCOMPLETE"
    FILE_DATE_INVALID = "FILE_DATE_INVALID"
    NAME_ALREADY_ACCEPTED = "NAME_ALREADY_ACCEPTED"
    XML_UNSAFE = "XML_UNSAFE"
    # web service
    ASSERTION_INVALID = "ASSERTION_INVALID"
    ASSERTION_REPLAYED = "ASSERTION_REPLAYED"
    TOKEN_INVALID = "TOKEN_INVALID"  # noqa: S105 (a code)
    # limits (docs/security.md)
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    TOO_MANY_OPEN_FILES = "TOO_MANY_OPEN_FILES"
    TOO_MANY_LOGIN_TRIES = "TOO_MANY_LOGIN_TRIES"
    UPLOAD_IN_PROGRESS = "UPLOAD_IN_PROGRESS"
    TRANSFER_IN_PROGRESS = "TRANSFER_IN_PROGRESS"
    DATA_PORT_UNAVAILABLE = "DATA_PORT_UNAVAILABLE"
    IDLE_TIMEOUT = "IDLE_TIMEOUT"
    LOGIN_TIMEOUT = "LOGIN_TIMEOUT"
    DATA_TIMEOUT = "DATA_TIMEOUT"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    COMMAND_NOT_ALLOWED = "COMMAND_NOT_ALLOWED"
    ADDRESS_BANNED = "ADDRESS_BANNED"
    TOO_MANY_SESSIONS = "TOO_MANY_SESSIONS"


@dataclass(frozen=True)
class ErrorSpec:
    """A code's HTTP status, its sentence in English, French and Dutch, and the ACRF number where there is one."""

    status: int
    en: str
    fr: str
    nl: str
    acrf_id: str | None = None

    def describe(self, language: str) -> str:
        """The sentence in ``language`` (French, the guide's language, when it is not one we write)."""
        return {"en": self.en, "nl": self.nl}.get(language, self.fr)


_SPECS: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.VALIDATION_ERROR: ErrorSpec(
        422, "A field is missing or has the wrong form.", "Un champ manque ou n'a pas la forme attendue.",
        "Een veld ontbreekt of heeft niet de verwachte vorm."),
    ErrorCode.NOT_FOUND: ErrorSpec(404, "No such resource.", "Cette ressource n'existe pas.",
                                   "Deze resource bestaat niet."),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(
        405, "This method is not allowed on this resource (see the Allow header).",
        "Cette méthode n'est pas admise sur cette ressource (voir l'en-tête Allow).",
        "Deze methode is niet toegelaten op deze resource (zie de header Allow)."),
    ErrorCode.UNAUTHENTICATED: ErrorSpec(401, "No valid bearer token.", "Aucun jeton d'accès (bearer) valide.",
                                         "Geen geldig toegangstoken (bearer)."),
    ErrorCode.FORBIDDEN: ErrorSpec(403, "Your roles do not allow this action here.",
                                   "Vos rôles ne vous permettent pas cette action ici.",
                                   "Uw rollen laten deze actie hier niet toe."),
    ErrorCode.INTERNAL_ERROR: ErrorSpec(500, "Unexpected failure; it was logged with a reference.",
                                        "Erreur inattendue ; elle a été journalisée avec une référence.",
                                        "Onverwachte fout; ze werd gelogd met een referentie."),
    ErrorCode.CONFLICT: ErrorSpec(
        409, "A racing request changed the same thing first; read it again and retry.",
        "Une autre demande a modifié la même chose juste avant ; relisez et réessayez.",
        "Een andere aanvraag wijzigde net hetzelfde; lees opnieuw en probeer nogmaals."),
    ErrorCode.INVALID_NISS: ErrorSpec(
        422, "Not a valid NISS (national or bis number, check digits mod 97).",
        "Ce n'est pas un NISS valide (numéro de registre national ou bis, chiffres de contrôle modulo 97).",
        "Geen geldig INSZ (rijksregister- of bisnummer, controlecijfers modulo 97)."),
    ErrorCode.INVALID_ENTERPRISE_NUMBER: ErrorSpec(
        422, "Not a valid enterprise number (10 digits, mod 97).",
        "Ce n'est pas un numéro d'entreprise valide (10 chiffres, modulo 97).",
        "Geen geldig ondernemingsnummer (10 cijfers, modulo 97)."),
    ErrorCode.INVALID_ONSS_NUMBER: ErrorSpec(
        422, "Not a valid ONSS number (9 digits, written 9999999-99).",
        "Ce n'est pas un matricule ONSS valide (9 chiffres, écrits 9999999-99).",
        "Geen geldig RSZ-nummer (9 cijfers, geschreven als 9999999-99)."),
    ErrorCode.EID_REQUIRED: ErrorSpec(
        403, "This procedure needs a login with eID (acr=eid).",
        "Cette procédure demande une connexion avec l'eID (acr=eid).",
        "Deze procedure vraagt een aanmelding met de eID (acr=eid)."),
    ErrorCode.ENTERPRISE_UNKNOWN: ErrorSpec(
        404, "The enterprise is not in the enterprise register.",
        "L'entreprise n'est pas dans la Banque-Carrefour des Entreprises.",
        "De onderneming staat niet in de Kruispuntbank van Ondernemingen."),
    ErrorCode.NOT_LEGAL_REPRESENTATIVE: ErrorSpec(
        403, "You do not hold a current legal function in this enterprise.",
        "Vous n'exercez pas de fonction légale actuelle dans cette entreprise.",
        "U oefent geen huidige wettelijke functie uit in deze onderneming."),
    ErrorCode.LEGAL_REPRESENTATIVE_NAME_MISMATCH: ErrorSpec(
        422, "The name given does not match the register for this national number.",
        "Le nom donné ne correspond pas au registre pour ce numéro de registre national.",
        "De opgegeven naam komt niet overeen met het register voor dit rijksregisternummer."),
    ErrorCode.ENTERPRISE_ALREADY_REGISTERED: ErrorSpec(
        409, "This enterprise is already registered in CSAM.", "Cette entreprise est déjà enregistrée dans CSAM.",
        "Deze onderneming is al geregistreerd in CSAM."),
    ErrorCode.ALREADY_MAIN_ACCESS_MANAGER: ErrorSpec(
        409, "You are already known as main access manager of this enterprise.",
        "Vous êtes déjà connu comme Gestionnaire d'Accès Principal pour cette entreprise.",
        "U bent al gekend als Hoofdtoegangsbeheerder van deze onderneming."),
    ErrorCode.ENTERPRISE_NOT_REGISTERED: ErrorSpec(
        409, "The enterprise has no main access manager yet.",
        "L'entreprise n'a pas encore de Gestionnaire d'Accès Principal.",
        "De onderneming heeft nog geen Hoofdtoegangsbeheerder."),
    ErrorCode.CONFIRMATION_REQUIRED: ErrorSpec(
        422, "Tick « Yes, I confirm »: send \"confirm\": true.",
        "Cochez « Oui, je confirme » : envoyez \"confirm\": true.",
        "Vink « Ja, ik bevestig » aan: stuur \"confirm\": true."),
    ErrorCode.REQUEST_ALREADY_DECIDED: ErrorSpec(
        409, "This request was already approved or rejected.", "Cette demande a déjà été approuvée ou refusée.",
        "Deze aanvraag werd al goedgekeurd of geweigerd."),
    ErrorCode.CO_MAIN_MANAGER_EXISTS: ErrorSpec(
        409, "This person is already a co main access manager.",
        "Cette personne est déjà Co-Gestionnaire d'Accès Principal.",
        "Deze persoon is al co-Hoofdtoegangsbeheerder."),
    ErrorCode.DOMAIN_KIND_UNKNOWN: ErrorSpec(
        422, "No such domain kind in the catalogue.", "Ce type de domaine n'est pas dans le catalogue.",
        "Dit soort domein staat niet in de catalogus."),
    ErrorCode.DOMAIN_EXISTS: ErrorSpec(409, "The enterprise already has this domain.",
                                       "L'entreprise a déjà ce domaine.", "De onderneming heeft dit domein al."),
    ErrorCode.APPLICATION_UNKNOWN: ErrorSpec(
        422, "No such application code in the catalogue.", "Ce code d'application n'est pas dans le catalogue.",
        "Deze toepassingscode staat niet in de catalogus."),
    ErrorCode.APPLICATION_NOT_IN_DOMAIN: ErrorSpec(
        422, "The application is not offered in this domain.", "L'application n'est pas proposée dans ce domaine.",
        "De toepassing wordt in dit domein niet aangeboden."),
    ErrorCode.USERNAME_TAKEN: ErrorSpec(409, "This username is already used.",
                                        "Ce nom d'utilisateur est déjà utilisé.",
                                        "Deze gebruikersnaam is al in gebruik."),
    ErrorCode.USER_EXISTS: ErrorSpec(409, "This person is already a user of the domain.",
                                     "Cette personne est déjà utilisateur du domaine.",
                                     "Deze persoon is al gebruiker van het domein."),
    ErrorCode.PASSWORD_TOO_WEAK: ErrorSpec(
        422, "Password: 10 to 128 characters with a lower-case letter, an upper-case letter and a digit.",
        "Mot de passe : 10 à 128 caractères avec une minuscule, une majuscule et un chiffre.",
        "Wachtwoord: 10 tot 128 tekens met een kleine letter, een hoofdletter en een cijfer."),
    ErrorCode.LOCAL_MANAGER_NOT_DELETABLE: ErrorSpec(
        409, "The domain's access manager cannot be deleted or blocked; change the access manager first.",
        "Le Gestionnaire d'Accès du domaine ne peut être supprimé ni bloqué ; changez d'abord de Gestionnaire "
        "d'Accès.",
        "De Toegangsbeheerder van het domein kan niet worden verwijderd of geblokkeerd; wijzig eerst de "
        "Toegangsbeheerder."),
    ErrorCode.SENDER_EXISTS: ErrorSpec(409, "The domain already has an active sender.",
                                       "Le domaine a déjà un expéditeur actif.",
                                       "Het domein heeft al een actieve afzender."),
    ErrorCode.NO_ACTIVE_SENDER: ErrorSpec(404, "There is no active sender for this domain.",
                                          "Il n'y a pas d'expéditeur actif pour cette qualité.",
                                          "Er is geen actieve afzender voor deze hoedanigheid."),
    ErrorCode.TECHNICAL_USER_INVALID: ErrorSpec(
        422, "A technical user name starts with EXP followed by 3 to 27 letters, digits, '-' or '_'.",
        "Un nom d'utilisateur technique commence par EXP suivi de 3 à 27 lettres, chiffres, '-' ou '_'.",
        "Een technische gebruikersnaam begint met EXP, gevolgd door 3 tot 27 letters, cijfers, '-' of '_'."),
    ErrorCode.TECHNICAL_USER_TAKEN: ErrorSpec(
        409, "This technical user name is already used.", "Ce nom d'utilisateur technique est déjà utilisé.",
        "Deze technische gebruikersnaam is al in gebruik."),
    ErrorCode.CHANNEL_EXISTS: ErrorSpec(409, "The sender already has this channel.",
                                        "L'expéditeur a déjà ce canal.", "De afzender heeft dit kanaal al."),
    ErrorCode.CHANNEL_UNKNOWN: ErrorSpec(404, "The sender has no such channel.", "L'expéditeur n'a pas ce canal.",
                                         "De afzender heeft dit kanaal niet."),
    ErrorCode.CHANNEL_REQUIRED: ErrorSpec(422, "A sender needs at least one channel.",
                                          "Un expéditeur a besoin d'au moins un canal.",
                                          "Een afzender heeft minstens één kanaal nodig."),
    ErrorCode.PREFERRED_CHANNEL_INVALID: ErrorSpec(
        422, "Every application needs exactly one preferred channel among the channels carrying it.",
        "Chaque application a besoin d'exactement un canal préférentiel parmi les canaux qui la portent.",
        "Elke toepassing heeft precies één voorkeurkanaal nodig onder de kanalen die haar dragen."),
    ErrorCode.APPLICATION_LAST_CHANNEL: ErrorSpec(
        409, "No other channel of the sender carries this application: add it to another channel first.",
        "Aucun autre canal de l'expéditeur ne porte cette application : ajoutez-la d'abord à un autre canal.",
        "Geen ander kanaal van de afzender draagt deze toepassing: voeg ze eerst aan een ander kanaal toe."),
    ErrorCode.CERTIFICATE_MALFORMED: ErrorSpec(
        422, "The certificate is not a readable X.509 certificate.",
        "Le certificat n'est pas un certificat X.509 lisible.", "Het certificaat is geen leesbaar X.509-certificaat."),
    ErrorCode.CERTIFICATE_REQUIRED: ErrorSpec(
        409, "A channel keeps at least one certificate: add the new one before removing the last.",
        "Un canal garde au moins un certificat : ajoutez le nouveau avant de retirer le dernier.",
        "Een kanaal houdt minstens één certificaat: voeg het nieuwe toe voor u het laatste verwijdert."),
    ErrorCode.RETURNS_WAITING: ErrorSpec(
        409, "Return files wait in this channel's folders, or are being delivered there: have them picked up before "
        "removing it (no other channel reaches them).",
        "Des fichiers retour attendent dans les dossiers de ce canal, ou y sont en cours de livraison : faites-les "
        "retirer avant de le supprimer (aucun autre canal ne les atteint).",
        "Er wachten retourbestanden in de mappen van dit kanaal, of ze worden er net afgeleverd: laat ze ophalen voor "
        "u het verwijdert (geen ander kanaal bereikt ze)."),
    ErrorCode.SSH_KEY_INVALID: ErrorSpec(
        422, "The SSH public key is not a readable OpenSSH public key.",
        "La clé publique SSH n'est pas une clé publique OpenSSH lisible.",
        "De publieke SSH-sleutel is geen leesbare publieke OpenSSH-sleutel."),
    ErrorCode.SSH_KEY_TOO_WEAK: ErrorSpec(
        422, "RSA SSH keys need at least 2048 bits; DSA is refused.",
        "Les clés SSH RSA doivent avoir au moins 2048 bits ; DSA est refusé.",
        "RSA-SSH-sleutels moeten minstens 2048 bits hebben; DSA wordt geweigerd."),
    ErrorCode.SIGNATURE_MALFORMED: ErrorSpec(
        400, "The FS file is not a readable CMS signature.", "Le fichier FS n'est pas une signature CMS lisible.",
        "Het FS-bestand is geen leesbare CMS-handtekening."),
    ErrorCode.SIGNATURE_INVALID: ErrorSpec(
        400, "The signature does not match the file content.", "La signature ne correspond pas au contenu du fichier.",
        "De handtekening komt niet overeen met de inhoud van het bestand."),
    ErrorCode.SIGNER_NOT_REGISTERED: ErrorSpec(
        400, "The signing certificate is not one registered for this sender's channel.",
        "Le certificat de signature n'est pas enregistré pour ce canal de l'expéditeur.",
        "Het handtekeningcertificaat is niet geregistreerd voor dit kanaal van de afzender.", "ACRF-153"),
    ErrorCode.CERTIFICATE_EXPIRED: ErrorSpec(400, "The signing certificate has expired.",
                                             "Le certificat de signature a expiré.",
                                             "Het handtekeningcertificaat is verlopen."),
    ErrorCode.CERTIFICATE_NOT_YET_VALID: ErrorSpec(
        400, "The signing certificate is not valid yet.", "Le certificat de signature n'est pas encore valide.",
        "Het handtekeningcertificaat is nog niet geldig."),
    ErrorCode.DIGEST_TOO_WEAK: ErrorSpec(
        400, "The signature uses SHA-1 or weaker; use SHA-256.",
        "La signature utilise SHA-1 ou plus faible ; utilisez SHA-256.",
        "De handtekening gebruikt SHA-1 of zwakker; gebruik SHA-256."),
    ErrorCode.CHAIN_UNTRUSTED: ErrorSpec(
        400, "The signing certificate does not chain to a trusted CA.",
        "Le certificat de signature ne remonte pas à une autorité de certification de confiance.",
        "Het handtekeningcertificaat leidt niet naar een vertrouwde certificeringsautoriteit."),
    ErrorCode.CERTIFICATE_REVOKED: ErrorSpec(400, "The signing certificate is revoked.",
                                             "Le certificat de signature est révoqué.",
                                             "Het handtekeningcertificaat is ingetrokken."),
    ErrorCode.SIGNATURE_MISSING: ErrorSpec(
        400, "The FI file has no FS signature file (required outside S).",
        "Le fichier FI n'a pas de fichier de signature FS (obligatoire hors S).",
        "Het FI-bestand heeft geen FS-handtekeningbestand (verplicht buiten S)."),
    ErrorCode.FILE_NAME_INVALID: ErrorSpec(
        400, "The file name does not follow PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]].",
        "Le nom du fichier ne suit pas PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]].",
        "De bestandsnaam volgt PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]] niet."),
    ErrorCode.PATH_NOT_ALLOWED: ErrorSpec(
        403, "Upload only into IN, INTEST, INTEST-S; read and delete only in OUT, OUTTEST, OUTTEST-S.",
        "Déposez uniquement dans IN, INTEST, INTEST-S ; lisez et supprimez uniquement dans OUT, OUTTEST, OUTTEST-S.",
        "Plaats alleen in IN, INTEST, INTEST-S; lees en verwijder alleen in OUT, OUTTEST, OUTTEST-S."),
    ErrorCode.FILE_ALREADY_RECEIVED: ErrorSpec(
        409, "A file with this name is already received and not processed.",
        "Un fichier de ce nom est déjà reçu et pas encore traité.",
        "Een bestand met deze naam is al ontvangen en nog niet verwerkt."),
    ErrorCode.FILE_NOT_FOUND: ErrorSpec(404, "No such file.", "Ce fichier n'existe pas.", "Dit bestand bestaat niet."),
    ErrorCode.UPLOAD_INCOMPLETE: ErrorSpec(
        400, "The upload was interrupted; nothing was kept.", "Le dépôt a été interrompu ; rien n'a été gardé.",
        "De upload werd onderbroken; er werd niets bewaard."),
    ErrorCode.LOGIN_FAILED: ErrorSpec(
        401, "Unknown technical user or wrong credentials.",
        "Utilisateur technique inconnu ou identifiants erronés.",
        "Onbekende technische gebruiker of verkeerde aanmeldgegevens."),
    ErrorCode.TLS_REQUIRED: ErrorSpec(
        403, "This channel needs TLS: send AUTH TLS before logging in (plain FTP only where the operator allows it).",
        "Ce canal demande TLS : envoyez AUTH TLS avant de vous connecter (FTP sans TLS seulement si l'opérateur le "
        "permet).",
        "Dit kanaal vraagt TLS: stuur AUTH TLS voor het aanmelden (FTP zonder TLS alleen waar de operator het "
        "toelaat)."),
    ErrorCode.SENDER_BLOCKED: ErrorSpec(
        403, "The sender or its technical user is blocked.", "L'expéditeur ou son utilisateur technique est bloqué.",
        "De afzender of zijn technische gebruiker is geblokkeerd."),
    ErrorCode.CHANNEL_NOT_REGISTERED: ErrorSpec(403, "The sender has no such channel.",
                                                "L'expéditeur n'a pas ce canal.", "De afzender heeft dit kanaal niet."),
    ErrorCode.SENDER_NUMBER_MISMATCH: ErrorSpec(
        400, "The sender number in the file name is not the logged-in sender's.",
        "Le numéro d'expéditeur dans le nom du fichier n'est pas celui de l'expéditeur connecté.",
        "Het afzendernummer in de bestandsnaam is niet dat van de aangemelde afzender.", "ACRF-108"),
    ErrorCode.ENVIRONMENT_INVALID: ErrorSpec(
        400, "The environment letter must be R, T or S.", "La lettre d'environnement doit être R, T ou S.",
        "De omgevingsletter moet R, T of S zijn.", "ACRF-117"),
    ErrorCode.PRODUCTION_FILE_IN_TEST_FOLDER: ErrorSpec(
        400, "A production (R) file must be put in IN.", "Un fichier de production (R) doit être déposé dans IN.",
        "Een productiebestand (R) moet in IN geplaatst worden.", "ACRF-118"),
    ErrorCode.TEST_FILE_IN_WRONG_FOLDER: ErrorSpec(
        400, "A test (T) file goes in INTEST, a simulation (S) file in INTEST-S.",
        "Un fichier de test (T) va dans INTEST, un fichier de simulation (S) dans INTEST-S.",
        "Een testbestand (T) hoort in INTEST, een simulatiebestand (S) in INTEST-S.", "ACRF-119"),
    ErrorCode.APPLICATION_CONTENT_MISMATCH: ErrorSpec(
        400, "Form/Identification in the XML does not name the file's application.",
        "Form/Identification dans le XML ne nomme pas l'application du fichier.",
        "Form/Identification in de XML noemt de toepassing van het bestand niet.", "ACRF-129"),
    ErrorCode.GO_MISSING: ErrorSpec(
        400, "Parts were received but no GO followed in time.",
        "Des parties ont été reçues mais aucun GO n'a suivi à temps.",
        "Er werden delen ontvangen maar er volgde geen GO op tijd.", "ACRF-130"),
    ErrorCode.APPLICATION_NOT_AUTHORISED: ErrorSpec(
        403, "The sender may not send this application on this channel.",
        "L'expéditeur ne peut pas envoyer cette application sur ce canal.",
        "De afzender mag deze toepassing niet via dit kanaal versturen.", "ACRF-154"),
    ErrorCode.FILE_TOO_LARGE: ErrorSpec(
        413, "The file is larger than the application allows.",
        "Le fichier est plus grand que ce que l'application admet.",
        "Het bestand is groter dan de toepassing toelaat.", "ACRF-184"),
    ErrorCode.PARTS_INCOMPLETE: ErrorSpec(
        400, "The GO names parts that are missing or numbered wrongly.",
        "Le GO annonce des parties manquantes ou mal numérotées.",
        "De GO vermeldt delen die ontbreken of verkeerd genummerd zijn."),
    ErrorCode.FILE_DATE_INVALID: ErrorSpec(
        400, "The date in the name is not a real date, is in the future or is too old.",
        "La date du nom n'est pas une vraie date, est dans le futur ou est trop ancienne.",
        "De datum in de naam is geen echte datum, ligt in de toekomst of is te oud."),
    ErrorCode.NAME_ALREADY_ACCEPTED: ErrorSpec(
        409, "A submission with this name was already accepted for this sender, date and environment.",
        "Un envoi de ce nom a déjà été accepté pour cet expéditeur, cette date et cet environnement.",
        "Een zending met deze naam werd al aanvaard voor deze afzender, datum en omgeving."),
    ErrorCode.XML_UNSAFE: ErrorSpec(
        400, "The XML declares entities or a DTD; they are refused.",
        "Le XML déclare des entités ou une DTD ; elles sont refusées.",
        "De XML declareert entiteiten of een DTD; die worden geweigerd."),
    ErrorCode.ASSERTION_INVALID: ErrorSpec(
        401, "The client assertion is not a valid private_key_jwt for a sender's registered WS certificate.",
        "L'assertion du client n'est pas un private_key_jwt valide pour un certificat WS enregistré d'un expéditeur.",
        "De client assertion is geen geldige private_key_jwt voor een geregistreerd WS-certificaat van een "
        "afzender."),
    ErrorCode.ASSERTION_REPLAYED: ErrorSpec(
        401, "This client assertion (jti) was already used.", "Cette assertion du client (jti) a déjà été utilisée.",
        "Deze client assertion (jti) werd al gebruikt."),
    ErrorCode.TOKEN_INVALID: ErrorSpec(401, "Unknown or expired web-service token.",
                                       "Jeton de service web inconnu ou expiré.",
                                       "Onbekend of verlopen webservicetoken."),
    ErrorCode.CERTIFICATE_WEAK: ErrorSpec(
        400, "The certificate cannot be a signer: key under RSA 2048 / EC P-256, key usage without "
        "digitalSignature or nonRepudiation, or a CA certificate.",
        "Le certificat ne peut pas signer : clé sous RSA 2048 / EC P-256, usage de clé sans digitalSignature ni "
        "nonRepudiation, ou certificat d'autorité.",
        "Het certificaat kan niet ondertekenen: sleutel onder RSA 2048 / EC P-256, sleutelgebruik zonder "
        "digitalSignature of nonRepudiation, of een CA-certificaat."),
    ErrorCode.BODY_TOO_LARGE: ErrorSpec(
        413, "The request body is larger than this endpoint accepts.",
        "Le corps de la requête est plus grand que ce que ce point d'accès admet.",
        "De inhoud van de aanvraag is groter dan dit eindpunt aanvaardt."),
    ErrorCode.TOO_MANY_CONNECTIONS: ErrorSpec(
        429, "Too many open connections from this address (GGA_MAX_CONNECTIONS_PER_ADDRESS).",
        "Trop de connexions ouvertes depuis cette adresse (GGA_MAX_CONNECTIONS_PER_ADDRESS).",
        "Te veel open verbindingen vanaf dit adres (GGA_MAX_CONNECTIONS_PER_ADDRESS)."),
    ErrorCode.TOO_MANY_OPEN_FILES: ErrorSpec(
        429, "Too many files open in this session (GGA_SFTP_MAX_HANDLES).",
        "Trop de fichiers ouverts dans cette session (GGA_SFTP_MAX_HANDLES).",
        "Te veel open bestanden in deze sessie (GGA_SFTP_MAX_HANDLES)."),
    ErrorCode.TOO_MANY_LOGIN_TRIES: ErrorSpec(
        401, "Too many login attempts on this connection (GGA_MAX_LOGIN_TRIES); reconnect to try again.",
        "Trop de tentatives de connexion sur cette connexion (GGA_MAX_LOGIN_TRIES) ; reconnectez-vous pour "
        "réessayer.",
        "Te veel aanmeldpogingen op deze verbinding (GGA_MAX_LOGIN_TRIES); maak opnieuw verbinding om het nog eens "
        "te proberen."),
    ErrorCode.PROCESSING_FAILED: ErrorSpec(
        500, "The gateway could not process the submission in time (GGA_PROCESSING_GIVE_UP_H); send it again.",
        "La passerelle n'a pas pu traiter l'envoi à temps (GGA_PROCESSING_GIVE_UP_H) ; envoyez-le à nouveau.",
        "De gateway kon de zending niet op tijd verwerken (GGA_PROCESSING_GIVE_UP_H); verstuur ze opnieuw."),
    ErrorCode.UPLOAD_IN_PROGRESS: ErrorSpec(
        409, "A file with this name is being uploaded; wait for it to end.",
        "Un fichier de ce nom est en cours de dépôt ; attendez qu'il se termine.",
        "Een bestand met deze naam wordt opgeladen; wacht tot dat klaar is."),
    ErrorCode.DATA_PORT_UNAVAILABLE: ErrorSpec(
        503, "Every passive data port is in use right now: try PASV or EPSV again in a moment.",
        "Tous les ports de données passifs sont occupés : réessayez PASV ou EPSV dans un instant.",
        "Alle passieve datapoorten zijn bezet: probeer PASV of EPSV zo meteen opnieuw."),
    ErrorCode.IDLE_TIMEOUT: ErrorSpec(
        408, "No request came for the idle timeout (GGA_IDLE_TIMEOUT_S): disconnected; reconnect to go on.",
        "Aucune requête pendant le délai d'inactivité (GGA_IDLE_TIMEOUT_S) : déconnecté ; reconnectez-vous pour "
        "continuer.",
        "Geen verzoek binnen de inactiviteitstermijn (GGA_IDLE_TIMEOUT_S): verbinding verbroken; maak opnieuw "
        "verbinding om verder te gaan."),
    ErrorCode.LOGIN_TIMEOUT: ErrorSpec(
        408, "Not logged in within 30 s of connecting: disconnected.",
        "Pas de connexion dans les 30 s suivant l'ouverture : déconnecté.",
        "Niet aangemeld binnen 30 s na het verbinden: verbinding verbroken."),
    ErrorCode.DATA_TIMEOUT: ErrorSpec(
        408, "An FTP data connection carried nothing for the idle timeout (GGA_IDLE_TIMEOUT_S), or was not opened "
        "within 30 s: the transfer is ended, and an upload ended so is not kept (send it again).",
        "Une connexion de données FTP n'a rien transporté pendant le délai d'inactivité (GGA_IDLE_TIMEOUT_S), ou "
        "n'a pas été ouverte dans les 30 s : le transfert est terminé, et un dépôt terminé ainsi n'est pas gardé "
        "(envoyez-le à nouveau).",
        "Een FTP-dataverbinding droeg niets binnen de inactiviteitstermijn (GGA_IDLE_TIMEOUT_S), of werd niet "
        "binnen 30 s geopend: de overdracht is beëindigd, en een zo beëindigde upload wordt niet bewaard (verstuur "
        "hem opnieuw)."),
    ErrorCode.TRANSFER_IN_PROGRESS: ErrorSpec(
        409, "A transfer is under way on this connection: wait for its end (or ABOR it) before the next command.",
        "Un transfert est en cours sur cette connexion : attendez sa fin (ou ABOR) avant la commande suivante.",
        "Er loopt een overdracht op deze verbinding: wacht tot die klaar is (of ABOR) voor het volgende commando."),
    ErrorCode.COMMAND_NOT_ALLOWED: ErrorSpec(
        403, "This command is not offered: files are created only by STOR/put under a batch name.",
        "Cette commande n'est pas offerte : les fichiers ne sont créés que par STOR/put sous un nom de lot.",
        "Dit commando wordt niet aangeboden: bestanden worden alleen aangemaakt met STOR/put onder een batchnaam."),
    ErrorCode.ADDRESS_BANNED: ErrorSpec(
        403, "Too many failed logins from this address: refused for a while (GGA_DEFENDER_BAN_S).",
        "Trop de connexions échouées depuis cette adresse : refusée pour un temps (GGA_DEFENDER_BAN_S).",
        "Te veel mislukte aanmeldingen vanaf dit adres: een tijd geweigerd (GGA_DEFENDER_BAN_S)."),
    ErrorCode.TOO_MANY_SESSIONS: ErrorSpec(
        429, "This technical user has too many sessions open (GGA_MAX_SESSIONS_PER_SENDER).",
        "Cet utilisateur technique a trop de sessions ouvertes (GGA_MAX_SESSIONS_PER_SENDER).",
        "Deze technische gebruiker heeft te veel open sessies (GGA_MAX_SESSIONS_PER_SENDER)."),
}


def spec(code: ErrorCode) -> ErrorSpec:
    return _SPECS[code]


class GGAError(Exception):
    """A refusal the caller can act on: a stable code, a readable message and details.

    ``message`` is English (the log line, SFTP and FTP replies). The API answers in the caller's language
    (``localized``): the catalogue's message ``key`` filled in with ``details`` and ``params`` (the facts: which
    field, which domain), else the code's sentence; in English the raise site's own sentence.
    """

    def __init__(self, code: ErrorCode, message: str | None = None, details: dict[str, Any] | None = None, *,
                 key: str | None = None, params: dict[str, Any] | None = None):
        self.code = code
        self.details = details or {}
        self.key = key
        self.params = {**self.details, **(params or {})}
        self.message = message or (translate(key, "en", **self.params) if key else spec(code).en)
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return spec(self.code).status

    def localized(self, language: str) -> str:
        if self.key:
            return translate(self.key, language, **self.params)
        sentence = spec(self.code).describe(language)
        field = self.details.get("field")
        if isinstance(field, str):  # the field as a person names it, then what is wrong, in one language
            label = field_label(field, language)
            if sentence.lower().startswith(label.lower()):  # it names the field already ("Mot de passe : ...")
                return sentence
            return translate("validation.field", language, field=label, problem=sentence)
        return self.message if language == "en" else sentence

    def as_json(self, language: str = "en") -> dict[str, Any]:
        return {"error": {"code": str(self.code), "message": self.localized(language), "details": self.details}}


@dataclass
class ErrorCatalogue:
    """The documented table (``docs/errors.md``)."""

    rows: list[tuple[str, int, str, ErrorSpec]] = field(default_factory=list)

    @classmethod
    def build(cls) -> ErrorCatalogue:
        return cls([(str(c), s.status, s.acrf_id or "", s) for c, s in _SPECS.items()])

    def markdown(self) -> str:
        lines = [
            "# Error codes",
            "",
            "Generated from `kernel/errors.py` by `python -m kernel.errors > docs/errors.md`. The same code appears",
            "in the API error body, the transfer log and the ACRF acknowledgement (`ErrorID` is the ACRF number when",
            "the real channel has one, else the code). The API's `message` and the ACRF's `ErrorDescription` speak",
            "English, French or Dutch (`Accept-Language`; the sender contact's language for the ACRF; French by",
            "default; the web service's `/REST` English unless `Accept-Language` asks for French or Dutch); SFTP",
            "and FTP replies speak English.",
            "",
            "| code | HTTP | ACRF | meaning (en) | signification (fr) | betekenis (nl) |",
            "|---|---|---|---|---|---|",
        ]
        lines += [f"| `{c}` | {st} | {a} | {s.en} | {s.fr} | {s.nl} |" for c, st, a, s in self.rows]
        return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(ErrorCatalogue.build().markdown(), end="")
