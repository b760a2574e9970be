"""The EKS control plane, the system node group, managed add-ons and the EFA security group."""
