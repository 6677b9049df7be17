#!/usr/bin/env bash
# Regenerate docs/services.md from the providers (the table) and the fixed text around it.
set -euo pipefail
cd "$(dirname "$0")/.."
{ cat scripts/services.md.head; .venv/bin/python -m overcast.coverage; cat scripts/services.md.tail; } > docs/services.md
