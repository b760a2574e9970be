"""The single-zone VPC: subnet plan, the VPC construct, endpoints and flow logs."""
