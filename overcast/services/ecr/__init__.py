"""ECR: the repository API (repositories, repository policies, lifecycle policies, tags, settings), which
`cdk bootstrap` needs; images (pushes and pulls through the registry) are not served. Follows the Amazon ECR
API Reference."""
