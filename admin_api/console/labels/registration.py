"""Console labels of the registration screens: key -> (French, Dutch, English)."""

WORDS: dict[str, tuple[str, str, str]] = {
    "registration.choose.title": ("Désigner un Gestionnaire d'Accès Principal", "Een Hoofdtoegangsbeheerder aanduiden",
                                  "Designate a main access manager"),
    "registration.choose.intro": (
        "Pour permettre aux membres du personnel de votre entreprise d'accéder aux services en ligne de l'État, vous "
        "devez enregistrer votre entreprise dans la Gestion des Gestionnaires d'Accès. Tout d'abord, vous désignez un "
        "Gestionnaire d'Accès Principal : le responsable principal de la gestion des accès de votre entreprise, qui "
        "désigne à son tour des Gestionnaires d'Accès.",
        "Om de personeelsleden van uw onderneming toegang te geven tot de onlinediensten van de overheid, moet u uw "
        "onderneming registreren in het Beheer van de Toegangsbeheerders. Eerst duidt u een Hoofdtoegangsbeheerder "
        "aan: de hoofdverantwoordelijke voor het toegangsbeheer van uw onderneming, die op zijn beurt "
        "Toegangsbeheerders aanduidt.",
        "To give your enterprise's staff access to the government's online services, you must register your "
        "enterprise in the Access Managers Management. First you designate a main access manager: the person mainly "
        "responsible for your enterprise's access management, who in turn designates access managers."),
    "registration.standard.title": ("Procédure standard", "Standaardprocedure", "Standard procedure"),
    "registration.standard.warning": (
        "Attention : cette procédure doit impérativement se faire par un représentant légal de l'entreprise, "
        "connecté avec sa carte d'identité électronique (eID).",
        "Opgelet: deze procedure moet verplicht worden uitgevoerd door een wettelijk vertegenwoordiger van de "
        "onderneming, aangemeld met zijn elektronische identiteitskaart (eID).",
        "Note: this procedure must be carried out by a legal representative of the enterprise, signed in with their "
        "electronic identity card (eID)."),
    "registration.standard.go": ("Désigner un Gestionnaire d'Accès Principal avec mon eID",
                                 "Een Hoofdtoegangsbeheerder aanduiden met mijn eID",
                                 "Designate a main access manager with my eID"),
    "registration.exceptional.title": ("Procédure exceptionnelle", "Uitzonderingsprocedure", "Exceptional procedure"),
    "registration.exceptional.question": (
        "Vous n'avez pas d'eID ou de carte électronique pour étrangers ?",
        "Hebt u geen eID of elektronische vreemdelingenkaart?",
        "You have no eID or electronic foreigner's card?"),
    "registration.exceptional.go": ("Suivez alors cette procédure pour désigner un Gestionnaire d'Accès Principal",
                                    "Volg dan deze procedure om een Hoofdtoegangsbeheerder aan te duiden",
                                    "Then follow this procedure to designate a main access manager"),
    "registration.form.intro": (
        "Pour pouvoir enregistrer une entreprise dans CSAM, vous devez exercer une fonction légale dans cette "
        "entreprise, reconnue par la Banque-Carrefour des Entreprises et valable actuellement.",
        "Om een onderneming in CSAM te registreren, moet u een wettelijke functie uitoefenen in die onderneming, "
        "erkend door de Kruispuntbank van Ondernemingen en momenteel geldig.",
        "To register an enterprise in CSAM you must hold a legal function in that enterprise, recognised by the "
        "Crossroads Bank for Enterprises and currently valid."),
    "registration.form.no_eid": (
        "Vous êtes connecté(e) sans eID : la procédure standard demande une connexion avec votre carte d'identité "
        "électronique. Sans eID, suivez la procédure exceptionnelle.",
        "U bent aangemeld zonder eID: de standaardprocedure vereist een aanmelding met uw elektronische "
        "identiteitskaart. Zonder eID volgt u de uitzonderingsprocedure.",
        "You are signed in without eID: the standard procedure needs a sign-in with your electronic identity card. "
        "Without eID, follow the exceptional procedure."),
    "registration.form.numbers": ("Introduisez les numéros sans points ni tirets ou tels qu'imprimés.",
                                  "Vul de nummers in zonder punten of streepjes, of zoals ze gedrukt staan.",
                                  "Type the numbers without dots or dashes, or as printed."),
    "registration.section.enterprise": ("L'entreprise", "De onderneming", "The enterprise"),
    "registration.section.representative": ("Représentant légal", "Wettelijk vertegenwoordiger",
                                            "Legal representative"),
    "registration.section.manager": ("Gestionnaire d'Accès Principal", "Hoofdtoegangsbeheerder",
                                     "Main access manager"),
    "registration.section.contact": ("Vos données de contact", "Uw contactgegevens", "Your contact details"),
    "registration.section.conditions": ("Conditions d'activation", "Activeringsvoorwaarden",
                                        "Conditions of activation"),
    "registration.field.enterprise_number": ("Numéro d'entreprise (10 chiffres)", "Ondernemingsnummer (10 cijfers)",
                                             "Enterprise number (10 digits)"),
    "registration.field.niss": ("Numéro de registre national (11 chiffres)", "Rijksregisternummer (11 cijfers)",
                                "National register number (11 digits)"),
    "registration.field.niss_shown": ("Numéro de registre national", "Rijksregisternummer",
                                      "National register number"),
    "registration.field.first_name": ("Prénom", "Voornaam", "First name"),
    "registration.field.last_name": ("Nom", "Achternaam", "Last name"),
    "registration.field.email": ("E-mail", "E-mailadres", "Email"),
    "registration.field.phone": ("Téléphone", "Telefoon", "Phone"),
    "registration.field.enterprise_name": ("Nom de l'entreprise", "Naam van de onderneming",
                                           "Name of the enterprise"),
    "registration.field.address": ("Adresse", "Adres", "Address"),
    "registration.field.ticket": ("Numéro de ticket", "Ticketnummer", "Ticket number"),
    "registration.field.procedure": ("Procédure", "Procedure", "Procedure"),
    "registration.field.status": ("Statut", "Status", "Status"),
    "registration.field.created_at": ("Introduite le", "Ingediend op", "Filed on"),
    "registration.field.decided_at": ("Décidée le", "Beslist op", "Decided on"),
    "registration.field.reason": ("Motif du refus", "Reden van de weigering", "Reason for the rejection"),
    "registration.manager.intro": (
        "Un Gestionnaire d'Accès Principal doit être un membre du personnel ou un représentant légal de "
        "l'entreprise. Il désigne les Gestionnaires d'Accès des domaines et peut désigner un ou plusieurs "
        "Co-Gestionnaires d'Accès Principaux pour se faire aider.",
        "Een Hoofdtoegangsbeheerder moet een personeelslid of een wettelijk vertegenwoordiger van de onderneming "
        "zijn. Hij duidt de Toegangsbeheerders van de domeinen aan en kan een of meer "
        "Co-Hoofdtoegangsbeheerders aanduiden om hem te helpen.",
        "A main access manager must be a member of staff or a legal representative of the enterprise. They "
        "designate the domains' access managers and may designate one or more co-main access managers to help."),
    "registration.manager.choice": ("Qui désignez-vous ?", "Wie duidt u aan?", "Whom do you designate?"),
    "registration.manager.self": ("Moi-même", "Mezelf", "Myself"),
    "registration.manager.self_named": ("Moi-même ({name})", "Mezelf ({name})", "Myself ({name})"),
    "registration.manager.other": ("Autre personne", "Andere persoon", "Another person"),
    "registration.manager.other_intro": (
        "Autre personne : son numéro de registre national et ses données de contact.",
        "Andere persoon: het rijksregisternummer en de contactgegevens van die persoon.",
        "Another person: their national register number and contact details."),
    "registration.email.help": (
        "Ces données servent aussi aux campagnes de communication de CSAM : indiquez une adresse correcte, "
        "existante et générale (ex. direction@entreprise.be).",
        "Deze gegevens dienen ook voor de communicatiecampagnes van CSAM: geef een correct, bestaand en algemeen "
        "adres op (bv. directie@onderneming.be).",
        "These details also serve CSAM's communication campaigns: give a correct, existing and general address "
        "(e.g. management@enterprise.be)."),
    "registration.contact.help": (
        "Vos données de contact seront utilisées pour les communications liées à cette demande ; si vous vous "
        "désignez vous-même, ce sont aussi celles du Gestionnaire d'Accès Principal.",
        "Uw contactgegevens worden gebruikt voor de communicatie over deze aanvraag; als u uzelf aanduidt, zijn "
        "het ook die van de Hoofdtoegangsbeheerder.",
        "Your contact details will be used for communications about this request; if you designate yourself, they "
        "are also the main access manager's."),
    "registration.conditions.text": (
        "Je confirme que ces données sont complètes et correctes. En outre, je déclare par cette demande être "
        "informé(e) des dispositions de la loi du 8 décembre 1992 relative à la protection de la vie privée à "
        "l'égard des traitements de données à caractère personnel et satisfaire à toutes les dispositions de cette "
        "loi. Je signalerai immédiatement tout changement de Gestionnaire d'Accès Principal via la Gestion des "
        "accès de CSAM.",
        "Ik bevestig dat deze gegevens volledig en juist zijn. Bovendien verklaar ik met deze aanvraag op de hoogte "
        "te zijn van de bepalingen van de wet van 8 december 1992 tot bescherming van de persoonlijke levenssfeer "
        "ten opzichte van de verwerking van persoonsgegevens en aan alle bepalingen van deze wet te voldoen. Ik "
        "meld elke wijziging van Hoofdtoegangsbeheerder onmiddellijk via het Toegangsbeheer van CSAM.",
        "I confirm that these data are complete and correct. By this request I also declare that I am aware of the "
        "provisions of the law of 8 December 1992 on the protection of privacy with regard to the processing of "
        "personal data and that I comply with all of them. I will report any change of main access manager at once "
        "through CSAM's access management."),
    "registration.confirm": ("Oui, je confirme", "Ja, ik bevestig", "Yes, I confirm"),
    "registration.submit": ("Enregistrer mon entreprise dans CSAM", "Mijn onderneming in CSAM registreren",
                            "Register my enterprise in CSAM"),
    "registration.registered.title": ("Gestionnaire d'Accès Principal désigné !", "Hoofdtoegangsbeheerder aangeduid!",
                                      "Main access manager designated!"),
    "registration.registered.can": ("Vous pouvez maintenant :", "U kunt nu:", "You can now:"),
    "registration.registered.can_managers": ("désigner des Gestionnaires d'Accès,", "Toegangsbeheerders aanduiden,",
                                             "designate access managers,"),
    "registration.registered.can_users": (
        "adapter l'accès de vos collaborateurs aux services en ligne,",
        "de toegang van uw medewerkers tot de onlinediensten aanpassen,",
        "adapt your staff's access to the online services,"),
    "registration.registered.can_other": (
        "désigner un autre Gestionnaire d'Accès Principal.", "een andere Hoofdtoegangsbeheerder aanduiden.",
        "designate another main access manager."),
    "registration.registered.manage": ("Gérer l'entreprise", "De onderneming beheren", "Manage the enterprise"),
    "registration.requested.title": ("Finalisation de la demande", "Afronding van de aanvraag",
                                     "Completing the request"),
    "registration.requested.saved": (
        "Votre demande a été enregistrée avec succès dans le système sous le numéro de ticket {ticket}. Veuillez "
        "utiliser ce numéro dans toutes vos communications avec le Centre de Contact (courrier papier, e-mail, "
        "téléphone, fax ou autre).",
        "Uw aanvraag werd met succes geregistreerd onder ticketnummer {ticket}. Gebruik dit nummer in al uw "
        "contacten met het Contactcenter (brief, e-mail, telefoon, fax of andere).",
        "Your request has been recorded under ticket number {ticket}. Please quote this number whenever you contact "
        "the Contact Centre (letter, email, phone, fax or other)."),
    "registration.requested.last_step": ("Dernière étape : la signature", "Laatste stap: de handtekening",
                                         "Last step: the signature"),
    "registration.requested.sign": (
        "Avant de pouvoir traiter votre demande, le document officiel doit être signé par un représentant légal de "
        "l'entreprise : une personne dont le nom se trouve dans les statuts de la société et qui est titulaire d'un "
        "mandat actif au sein de l'entreprise (Banque-Carrefour des Entreprises).",
        "Voordat uw aanvraag kan worden behandeld, moet het officiële document worden ondertekend door een "
        "wettelijk vertegenwoordiger van de onderneming: een persoon wiens naam in de statuten staat en die een "
        "actief mandaat heeft in de onderneming (Kruispuntbank van Ondernemingen).",
        "Before your request can be handled, the official document must be signed by a legal representative of the "
        "enterprise: a person named in the company's articles who holds an active mandate in it (Crossroads Bank "
        "for Enterprises)."),
    "registration.requested.download": ("Télécharger le document", "Het document downloaden", "Download the document"),
    "registration.requested.post": (
        "Imprimez le PDF, signez-le manuellement et renvoyez-le par voie postale à :",
        "Druk de PDF af, onderteken hem met de hand en stuur hem per post naar:",
        "Print the PDF, sign it by hand and post it to:"),
    "registration.requested.originals": (
        "Attention : vous devez envoyer votre demande par la poste, seuls les formulaires originaux signés "
        "manuellement sont acceptés ! Votre demande ne sera pas prise en compte si vous utilisez d'autres documents "
        "(fax, copie, scan envoyé par e-mail...).",
        "Opgelet: u moet uw aanvraag per post versturen, alleen originele, met de hand ondertekende formulieren "
        "worden aanvaard! Uw aanvraag wordt niet behandeld als u andere documenten gebruikt (fax, kopie, scan per "
        "e-mail...).",
        "Note: you must send your request by post; only original forms signed by hand are accepted! Your request "
        "will not be handled if you use other documents (fax, copy, scan sent by email...)."),
    "registration.requested.after": (
        "Après traitement de la demande, le Gestionnaire d'Accès Principal recevra un e-mail contenant les "
        "instructions.",
        "Na behandeling van de aanvraag ontvangt de Hoofdtoegangsbeheerder een e-mail met de instructies.",
        "Once the request is handled, the main access manager will receive an email with the instructions."),
    "registration.requested.follow": ("Suivre cette demande", "Deze aanvraag opvolgen", "Follow this request"),
    "registration.status.title": ("Suivre une demande", "Een aanvraag opvolgen", "Follow a request"),
    "registration.status.intro": ("Introduisez le numéro de ticket reçu lors de votre demande.",
                                  "Vul het ticketnummer in dat u bij uw aanvraag ontving.",
                                  "Type the ticket number you received with your request."),
    "registration.status.show": ("Afficher la demande", "De aanvraag tonen", "Show the request"),
    "registration.procedure.standard": ("Procédure standard (eID)", "Standaardprocedure (eID)",
                                        "Standard procedure (eID)"),
    "registration.procedure.exceptional": ("Procédure exceptionnelle (formulaire signé)",
                                           "Uitzonderingsprocedure (ondertekend formulier)",
                                           "Exceptional procedure (signed form)"),
    "registration.state.pending": ("En attente du formulaire signé", "In afwachting van het ondertekende formulier",
                                   "Waiting for the signed form"),
    "registration.state.approved": ("Approuvée : entreprise enregistrée", "Goedgekeurd: onderneming geregistreerd",
                                    "Approved: enterprise registered"),
    "registration.state.rejected": ("Refusée", "Geweigerd", "Rejected"),
    "registration.queue.title": ("Demandes de la procédure exceptionnelle", "Aanvragen van de uitzonderingsprocedure",
                                 "Exceptional-procedure requests"),
    "registration.queue.intro": (
        "Ces demandes attendent le formulaire original signé, reçu par la poste. Approuvez une demande quand le "
        "formulaire reçu est correct ; sinon refusez-la en donnant le motif, envoyé par e-mail au demandeur.",
        "Deze aanvragen wachten op het originele ondertekende formulier, per post ontvangen. Keur een aanvraag goed "
        "als het ontvangen formulier correct is; weiger ze anders met de reden, die per e-mail naar de aanvrager "
        "gaat.",
        "These requests wait for the original signed form, received by post. Approve a request when the form "
        "received is correct; otherwise reject it with the reason, emailed to the requester."),
    "registration.queue.none": ("Aucune demande en attente.", "Geen aanvragen in afwachting.",
                                "No request is waiting."),
    "registration.queue.request": ("Demande {ticket}", "Aanvraag {ticket}", "Request {ticket}"),
    "registration.queue.requester": ("Représentant légal (demandeur)", "Wettelijk vertegenwoordiger (aanvrager)",
                                     "Legal representative (requester)"),
    "registration.queue.manager": ("Gestionnaire d'Accès Principal désigné", "Aangeduide Hoofdtoegangsbeheerder",
                                   "Main access manager designated"),
    "registration.queue.document": ("Formulaire à signer (PDF)", "Te ondertekenen formulier (PDF)",
                                    "Form to sign (PDF)"),
    "registration.queue.approve": ("Approuver", "Goedkeuren", "Approve"),
    "registration.queue.reject": ("Refuser", "Weigeren", "Reject"),
    "registration.queue.approved": (
        "La demande {ticket} est approuvée : l'entreprise est enregistrée et son Gestionnaire d'Accès Principal "
        "désigné.",
        "Aanvraag {ticket} is goedgekeurd: de onderneming is geregistreerd en haar Hoofdtoegangsbeheerder "
        "aangeduid.",
        "Request {ticket} is approved: the enterprise is registered and its main access manager designated."),
    "registration.queue.rejected": (
        "La demande {ticket} est refusée ; le demandeur en reçoit le motif par e-mail.",
        "Aanvraag {ticket} is geweigerd; de aanvrager ontvangt de reden per e-mail.",
        "Request {ticket} is rejected; the requester receives the reason by email."),
    "registration.change.link": ("Désigner un autre Gestionnaire d'Accès Principal",
                                 "Een andere hoofdtoegangsbeheerder aanduiden",
                                 "Designate another main access manager"),
    "registration.change.title": ("Changer de Gestionnaire d'Accès Principal", "Hoofdtoegangsbeheerder wijzigen",
                                  "Change the main access manager"),
    "registration.change.intro": ("En tant que représentant légal, vous désignez la personne qui sera désormais "
                                  "Gestionnaire d'Accès Principal de {name} ({number}).",
                                  "Als wettelijke vertegenwoordiger duidt u de persoon aan die voortaan "
                                  "hoofdtoegangsbeheerder van {name} ({number}) is.",
                                  "As legal representative, you designate the person who will from now on be the "
                                  "main access manager of {name} ({number})."),
    "registration.change.current": ("Gestionnaire d'Accès Principal actuel : {name}",
                                    "Huidige hoofdtoegangsbeheerder: {name}", "Current main access manager: {name}"),
    "registration.change.done": ("{name} est désormais Gestionnaire d'Accès Principal.",
                                 "{name} is voortaan hoofdtoegangsbeheerder.",
                                 "{name} is now the main access manager."),
}
