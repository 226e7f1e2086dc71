#!/bin/sh
# The stand-in's entry point, shaped like the real base image's /lambda-entrypoint.sh: the image's CMD is
# the handler. The real one starts the Runtime Interface Emulator when AWS_LAMBDA_RUNTIME_API is unset;
# this stand-in has none, so the Runtime API must be given (infra/scripts/RuntimeApiEmulator.java).
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  echo "AWS_LAMBDA_RUNTIME_API is not set: this stand-in base has no Runtime Interface Emulator" 1>&2
  exit 142
fi
exec /var/runtime/bootstrap
