"""The Checkov scan of what the stacks register (`make scan`): scan.py, and convert.py, which rewrites the record as a Terraform plan and an ARM template."""
