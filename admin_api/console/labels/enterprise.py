"""Console labels of the enterprise and domain screens (guide III and IV): key -> (French, Dutch, English).

The guide's screens still say "Gestionnaire local" and "Qualité"; the console uses the guide's current words
(Gestionnaire d'Accès, domaine), as the guide's own text does.
"""

WORDS: dict[str, tuple[str, str, str]] = {
    # the enterprise page (III: the GAP's home)
    "enterprise.title": ("Entreprise {name}", "Onderneming {name}", "Enterprise {name}"),
    "enterprise.facts": ("Données de l'entreprise", "Gegevens van de onderneming", "Enterprise data"),
    "enterprise.name": ("Dénomination", "Benaming", "Name"),
    "enterprise.number": ("Numéro d'entreprise", "Ondernemingsnummer", "Enterprise number"),
    "enterprise.address": ("Adresse", "Adres", "Address"),
    "enterprise.registered_at": ("Date d'enregistrement", "Registratiedatum", "Registered on"),
    "enterprise.gap": ("Gestionnaire d'Accès Principal", "Hoofdtoegangsbeheerder", "Main access manager"),
    "enterprise.gap_none": ("Aucun Gestionnaire d'Accès Principal n'est encore désigné.",
                            "Er is nog geen Hoofdtoegangsbeheerder aangeduid.",
                            "No main access manager is designated yet."),
    "enterprise.role_intro": ("Le Gestionnaire d'Accès Principal est automatiquement Gestionnaire d'Accès de chaque "
                              "domaine ; il peut déléguer en désignant des Gestionnaires d'Accès par domaine.",
                              "De Hoofdtoegangsbeheerder is automatisch Toegangsbeheerder van elk domein; hij kan "
                              "delegeren door per domein Toegangsbeheerders aan te duiden.",
                              "The main access manager is automatically access manager of every domain; they can "
                              "delegate by designating access managers per domain."),
    "enterprise.email": ("Adresse e-mail", "E-mailadres", "Email address"),
    "enterprise.phone": ("Téléphone", "Telefoon", "Phone"),
    "enterprise.co_gaps": ("Co-Gestionnaires d'Accès Principaux", "Co-hoofdtoegangsbeheerders",
                           "Co-main access managers"),
    "enterprise.co_gaps_none": ("Aucun Co-Gestionnaire d'Accès Principal.", "Geen co-hoofdtoegangsbeheerder.",
                                "No co-main access manager."),
    "enterprise.co_gap_add": ("Ajouter un Co-Gestionnaire d'Accès Principal", "Een co-hoofdtoegangsbeheerder "
                              "toevoegen", "Add a co-main access manager"),
    "enterprise.co_gap_niss_help": ("Le numéro de registre national ou le numéro BIS de la personne.",
                                    "Het rijksregisternummer of het BIS-nummer van de persoon.",
                                    "The person's national register number or BIS number."),
    "enterprise.contact_help": ("Données de contact (facultatives ; l'adresse e-mail et le téléphone vont ensemble).",
                                "Contactgegevens (facultatief; e-mailadres en telefoon horen samen).",
                                "Contact data (optional; email address and phone go together)."),
    "enterprise.co_gap_added": ("La personne a été désignée comme Co-Gestionnaire d'Accès Principal.",
                                "De persoon werd aangeduid als co-hoofdtoegangsbeheerder.",
                                "The person was designated as co-main access manager."),
    "enterprise.co_gap_remove": ("Retirer", "Verwijderen", "Remove"),
    "enterprise.co_gap_remove_title": ("Retirer un Co-Gestionnaire d'Accès Principal",
                                       "Een co-hoofdtoegangsbeheerder verwijderen",
                                       "Remove a co-main access manager"),
    "enterprise.co_gap_remove_question": ("Êtes-vous certain de vouloir retirer {who} comme Co-Gestionnaire "
                                          "d'Accès Principal ?", "Bent u zeker dat u {who} wilt verwijderen als "
                                          "co-hoofdtoegangsbeheerder?", "Are you sure you want to remove {who} as "
                                          "co-main access manager?"),
    "enterprise.co_gap_removed": ("Le Co-Gestionnaire d'Accès Principal a été retiré.",
                                  "De co-hoofdtoegangsbeheerder werd verwijderd.",
                                  "The co-main access manager was removed."),
    "enterprise.domains": ("Liste des domaines (qualités)", "Lijst van de domeinen (hoedanigheden)",
                           "Domains (capacities)"),
    "enterprise.domains_none": ("L'entreprise n'a encore aucun domaine.", "De onderneming heeft nog geen domein.",
                                "The enterprise has no domain yet."),
    "enterprise.actions": ("Actions", "Acties", "Actions"),
    "enterprise.unknown_person": ("(inconnu du registre)", "(onbekend in het register)", "(not in the register)"),
    # domains: the list and creating one
    "domain.name": ("Nom", "Naam", "Name"),
    "domain.identifier": ("Identifiant", "Identificatie", "Identifier"),
    "domain.identifier_help": ("Pour « Employeur ONSS » : le matricule ONSS, 9999999-99.",
                               "Voor « Werkgever RSZ »: het RSZ-nummer, 9999999-99.",
                               "For “NSSO employer”: the NSSO number, 9999999-99."),
    "domain.gl": ("Gestionnaire d'Accès", "Toegangsbeheerder", "Access manager"),
    "domain.gl_none": ("Le Gestionnaire d'Accès Principal (aucun désigné)",
                       "De Hoofdtoegangsbeheerder (niemand aangeduid)",
                       "The main access manager (none designated)"),
    "domain.users_link": ("Utilisateurs", "Gebruikers", "Users"),
    "domain.sender_link": ("Expéditeur", "Afzender", "Sender"),
    "domain.create": ("Créer un domaine", "Een domein aanmaken", "Create a domain"),
    "domain.created": ("Le domaine {name} ({identifier}) a été créé.", "Het domein {name} ({identifier}) werd "
                       "aangemaakt.", "The domain {name} ({identifier}) was created."),
    "domain.kind.onss": ("Employeur ONSS", "Werkgever RSZ", "NSSO employer"),
    "domain.kind.ssa": ("Secrétariat social agréé", "Erkend sociaal secretariaat", "Approved social secretariat"),
    "domain.kind.sps": ("Prestataire de services sociaux", "Sociale dienstverlener", "Social service provider"),
    # the domain page (IV: its access manager and co-managers)
    "domain.title": ("Domaine {name}", "Domein {name}", "Domain {name}"),
    "domain.enterprise": ("Entreprise", "Onderneming", "Enterprise"),
    "domain.applications": ("Applications sécurisées", "Beveiligde toepassingen", "Secured applications"),
    "domain.gl_title": ("Gestionnaire d'Accès du domaine", "Toegangsbeheerder van het domein",
                        "The domain's access manager"),
    "domain.gl_default": ("Aucun Gestionnaire d'Accès n'est désigné : le Gestionnaire d'Accès Principal et ses "
                          "co-gestionnaires gèrent ce domaine.", "Er is geen Toegangsbeheerder aangeduid: de "
                          "Hoofdtoegangsbeheerder en zijn co-beheerders beheren dit domein.",
                          "No access manager is designated: the main access manager and co-managers manage this "
                          "domain."),
    "domain.gl_designate": ("Désigner le Gestionnaire d'Accès", "De Toegangsbeheerder aanduiden",
                            "Designate the access manager"),
    "domain.gl_change": ("Changer de Gestionnaire d'Accès", "Van Toegangsbeheerder veranderen",
                         "Change the access manager"),
    "domain.gl_change_help": ("L'ancien Gestionnaire d'Accès reste utilisateur du domaine.",
                              "De vorige Toegangsbeheerder blijft gebruiker van het domein.",
                              "The former access manager stays a user of the domain."),
    "domain.co_gls": ("Co-Gestionnaires d'Accès", "Co-toegangsbeheerders", "Co-access managers"),
    "domain.co_gls_none": ("Aucun co-Gestionnaire d'Accès.", "Geen co-toegangsbeheerder.", "No co-access manager."),
    "domain.co_gl_add": ("Ajouter un co-Gestionnaire d'Accès", "Een co-toegangsbeheerder toevoegen",
                         "Add a co-access manager"),
    "domain.co_gl_remove": ("Supprimer", "Verwijderen", "Delete"),
    "domain.co_gl_remove_title": ("Suppression d'un co-Gestionnaire d'Accès", "Verwijdering van een "
                                  "co-toegangsbeheerder", "Deleting a co-access manager"),
    "domain.co_gl_remove_question": ("Êtes-vous certain de vouloir supprimer l'utilisateur suivant ?",
                                     "Bent u zeker dat u de volgende gebruiker wilt verwijderen?",
                                     "Are you sure you want to delete the following user?"),
    "domain.co_gl_removed": ("La suppression de l'utilisateur a réussi.", "De gebruiker werd verwijderd.",
                             "The user was deleted."),
    "domain.person_niss_help": ("Le numéro de registre national ou le numéro BIS de la personne que vous souhaitez "
                                "désigner.", "Het rijksregisternummer of het BIS-nummer van de persoon die u wilt "
                                "aanduiden.", "The national register number or BIS number of the person you want "
                                "to designate."),
    "domain.identification": ("Données d'identification", "Identificatiegegevens", "Identification data"),
    "domain.identification_help": ("À remplir si la personne n'est pas encore utilisateur du domaine ; sinon le NISS "
                                   "suffit.", "In te vullen als de persoon nog geen gebruiker van het domein is; "
                                   "anders volstaat het INSZ.", "Fill in when the person is not yet a user of the "
                                   "domain; otherwise the NISS is enough."),
    "domain.required_new": ("Obligatoire : la personne n'est pas encore utilisateur du domaine.",
                            "Verplicht: de persoon is nog geen gebruiker van het domein.",
                            "Required: the person is not yet a user of the domain."),
    "domain.username": ("Nom d'utilisateur", "Gebruikersnaam", "Username"),
    "domain.last_name": ("Nom", "Naam", "Last name"),
    "domain.first_name": ("Prénom", "Voornaam", "First name"),
    "domain.person_title": ("Titre", "Titel", "Title"),
    "domain.language": ("Choix linguistique", "Taalkeuze", "Language"),
    "domain.language.fr": ("Français", "Frans", "French"),
    "domain.language.nl": ("Néerlandais", "Nederlands", "Dutch"),
    "domain.language.de": ("Allemand", "Duits", "German"),
    "domain.language.en": ("Anglais", "Engels", "English"),
    "domain.email": ("Adresse e-mail utilisateur", "E-mailadres gebruiker", "User email address"),
    "domain.local_email": ("Adresse e-mail locale", "Lokaal e-mailadres", "Local email address"),
    "domain.type": ("Type", "Type", "Type"),
    "domain.status": ("Statut", "Status", "Status"),
    "domain.status.active": ("Actif", "Actief", "Active"),
    "domain.status.blocked": ("Bloqué", "Geblokkeerd", "Blocked"),
    "domain.gl_confirm_title": ("Désignation du Gestionnaire d'Accès", "Aanduiding van de Toegangsbeheerder",
                                "Designating the access manager"),
    "domain.co_gl_confirm_title": ("Désignation d'un co-Gestionnaire d'Accès", "Aanduiding van een "
                                   "co-toegangsbeheerder", "Designating a co-access manager"),
    "domain.confirm_question": ("Vérifiez ces données, puis cliquez sur Confirmer.",
                                "Controleer deze gegevens en klik dan op Bevestigen.",
                                "Check these data, then click Confirm."),
    "domain.previous": ("Précédent", "Vorige", "Previous"),
}
