#!/usr/bin/env bash
# Checks every state machine in infra/template.yaml with asl-validator, at the versions (and integrity
# hashes) pinned in package-lock.json, and that the check fails on a copy with a duplicate state name.
#
#   infra/asl/check.sh    # CI runs it; needs node and npm with the npm registry reachable
#
# The packages go to infra/asl/node_modules/ (git-ignored). To move the pin: edit package.json, run
# `npm install --prefix infra/asl`, commit package.json and package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node check-state-machines.mjs ../template.yaml
node check-state-machines.mjs --broken-copy ../template.yaml
