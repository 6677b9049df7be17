"""EC2 Auto Scaling: groups kept at their desired capacity by a worker on the virtual clock."""
