"""AWS CDK side of the kit: config model, stacks and the constructs they are built from."""
