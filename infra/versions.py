"""Every external version the kit depends on, in one place.

Checked on 2026-11-23. Bump here, run the tests, and note the date.
"""

CHECKED_ON = "2026-11-23"

# CDK CLI: also pinned in package.json. The npm 'latest' tag (3.x) rejects aws-cdk-lib 2.275 assemblies.
AWS_CDK_CLI = "2.1148.1"

# The kubectl Lambda layer (aws-cdk.lambda-layer-kubectl-v35) serves both versions within kubectl's +-1 skew.
SUPPORTED_KUBERNETES_VERSIONS = ("1.34", "1.35")
