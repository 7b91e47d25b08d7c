"""Senders (guide VI, "Création d'un expéditeur"): contact, technical user, channels, applications."""
