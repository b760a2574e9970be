"""Model storage: the S3 model bucket, FSx for Lustre in the node zone, and the in-cluster pieces that read them."""
