"""Security scanning of what the kit writes: checkov and trivy against a reviewed baseline."""
