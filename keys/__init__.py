"""All cryptography of the product: certificates, CMS signatures, trust, SSH keys, passwords, token keys."""
