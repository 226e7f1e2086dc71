#!/usr/bin/env bash
# Regenerates infra/spec/cfn-spec-subset.json, the part of AWS's resource specification that
# infra/template.yaml uses, from the pinned npm package @aws-cdk/aws-service-spec.
#
#   infra/spec/update-spec.sh          # after adding a resource type to the template, or to move the pin
#   infra/spec/update-spec.sh --check  # CI: fail if the committed subset is not what the pin and template give
#
# Needs node and npm with the npm registry reachable. The tests read only the committed subset, so
# ./mvnw test works offline.
set -euo pipefail

PACKAGE=@aws-cdk/aws-service-spec
VERSION=0.1.216
INTEGRITY=sha512-O3Lu6v6J6RnI+Eenklbw8237kV64cTpM94QEXmlcmsIAzhcKrdd+qApZhlTL+H3IDt1JP6Vphbd+OOmq6r8pqw==

cd "$(dirname "$0")"
SPEC_DIR=$(pwd)
WORK=$(cd ../.. && pwd)/target/aws-service-spec-$VERSION
if [ ! -f "$WORK/package/db.json.gz" ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  (cd "$WORK" && npm pack --silent --json "$PACKAGE@$VERSION" > pack.json)
  if ! grep -q "\"integrity\": \"$INTEGRITY\"" "$WORK/pack.json"; then
    echo "error: $PACKAGE@$VERSION does not have the pinned integrity $INTEGRITY" >&2
    exit 1
  fi
  tar -xzf "$WORK"/*.tgz -C "$WORK"
fi

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
node "$SPEC_DIR/extract-subset.mjs" "$WORK/package/db.json.gz" "$WORK/package/package.json" ../template.yaml > "$OUT"

if [ "${1:-}" = "--check" ]; then
  if ! diff -q "$OUT" "$SPEC_DIR/cfn-spec-subset.json" >/dev/null; then
    echo "error: infra/spec/cfn-spec-subset.json is not what $PACKAGE@$VERSION gives for infra/template.yaml;" \
         "run infra/spec/update-spec.sh and commit the result" >&2
    exit 1
  fi
  echo "infra/spec/cfn-spec-subset.json matches $PACKAGE@$VERSION and infra/template.yaml"
else
  cat "$OUT" > "$SPEC_DIR/cfn-spec-subset.json"
  echo "wrote infra/spec/cfn-spec-subset.json from $PACKAGE@$VERSION"
fi
